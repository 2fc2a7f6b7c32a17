"""`promoguard checks` and `promoguard explain` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def checks() -> None:
    """Not built yet."""
    fail("'checks' is not built yet")


def explain(code: str) -> None:
    """Not built yet."""
    fail("'explain' is not built yet")
