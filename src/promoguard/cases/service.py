"""The case service: every verb on cases, users and the audit trail, each one transaction.

Each method opens a session, checks the state transition, applies it, appends its audit event and
commits — or changes nothing and raises a one-line :class:`~promoguard.cases.errors.CaseError`.
Methods that change a case take ``expected_version`` (the ``version`` the caller showed the user);
when someone changed the case in between they raise :class:`CaseConflict` instead of overwriting.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import mimetypes
import os
from collections import defaultdict, namedtuple
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from promoguard import sqlbuild
from promoguard.cases import audit, states
from promoguard.cases.db import CaseDB, open_db
from promoguard.cases.errors import CaseConflict, CaseError, TransitionError
from promoguard.cases.models import (
    ROLES,
    Attachment,
    Case,
    CaseFinding,
    Comment,
    EvidenceDocument,
    Notice,
    Rectification,
    User,
    UserSession,
    Verification,
    utcnow,
)
from promoguard.cases.scoring import Score, family_of
from promoguard.cases.source import ROW_FIELDS

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
CHUNK = 5_000
#: The languages a user may choose in the web UI's settings (None: follow the browser).
USER_LANGUAGES = ("en", "zh")


#: who may be given a case: the bureau's people (the web form offers only these)
ASSIGNABLE_ROLES = ("analyst", "admin")


def default_actor() -> str:
    """Who acts at the command line: ``$PROMOGUARD_ACTOR``, else the login name."""
    env = os.environ.get("PROMOGUARD_ACTOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise CaseError(f"not a date (YYYY-MM-DD): {value!r}") from exc


@dataclass
class OpenResult:
    scan_id: str
    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    findings_added: int = 0
    findings_seen_again: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "opened": len(self.opened),
            "updated": len(self.updated),
            "findings_added": self.findings_added,
            "findings_seen_again": self.findings_seen_again,
            "opened_ids": self.opened,
            "updated_ids": self.updated,
        }


def case_summary(c: Case, today: dt.date | None = None) -> dict[str, Any]:
    """A case as the spec's JSON: case_id, platform_id, merchant_id, status, priority, …"""
    today = today or dt.datetime.now(dt.UTC).date()
    return {
        "case_id": c.case_id,
        "kind": c.kind,
        "platform_id": c.platform_id,
        "platform_name": c.platform_name,
        "merchant_id": c.merchant_id,
        "merchant_name": c.merchant_name,
        "status": c.status,
        "priority": c.priority,
        "risk_score": c.risk_score,
        "findings": c.findings_count,
        "assigned_to": c.assigned_to,
        "deadline": c.deadline.isoformat() if c.deadline else None,
        "overdue": is_overdue(c, today),
        "opened_at": iso(c.opened_at),
        "updated_at": iso(c.updated_at),
        "version": c.version,
        "score": json.loads(c.score_detail or "{}"),
    }


