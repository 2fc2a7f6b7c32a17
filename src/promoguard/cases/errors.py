"""The case database's errors: each reaches the user as one line."""

from __future__ import annotations

from promoguard.errors import PromoGuardError


class CaseError(PromoGuardError):
    """A case operation cannot be done (unknown case, bad input, database unreachable)."""


class TransitionError(CaseError):
    """The case's state does not allow this action."""


class CaseConflict(CaseError):
    """Someone else changed the case since it was read: reload it and try again."""


class AuditError(CaseError):
    """The audit trail does not verify."""


class BundleError(CaseError):
    """An evidence bundle cannot be written or read."""
