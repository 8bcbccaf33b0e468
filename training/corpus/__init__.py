"""The synthetic ticket corpus: phrasing families, ride-fact stories, noise and held-out splits."""
