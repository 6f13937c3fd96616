print("risk-worker")
