print("scoring-sim")
