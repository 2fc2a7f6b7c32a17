"""The case database's tables, as SQLAlchemy 2 declarative models.

The schema is created and upgraded by the Alembic migrations in ``promoguard/cases/migrations``
(applied automatically by :func:`promoguard.cases.db.open_db`); a test compares these models with
the migrated schema so the two cannot drift apart.

Times are stored as ISO 8601 UTC text (``2026-11-11T08:00:00Z``) where they enter a hash (the audit
chain), and as timezone-aware ``DateTime`` elsewhere.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("admin", "analyst", "platform", "auditor")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    """A person who signs in to the web app or acts at the command line.

    ``role`` is one of :data:`ROLES`; a ``platform`` user belongs to one ``platform_id`` and sees
    only its own platform's cases. ``password_hash`` is whatever the web layer's hasher produced
    (this package never sees a password).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    platform_id: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    #: The web UI's language chosen in the user's settings (``en``, ``zh``); None follows the
    #: browser (the language switch's cookie, else Accept-Language).
    language: Mapped[str | None] = mapped_column(String(10))


class UserSession(Base):
    """A signed-in browser or a script's bearer token, so the server can end it before it expires.

    The cookie or token is a signed statement carrying a random nonce; this row is keyed by the
    nonce's SHA-256 (the table never holds what a client sends). Every request looks its row up:
    logging out revokes the one session, a password change or a disabled user revokes them all,
    and a stolen cookie stops working at once.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    #: ``session`` (browser cookie) or ``bearer`` (script token).
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``logout``, ``password_changed``, ``user_disabled``.
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class Case(Base):
    """One matter: a merchant on a platform (or the platform itself) and its findings."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    #: ``merchant`` (a merchant on a platform) or ``platform`` (the platform's own duties).
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    platform_id: Mapped[str | None] = mapped_column(String(200))
    platform_name: Mapped[str | None] = mapped_column(String(500))
    merchant_id: Mapped[str | None] = mapped_column(String(200))
    merchant_name: Mapped[str | None] = mapped_column(String(500))
    pack: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(40), nullable=False, default="open")
    risk_score: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=4)
    #: What went into the score (JSON): severities, families, repeat, orders and amount affected.
    score_detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    findings_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    opened_scan_id: Mapped[str | None] = mapped_column(String(200))
    last_scan_id: Mapped[str | None] = mapped_column(String(200))
    closing_reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    #: Optimistic concurrency: every change bumps it; a stale writer gets a CaseConflict.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    findings: Mapped[list[CaseFinding]] = relationship(
        back_populates="case", order_by="CaseFinding.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_status_priority", "status", "priority"),
        Index("ix_cases_platform_merchant", "platform_id", "merchant_id"),
    )


# The case queue's order (priority, risk score high to low, id), read in index order with no sort
# (migration 0002). Declared on the columns, outside the class, for the descending key.
Index("ix_web_cases_queue_v2", Case.priority, Case.risk_score.desc(), Case.case_id)


class CaseFinding(Base):
    """A finding of a case, matched across scans by (check_code, entity_type, entity_id)."""

    __tablename__ = "case_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False)
    finding_id: Mapped[str] = mapped_column(String(200), nullable=False)
    check_code: Mapped[str] = mapped_column(String(40), nullable=False)
    family: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[str] = mapped_column(Text, nullable=False)
    merchant_id: Mapped[str | None] = mapped_column(String(200))
    platform_id: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    observed: Mapped[str] = mapped_column(Text, nullable=False)
    expected: Mapped[str] = mapped_column(Text, nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    evidence_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    first_scan_id: Mapped[str] = mapped_column(String(200), nullable=False)
    last_scan_id: Mapped[str] = mapped_column(String(200), nullable=False)
    #: How many scans found it (repeat offence).
    times_seen: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    #: When the scan that first found it ran (the store's ``detected_at``, UTC); None on a case
    #: database opened before this was kept (migration 0004).
    detected_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: After a verification: still_present, no_longer_present or not_checked.
    verification: Mapped[str | None] = mapped_column(String(40))
    #: The platform's account of what it did about this finding (rectification report).
    action_taken: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="findings")

    __table_args__ = (
        UniqueConstraint("case_pk", "check_code", "entity_type", "entity_id"),
        Index("ix_case_findings_match", "check_code", "entity_type", "entity_id"),
        # The web tier's reads (migration 0002): a finding by its id, and newest-first keyset
        # paging (``... ORDER BY id DESC LIMIT n``) under one filter, or under a platform
        # officer's own platform and one filter, so a page walks an index in order and never
        # sorts or skips another tenant's findings.
        Index("ix_web_cf_finding_id", "finding_id"),
        Index("ix_web_cf_check_id", "check_code", "id"),
        Index("ix_web_cf_severity_id", "severity", "id"),
        Index("ix_web_cf_merchant_id", "merchant_id", "id"),
        Index("ix_web_cf_platform_id", "platform_id", "id"),
        Index("ix_web_cf_platform_severity_id", "platform_id", "severity", "id"),
        Index("ix_web_cf_platform_check_id", "platform_id", "check_code", "id"),
    )


class EvidenceDocument(Base):
    """A frozen evidence document (canonical JSON), addressed by its SHA-256."""

    __tablename__ = "evidence_documents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text, nullable=False)


class AuditEvent(Base):
    """One append-only event; ``hash`` = SHA-256 over ``prev_hash`` and the event's content.

    The content hashed is ``at``, ``actor``, ``action``, ``case_id`` and ``payload`` exactly as
    stored (see :mod:`promoguard.cases.audit`); ``seq`` orders the events but is not hashed, so an
    event slipped in between two others shows as an insertion, not as a change of every later one.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    case_id: Mapped[str | None] = mapped_column(String(40), index=True)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditHead(Base):
    """One row: the last event's seq and hash. Updating it first serialises appenders."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Notice(Base):
    """A guidance notice as issued (HTML, both languages), kept with its SHA-256."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    issued_by: Mapped[str] = mapped_column(String(200), nullable=False)
    deadline: Mapped[dt.date] = mapped_column(Date, nullable=False)
    html: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class Rectification(Base):
    """The platform's report of what it did; attachments hang off it."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reported_by: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    #: Per finding what was done (JSON: {"CHECK entity_type entity_id": "listing removed"}).
    actions: Mapped[str] = mapped_column(Text, nullable=False, default="{}")


class Attachment(Base):
    """A file reported with a rectification, stored with its SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rectification_id: Mapped[int] = mapped_column(
        ForeignKey("rectifications.id"), nullable=False, index=True
    )
    filename: Mapped[str] = mapped_column(String(500), nullable=False)
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class Verification(Base):
    """A re-scan's verdict on a case: counts per outcome and the outcome of each finding."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    scan_id: Mapped[str] = mapped_column(String(200), nullable=False)
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    verified_by: Mapped[str] = mapped_column(String(200), nullable=False)
    still_present: Mapped[int] = mapped_column(Integer, nullable=False)
    no_longer_present: Mapped[int] = mapped_column(Integer, nullable=False)
    not_checked: Mapped[int] = mapped_column(Integer, nullable=False)
    outcome: Mapped[str] = mapped_column(String(40), nullable=False)
    #: JSON list of {check_code, entity_type, entity_id, result}.
    detail: Mapped[str] = mapped_column(Text, nullable=False)


class Comment(Base):
    """A note on a case by a user."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    author: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
