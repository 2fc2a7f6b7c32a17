"""`promoguard report` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def report() -> None:
    """Not built yet."""
    fail("'report' is not built yet")