def iso(value: dt.datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC (SQLite hands times back without their zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def case_records(s: Session, case_pk: int) -> dict[str, list[dict[str, Any]]]:
    """A case's notices, rectifications (with their attachments), verifications and comments.

    One reading for every consumer (``get_case``, the bundle, the web pages), oldest first, times
    as ISO 8601 UTC; each record carries its id (the web links an attachment by it).
    """
    notices = [
        {
            "notice_id": str(n.id),
            "issued_at": iso(n.issued_at),
            "issued_by": n.issued_by,
            "deadline": n.deadline.isoformat(),
            "sha256": n.sha256,
        }
        for n in s.execute(
            select(Notice).where(Notice.case_pk == case_pk).order_by(Notice.id)
        ).scalars()
    ]
    rectifications = []
    for r in s.execute(
        select(Rectification).where(Rectification.case_pk == case_pk).order_by(Rectification.id)
    ).scalars():
        atts = s.execute(
            select(Attachment.id, Attachment.filename, Attachment.size, Attachment.sha256)
            .where(Attachment.rectification_id == r.id)
            .order_by(Attachment.id)
        ).all()
        rectifications.append(
            {
                "rectification_id": str(r.id),
                "reported_at": iso(r.reported_at),
                "reported_by": r.reported_by,
                "note": r.note,
                "actions": json.loads(r.actions or "{}"),
                "attachments": [
                    {
                        "attachment_id": str(a.id),
                        "filename": a.filename,
                        "size": a.size,
                        "sha256": a.sha256,
                    }
                    for a in atts
                ],
            }
        )
    verifications = [
        {
            "scan_id": v.scan_id,
            "verified_at": iso(v.verified_at),
            "verified_by": v.verified_by,
            "outcome": v.outcome,
            "still_present": v.still_present,
            "no_longer_present": v.no_longer_present,
            "not_checked": v.not_checked,
        }
        for v in s.execute(
            select(Verification).where(Verification.case_pk == case_pk).order_by(Verification.id)
        ).scalars()
    ]
    comments = [
        {"at": iso(m.at), "author": m.author, "text": m.text}
        for m in s.execute(
            select(Comment).where(Comment.case_pk == case_pk).order_by(Comment.id)
        ).scalars()
    ]
    return {
        "notices": notices,
        "rectifications": rectifications,
        "verifications": verifications,
        "comments": comments,
    }


def is_overdue(c: Case, today: dt.date | None = None) -> bool:
    """Guidance issued and its deadline passed with no rectification reported."""
    today = today or dt.datetime.now(dt.UTC).date()
    return c.status == states.GUIDANCE_ISSUED and c.deadline is not None and c.deadline < today


def finding_dict(f: CaseFinding) -> dict[str, Any]:
    return {
        "finding_id": f.finding_id,
        "check_code": f.check_code,
        "family": f.family,
        "entity_type": f.entity_type,
        "entity_id": f.entity_id,
        "merchant_id": f.merchant_id,
        "platform_id": f.platform_id,
        "severity": f.severity,
        "observed": f.observed,
        "expected": f.expected,
        "legal_basis": f.legal_basis,
        "evidence_sha256": f.evidence_sha256,
        "first_scan_id": f.first_scan_id,
        "last_scan_id": f.last_scan_id,
        "times_seen": f.times_seen,
        "verification": f.verification,
        "action_taken": f.action_taken,
    }


def _executemany(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: list[tuple],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """A plain DB-API executemany: the bulk path for opening cases from a city-scale scan.

    It skips SQLAlchemy's per-row parameter processing (about half the CPU of a Core insert);
    the values must already be what the columns hold (str, int, float, None). ``ignore_conflicts``
    adds ON CONFLICT DO NOTHING, which SQLite and PostgreSQL both understand.
    """
    if not rows:
        return
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    statement = sqlbuild.sql(
        "INSERT INTO {table} ({columns}) VALUES ({marks}){conflicts}",
        table=table,
        columns=sqlbuild.idents(columns),
        marks=sqlbuild.Sql(", ".join([mark] * len(columns))),
        conflicts=sqlbuild.Sql(" ON CONFLICT DO NOTHING" if ignore_conflicts else ""),
    )
    session.connection().exec_driver_sql(statement, rows)


FINDING_INSERT_COLUMNS = (
    "case_pk",
    "finding_id",
    "check_code",
    "family",
    "entity_type",
    "entity_id",
    "merchant_id",
    "platform_id",
    "severity",
    "observed",
    "expected",
    "legal_basis",
    "evidence_sha256",
    "first_scan_id",
    "last_scan_id",
    "times_seen",
    "detected_at",
)


#: A finding as read from the store (promoguard.cases.source.ROW_FIELDS).
_Row = namedtuple("_Row", ROW_FIELDS)


class CaseService:
    """The verbs on one case database, acting as ``actor``.

    >>> svc = CaseService("sqlite:///promoguard.db", actor="analyst1")   # doctest: +SKIP
    >>> svc.open_from_scan("promo.duckdb").to_dict()                     # doctest: +SKIP
    >>> svc.assign("C-…", "analyst1")                                    # doctest: +SKIP
    """

    def __init__(
        self, db: CaseDB | str | None = None, *, actor: str | None = None, create: bool = True
    ):
        # create=False: only a database that exists (every verb but opening cases, adding users)
        self.db = db if isinstance(db, CaseDB) else open_db(db, create=create)
        self.actor = actor or default_actor()

    # ------------------------------------------------------------------ reading
    def _case(self, s: Session, case_id: str) -> Case:
        c = s.execute(select(Case).where(Case.case_id == case_id)).scalar_one_or_none()
        if c is None:
            raise CaseError(f"no case {case_id}")
        return c

    def list_cases(
        self,
        *,
        status: str | None = None,
        platform_id: str | None = None,
        overdue: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Cases, most urgent first (priority, then risk score)."""
        if status is not None and status not in states.STATUSES:
            raise CaseError(f"no status {status!r}; one of {', '.join(states.STATUSES)}")
        q = select(Case)
        if status:
            q = q.where(Case.status == status)
        if platform_id:
            q = q.where(Case.platform_id == platform_id)
        if overdue:
            q = q.where(
                Case.status == states.GUIDANCE_ISSUED,
                Case.deadline < dt.datetime.now(dt.UTC).date(),
            )
        q = q.order_by(Case.priority, Case.risk_score.desc(), Case.case_id).offset(offset)
        if limit:
            q = q.limit(limit)
        with self.db.session() as s:
            return [case_summary(c) for c in s.execute(q).scalars()]

    def summary(self, case_id: str) -> dict[str, Any]:
        """The case's summary (as in :meth:`list_cases`)."""
        with self.db.session() as s:
            return case_summary(self._case(s, case_id))

    def export_bundle(self, case_id: str, out: str | Path, key: str | Path) -> dict[str, Any]:
        """Write the case's signed evidence bundle (zip) to ``out``, signed with ``key``."""
        return export_bundle(self, case_id, out, key)

    def get_case(self, case_id: str) -> dict[str, Any]:
        """A case with its findings, notices, rectifications, verifications and events."""
        with self.db.session() as s:
            c = self._case(s, case_id)
            out = case_summary(c)
            out["closing_reason"] = c.closing_reason
            out["findings_detail"] = [finding_dict(f) for f in c.findings]
            out.update(case_records(s, c.id))
            out["events"] = self.events(case_id, session=s)
            return out

    def events(self, case_id: str | None = None, *, session: Session | None = None) -> list[dict]:
        from promoguard.cases.models import AuditEvent

        q = select(AuditEvent).order_by(AuditEvent.seq)
        if case_id:
            q = q.where(AuditEvent.case_id == case_id)

        def rows(s: Session) -> list[dict]:
            return [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "case_id": e.case_id,
                    "payload": json.loads(e.payload),
                    "hash": e.hash,
                }
                for e in s.execute(q).scalars()
            ]

        if session is not None:
            return rows(session)
        with self.db.session() as s:
            return rows(s)

    def evidence_document(self, sha256: str) -> str | None:
        with self.db.session() as s:
            doc = s.get(EvidenceDocument, sha256)
            return doc.document if doc else None

    # ------------------------------------------------------------------ changing one case
    def _change(
        self,
        case_id: str,
        action: str,
        expected_version: int | None,
        payload: dict[str, Any],
        apply=None,
        *,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Check the transition, apply it and append its event, in one transaction."""
        if action in states.NEEDS_REASON and not (reason and reason.strip()):
            raise CaseError(f"to {action} a case, give a reason")
        try:
            with self.db.session() as s:
                c = self._case(s, case_id)
                if expected_version is not None and c.version != expected_version:
                    raise CaseConflict(
                        f"case {case_id} was changed by someone else (now version {c.version}, "
                        f"you had {expected_version}): reload it and try again"
                    )
                before = c.status
                target = states.next_state(action, before)
                extra = apply(s, c) if apply else None
                if target != "verdict":
                    c.status = target
                c.updated_at = utcnow()
                s.flush()  # the version check happens here (UPDATE … WHERE version = :read)
                body = {"from": before, "to": c.status, **payload, **(extra or {})}
                if reason:
                    body["reason"] = reason
                audit.append(s, self.actor, action, body, case_id=case_id)
                return {**(extra or {}), **case_summary(c)}
        except StaleDataError as exc:
            raise CaseConflict(
                f"case {case_id} was changed by someone else while you were changing it: "
                "reload it and try again"
            ) from exc

    def assign(self, case_id: str, to: str, *, expected_version: int | None = None) -> dict:
        """Assign the case to a user (an open case goes under review)."""
        if not to or not to.strip():
            raise CaseError("assign to whom? give a user name")

        def apply(s: Session, c: Case) -> None:
            has_users = s.execute(select(func.count()).select_from(User)).scalar_one()
            if not has_users:  # the command line before any user is added: names are free text
                c.assigned_to = to
                return
            user = s.execute(select(User).where(User.name == to)).scalar_one_or_none()
            if user is None:
                raise CaseError(f"no user {to!r} (add one with `promoguard users add`)")
            # a case is the bureau's work: assigned to a platform's officer it showed that
            # platform's case to nobody there (tenancy) and its login name to the case's platform
            if user.role not in ASSIGNABLE_ROLES:
                raise CaseError(
                    f"{to!r} is a {user.role} user; a case is assigned to an "
                    + " or ".join(ASSIGNABLE_ROLES)
                )
            if not user.active:
                raise CaseError(f"user {to!r} is disabled")
            c.assigned_to = to

        return self._change(case_id, "assign", expected_version, {"assigned_to": to}, apply)

    def comment(self, case_id: str, text: str) -> None:
        if not text.strip():
            raise CaseError("an empty comment")
        with self.db.session() as s:
            c = self._case(s, case_id)
            s.add(Comment(case_pk=c.id, at=utcnow(), author=self.actor, text=text))
            audit.append(s, self.actor, "comment", {"text": text}, case_id=case_id)

    def guide(
        self,
        case_id: str,
        deadline: dt.date | str,
        *,
        bureau: str | None = None,
        expected_version: int | None = None,
        out: str | Path | None = None,
        today: dt.date | None = None,
    ) -> dict[str, Any]:
        """Issue the guidance notice with a deadline; it is kept (HTML) with its SHA-256.

        With ``out`` the notice is also written there (``.html`` or ``.pdf``).
        """
        from promoguard.cases import notice as notice_mod

        when = _date(deadline)
        today = today or dt.datetime.now(dt.UTC).date()
        if when <= today:
            raise CaseError(f"the deadline {when} is not in the future")
        if out is not None and Path(out).suffix.lower() not in (".html", ".pdf"):
            raise CaseError(f"--out must end in .html or .pdf, not {Path(out).suffix or '(none)'}")
        holder: dict[str, Any] = {}

        def apply(s: Session, c: Case) -> dict:
            docs = {
                d.sha256: d.document
                for d in s.execute(
                    select(EvidenceDocument).where(
                        EvidenceDocument.sha256.in_({f.evidence_sha256 for f in c.findings})
                    )
                ).scalars()
            }
            html = notice_mod.render_html(
                c, list(c.findings), docs, deadline=when, bureau=bureau, issued_on=today
            )
            digest = hashlib.sha256(html.encode("utf-8")).hexdigest()
            s.add(
                Notice(
                    case_pk=c.id,
                    issued_at=utcnow(),
                    issued_by=self.actor,
                    deadline=when,
                    html=html,
                    sha256=digest,
                )
            )
            c.deadline = when
            holder["html"] = html
            return {"deadline": when.isoformat(), "notice_sha256": digest}

        result = self._change(case_id, "guide", expected_version, {}, apply)
        if out is not None:
            result["notice_file"] = str(notice_mod.write(holder["html"], Path(out)))
        return result

    def notice_html(self, case_id: str) -> str:
        """The latest notice issued for the case."""
        with self.db.session() as s:
            c = self._case(s, case_id)
            n = (
                s.execute(select(Notice).where(Notice.case_pk == c.id).order_by(Notice.id.desc()))
                .scalars()
                .first()
            )
            if n is None:
                raise CaseError(f"case {case_id} has no notice yet (issue one with `cases guide`)")
            return n.html

    def rectify(
        self,
        case_id: str,
        note: str,
        *,
        attachments: Sequence[str | Path | tuple[str, bytes]] = (),
        actions: dict[str, str] | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Record the platform's rectification report, with attachments kept under SHA-256.

        ``actions`` maps a finding (``CHECK entity_type entity_id`` or ``CHECK entity_id``) to what
        was done about it (``listing removed``, ``price corrected``, ``merchant penalised`` …).
        """
        if not note or not note.strip():
            raise CaseError("a rectification report needs a note saying what was done")
        files: list[tuple[str, bytes]] = []
        for a in attachments:
            if isinstance(a, tuple):
                name, data = a
            else:
                p = Path(a)
                if not p.is_file():
                    raise CaseError(f"no attachment file {p}")
                if p.stat().st_size > MAX_ATTACHMENT_BYTES:
                    raise CaseError(f"attachment {p} is larger than 50 MiB")
                name, data = p.name, p.read_bytes()
            files.append((Path(name).name, data))
        actions = dict(actions or {})

        def apply(s: Session, c: Case) -> dict:
            r = Rectification(
                case_pk=c.id,
                reported_at=utcnow(),
                reported_by=self.actor,
                note=note,
                actions=json.dumps(actions, ensure_ascii=False, sort_keys=True),
            )
            s.add(r)
            s.flush()
            keyed = {}
            for f in c.findings:
                keyed[f"{f.check_code} {f.entity_type} {f.entity_id}"] = f
                keyed.setdefault(f"{f.check_code} {f.entity_id}", f)
            unknown = [k for k in actions if k not in keyed]
            if unknown:
                raise CaseError(f"the case has no finding {unknown[0]!r}")
            for k, what in actions.items():
                keyed[k].action_taken = what
            listed = []
            for name, data in files:
                digest = hashlib.sha256(data).hexdigest()
                s.add(
                    Attachment(
                        rectification_id=r.id,
                        filename=name,
                        content_type=mimetypes.guess_type(name)[0],
                        size=len(data),
                        sha256=digest,
                        content=data,
                    )
                )
                listed.append({"filename": name, "sha256": digest, "size": len(data)})
            return {"note": note, "attachments": listed, "actions": actions}

        return self._change(case_id, "rectify", expected_version, {}, apply)

    def verify(
        self,
        case_id: str,
        store: str | Path,
        *,
        scan_id: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Re-scan verdict: each finding still present, no longer present or not checked.

        The case becomes verified_rectified when none is still present, not_rectified otherwise;
        a scan that checked none of the case's findings decides nothing.
        """
        from promoguard.cases import source

        info = source.scan_info(store, scan_id)
        current = source.findings(store, info.scan_id)
        present_keys = set(
            zip(current["check_code"], current["entity_type"], current["entity_id"], strict=True)
        )
        with self.db.session() as s:
            keys = [(f.entity_type, f.entity_id) for f in self._case(s, case_id).findings]
        have_data = source.present_entities(store, keys)
        checks_run = set(info.checks)

        def apply(s: Session, c: Case) -> dict:
            detail = []
            counts = {"still_present": 0, "no_longer_present": 0, "not_checked": 0}
            for f in c.findings:
                key = (f.check_code, f.entity_type, f.entity_id)
                if key in present_keys:
                    result = "still_present"
                elif (
                    f.check_code not in checks_run or (f.entity_type, f.entity_id) not in have_data
                ):
                    result = "not_checked"
                else:
                    result = "no_longer_present"
                f.verification = result
                counts[result] += 1
                detail.append(
                    {
                        "check_code": f.check_code,
                        "entity_type": f.entity_type,
                        "entity_id": f.entity_id,
                        "result": result,
                    }
                )
            if counts["still_present"] == 0 and counts["no_longer_present"] == 0:
                raise CaseError(
                    f"scan {info.scan_id} checked none of case {c.case_id}'s findings "
                    "(their checks were not run or their data is absent): nothing verified"
                )
            outcome = states.NOT_RECTIFIED if counts["still_present"] else states.VERIFIED_RECTIFIED
            c.status = outcome
            s.add(
                Verification(
                    case_pk=c.id,
                    scan_id=info.scan_id,
                    verified_at=utcnow(),
                    verified_by=self.actor,
                    outcome=outcome,
                    detail=json.dumps(detail, ensure_ascii=False),
                    **counts,
                )
            )
            return {"scan_id": info.scan_id, "outcome": outcome, **counts}

        return self._change(case_id, "verify", expected_version, {}, apply)

    def close(
        self,
        case_id: str,
        *,
        escalate: bool = False,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Close a verified case, or escalate it to enforcement (立案) with a reason."""
        action = "escalate" if escalate else "close"

        def apply(_s: Session, c: Case) -> None:
            c.closing_reason = reason

        return self._change(case_id, action, expected_version, {}, apply, reason=reason)

    def dismiss(self, case_id: str, reason: str, *, expected_version: int | None = None) -> dict:
        """Dismiss a case that should not be pursued (false positive, duplicate…), with a reason."""

        def apply(_s: Session, c: Case) -> None:
            c.closing_reason = reason

        return self._change(case_id, "dismiss", expected_version, {}, apply, reason=reason)

    # ------------------------------------------------------------------ opening from a scan
    def open_from_scan(
        self, store: str | Path, *, scan_id: str | None = None, group: str = "merchant"
    ) -> OpenResult:
        """Open cases from a scan, or add its new findings to the cases already open.

        ``group="merchant"``: one case per merchant and platform, and one per platform for findings
        that name no merchant (the platform's own duties); ``group="platform"``: one per platform.
        A finding is matched to what a case already holds by (check_code, entity_type, entity_id).
        """
        from promoguard.cases import source

        if group not in ("merchant", "platform"):
            raise CaseError(f"--group is merchant or platform, not {group!r}")
        info = source.scan_info(store, scan_id)
        found = [_Row._make(r) for r in source.finding_rows(store, info.scan_id)]
        result = OpenResult(info.scan_id)
        if not found:
            return result
        platform_names, merchant_names = source.names(store)
        harm = source.harm(store, info.scan_id)
        # the bulk insert hands values to the driver as the column holds them: SQLite keeps
        # SQLAlchemy's naive UTC text, PostgreSQL a timestamptz (the text with its offset)
        on_sqlite = self.db.engine.dialect.name == "sqlite"

        def detected(text_value: str | None) -> str | None:
            if text_value is None or on_sqlite:
                return text_value
            return f"{text_value}+00:00"

        by_key: dict[tuple, list[_Row]] = defaultdict(list)
        for r in found:
            m = r.merchant_id if group == "merchant" else None
            by_key[("merchant" if m else "platform", r.platform_id, m)].append(r)
        del found

        harm_by: dict[tuple, tuple[int, float]] = defaultdict(lambda: (0, 0.0))
        for p, m, n, amount in harm.itertuples(index=False):
            key = (p, m if group == "merchant" else None)
            o, a = harm_by[key]
            harm_by[key] = (o + int(n), a + float(amount or 0))

        with self.db.session() as s:
            # the head row first: it takes the write lock (SQLite) / locks the row (PostgreSQL)
            # so two `cases open` never interleave; the events are chained at the end
            audit.lock_head(s)
            active = {
                (c.kind, c.platform_id, c.merchant_id): c
                for c in s.execute(select(Case).where(Case.status.in_(states.ACTIVE))).scalars()
            }
            earlier: dict[tuple, int] = defaultdict(int)
            for kind, p, m, n in s.execute(
                select(Case.kind, Case.platform_id, Case.merchant_id, func.count())
                .where(Case.status.not_in(states.ACTIVE))
                .group_by(Case.kind, Case.platform_id, Case.merchant_id)
            ):
                earlier[(kind, p, m)] = n
            seen_before = {
                (r[0], r[1], r[2])
                for r in s.execute(
                    select(
                        CaseFinding.check_code, CaseFinding.entity_type, CaseFinding.entity_id
                    ).distinct()
                )
            }
            existing: dict[int, dict[tuple, tuple[int, int, str]]] = defaultdict(dict)
            active_pks = [c.id for c in active.values()]
            for i in range(0, len(active_pks), CHUNK):
                for fid, pk, code, et, eid, times, last in s.execute(
                    select(
                        CaseFinding.id,
                        CaseFinding.case_pk,
                        CaseFinding.check_code,
                        CaseFinding.entity_type,
                        CaseFinding.entity_id,
                        CaseFinding.times_seen,
                        CaseFinding.last_scan_id,
                    ).where(CaseFinding.case_pk.in_(active_pks[i : i + CHUNK]))
                ):
                    existing[pk][(code, et, eid)] = (fid, times, last)

            now = utcnow()
            new_cases: list[dict[str, Any]] = []
            families: dict[str, str] = {}
            plan = []  # (key, rows, case or None)
            for key in sorted(by_key, key=lambda k: tuple("" if v is None else v for v in k)):
                kind, p, m = key
                frame = sorted(
                    by_key[key], key=lambda r: (r.check_code, r.entity_type, r.entity_id)
                )
                case = active.get(key)
                if case is None:
                    n_earlier = earlier.get(key, 0)
                    ident = "|".join((kind, p or "", m or "", info.scan_id, str(n_earlier)))
                    case_id = "C-" + hashlib.sha256(ident.encode()).hexdigest()[:10].upper()
                    new_cases.append(
                        {
                            "case_id": case_id,
                            "kind": kind,
                            "platform_id": p,
                            "platform_name": platform_names.get(p),
                            "merchant_id": m,
                            "merchant_name": merchant_names.get(m) if m else None,
                            "pack": info.pack,
                            "status": states.OPEN,
                            "risk_score": 0.0,
                            "priority": 4,
                            "score_detail": "{}",
                            "findings_count": 0,
                            "opened_scan_id": info.scan_id,
                            "last_scan_id": info.scan_id,
                            "opened_at": now,
                            "updated_at": now,
                            "version": 1,
                        }
                    )
                plan.append((key, frame, case))
            for i in range(0, len(new_cases), CHUNK):
                s.execute(insert(Case), new_cases[i : i + CHUNK])
            pk_of = {c.case_id: (c.id, c.case_id) for c in active.values()}
            new_ids = [c["case_id"] for c in new_cases]
            for i in range(0, len(new_ids), CHUNK):
                for pk, cid in s.execute(
                    select(Case.id, Case.case_id).where(Case.case_id.in_(new_ids[i : i + CHUNK]))
                ):
                    pk_of[cid] = (pk, cid)
            new_iter = iter(new_ids)

            add_rows: list[tuple] = []
            seen_rows: list[dict[str, Any]] = []
            score_rows: list[dict[str, Any]] = []
            events: list[tuple[str, dict, str]] = []
            for key, frame, case in plan:
                case_id = case.case_id if case is not None else next(new_iter)
                pk = pk_of[case_id][0]
                have = existing.get(pk, {}) if case is not None else {}
                added = 0
                again = 0
                sev: list[str] = []
                fams: list[str] = []
                seen = 0
                for row in frame:
                    mkey = (row.check_code, row.entity_type, row.entity_id)
                    if mkey in have:
                        fid, times, last = have[mkey]
                        if last == info.scan_id:
                            continue  # this scan was opened before: nothing new
                        have[mkey] = (fid, times + 1, info.scan_id)
                        seen_rows.append(
                            {"b_id": fid, "b_scan": info.scan_id, "b_times": times + 1}
                        )
                        again += 1
                        continue
                    if mkey in seen_before:
                        seen += 1
                    fam = families.get(row.check_code)
                    if fam is None:
                        fam = families[row.check_code] = family_of(row.check_code)
                    have_key = mkey
                    add_rows.append(
                        (
                            pk,
                            row.finding_id,
                            row.check_code,
                            fam,
                            row.entity_type,
                            row.entity_id,
                            row.merchant_id,
                            row.platform_id,
                            row.severity,
                            row.observed or "{}",
                            row.expected or "{}",
                            row.legal_basis or "",
                            row.evidence_sha256,
                            info.scan_id,
                            info.scan_id,
                            1,
                            detected(row.detected_at),
                        )
                    )
                    # a scan listing one finding twice adds it once
                    have[have_key] = (-1, 1, info.scan_id)
                    added += 1
                    sev.append(row.severity)
                    fams.append(fam)
                if case is not None:
                    old = s.execute(
                        select(
                            CaseFinding.severity, CaseFinding.family, CaseFinding.times_seen
                        ).where(CaseFinding.case_pk == pk)
                    ).all()
                    sev += [o[0] for o in old]
                    fams += [o[1] for o in old]
                    seen += sum(1 for o in old if o[2] > 1) + again
                orders, amount = harm_by.get((key[1], key[2]), (0, 0.0))
                if case is not None:  # harm seen by an earlier scan still counts
                    before = json.loads(case.score_detail or "{}")
                    orders = max(orders, int(before.get("orders_affected", 0)))
                    amount = max(amount, float(before.get("amount_affected", 0.0)))
                score = Score.compute(
                    sev,
                    fams,
                    earlier_cases=earlier.get(key, 0),
                    seen_before=seen,
                    orders_affected=orders,
                    amount_affected=amount,
                )
                total = len(sev)
                score_rows.append(
                    {
                        "b_pk": pk,
                        "b_score": score.risk_score,
                        "b_priority": score.priority,
                        "b_detail": json.dumps(score.detail, ensure_ascii=False, sort_keys=True),
                        "b_count": total,
                        "b_scan": info.scan_id,
                        "b_now": now,
                    }
                )
                payload = {
                    "scan_id": info.scan_id,
                    "findings_added": added,
                    "findings_seen_again": again,
                    "risk_score": score.risk_score,
                    "priority": score.priority,
                }
                if case is None:
                    result.opened.append(case_id)
                    events.append(("open", payload, case_id))
                elif added or again:
                    result.updated.append(case_id)
                    events.append(("findings_added", payload, case_id))
                result.findings_added += added
                result.findings_seen_again += again
                if len(add_rows) >= CHUNK:  # written as we go: a city's findings do not pile up
                    _executemany(s, "case_findings", FINDING_INSERT_COLUMNS, add_rows)
                    add_rows.clear()

            _executemany(s, "case_findings", FINDING_INSERT_COLUMNS, add_rows)
            if seen_rows:
                s.execute(
                    update(CaseFinding.__table__)
                    .where(CaseFinding.__table__.c.id == bindparam("b_id"))
                    .values(last_scan_id=bindparam("b_scan"), times_seen=bindparam("b_times")),
                    [r for r in seen_rows if r["b_id"] != -1],
                )
            if score_rows:
                t = Case.__table__
                s.execute(
                    update(t)
                    .where(t.c.id == bindparam("b_pk"))
                    .values(
                        risk_score=bindparam("b_score"),
                        priority=bindparam("b_priority"),
                        score_detail=bindparam("b_detail"),
                        findings_count=bindparam("b_count"),
                        last_scan_id=bindparam("b_scan"),
                        updated_at=bindparam("b_now"),
                        version=t.c.version + 1,
                    ),
                    score_rows,
                )
            # a changed case object in this session must not be flushed over these updates
            s.expire_all()
            for batch in source.evidence(store, info.scan_id):
                _executemany(
                    s, "evidence_documents", ("sha256", "document"), batch, ignore_conflicts=True
                )
            audit.append_many(s, self.actor, events)
            audit.append(
                s,
                self.actor,
                "open_from_scan",
                {
                    "scan_id": info.scan_id,
                    "pack": info.pack,
                    "group": group,
                    "opened": len(result.opened),
                    "updated": len(result.updated),
                    "findings_added": result.findings_added,
                },
            )
        return result

    # ------------------------------------------------------------------ users
    def add_user(
        self,
        name: str,
        role: str,
        *,
        platform_id: str | None = None,
        password_hash: str | None = None,
        display_name: str | None = None,
    ) -> dict[str, Any]:
        """Add a user (the web layer hashes the password; this never sees one)."""
        if not name or not name.strip() or len(name) > 200:
            raise CaseError("a user name is 1-200 characters")
        if role not in ROLES:
            raise CaseError(f"role is one of {', '.join(ROLES)}, not {role!r}")
        if role == "platform" and not platform_id:
            raise CaseError("a platform user needs --platform ID")
        with self.db.session() as s:
            if s.execute(select(User).where(User.name == name)).first() is not None:
                raise CaseError(f"user {name!r} exists already")
            u = User(
                name=name,
                role=role,
                platform_id=platform_id,
                password_hash=password_hash,
                display_name=display_name,
                active=True,
                created_at=utcnow(),
            )
            s.add(u)
            s.flush()
            audit.append(
                s,
                self.actor,
                "user_added",
                {"name": name, "role": role, "platform_id": platform_id},
            )
            return user_dict(u)

    def _user(self, s: Session, name: str) -> User:
        u = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if u is None:
            raise CaseError(f"no user {name!r}")
        return u

    @staticmethod
    def _revoke_all(s: Session, user_id: int, reason: str) -> int:
        """End every live session and token of a user; how many there were."""
        result = s.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )
        return result.rowcount or 0

    def set_password(self, name: str, password_hash: str) -> dict[str, Any]:
        """Store a new password hash and end every session and token the user had."""
        if not password_hash:
            raise CaseError("a password hash is needed")
        with self.db.session() as s:
            u = self._user(s, name)
            u.password_hash = password_hash
            ended = self._revoke_all(s, u.id, "password_changed")
            audit.append(s, self.actor, "user_password_changed", {"name": name, "ended": ended})
            return {**user_dict(u), "sessions_ended": ended}

    def set_active(self, name: str, active: bool) -> dict[str, Any]:
        """Enable or disable a user; disabling ends every session and token at once."""
        with self.db.session() as s:
            u = self._user(s, name)
            u.active = active
            ended = 0 if active else self._revoke_all(s, u.id, "user_disabled")
            action = "user_enabled" if active else "user_disabled"
            audit.append(s, self.actor, action, {"name": name, "ended": ended})
            return {**user_dict(u), "sessions_ended": ended}

    def set_language(self, name: str, language: str | None) -> dict[str, Any]:
        """The user's UI language (``en``, ``zh``), or None to follow the browser."""
        if language is not None and language not in USER_LANGUAGES:
            raise CaseError(f"language is one of {', '.join(USER_LANGUAGES)}, not {language!r}")
        with self.db.session() as s:
            u = self._user(s, name)
            if u.language != language:
                u.language = language
                audit.append(
                    s, self.actor, "user_language_set", {"name": name, "language": language}
                )
            return user_dict(u)

    def start_session(
        self, user_id: int, session_id: str, kind: str, expires_at: dt.datetime
    ) -> None:
        """Record a session or token the web tier issued (``session_id``: its nonce's SHA-256).

        Not an audit event (a login is access, not a change to a case); the user's rows that expired
        more than a day ago are deleted on the way.
        """
        now = utcnow()
        with self.db.session() as s:
            s.execute(
                UserSession.__table__.delete().where(
                    UserSession.user_id == user_id,
                    UserSession.expires_at < now - dt.timedelta(days=1),
                )
            )
            s.add(
                UserSession(
                    id=session_id, user_id=user_id, kind=kind, created_at=now, expires_at=expires_at
                )
            )

    def end_session(self, session_id: str, reason: str = "logout") -> bool:
        """Revoke one session or token; False when it was not live."""
        with self.db.session() as s:
            result = s.execute(
                update(UserSession)
                .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_reason=reason)
            )
            return bool(result.rowcount)

    def get_user(self, name: str) -> User | None:
        """The user called ``name`` (detached; read ``password_hash`` to check a login)."""
        with self.db.session() as s:
            return s.execute(select(User).where(User.name == name)).scalar_one_or_none()

    def list_users(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [user_dict(u) for u in s.execute(select(User).order_by(User.name)).scalars()]

    def record(self, action: str, payload: dict[str, Any], case_id: str | None = None) -> None:
        """Append an event for an action done elsewhere (a rule-pack change, a login policy…)."""
        with self.db.session() as s:
            audit.append(s, self.actor, action, payload, case_id=case_id)

    # ------------------------------------------------------------------ audit trail
    def audit_verify(self, head: dict[str, Any] | None = None) -> audit.ChainReport:
        with self.db.session() as s:
            return audit.check_head(s, head) if head else audit.verify(s)

    def audit_head(self) -> dict[str, Any]:
        with self.db.session() as s:
            return audit.export_head(s)


def user_dict(u: User) -> dict[str, Any]:
    return {
        "name": u.name,
        "role": u.role,
        "platform_id": u.platform_id,
        "display_name": u.display_name,
        "active": u.active,
        "language": u.language,
    }


def ensure_transition(action: str, status: str) -> str:
    """The state after ``action`` from ``status`` (a TransitionError when not allowed)."""
    return states.next_state(action, status)


__all__ = [
    "CaseService",
    "CaseConflict",
    "CaseError",
    "OpenResult",
    "TransitionError",
    "case_summary",
    "ensure_transition",
    "is_overdue",
]


def export_bundle(
    svc: CaseService, case_id: str, out: str | Path, key: str | Path
) -> dict[str, Any]:
    """Write the case's signed evidence bundle (see :mod:`promoguard.cases.bundle`)."""
    from promoguard.cases import bundle

    case = svc.get_case(case_id)
    events = case.pop("events")
    with svc.db.session() as s:
        c = svc._case(s, case_id)
        shas = {f.evidence_sha256 for f in c.findings}
        docs = {
            d.sha256: d.document
            for d in s.execute(
                select(EvidenceDocument).where(EvidenceDocument.sha256.in_(shas))
            ).scalars()
        }
        n = (
            s.execute(select(Notice).where(Notice.case_pk == c.id).order_by(Notice.id.desc()))
            .scalars()
            .first()
        )
        atts = [
            (a.filename, a.content)
            for a in s.execute(
                select(Attachment)
                .join(Rectification, Attachment.rectification_id == Rectification.id)
                .where(Rectification.case_pk == c.id)
                .order_by(Attachment.id)
            ).scalars()
        ]
    files = bundle.case_files(case, docs, n.html if n else None, atts, events)
    manifest = bundle.write_bundle(files, case_id, audit.now_text(), key, out)
    with svc.db.session() as s:
        audit.append(
            s,
            svc.actor,
            "evidence_exported",
            {
                "files": len(manifest["files"]),
                "manifest_sha256": hashlib.sha256(
                    json.dumps(manifest, sort_keys=True).encode()
                ).hexdigest(),
            },
            case_id=case_id,
        )
    return {"case_id": case_id, "out": str(out), "files": len(manifest["files"])}
