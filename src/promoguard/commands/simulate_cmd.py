"""`promoguard simulate` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def simulate() -> None:
    """Not built yet."""
    fail("'simulate' is not built yet")
