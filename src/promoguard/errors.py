"""Errors that reach the user as one plain line (the CLI prints them; the API raises them)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB appends the SQL and a caret line)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is the user's Ctrl-C: a KeyboardInterrupt, or the RuntimeError DuckDB
    raises for a query the interrupt stopped ("Query interrupted")."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    return isinstance(exc, RuntimeError) and str(exc).startswith("Query interrupted")


class PromoGuardError(Exception):
    """A failure the user can act on; its message is one line that says what and why."""


class IngestError(PromoGuardError):
    """A source file or folder cannot be ingested; the store was left unchanged."""


class CheckError(PromoGuardError):
    """A check, a pack or a scan is misconfigured."""


class StoreError(PromoGuardError):
    """The store cannot be opened: a folder, not a DuckDB file, or in use by another process."""


class StoreBusy(StoreError):
    """The store is a DuckDB file another process holds open (one writer, or readers only): the
    store is fine and waiting may be enough. A scan's final save waits a while for it; the
    ``watch`` loop waits for it at each look at its inbox."""
