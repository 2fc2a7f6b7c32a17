"""Sales in licensed categories without a valid licence."""
