"""The game: per-cohort average identities, versions, leaderboard."""
