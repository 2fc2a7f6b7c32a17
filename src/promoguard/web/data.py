"""The web tier's one door to the case database: reads by SQL, writes by the case service.

Reads are plain SQLAlchemy Core queries on the ``promoguard.cases`` models, shaped for pages: keyset
paging (``WHERE id < :after ORDER BY id DESC LIMIT n``, on the indexes of cases migration 0002) so
that page 1000 of the findings costs what page 1 does, and every read takes the viewer's ``scope`` (a platform id or None) and filters on the
*case's* platform, so another tenant's object is never read at all. Writes go through
``CaseService`` acting as the logged-in user, which checks the state machine and appends the audit
event in the same transaction; a refused change comes back as a 409/422 with the service's reason.

Aggregates that a dashboard shows (counts by family, platform, day) are cached for a few seconds
per scope: they scan every finding, and fifty people opening the dashboard at once must not mean
fifty scans.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from sqlalchemy import and_, func, or_, select

from promoguard.cases import states
from promoguard.cases.db import CaseDB, open_db
from promoguard.cases.errors import CaseConflict, CaseError, TransitionError
from promoguard.cases.models import (
    Attachment,
    AuditEvent,
    Case,
    CaseFinding,
    EvidenceDocument,
    Notice,
    Rectification,
    User,
    UserSession,
)
from promoguard.cases.service import CaseService, case_records
from promoguard.web import rules
from promoguard.web.charts import columns, ring
from promoguard.web.security import session_key

SEVERITY_ORDER = ("critical", "high", "medium", "low")
CACHE_SECONDS = 30.0
#: Findings listed on a case page (and in its JSON); the rest are one click away, paged.
CASE_FINDINGS_SHOWN = 100


def _iso(value: Any) -> Any:
    """ISO 8601; a moment always with its offset (the case database keeps UTC, and SQLite gives
    it back without one)."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _loads(text_value: str | None) -> Any:
    try:
        return json.loads(text_value or "{}")
    except ValueError:
        return {}


