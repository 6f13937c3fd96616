// ScoringAPI
