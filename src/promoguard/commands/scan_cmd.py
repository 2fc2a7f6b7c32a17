"""`promoguard scan` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def scan() -> None:
    """Not built yet."""
    fail("'scan' is not built yet")
