"""The daily loop unattended: ``promoguard watch INBOX --store S`` ingests each complete batch that
lands in an inbox folder, scans what it changed, and moves it to ``done/`` or ``failed/``.

The inbox::

    INBOX/
      2026-11-12/            a batch: a folder of table files (orders.csv, ...) ...
        _READY               ... taken only once this marker is in it (the sender writes it last)
      .promoguard-watch/     the loop's own state: a lock, one journal file per batch
      processing/<batch>/    taken, not finished (a crash leaves it here; the next run resumes)
      done/<batch>/          ingested and scanned
      failed/<batch>/        refused, with failed/<batch>.error: one line saying why

A sender either writes the folder and puts ``_READY`` in it last, or builds it elsewhere on the
same file system (or under a name starting with ``.``) with ``_READY`` inside and renames it into
the inbox; either way the loop never reads half a batch.

Each batch goes through steps recorded in its journal (``.promoguard-watch/<batch>.json``, replaced
atomically): **claimed** (moved to ``processing/``), **ingested** (the usual validation and
quarantine; the ingest id), **scanned** (``scan --since last``, or a full scan the first time),
**cased** (with a case database: new findings open or join cases, resolved ones are noted on
theirs), **done**. A run that stops anywhere resumes at the step it stopped at, and never ingests
a batch twice: the claim chooses the id the batch's ingest will take, and a batch claimed but not
journalled as ingested is looked for in the store by that id first (a folder's path or its file
names say nothing: a sender may link the same refreshed folder in every day, or reuse a name).
A batch whose data ingest refuses (a missing column, a bad encoding) goes to ``failed/``; a scan
that fails leaves the batch ingested in ``processing/`` and the run exits non-zero, so the next
run retries the scan, not the ingest. A problem with the store rather than the batch (a
:class:`StoreError`: it cannot be read or written: locked by another process, not a store, a
corrupt or lost manifest, a listed file gone, a write that failed for want of disk) stops the run
(:class:`StoreProblem`): the batch stays in ``processing/`` at the step it reached, and the next
run takes it up there. The loop (``watch`` without ``--once``) waits out a store that another
process merely holds open (:class:`StoreBusy`: an analyst's scan, a ``duckdb`` shell): it says so
once and tries again at each look; every other store problem stops it. An ingest error blamed on
the batch (an :class:`IngestError`) sends it to ``failed/``. The store may not be inside the inbox,
nor the inbox inside a store folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from promoguard.errors import PromoGuardError, StoreBusy, StoreError, first_line

READY = "_READY"
STATE = ".promoguard-watch"
PROCESSING, DONE, FAILED = "processing", "done", "failed"
RESERVED = {STATE, PROCESSING, DONE, FAILED}
STEPS = ("claimed", "ingested", "scanned", "cased", "done", "failed")

Log = Callable[[str], None]


class WatchError(PromoGuardError):
    """The loop cannot go on (another loop holds the inbox, a scan failed); said in one line."""


class StoreProblem(WatchError):
    """The store, not the batch, failed (a :class:`StoreError`): the batch stays claimed in
    ``processing/`` and the run stops. ``outcomes`` are the batches the run finished before;
    ``reason`` is the store's one line; ``busy``: the store is only held by another process
    (:class:`StoreBusy`), which the ``watch`` loop waits out instead of stopping."""

    def __init__(
        self,
        message: str,
        outcomes: list[Outcome] | None = None,
        *,
        reason: str = "",
        busy: bool = False,
    ) -> None:
        super().__init__(message)
        self.outcomes = outcomes or []
        self.reason = reason or message
        self.busy = busy


@dataclass
class Outcome:
    """What became of one batch, for the summary."""

    batch: str
    status: str  # done, failed, or pending (ingested, its scan failed: retried next run)
    ingest_id: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # read, stored, quarantined
    scan_id: str | None = None
    since: str | None = None
    changes: dict[str, int] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    cases: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One line for the terminal."""
        if self.status == "failed":
            return f"{self.batch}: failed: {self.error}"
        r, c = self.rows, self.changes
        text = (
            f"{self.batch}: {self.status}; {r.get('stored', 0):,} rows stored, "
            f"{r.get('quarantined', 0):,} quarantined"
        )
        if self.scan_id:
            text += (
                f"; {self.scan_id}: {c.get('new', 0):,} new "
                f"({c.get('new_watched_high', 0)} high on the watchlist), "
                f"{c.get('still', 0):,} still present, {c.get('resolved', 0):,} resolved"
            )
        if self.cases:
            k = self.cases
            text += (
                f"; cases {k.get('opened', 0)} opened, {k.get('updated', 0)} updated, "
                f"{k.get('resolved_noted', 0)} noted resolved"
            )
        if self.error:
            text += f"; error: {self.error}"
        return text


