"""`promoguard demo` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def demo() -> None:
    """Not built yet."""
    fail("'demo' is not built yet")
