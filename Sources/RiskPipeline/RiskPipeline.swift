// RiskPipeline