def ready_batches(inbox: Path) -> list[str]:
    """The complete batches waiting in the inbox, in name order (a date-named batch per day)."""
    out = []
    for p in inbox.iterdir():
        if p.name in RESERVED or p.name.startswith("."):
            continue
        if p.is_dir() and (p / READY).is_file():
            out.append(p.name)
    return sorted(out)


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    """Replace ``path`` atomically (write, fsync, rename): a journal is old or new, never half."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _same_folder(recorded: Any, here: Path) -> bool:
    """Whether a lake batch's recorded source is the folder ``here`` (resolved). The lake records
    the resolved path; a path recorded relative (before it did) names a folder relative to a
    working folder no one knows, and is never taken for this one: ingesting a batch again keeps
    its rows as they are, taking another's for it would lose the batch."""
    if not isinstance(recorded, str) or not Path(recorded).is_absolute():
        return False
    return Path(recorded).resolve() == here


def _at_or_after(recorded: Any, claimed_at: dt.datetime) -> bool:
    """Whether a lake batch recorded at ``recorded`` (ISO, whole seconds) was published after a
    batch was claimed at ``claimed_at``: a batch published before its claim is another one."""
    try:
        at = dt.datetime.fromisoformat(str(recorded))
    except ValueError:
        return False
    return at >= claimed_at.replace(microsecond=0)


def _apart(inbox: Path, store: str | Path) -> None:
    """Refuse a store inside the inbox (it would sit among the batches, and a lake folder there
    could be taken for one), or an inbox inside the store's folder (the batches would sit in
    the lake)."""
    try:
        box, where = inbox.resolve(), Path(store).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL: opening it says so
        return
    if where == box or where.is_relative_to(box):
        raise WatchError(
            f"the store {store} is inside the inbox {inbox}: keep it elsewhere (the inbox holds "
            "only batches)"
        )
    if box.is_relative_to(where):
        raise WatchError(
            f"the inbox {inbox} is inside the store {store}: keep the inbox outside the store"
        )


@contextmanager
def _reading(store: str | Path) -> Iterator[None]:
    """A DuckDB error reading the store (a damaged file, a lake's missing Parquet file) is the
    store's problem, said in one line as a :class:`StoreError`."""
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        raise StoreError(f"cannot read the store {store}: {first_line(exc)}") from None


