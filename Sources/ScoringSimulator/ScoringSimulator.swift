// ScoringSimulator
