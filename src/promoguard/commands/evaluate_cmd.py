"""`promoguard evaluate` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def evaluate() -> None:
    """Not built yet."""
    fail("'evaluate' is not built yet")
