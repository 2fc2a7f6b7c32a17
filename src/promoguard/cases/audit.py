"""The audit trail: append-only events chained by SHA-256.

Each event's ``hash`` is SHA-256 over the previous event's hash and the event's content exactly as
stored::

    sha256( prev_hash \\n at \\n actor \\n action \\n case_id \\n payload )

``payload`` is canonical JSON (sorted keys, no spaces), ``at`` ISO 8601 UTC text, so the bytes hashed
are the bytes stored on SQLite and PostgreSQL alike. The first event's ``prev_hash`` is
:data:`GENESIS`.

:func:`verify` walks the events in ``seq`` order and names the first one that is wrong:

* **changed** — its content no longer gives its hash;
* **inserted** — it does not follow from the event before it, but the next event follows from the
  one before it (it was slipped in between);
* **deleted** — an event's ``prev_hash`` is not the hash of the event stored before it (events
  between them are missing).

Deleting the newest events, or appending well-formed forged ones, leaves a chain that still verifies;
that is what the exported chain head is for (:func:`export_head`, :func:`check_head`): keep it
outside the database (print it in a report, mail it to an auditor) and check it later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from promoguard.cases.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def now_text() -> str:
    """The current UTC time as stored in events: ``2026-11-11T08:00:00.123456Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(payload: Any) -> str:
    return json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def event_hash(
    prev_hash: str, at: str, actor: str, action: str, case_id: str | None, payload: str
) -> str:
    material = "\n".join((prev_hash, at, actor, action, case_id or "", payload))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def append(
    session: Session,
    actor: str,
    action: str,
    payload: dict[str, Any] | None = None,
    case_id: str | None = None,
) -> AuditEvent:
    """Append one event in the session's transaction (committed, or rolled back, with it).

    The head row is updated first: on PostgreSQL that locks it until commit, on SQLite it takes the
    write lock, so two writers never chain onto the same head.
    """
    row = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + 1)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
        .execution_options(synchronize_session=False)
    ).one()
    seq, prev = int(row[0]), row[1]
    at = now_text()
    body = canonical(payload or {})
    digest = event_hash(prev, at, actor, action, case_id, body)
    event = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        case_id=case_id,
        payload=body,
        prev_hash=prev,
        hash=digest,
    )
    session.add(event)
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_hash=digest)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return event


def lock_head(session: Session) -> None:
    """Take the audit head for this transaction (a no-op write: a row lock, SQLite's write lock)."""
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq)
        .execution_options(synchronize_session=False)
    )


def append_many(
    session: Session, actor: str, events: list[tuple[str, dict[str, Any], str | None]]
) -> int:
    """Append ``(action, payload, case_id)`` events in one go (opening thousands of cases)."""
    if not events:
        return 0
    row = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + len(events))
        .returning(AuditHead.last_seq, AuditHead.last_hash)
        .execution_options(synchronize_session=False)
    ).one()
    seq = int(row[0]) - len(events)
    prev = row[1]
    at = now_text()
    rows = []
    for action, payload, case_id in events:
        seq += 1
        body = canonical(payload or {})
        digest = event_hash(prev, at, actor, action, case_id, body)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "case_id": case_id,
                "payload": body,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    for i in range(0, len(rows), 5000):
        session.execute(insert(AuditEvent), rows[i : i + 5000])
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_hash=prev)
        .execution_options(synchronize_session=False)
    )
    return len(rows)


@dataclass
class ChainReport:
    ok: bool
    events: int
    head_seq: int | None
    head_hash: str
    problem: str | None = None
    bad_seq: int | None = None
    kind: str | None = None  # changed | inserted | deleted

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problem": self.problem,
            "bad_seq": self.bad_seq,
            "kind": self.kind,
        }


def _rows(session: Session):
    return session.execute(
        text(
            "SELECT seq, at, actor, action, case_id, payload, prev_hash, hash "
            "FROM audit_events ORDER BY seq"
        )
    )


