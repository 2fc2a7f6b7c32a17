"""`promoguard ingest` (not built yet)."""

from __future__ import annotations

from promoguard.commands._common import fail


def ingest() -> None:
    """Not built yet."""
    fail("'ingest' is not built yet")
