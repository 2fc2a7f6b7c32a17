"""Errors that reach the user as one plain line (the CLI prints them; the API raises them)."""


class PromoGuardError(Exception):
    """A failure the user can act on; its message is one line that says what and why."""


class IngestError(PromoGuardError):
    """A source file or folder cannot be ingested; the store was left unchanged."""


class CheckError(PromoGuardError):
    """A check, a pack or a scan is misconfigured."""


class StoreError(PromoGuardError):
    """The store cannot be opened: a folder, not a DuckDB file, or in use by another process."""
