"""`promoguard mask` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def mask() -> None:
    """Not built yet."""
    fail("'mask' is not built yet")