def verify(session: Session) -> ChainReport:
    """Re-compute the chain; the first event changed, inserted or deleted, if any."""

    def bad(
        count: int, seq: int, digest: str, problem: str, bad_seq: int, kind: str
    ) -> ChainReport:
        return ChainReport(False, count, seq, digest, problem, bad_seq, kind)

    count = 0
    prev_hash = GENESIS  # hash of the event stored before this one
    before_prev = None  # hash of the event stored before that
    prev_seq: int | None = None
    pending: tuple[int, str] | None = None  # (seq, hash before it) of an event that did not follow
    for seq, at, actor, action, case_id, payload, stored_prev, stored_hash in _rows(session):
        count += 1
        if event_hash(stored_prev, at, actor, action, case_id, payload) != stored_hash:
            return bad(
                count, seq, stored_hash,
                f"event #{seq} ({action} by {actor} at {at}) was changed: its content no longer "
                "gives its hash",
                seq, "changed",
            )  # fmt: skip
        if pending is not None:
            p_seq, hash_before = pending
            if stored_prev == hash_before:
                return bad(
                    count, seq, stored_hash,
                    f"event #{p_seq} was inserted: it does not follow the event before it, and "
                    f"event #{seq} follows that one directly",
                    p_seq, "inserted",
                )  # fmt: skip
            return bad(
                count, seq, stored_hash,
                f"events before #{p_seq} were deleted: #{p_seq} does not follow the event stored "
                "before it (or that one was changed and re-hashed)",
                p_seq, "deleted",
            )  # fmt: skip
        if stored_prev != prev_hash:
            if prev_seq is not None and stored_prev == before_prev:
                return bad(
                    count, seq, stored_hash,
                    f"event #{prev_seq} was inserted: event #{seq} follows the event before it "
                    "directly",
                    prev_seq, "inserted",
                )  # fmt: skip
            if prev_seq is not None and seq != prev_seq + 1:
                return bad(
                    count, seq, stored_hash,
                    f"events between #{prev_seq} and #{seq} were deleted: #{seq} does not follow "
                    f"#{prev_seq}",
                    seq, "deleted",
                )  # fmt: skip
            pending = (seq, prev_hash)  # the next event tells whether this one was slipped in
        before_prev, prev_hash, prev_seq = prev_hash, stored_hash, seq
    if pending is not None:
        p_seq, _ = pending
        return bad(
            count, prev_seq or p_seq, prev_hash,
            f"event #{p_seq} does not follow the event stored before it: it was inserted, or "
            "the events before it were deleted",
            p_seq, "inserted",
        )  # fmt: skip
    return ChainReport(True, count, prev_seq, prev_hash)


def export_head(session: Session) -> dict[str, Any]:
    """The chain head to keep outside the database: ``{"seq", "hash", "events", "exported_at"}``."""
    report = verify(session)
    if not report.ok:
        from promoguard.cases.errors import AuditError

        raise AuditError(
            f"the audit trail does not verify, so it has no head to export: {report.problem}"
        )
    return {
        "seq": report.head_seq,
        "hash": report.head_hash,
        "events": report.events,
        "exported_at": now_text(),
    }


def check_head(session: Session, head: dict[str, Any]) -> ChainReport:
    """Verify the chain and that it still holds the exported head ``head`` unchanged."""
    report = verify(session)
    if not report.ok:
        return report
    seq = head.get("seq")
    if seq is None:
        return report
    row = session.execute(select(AuditEvent.hash).where(AuditEvent.seq == int(seq))).first()
    if row is None:
        return ChainReport(
            False, report.events, report.head_seq, report.head_hash,
            f"the exported head event #{seq} is gone: events up to it were deleted",
            int(seq), "deleted",
        )  # fmt: skip
    if row[0] != head.get("hash"):
        return ChainReport(
            False, report.events, report.head_seq, report.head_hash,
            f"event #{seq} is no longer the exported head: the chain up to it was rewritten",
            int(seq), "changed",
        )  # fmt: skip
    return report