def _has_table(con: Any, name: str) -> bool:
    """Whether the store holds the table ``name``: a DuckDB file made by something else, or
    created and never written, has none of the store's tables (ingest creates them)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ?",
            [name],
        ).fetchone()[0]
    )


def _ran_as(row: tuple, chosen: list, pack: Any) -> bool:
    """Whether the saved scan ``row`` (scan_id, started_at, checks, coverage) ran each of
    ``chosen`` as ``pack`` runs it now (``engine.run.ran_with``, recorded in its coverage): only
    then are its findings the ones this loop's scan would make."""
    from promoguard import incremental

    try:
        before = json.loads(row[3] or "{}")
    except ValueError:
        return False
    ran = {c.code for c in chosen}
    return isinstance(before, dict) and not incremental._ran_otherwise(
        before, ran, chosen, pack, row[0]
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Watcher:
    """One inbox, one store. :meth:`run_once` handles everything waiting and returns outcomes."""

    def __init__(
        self,
        inbox: str | Path,
        store: str | Path,
        *,
        pack: str = "cn",
        tz: str = "UTC",
        watchlist: str | Path | None = None,
        cases_db: str | None = None,
        engine: str = "duckdb",
        spark_master: str | None = None,
        checks: str | None = None,
        log: Log | None = None,
    ) -> None:
        from promoguard import monitor

        self.inbox = Path(inbox)
        if not self.inbox.is_dir():
            raise WatchError(f"no inbox folder at {self.inbox}")
        _apart(self.inbox, store)
        self.store = store
        self.pack = pack
        self.tz = tz
        self.watch = monitor.read_watchlist(watchlist) if watchlist is not None else None
        self.cases_db = cases_db
        self.engine = engine
        self.spark_master = spark_master
        self.checks = checks
        self.log = log or (lambda _msg: None)
        self.state = self.inbox / STATE
        old = os.umask(0o077)
        try:
            for d in (self.state, self.inbox / PROCESSING, self.inbox / DONE, self.inbox / FAILED):
                d.mkdir(exist_ok=True)
        finally:
            os.umask(old)

    # -- the loop ------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.state / "lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WatchError(f"another watch is running on {self.inbox}") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def run_once(self) -> list[Outcome]:
        """Resume what a stopped run left in ``processing/``, then take every ready batch.

        Raises :class:`StoreProblem` (with the outcomes so far) when the store fails."""
        out: list[Outcome] = []
        with self._locked():
            try:
                for journal in self._unfinished():
                    out.append(self._advance(journal))
                    if out[-1].status == "pending":
                        return out  # a scan failed: later batches wait, in order
                for name in ready_batches(self.inbox):
                    out.append(self._advance(self._claim(name)))
                    if out[-1].status == "pending":
                        return out
            except StoreProblem as exc:
                exc.outcomes = out
                raise
        return out

    def _unfinished(self) -> list[dict[str, Any]]:
        found = []
        for f in sorted(self.state.glob("*.json")):
            try:
                j = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if j.get("state") not in ("done", "failed"):
                found.append(j)
        return sorted(found, key=lambda j: (j.get("claimed_at", ""), j["batch"]))

    def _save(self, journal: dict[str, Any]) -> None:
        _write_json(self.state / f"{journal['batch']}.json", journal)

    def _claim(self, name: str) -> dict[str, Any]:
        batch = name
        if (self.state / f"{batch}.json").exists():  # the same name sent again: a new batch
            batch = f"{name}~{_now():%Y%m%dT%H%M%S%fZ}"
        journal = {
            "batch": batch,
            "source": name,
            "state": "claimed",
            "claimed_at": _now(),
            # the id its ingest will take: after a stop the store is asked for this id, never for
            # a folder or file names (a folder may hold another day's data under the same path)
            "ingest_as": str(uuid.uuid4()),
        }
        self._save(journal)  # first the journal: a crash before the move finds it and moves on
        os.replace(self.inbox / name, self.inbox / PROCESSING / batch)
        self.log(f"{batch}: taken")
        return json.loads(json.dumps(journal, default=str))

    def _folder(self, journal: dict[str, Any]) -> Path:
        p = self.inbox / PROCESSING / journal["batch"]
        src = self.inbox / journal.get("source", journal["batch"])
        if not p.exists() and src.is_dir() and journal["state"] == "claimed":
            os.replace(src, p)  # stopped between the journal and the move
        return p

    # -- the steps -----------------------------------------------------------------------------
    def _store_problem(self, journal: dict[str, Any], exc: StoreError) -> StoreProblem:
        """The batch is fine: it stays in ``processing/`` (its journal at the step it reached)."""
        batch = journal["batch"]
        where = self.inbox / PROCESSING / batch
        return StoreProblem(
            f"{_one_line(exc)} (the store failed, not the batch: {batch} stays in {where} for "
            "the next run)",
            reason=_one_line(exc),
            busy=isinstance(exc, StoreBusy),
        )

    def probe_store(self) -> None:
        """Raise :class:`StoreBusy` now when another process holds the DuckDB store (a lake, or
        a store not made yet, never is): the next step would fail at its write, after reading
        (an ingest's look for the batch) or after a whole scan (its save waits a minute)."""
        from promoguard import lake
        from promoguard import store as store_mod

        if Path(self.store).is_file() and not lake.is_lake(self.store):
            store_mod.connect(self.store).close()

    def _advance(self, journal: dict[str, Any]) -> Outcome:
        out = Outcome(journal["batch"], "pending")
        folder = self._folder(journal)
        if journal["state"] in ("claimed", "ingested"):
            try:
                self.probe_store()
            except StoreError as exc:
                raise self._store_problem(journal, exc) from None
        if journal["state"] == "claimed":
            try:
                self._ingest(journal, folder)
            except StoreError as exc:  # (a LakeError too) the store's fault, not the batch's
                raise self._store_problem(journal, exc) from None
            except PromoGuardError as exc:
                return self._fail(journal, folder, _one_line(exc))
        out.ingest_id = journal.get("ingest_id")
        out.rows = journal.get("rows", {})
        if journal["state"] == "ingested":
            try:
                self._scan(journal)
            except StoreError as exc:
                raise self._store_problem(journal, exc) from None
            except PromoGuardError as exc:
                out.error = f"ingested as {out.ingest_id}; scan failed: {_one_line(exc)}"
                self.log(f"{journal['batch']}: {out.error}")
                return out
        out.scan_id, out.since = journal.get("scan_id"), journal.get("since")
        out.changes, out.alerts = journal.get("changes", {}), journal.get("alerts", [])
        if journal["state"] == "scanned":
            if self.cases_db is not None:
                try:
                    journal["cases"] = self._cases(journal)
                except StoreError as exc:
                    raise self._store_problem(journal, exc) from None
                except PromoGuardError as exc:
                    out.error = f"scanned as {out.scan_id}; cases failed: {_one_line(exc)}"
                    self.log(f"{journal['batch']}: {out.error}")
                    return out
            journal["state"] = "cased"
            self._save(journal)
        out.cases = journal.get("cases", {})
        if journal["state"] == "cased":
            done = self.inbox / DONE / journal["batch"]
            if folder.exists():
                os.replace(folder, done)
            journal["state"], journal["finished_at"] = "done", _now()
            self._save(journal)
        out.status = "done"
        self.log(f"{journal['batch']}: done")
        return out

    def _fail(self, journal: dict[str, Any], folder: Path, error: str) -> Outcome:
        failed = self.inbox / FAILED / journal["batch"]
        # the reason names the batch's files where they were read: in failed/ from now on
        error = re.sub(re.escape(str(folder)) + r"(?![\w.~-])", lambda _: str(failed), error)
        (self.inbox / FAILED / f"{journal['batch']}.error").write_text(error + "\n")
        if folder.exists():
            os.replace(folder, failed)
        journal.update(state="failed", error=error, finished_at=_now())
        self._save(journal)
        self.log(f"{journal['batch']}: failed: {error}")
        return Outcome(journal["batch"], "failed", error=error)

    def _ingest(self, journal: dict[str, Any], folder: Path) -> None:
        from promoguard import lake
        from promoguard.ingest import ingest_dir

        planned = journal.get("ingest_as")
        found = self._ingested_already(journal, folder)
        if found is not None:
            self.log(f"{journal['batch']}: already ingested as {found['ingest_id']} (resumed)")
            journal.update(found)
        else:
            self.log(f"{journal['batch']}: ingest into {self.store}")
            if lake.is_lake(self.store):
                report = lake.ingest(folder, self.store, tz=self.tz, ingest_id=planned)
            else:
                report = ingest_dir(folder, Path(self.store), tz=self.tz, ingest_id=planned)
            t = report.totals
            journal.update(
                ingest_id=report.ingest_id,
                rows={"read": t.read, "stored": t.stored, "quarantined": t.quarantined},
            )
        journal["state"], journal["ingested_at"] = "ingested", _now()
        self._save(journal)

    def _ingested_already(self, journal: dict[str, Any], folder: Path) -> dict[str, Any] | None:
        """The ingest of this batch a stopped run made but did not journal, or None.

        The claim chose the ingest's id (``ingest_as``): the store holds the batch when it holds
        an ingest of that id. A journal claimed before ids were chosen falls back to what it
        has: an ingest of the same folder (lake) or files (DuckDB) made after the claim."""
        from promoguard import lake
        from promoguard import store as store_mod

        if not Path(self.store).exists():
            return None
        planned = journal.get("ingest_as")
        claimed_at = dt.datetime.fromisoformat(str(journal["claimed_at"]))
        if lake.is_lake(self.store):
            m = lake.read_manifest(self.store)
            here = folder.resolve()
            for b in reversed(m.batches):  # the latest first: nearest the claim
                if b.get("kind") != "ingest":
                    continue
                if planned is not None:
                    if b.get("ingest_id") == planned:
                        return self._rows_of(planned)
                elif _same_folder(b.get("source"), here) and _at_or_after(b.get("at"), claimed_at):
                    return self._rows_of(b["ingest_id"])
            return None
        con = store_mod.connect(self.store, read_only=True)
        try:
            with _reading(self.store):
                if not _has_table(con, "ingest_log"):
                    return None  # a DuckDB file with no tables yet: an empty store
                if planned is not None:
                    held = con.execute(
                        "SELECT count(*) FROM ingest_log WHERE ingest_id = ?", [planned]
                    ).fetchone()[0]
                    rows = [(planned, None)] if held else []
                else:
                    rows = con.execute(
                        "SELECT ingest_id, list(DISTINCT source_file) FROM ingest_log "
                        "GROUP BY ingest_id HAVING min(started_at) >= ?",
                        [claimed_at],
                    ).fetchall()
        finally:
            con.close()
        if planned is not None:
            return self._rows_of(planned) if rows else None
        from promoguard.ingest import readers

        sources, _ = readers.discover(folder)
        try:
            names = {s.path.name for s in sources}
        finally:
            for s in sources:
                s.close()
        for ingest_id, files in rows:
            if set(files) == names:
                return self._rows_of(ingest_id)
        return None

    def _rows_of(self, ingest_id: str) -> dict[str, Any]:
        from promoguard import store as store_mod

        con = store_mod.connect(self.store, read_only=True)
        try:
            with _reading(self.store):
                r = con.execute(
                    "SELECT sum(rows_read), sum(rows_stored), sum(rows_quarantined) "
                    "FROM ingest_log WHERE ingest_id = ?",
                    [ingest_id],
                ).fetchone()
        finally:
            con.close()
        return {
            "ingest_id": ingest_id,
            "rows": {
                "read": int(r[0] or 0),
                "stored": int(r[1] or 0),
                "quarantined": int(r[2] or 0),
            },
        }

    def _scan(self, journal: dict[str, Any]) -> None:
        from promoguard import engine, incremental, lake, monitor
        from promoguard import store as store_mod
        from promoguard.engine.packs import load_pack
        from promoguard.engine.run import choose_checks

        ingested_at = dt.datetime.fromisoformat(str(journal["ingested_at"]))
        pack = load_pack(self.pack)
        chosen = choose_checks(pack, self.checks)
        want = {c.code for c in chosen}
        con = store_mod.connect(self.store, read_only=True)
        try:
            with _reading(self.store):
                rows = con.execute(
                    "SELECT scan_id, started_at, checks, coverage FROM scans WHERE pack = ? "
                    "ORDER BY started_at DESC, scan_id DESC",
                    [pack.name],
                ).fetchall()
        finally:
            con.close()
        # the store's scans that ran the checks this loop runs: an analyst's scan of a few checks
        # in between is not this batch's scan (its findings would be the batch's: none of the
        # others); nor is it what the delta is taken against while a scan ran more of them (the
        # delta compares the checks both ran: the others' findings would all come out "new")
        ran = {r[0]: set(filter(None, str(r[2]).split(","))) for r in rows}
        after = [r for r in rows if ran[r[0]] == want and r[1] >= ingested_at]
        after = [r for r in after if _ran_as(r, chosen, pack)]

        def base(scans: list) -> str | None:
            """The scan to compare with: the one that ran most of the loop's checks, latest."""
            best = max(scans, key=lambda r: (len(ran[r[0]] & want), r[1], r[0]), default=None)
            return best[0] if best else None

        if after:  # stopped after the scan was saved, before it was journalled: adopt it
            scan_id = after[-1][0]
            previous = base([r for r in rows if (r[1], r[0]) < (after[-1][1], after[-1][0])])
            self.log(f"{journal['batch']}: already scanned as {scan_id} (resumed)")
        elif rows:
            # since that scan (any other also gives the full findings, with more of the checks
            # run on the whole store)
            since = base(rows)
            self.log(f"{journal['batch']}: incremental scan since {since}")
            result, info = incremental.scan_since(
                self.store,
                self.pack,
                since,
                checks=self.checks,
                engine=self.engine,
                spark_master=self.spark_master,
            )
            scan_id, previous = result.scan_id, since
            journal["incremental"] = {
                k: info[k]
                for k in (
                    "affected_merchants",
                    "full_because",
                    "carried",
                    "unchanged",
                    "untouched",
                    "scopes",
                )
            }
        else:
            self.log(f"{journal['batch']}: first scan of the store (full)")
            scan = lake.scan if lake.is_lake(self.store) else engine.scan
            result = scan(
                self.store,
                self.pack,
                checks=self.checks,
                engine=self.engine,
                spark_master=self.spark_master,
            )
            scan_id, previous = result.scan_id, None
        con = store_mod.connect(self.store, read_only=True)
        try:
            watch = self.watch if self.watch is not None else monitor.store_watchlist(con)
            d = monitor.delta(con, scan_id, previous=previous or "", watch=watch)
        finally:
            con.close()
        new = d[d.change == "new"]
        journal.update(
            state="scanned",
            scan_id=scan_id,
            since=previous,
            changes=monitor.summary(d),
            alerts=new.head(ALERTS)[
                ["check_code", "severity", "entity_type", "entity_id", "merchant_id", "watched"]
            ].to_dict(orient="records"),
        )
        self._save(journal)

    def _cases(self, journal: dict[str, Any]) -> dict[str, int]:
        from promoguard import monitor
        from promoguard import store as store_mod
        from promoguard.cases.service import CaseService

        svc = CaseService(case_db_url(self.cases_db), actor="promoguard-watch")
        opened = svc.open_from_scan(self.store, scan_id=journal["scan_id"])
        resolved = 0
        if journal.get("since"):
            con = store_mod.connect(self.store, read_only=True)
            try:
                d = monitor.delta(con, journal["scan_id"], previous=journal["since"])
            finally:
                con.close()
            resolved = note_resolved(svc, journal["scan_id"], d[d.change == "resolved"])
        return {
            "opened": len(opened.opened),
            "updated": len(opened.updated),
            "findings_added": opened.findings_added,
            "resolved_noted": resolved,
        }


#: new findings kept in the journal and summary (the watched ones first)
ALERTS = 20


def case_db_url(db: str) -> str:
    """``--cases`` takes a database URL or a path to a SQLite file."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).resolve()}"


def note_resolved(svc: Any, scan_id: str, resolved: Any) -> int:
    """Note on each active case the findings of it ``scan_id`` no longer finds: one audit event
    ``findings_resolved`` per case and scan (a second call for the same scan adds none). The case
    stays as it is: a finding gone from the data is not a verified rectification (``cases
    verify`` decides that). Returns the number of cases noted."""
    from sqlalchemy import select

    from promoguard.cases import audit, states
    from promoguard.cases.models import AuditEvent, Case, CaseFinding

    if resolved is None or len(resolved) == 0:
        return 0
    keys = {
        (r.check_code, r.entity_type, r.entity_id): r.finding_id
        for r in resolved.itertuples(index=False)
    }
    noted = 0
    with svc.db.session() as s:
        audit.lock_head(s)
        by_case: dict[str, list[dict[str, str]]] = {}
        codes = sorted({k[0] for k in keys})
        rows = s.execute(
            select(
                Case.case_id,
                CaseFinding.check_code,
                CaseFinding.entity_type,
                CaseFinding.entity_id,
            )
            .join(CaseFinding, CaseFinding.case_pk == Case.id)
            .where(Case.status.in_(states.ACTIVE), CaseFinding.check_code.in_(codes))
        ).all()
        for case_id, code, etype, eid in rows:
            fid = keys.get((code, etype, eid))
            if fid is not None:
                by_case.setdefault(case_id, []).append(
                    {"check_code": code, "entity_type": etype, "entity_id": eid, "finding_id": fid}
                )
        if not by_case:
            return 0
        already = set()
        for case_id, payload in s.execute(
            select(AuditEvent.case_id, AuditEvent.payload).where(
                AuditEvent.action == "findings_resolved",
                AuditEvent.case_id.in_(sorted(by_case)),
            )
        ):
            with contextlib.suppress(ValueError):
                if json.loads(payload).get("scan_id") == scan_id:
                    already.add(case_id)
        for case_id in sorted(by_case):
            if case_id in already:
                continue
            items = sorted(by_case[case_id], key=lambda x: (x["check_code"], x["entity_id"]))
            audit.append(
                s,
                svc.actor,
                "findings_resolved",
                {"scan_id": scan_id, "count": len(items), "findings": items},
                case_id,
            )
            noted += 1
    return noted
