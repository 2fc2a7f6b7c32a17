"""Cases: findings carried through guidance, rectification and verification.

How to use it (from the CLI, the web app or a script)::

    from promoguard.cases import CaseService, open_db

    db = open_db("sqlite:///promoguard.db")          # or postgresql://…; None → $PROMOGUARD_DB
    svc = CaseService(db, actor="analyst1")           # every change is an audit event by `actor`
    svc.open_from_scan("promo.duckdb")                # latest scan → cases (OpenResult)
    svc.list_cases(status="open", platform_id="P1")   # dicts, most urgent first
    case = svc.get_case("C-…")                        # + findings_detail, notices, events …
    svc.assign("C-…", "analyst1", expected_version=case["version"])
    svc.guide("C-…", "2026-12-01", out="notice.pdf")
    svc.rectify("C-…", "listings corrected", attachments=["proof.png"])
    svc.verify("C-…", "promo-rescan.duckdb")          # → verified_rectified / not_rectified
    svc.close("C-…")   /   svc.close("C-…", escalate=True, reason="…")   /   svc.dismiss("C-…", "…")
    svc.audit_verify().ok

Users (the ``users`` table) for the web layer: ``svc.add_user(name, role, platform_id=…,
password_hash=…)`` (roles :data:`ROLES`: admin, analyst, platform, auditor; the caller hashes the
password), ``svc.get_user(name)`` → a detached :class:`User` or None, ``svc.list_users()``.
The models (:mod:`promoguard.cases.models`) can be queried directly with ``with db.session() as s``;
change cases only through the service, so that transitions are checked and audited.

Errors are :class:`CaseError` (one line for the user); :class:`TransitionError` (the state does not
allow the action) and :class:`CaseConflict` (someone else changed the case since ``expected_version``)
are kinds of it.
"""

from __future__ import annotations

from promoguard.cases.db import CaseDB, open_db, resolve_url
from promoguard.cases.errors import (
    AuditError,
    BundleError,
    CaseConflict,
    CaseError,
    TransitionError,
)
from promoguard.cases.models import ROLES, Case, CaseFinding, User
from promoguard.cases.service import CaseService, case_summary, is_overdue
from promoguard.cases.states import STATUSES

__all__ = [
    "ROLES",
    "STATUSES",
    "AuditError",
    "BundleError",
    "Case",
    "CaseConflict",
    "CaseDB",
    "CaseError",
    "CaseFinding",
    "CaseService",
    "TransitionError",
    "User",
    "case_summary",
    "is_overdue",
    "open_db",
    "resolve_url",
]
