"""Fake reviews: near-duplicates, rewards for good reviews, spam behaviour."""
