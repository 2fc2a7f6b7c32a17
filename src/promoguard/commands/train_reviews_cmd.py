"""`promoguard train-reviews` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def train_reviews() -> None:
    """Not built yet."""
    fail("'train-reviews' is not built yet")