class _TTLCache:
    """Values kept ``seconds``; one computation per key at a time (single flight).

    Fifty people opening the dashboard after a write must not mean fifty 2-CPU-second scans at
    once: the first computes, the others wait for its value.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._items: dict[Any, tuple[float, Any]] = {}
        self._making: dict[Any, threading.Lock] = {}

    def _fresh(self, key: Any) -> tuple[bool, Any]:
        hit = self._items.get(key)
        if hit and time.monotonic() - hit[0] < self.seconds:
            return True, hit[1]
        return False, None

    def get(self, key: Any, make: Any) -> Any:
        with self._lock:
            found, value = self._fresh(key)
            if found:
                return value
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                found, value = self._fresh(key)  # made by another thread while this one waited
            if found:
                return value
            started = time.monotonic()
            value = make()
            with self._lock:
                self._items[key] = (started, value)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class WebData:
    """Everything the pages and the API read and write, for one case database."""

    def __init__(self, db: CaseDB | str | None = None, *, store: str | Path | None = None):
        self.db = db if isinstance(db, CaseDB) else open_db(db)
        self.store = Path(store) if store else None
        self._cache = _TTLCache(CACHE_SECONDS)

    def service(self, actor: str) -> CaseService:
        return CaseService(self.db, actor=actor)

    # -- users -------------------------------------------------------------------------------
    @staticmethod
    def _user(u: User | None) -> dict[str, Any] | None:
        if u is None:
            return None
        return {
            "user_id": str(u.id),
            "name": u.name,
            "role": u.role,
            "platform_id": u.platform_id,
            "display_name": u.display_name,
            "password_hash": u.password_hash,
            "active": u.active,
            "language": u.language,
        }

    def user_by_name(self, name: str) -> dict[str, Any] | None:
        with self.db.session() as s:
            return self._user(s.execute(select(User).where(User.name == name)).scalar_one_or_none())

    # -- sessions: every request reads its row, so a revoked one stops at once ------------------
    def session_user(self, claims: Any) -> dict[str, Any] | None:
        """The user of a signed session cookie or bearer token whose session is still live.

        Live: recorded when issued, for this user and kind, not revoked (logout, password change,
        user disabled), and the user active. Not cached: a revocation takes effect on the next
        request, in every server process.
        """
        if not str(claims.user_id).isdigit():
            return None
        q = (
            select(User, UserSession.revoked_at)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.id == session_key(claims.nonce),
                UserSession.user_id == int(claims.user_id),
                UserSession.kind == claims.kind,
            )
        )
        with self.db.session() as s:
            row = s.execute(q).first()
            if row is None or row.revoked_at is not None or not row.User.active:
                return None
            return self._user(row.User)

    def start_session(self, user: dict[str, Any], claims: Any, lifetime: float) -> None:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime)
        self.service(user["name"]).start_session(
            int(user["user_id"]), session_key(claims.nonce), claims.kind, expires
        )

    def end_session(self, nonce: str) -> bool:
        return self.service("web").end_session(session_key(nonce))

    def set_language(self, viewer: Any, language: str | None) -> Any:
        return self._do(self.service(viewer.name).set_language, viewer.name, language)

    def set_password(self, viewer: Any, password_hash: str) -> Any:
        return self._do(self.service(viewer.name).set_password, viewer.name, password_hash)

    def users(self) -> list[dict[str, Any]]:
        """Users without their password hashes."""
        with self.db.session() as s:
            rows = s.execute(select(User).order_by(User.name)).scalars().all()
            return [
                {
                    "name": u.name,
                    "role": u.role,
                    "platform_id": u.platform_id,
                    "display_name": u.display_name,
                    "active": u.active,
                }
                for u in rows
            ]

    # -- scoping -----------------------------------------------------------------------------
    @staticmethod
    def _scoped(q: Any, scope: str | None) -> Any:
        return q if scope is None else q.where(Case.platform_id == scope)

    # -- facets and dashboard -----------------------------------------------------------------
    def facets(self, scope: str | None) -> dict[str, Any]:
        def make() -> dict[str, Any]:
            with self.db.session() as s:
                plats = s.execute(
                    self._scoped(
                        select(Case.platform_id, func.max(Case.platform_name))
                        .where(Case.platform_id.is_not(None))
                        .group_by(Case.platform_id)
                        .order_by(Case.platform_id),
                        scope,
                    )
                ).all()
            pages = rules.rule_pages()
            return {
                "checks": [(c, f"{c} · {p['title']}") for c, p in sorted(pages.items())],
                "severities": list(SEVERITY_ORDER),
                "platforms": [(p, f"{p} · {n}" if n else p) for p, n in plats],
                "finding_states": list(states.STATUSES),
                "case_states": list(states.STATUSES),
            }

        return self._cache.get(("facets", scope), make)

    def dashboard(self, scope: str | None) -> dict[str, Any]:
        return self._cache.get(("dashboard", scope), lambda: self._dashboard(scope))

    def _dashboard(self, scope: str | None) -> dict[str, Any]:
        today = dt.datetime.now(dt.UTC).date()
        with self.db.session() as s:
            # Findings by check and severity without the join to cases: every finding of a case
            # has the case's platform, so the scope filters the finding's own column and each
            # count reads one covering index (2.4 CPU s -> see docs/benchmarks.md at city scale).
            def own(q: Any) -> Any:
                return q if scope is None else q.where(CaseFinding.platform_id == scope)

            by_code = s.execute(
                own(select(CaseFinding.check_code, func.count()).group_by(CaseFinding.check_code))
            ).all()
            n_findings = sum(n for _, n in by_code)
            by_sev = dict(
                s.execute(
                    own(select(CaseFinding.severity, func.count()).group_by(CaseFinding.severity))
                ).all()
            )
            by_plat = s.execute(
                self._scoped(
                    select(Case.platform_id, func.sum(Case.findings_count))
                    .group_by(Case.platform_id)
                    .order_by(func.sum(Case.findings_count).desc()),
                    scope,
                )
            ).all()
            day = func.substr(func.cast(Case.opened_at, _text_type()), 1, 10)
            by_day = s.execute(
                self._scoped(
                    select(day, func.sum(Case.findings_count)).group_by(day).order_by(day), scope
                )
            ).all()
            by_status = s.execute(
                self._scoped(select(Case.status, func.count()).group_by(Case.status), scope)
            ).all()
            cases_by_plat = s.execute(
                self._scoped(
                    select(Case.platform_id, func.count())
                    .group_by(Case.platform_id)
                    .order_by(func.count().desc()),
                    scope,
                )
            ).all()
            overdue_q = self._scoped(
                select(Case)
                .where(Case.status == states.GUIDANCE_ISSUED, Case.deadline < today)
                .order_by(Case.deadline, Case.case_id),
                scope,
            )
            overdue = [self._case_row(c, today) for c in s.execute(overdue_q).scalars()]
        families: Counter[str] = Counter()
        for code, n in by_code:
            families[rules.family_of(code)] += n
        status_counts = dict(by_status)
        open_cases = sum(n for st, n in status_counts.items() if st in states.ACTIVE)
        return {
            "totals": {
                "findings": n_findings,
                "cases": sum(status_counts.values()),
                "open_cases": open_cases,
                "overdue": len(overdue),
            },
            "by_family": families.most_common(),
            "by_check": sorted(by_code, key=lambda r: -r[1]),
            "by_severity": [(sv, by_sev.get(sv, 0)) for sv in SEVERITY_ORDER],
            "by_platform": [(p or "—", int(n or 0)) for p, n in by_plat],
            "by_day": [(str(d), int(n or 0)) for d, n in by_day],
            "by_day_basis": "the day the case database first received the finding (case opened)",
            "cases_by_status": [
                (st, status_counts[st]) for st in states.STATUSES if st in status_counts
            ],
            "cases_by_platform": [(p or "—", n) for p, n in cases_by_plat],
            "overdue": overdue[:50],
        }

    # -- findings -----------------------------------------------------------------------------
    _FINDING_COLS = (
        CaseFinding.id,
        CaseFinding.finding_id,
        CaseFinding.check_code,
        CaseFinding.severity,
        CaseFinding.entity_type,
        CaseFinding.entity_id,
        CaseFinding.merchant_id,
        CaseFinding.platform_id,
        CaseFinding.evidence_sha256,
        CaseFinding.times_seen,
        CaseFinding.verification,
        Case.case_id,
        Case.status,
        Case.merchant_name,
        Case.opened_at,
        CaseFinding.detected_at,
        # the rest of the spec's finding (data-model.md, Findings): a script reading the list
        # needs no second request per finding to see what was found and under which law
        CaseFinding.observed,
        CaseFinding.expected,
        CaseFinding.legal_basis,
        CaseFinding.first_scan_id,
        CaseFinding.last_scan_id,
        Case.pack,
    )

    def _finding_row(self, r: Any) -> dict[str, Any]:
        page = rules.rule_page(r.check_code) or {}
        return {
            "finding_id": r.finding_id,
            "check_code": r.check_code,
            "title": page.get("title", ""),
            "family": rules.family_of(r.check_code),
            "severity": r.severity,
            "entity_type": r.entity_type,
            "entity_id": r.entity_id,
            "merchant_id": r.merchant_id,
            "merchant_name": r.merchant_name,
            "platform_id": r.platform_id,
            "evidence_sha256": r.evidence_sha256,
            "times_seen": r.times_seen,
            "verification": r.verification,
            "case_id": r.case_id,
            "case_status": r.status,
            # when its scan found it; a case database from before that was kept: the case's opening
            "detected_at": _iso(r.detected_at or r.opened_at),
            # the scan whose finding this row holds (detected_at, observed, evidence: the case
            # database keeps the first sighting); last_scan_id: the latest scan that found it too
            "scan_id": r.first_scan_id,
            "last_scan_id": r.last_scan_id,
            "pack": r.pack,
            "observed": _loads(r.observed),
            "expected": _loads(r.expected),
            "legal_basis": r.legal_basis,
        }

    def findings(
        self, scope: str | None, filters: dict[str, str], after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first, ``limit`` at a time; ``after`` is the last row's cursor.

        Each page is a walk of one index newest first, stopped after ``limit`` rows (see
        ``tests/web/test_data.py`` for the plans). A family is several checks: one such walk per
        check, merged here (an ``IN`` list made SQLite gather and sort every finding of the family:
        0.66 s for ``content``, 47,000 findings, at city scale).
        """
        if after is not None and not after.isdigit():
            raise HTTPException(status_code=422, detail="after is a cursor from a previous page")
        if "family" in filters:
            codes = [c for c in rules.rule_pages() if rules.family_of(c) == filters["family"]]
            if "check" in filters:
                codes = [c for c in codes if c == filters["check"]]
            rest = {k: v for k, v in filters.items() if k not in ("family", "check")}
            rows = []
            for code in codes:
                rows += self._finding_rows(scope, {**rest, "check": code}, after, limit)
            rows = sorted(rows, key=lambda r: -r.id)[: limit + 1]
        else:
            rows = self._finding_rows(scope, filters, after, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        return [self._finding_row(r) for r in rows], (str(rows[-1].id) if more else None)

    def _finding_rows(
        self, scope: str | None, filters: dict[str, str], after: str | None, limit: int
    ) -> list[Any]:
        """Up to ``limit + 1`` rows, newest first (``family`` is handled by the caller).

        A case-state filter picks its plan from how many findings the cases in that state hold
        (``cases.findings_count``, summed and cached): few, and the page starts from those cases
        (the status index) and sorts their findings; many, and it walks every finding newest first
        and looks its case up by key. Left to itself, SQLite picked the wrong one both ways
        (4.6 s for ``state=open``; 1.6 s for an officer's ``state=closed`` with no such case).
        """
        onclause = Case.id == CaseFinding.case_pk
        order_key: Any = CaseFinding.id
        from_cases = False
        state = filters.get("state")
        if state is not None:
            total = self._state_total(scope, state)
            if total == 0:
                return []
            if total <= self.STATE_SORT_LIMIT:
                from_cases = True
                order_key = CaseFinding.id + 0  # `+ 0`: no index gives this order, so none tempts
            else:
                onclause = Case.id == CaseFinding.case_pk + 0  # never from cases to findings
        q = select(*self._FINDING_COLS).join(Case, onclause)
        q = self._scoped(q, scope)
        if scope is not None and not from_cases and not {"merchant", "case"} & filters.keys():
            # the finding's own platform too (always the case's): lets the database walk the
            # (platform_id, id) index newest first instead of sorting the platform's findings
            # (not beside a merchant or a case: their own index is narrower, and the platform's
            # tempted SQLite into walking the whole platform for a merchant it does not have)
            q = q.where(CaseFinding.platform_id == scope)
        if "check" in filters:
            q = q.where(CaseFinding.check_code == filters["check"])
        if "severity" in filters:
            q = q.where(CaseFinding.severity == filters["severity"])
        if "platform" in filters:
            q = q.where(CaseFinding.platform_id == filters["platform"])
        if "merchant" in filters:
            q = q.where(CaseFinding.merchant_id == filters["merchant"])
        if "state" in filters:
            q = q.where(Case.status == filters["state"])
        if "case" in filters:
            q = q.where(Case.case_id == filters["case"])
        # the days a scan found it (UTC), as the list shows it: detected_at, or the case's opening
        # in a case database from before findings kept their own time
        detected = func.coalesce(CaseFinding.detected_at, Case.opened_at)
        if "date_from" in filters:
            start = dt.datetime.fromisoformat(filters["date_from"]).replace(tzinfo=dt.UTC)
            q = q.where(detected >= start)
        if "date_to" in filters:
            end = dt.datetime.fromisoformat(filters["date_to"]).replace(tzinfo=dt.UTC)
            q = q.where(detected < end + dt.timedelta(days=1))
        if after is not None:
            q = q.where(CaseFinding.id < int(after))
        q = q.order_by(order_key.desc()).limit(limit + 1)
        with self.db.session() as s:
            return list(s.execute(q).all())

    #: Up to this many findings in the cases of a state, a state-filtered page starts from those
    #: cases and sorts their findings (at most this many); above, matches are dense enough that
    #: walking all findings newest first meets a page of them soon.
    STATE_SORT_LIMIT = 20_000

    def _state_total(self, scope: str | None, state: str) -> int:
        def make() -> int:
            q = select(func.coalesce(func.sum(Case.findings_count), 0)).where(Case.status == state)
            with self.db.session() as s:
                return int(s.execute(self._scoped(q, scope)).scalar_one())

        return self._cache.get(("state_total", scope, state), make)

    def finding(self, scope: str | None, finding_id: str) -> dict[str, Any] | None:
        q = self._scoped(
            select(*self._FINDING_COLS, CaseFinding.action_taken)
            .join(Case, Case.id == CaseFinding.case_pk)
            .where(CaseFinding.finding_id == finding_id)
            .order_by(CaseFinding.id.desc())
            .limit(1),
            scope,
        )
        with self.db.session() as s:
            r = s.execute(q).first()
            if r is None:
                return None
            doc = s.get(EvidenceDocument, r.evidence_sha256)
        out = self._finding_row(r)
        observed, expected = out["observed"], out["expected"]
        evidence = _loads(doc.document) if doc else {}
        out.update(
            {
                "measure_keys": sorted(
                    set(observed if isinstance(observed, dict) else {})
                    | set(expected if isinstance(expected, dict) else {})
                ),
                "first_scan_id": r.first_scan_id,  # kept: the page said it before scan_id did
                "action_taken": r.action_taken,
                "evidence": evidence.get("rows", {}) if isinstance(evidence, dict) else {},
            }
        )
        return out

    def evidence(self, scope: str | None, sha256: str) -> dict[str, Any] | None:
        """An evidence document, when a finding the viewer may see points at it."""
        q = self._scoped(
            select(CaseFinding.id)
            .join(Case, Case.id == CaseFinding.case_pk)
            .where(CaseFinding.evidence_sha256 == sha256)
            .limit(1),
            scope,
        )
        with self.db.session() as s:
            if s.execute(q).first() is None:
                return None
            doc = s.get(EvidenceDocument, sha256)
        if doc is None:
            return None
        return {"evidence_sha256": sha256, "document": _loads(doc.document)}

    def scans(self, scope: str | None) -> list[dict[str, Any]]:
        """Scans with their findings in the case database (counts every finding: cached)."""
        return self._cache.get(("scans", scope), lambda: self._scans(scope))

    def _scans(self, scope: str | None) -> list[dict[str, Any]]:
        q = self._scoped(
            select(
                CaseFinding.last_scan_id,
                Case.pack,
                func.count(),
            )
            .join(Case, Case.id == CaseFinding.case_pk)
            .group_by(CaseFinding.last_scan_id, Case.pack),
            scope,
        )
        with self.db.session() as s:
            return [
                {"scan_id": sid, "pack": pack, "findings": n} for sid, pack, n in s.execute(q).all()
            ]

    # -- cases --------------------------------------------------------------------------------
    @staticmethod
    def _case_row(c: Case, today: dt.date | None = None) -> dict[str, Any]:
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
            "finding_count": c.findings_count,
            "assignee": c.assigned_to,
            "deadline": _iso(c.deadline),
            "overdue": bool(
                c.status == states.GUIDANCE_ISSUED and c.deadline is not None and c.deadline < today
            ),
            "opened_at": _iso(c.opened_at),
            "updated_at": _iso(c.updated_at),
            "version": c.version,
        }

    def cases(
        self, scope: str | None, filters: dict[str, str], after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Most urgent first (priority, then risk score, then id), keyset-paged."""
        q = self._scoped(select(Case), scope)
        if "status" in filters:
            q = q.where(Case.status == filters["status"])
        if "platform" in filters:
            q = q.where(Case.platform_id == filters["platform"])
        if "merchant" in filters:
            q = q.where(Case.merchant_id == filters["merchant"])
        if "assignee" in filters:
            q = q.where(Case.assigned_to == filters["assignee"])
        if "severity" in filters:  # the cases holding a finding of that severity
            q = q.where(
                Case.id.in_(
                    select(CaseFinding.case_pk).where(CaseFinding.severity == filters["severity"])
                )
            )
        if "overdue" in filters:
            q = q.where(
                Case.status == states.GUIDANCE_ISSUED,
                Case.deadline < dt.datetime.now(dt.UTC).date(),
            )
        if after is not None:
            try:
                p_text, r_text, cid = after.split("|", 2)
                p, r = int(p_text), float(r_text)
            except ValueError:
                raise HTTPException(
                    status_code=422, detail="after is a cursor from a previous page"
                ) from None
            # `priority >= p` first: the database starts its index walk there
            q = q.where(
                Case.priority >= p,
                or_(
                    Case.priority > p,
                    Case.risk_score < r,
                    and_(Case.risk_score == r, Case.case_id > cid),
                ),
            )
        q = q.order_by(Case.priority, Case.risk_score.desc(), Case.case_id).limit(limit + 1)
        today = dt.datetime.now(dt.UTC).date()
        with self.db.session() as s:
            rows = [self._case_row(c, today) for c in s.execute(q).scalars()]
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = None
        if more:
            last = rows[-1]
            cursor = f"{last['priority']}|{last['risk_score']!r}|{last['case_id']}"
        return rows, cursor

    def case(self, scope: str | None, case_id: str, *, with_audit: bool) -> dict[str, Any] | None:
        with self.db.session() as s:
            c = s.execute(
                self._scoped(select(Case).where(Case.case_id == case_id), scope)
            ).scalar_one_or_none()
            if c is None:
                return None
            out = self._case_row(c)
            out["score"] = _loads(c.score_detail)
            out["closing_reason"] = c.closing_reason
            # a case page shows its first findings; the findings browser (?case=) pages the rest
            out["findings"] = [
                {
                    "finding_id": f.finding_id,
                    "check_code": f.check_code,
                    "title": (rules.rule_page(f.check_code) or {}).get("title", ""),
                    "severity": f.severity,
                    "entity_type": f.entity_type,
                    "entity_id": f.entity_id,
                    "evidence_sha256": f.evidence_sha256,
                    "verification": f.verification,
                    "action_taken": f.action_taken,
                }
                for f in s.execute(
                    select(
                        CaseFinding.finding_id,
                        CaseFinding.check_code,
                        CaseFinding.severity,
                        CaseFinding.entity_type,
                        CaseFinding.entity_id,
                        CaseFinding.evidence_sha256,
                        CaseFinding.verification,
                        CaseFinding.action_taken,
                    )
                    .where(CaseFinding.case_pk == c.id)
                    .order_by(CaseFinding.id)
                    .limit(CASE_FINDINGS_SHOWN)
                )
            ]
            out["findings_total"] = c.findings_count
            # the same records, read the same way, as `cases show` and the evidence bundle
            out.update(case_records(s, c.id))
            if with_audit:
                out["audit"] = [
                    self._event(e)
                    for e in s.execute(
                        select(AuditEvent)
                        .where(AuditEvent.case_id == case_id)
                        .order_by(AuditEvent.seq)
                    ).scalars()
                ]
        return out

    def notice_html(self, scope: str | None, case_id: str) -> str | None:
        with self.db.session() as s:
            c = s.execute(
                self._scoped(select(Case.id).where(Case.case_id == case_id), scope)
            ).first()
            if c is None:
                return None
            n = s.execute(
                select(Notice.html).where(Notice.case_pk == c.id).order_by(Notice.id.desc())
            ).first()
            return n.html if n else None

    def attachment(
        self, scope: str | None, case_id: str, attachment_id: str
    ) -> tuple[str, str, bytes] | None:
        if not attachment_id.isdigit():
            return None
        q = self._scoped(
            select(Attachment.filename, Attachment.content_type, Attachment.content)
            .join(Rectification, Rectification.id == Attachment.rectification_id)
            .join(Case, Case.id == Rectification.case_pk)
            .where(Attachment.id == int(attachment_id), Case.case_id == case_id),
            scope,
        )
        with self.db.session() as s:
            r = s.execute(q).first()
        return (r.filename, r.content_type or "", r.content) if r else None

    @staticmethod
    def moves(case_row: dict[str, Any]) -> set[str]:
        """The actions the case's state allows (assign, guide, rectify, verify, close, ...)."""
        return {a for a, m in states.TRANSITIONS.items() if case_row["status"] in m}

    @staticmethod
    def transitions(case_row: dict[str, Any], role: str) -> list[str]:
        """The closing moves a bureau user may make from the case's state (close, escalate, ...)."""
        if role not in ("analyst", "admin"):
            return []
        return [
            action
            for action in ("close", "escalate", "dismiss")
            if case_row["status"] in states.TRANSITIONS[action]
        ]

    # -- writes (through the case service, as the user) ---------------------------------------
    def _do(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except CaseConflict as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        except TransitionError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        except CaseError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        self._cache.clear()
        return result

    # ``version``: the case's version the user's page or script showed; a change made by someone
    # else since then is refused (409) instead of decided on a stale view (docs/cases.md)
    def assign(self, viewer: Any, case_id: str, assignee: str, version: int | None = None) -> Any:
        return self._do(
            self.service(viewer.name).assign, case_id, assignee, expected_version=version
        )

    def comment(self, viewer: Any, case_id: str, text_value: str) -> Any:
        return self._do(self.service(viewer.name).comment, case_id, text_value)

    def transition(
        self, viewer: Any, case_id: str, to: str, reason: str, version: int | None = None
    ) -> Any:
        svc = self.service(viewer.name)
        if to == "close":
            return self._do(svc.close, case_id, reason=reason or None, expected_version=version)
        if to == "escalate":
            return self._do(
                svc.close, case_id, escalate=True, reason=reason, expected_version=version
            )
        if to == "dismiss":
            return self._do(svc.dismiss, case_id, reason, expected_version=version)
        raise HTTPException(status_code=422, detail=f"no such move: {to!r}")

    def guide(
        self, viewer: Any, case_id: str, deadline: dt.date, note: str, version: int | None = None
    ) -> Any:
        result = self._do(
            self.service(viewer.name).guide, case_id, deadline, expected_version=version
        )
        if note:
            self._do(self.service(viewer.name).comment, case_id, note)
        return result

    def rectify(
        self,
        viewer: Any,
        case_id: str,
        note: str,
        files: list[tuple[str, str, bytes]],
        version: int | None = None,
    ) -> Any:
        return self._do(
            self.service(viewer.name).rectify,
            case_id,
            note,
            attachments=[(name, content) for name, _, content in files],
            expected_version=version,
        )

    def verify(self, viewer: Any, case_id: str, version: int | None = None) -> Any:
        if self.store is None:
            raise HTTPException(
                status_code=422,
                detail="the server was started without --store: nothing to verify against",
            )
        return self._do(
            self.service(viewer.name).verify, case_id, self.store, expected_version=version
        )

    # -- merchants, platforms, alerts ---------------------------------------------------------
    def merchant(self, scope: str | None, merchant_id: str) -> dict[str, Any] | None:
        with self.db.session() as s:
            cases_ = (
                s.execute(
                    self._scoped(
                        select(Case)
                        .where(Case.merchant_id == merchant_id)
                        .order_by(Case.opened_at.desc()),
                        scope,
                    )
                )
                .scalars()
                .all()
            )
            if not cases_:
                return None
            pks = [c.id for c in cases_]
            by_check = s.execute(
                select(CaseFinding.check_code, func.count())
                .where(CaseFinding.case_pk.in_(pks))
                .group_by(CaseFinding.check_code)
                .order_by(func.count().desc())
            ).all()
            repeat_seen = s.execute(
                select(func.count())
                .select_from(CaseFinding)
                .where(CaseFinding.case_pk.in_(pks), CaseFinding.times_seen > 1)
            ).scalar_one()
            rows = [self._case_row(c) for c in cases_]
        by_day: Counter[str] = Counter()
        for c in rows:
            by_day[str(c["opened_at"])[:10]] += c["finding_count"]
        return {
            "merchant_id": merchant_id,
            "name": cases_[0].merchant_name,
            "platform_id": cases_[0].platform_id,
            "finding_count": sum(n for _, n in by_check),
            "by_check": [(code, n) for code, n in by_check],
            "by_day": sorted(by_day.items()),
            "repeat_offender": len(rows) > 1 or repeat_seen > 0,
            "cases": rows,
        }

    def _listings_per_platform(self) -> dict[str, int]:
        if self.store is None or not self.store.exists():
            return {}
        try:
            import duckdb

            con = duckdb.connect(str(self.store), read_only=True)
            try:
                return dict(
                    con.execute("SELECT platform_id, count(*) FROM listings GROUP BY 1").fetchall()
                )
            finally:
                con.close()
        except Exception:  # noqa: BLE001 - a store busy or of another shape: no denominators
            return {}

    def scorecards(self, scope: str | None) -> list[dict[str, Any]]:
        return self._cache.get(("scorecards", scope), lambda: self._scorecards(scope))

    def _scorecards(self, scope: str | None) -> list[dict[str, Any]]:
        listings = self._listings_per_platform()
        with self.db.session() as s:
            by_code = s.execute(
                self._scoped(
                    select(Case.platform_id, CaseFinding.check_code, func.count())
                    .join(Case, Case.id == CaseFinding.case_pk)
                    .group_by(Case.platform_id, CaseFinding.check_code),
                    scope,
                )
            ).all()
            names = dict(
                s.execute(
                    self._scoped(
                        select(Case.platform_id, func.max(Case.platform_name)).group_by(
                            Case.platform_id
                        ),
                        scope,
                    )
                ).all()
            )
            first_rect = (
                select(Rectification.case_pk, func.min(Rectification.reported_at).label("first"))
                .group_by(Rectification.case_pk)
                .subquery()
            )
            guided = s.execute(
                self._scoped(
                    select(Case.platform_id, Case.deadline, first_rect.c.first)
                    .outerjoin(first_rect, first_rect.c.case_pk == Case.id)
                    .where(Case.deadline.is_not(None)),
                    scope,
                )
            ).all()
            merchant_cases = s.execute(
                self._scoped(
                    select(
                        Case.platform_id,
                        Case.merchant_id,
                        func.max(Case.merchant_name),
                        func.count(func.distinct(Case.id)),
                        func.count(func.distinct(CaseFinding.check_code)),
                        func.count(CaseFinding.id),
                        func.max(CaseFinding.times_seen),
                    )
                    .join(CaseFinding, CaseFinding.case_pk == Case.id)
                    .where(Case.merchant_id.is_not(None))
                    .group_by(Case.platform_id, Case.merchant_id),
                    scope,
                )
            ).all()
        today = dt.datetime.now(dt.UTC).date()
        per: dict[str, dict[str, Any]] = {}
        for p, code, n in by_code:
            card = per.setdefault(p, {"families": Counter(), "findings": 0})
            card["families"][rules.family_of(code)] += n
            card["findings"] += n
        on_time: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for p, deadline, first in guided:
            if first is None and deadline >= today:
                continue  # still within its deadline: not yet decided
            on_time[p][1] += 1
            if first is not None and _as_date(first) <= deadline:
                on_time[p][0] += 1
        repeats: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for p, m, name, n_cases, n_checks, n_findings, max_seen in merchant_cases:
            if n_cases > 1 or (max_seen or 0) > 1:
                repeats[p].append(
                    {"merchant_id": m, "name": name, "findings": n_findings, "checks": n_checks}
                )
        cards = []
        for p in sorted(per, key=lambda k: (k is None, k or "")):
            n_list = listings.get(p)
            fams = per[p]["families"]
            done, total = on_time.get(p, [0, 0])
            cards.append(
                {
                    "platform_id": p,
                    "name": names.get(p),
                    "listings": n_list,
                    "findings": per[p]["findings"],
                    "per_10k": round(per[p]["findings"] * 10000 / n_list, 1) if n_list else None,
                    "per_10k_by_family": [
                        (f, round(n * 10000 / n_list, 1) if n_list else n)
                        for f, n in fams.most_common()
                    ],
                    "per_10k_basis": "listings in the store" if n_list else "no store: raw counts",
                    "guided_cases_decided": total,
                    "on_time_pct": round(100 * done / total, 1) if total else None,
                    "repeat_offenders": len(repeats.get(p, [])),
                    "repeat_list": sorted(repeats.get(p, []), key=lambda r: -r["findings"])[:25],
                }
            )
        return cards

    def platform(self, scope: str | None, platform_id: str) -> dict[str, Any] | None:
        if scope is not None and platform_id != scope:
            return None
        card = next((c for c in self.scorecards(scope) if c["platform_id"] == platform_id), None)
        if card is None:
            return None
        with self.db.session() as s:
            day = func.substr(func.cast(Case.opened_at, _text_type()), 1, 10)
            by_day = s.execute(
                select(day, func.sum(Case.findings_count))
                .where(Case.platform_id == platform_id)
                .group_by(day)
                .order_by(day)
            ).all()
        return {**card, "by_day": [(str(d), int(n or 0)) for d, n in by_day]}

    def alerts(self, scope: str | None) -> list[dict[str, Any]]:
        from promoguard.web.alerts import drafts

        data = self.dashboard(scope)
        return drafts(data["by_check"])

    # -- audit --------------------------------------------------------------------------------
    @staticmethod
    def _event(e: AuditEvent) -> dict[str, Any]:
        payload = _loads(e.payload)
        return {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "case_id": e.case_id,
            "detail": json.dumps(payload, ensure_ascii=False, sort_keys=True)[:300],
            "payload": payload,
            "hash": e.hash,
        }

    def audit(self, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        q = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit + 1)
        if after is not None:
            if not after.isdigit():
                raise HTTPException(
                    status_code=422, detail="after is a cursor from a previous page"
                )
            q = q.where(AuditEvent.seq < int(after))
        with self.db.session() as s:
            rows = [self._event(e) for e in s.execute(q).scalars()]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (str(rows[-1]["seq"]) if more else None)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _text_type() -> Any:
    from sqlalchemy import String

    return String()


def ring_chart(evidence: dict[str, Any], limit: int = 40) -> Any:
    """The buyer-merchant drawing of the orders in the evidence rows (two or more buyers)."""
    pairs: Counter[tuple[str, str]] = Counter()
    for rows in evidence.values() if isinstance(evidence, dict) else ():
        if not isinstance(rows, list):
            continue
        for r in rows:
            if isinstance(r, dict) and r.get("buyer_id") and r.get("merchant_id"):
                pairs[(str(r["buyer_id"]), str(r["merchant_id"]))] += 1
    if len({b for b, _ in pairs}) < 2:
        return None
    edges = [(b, m, n) for (b, m), n in pairs.most_common(limit)]
    return ring(edges, "buyers and merchants")


def price_chart(evidence: dict[str, Any]) -> Any:
    """Columns of the prices in the evidence rows (observations or orders), oldest first."""
    points: list[tuple[str, int]] = []
    for rows in evidence.values() if isinstance(evidence, dict) else ():
        if not isinstance(rows, list):
            continue
        for r in rows:
            if not isinstance(r, dict):
                continue
            when = r.get("observed_at") or r.get("paid_at")
            price = r.get("price") or r.get("unit_price")
            if when and price is not None:
                try:
                    points.append((str(when)[:16].replace("T", " "), round(float(price))))
                except (TypeError, ValueError):
                    continue
    if len(points) < 2:
        return None
    points = sorted(set(points))[-120:]
    return columns(points, "price over time")


def expected_version(value: Any) -> int | None:
    """The ``expected_version`` a form or a request body sent: absent or empty is no check."""
    if value is None or value == "":
        return None
    try:
        version = int(str(value))
    except ValueError:
        version = 0
    if version < 1:
        raise HTTPException(
            status_code=422, detail=f"expected_version is a case's version (1, 2, …), not {value!r}"
        )
    return version
