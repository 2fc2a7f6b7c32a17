"""``promoguard watch``: complete batches only, ingested once, scanned incrementally, moved to
done/ or failed/; a run stopped between ingest and scan resumes without ingesting again; cases
opened and updated from the delta without duplicates (SQLite).

The batches are the small season cut in two days (as in test_incremental): day 1 most of the
season, day 2 the later rows of a third of the merchants.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import types
from pathlib import Path

import duckdb
import pytest
from tests.support import StoreHolder
from tests.test_incremental import _split
from typer.testing import CliRunner

import promoguard
from promoguard import incremental, lake, watch
from promoguard import store as store_mod
from promoguard.cli import app
from promoguard.watch import Watcher, WatchError

CHECKS = "PRICE,SHIP,LIC001"
EXAMPLE = Path(promoguard.__file__).parent / "examples" / "messy"


@pytest.fixture(scope="module")
def days(season_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("watch-days")
    _split(season_dir, work)
    return work


def _send(inbox, days, day, name=None, ready=True):
    """Deliver a day's folder into the inbox the way a sender does: files first, _READY last."""
    dest = inbox / (name or day)
    shutil.copytree(days / day, dest)
    if ready:
        (dest / watch.READY).write_text("")
    return dest


def _ingests(store):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT count(DISTINCT ingest_id) FROM ingest_log").fetchone()[0]
    finally:
        con.close()


def test_watch_once_takes_complete_batches_in_order_and_refuses_bad_ones(days, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "season.duckdb"
    _send(inbox, days, "day1", "2026-11-10")
    _send(inbox, days, "day2", "2026-11-11")
    _send(inbox, days, "day2", "2026-11-12", ready=False)  # still being written
    bad = inbox / "2026-11-13"
    bad.mkdir()
    (bad / "orders.csv").write_text("order_id,listing_id\nO1,L1\n")  # required columns missing
    (bad / watch.READY).write_text("")
    res = CliRunner().invoke(
        app,
        ["watch", str(inbox), "--store", str(store), "--checks", CHECKS, "--once", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    got = {b["batch"]: b for b in out["batches"]}
    assert [b["batch"] for b in out["batches"]] == ["2026-11-10", "2026-11-11", "2026-11-13"]
    first, second, failed = got["2026-11-10"], got["2026-11-11"], got["2026-11-13"]
    assert first["status"] == second["status"] == "done"
    assert first["since"] is None and second["since"] == first["scan_id"]
    assert first["rows"]["stored"] > 10_000 and second["rows"]["stored"] > 100
    assert second["changes"]["still"] > 0
    assert failed["status"] == "failed" and "\n" not in failed["error"]
    # moved, with the reason beside the failed one, one line
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["2026-11-10", "2026-11-11"]
    assert (inbox / "failed" / "2026-11-13" / "orders.csv").exists()
    error = (inbox / "failed" / "2026-11-13.error").read_text()
    assert error.count("\n") == 1 and error.strip() == failed["error"]
    assert (inbox / "2026-11-12").is_dir()  # not ready: not touched
    assert _ingests(store) == 2
    # a second pass finds nothing to do and ingests nothing again
    res = CliRunner().invoke(app, ["watch", str(inbox), "--store", str(store), "--once"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == ""
    assert _ingests(store) == 2
    # the same name sent again is a new batch, not a replay of the old one
    _send(inbox, days, "day2", "2026-11-11")
    again = Watcher(inbox, store, checks=CHECKS).run_once()
    assert [o.status for o in again] == ["done"] and again[0].batch.startswith("2026-11-11~")
    assert again[0].rows["stored"] == second["rows"]["stored"]  # all unchanged, none inserted


class Crash(BaseException):
    """A kill: not an error the loop handles."""


@pytest.mark.parametrize("where", ["before_scan", "before_journal"])
def test_a_run_stopped_after_ingest_resumes_without_ingesting_again(
    days, tmp_path, monkeypatch, where
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "season.duckdb"
    _send(inbox, days, "day1")
    (first,) = Watcher(inbox, store, checks=CHECKS).run_once()
    _send(inbox, days, "day2")
    if where == "before_scan":  # the ingest committed and was journalled; the scan never ran

        def crash(self, journal):
            raise Crash

        monkeypatch.setattr(Watcher, "_scan", crash)
    else:  # the ingest committed, the process died before its journal said so
        _crash_after_ingest(monkeypatch)
    with pytest.raises(Crash):
        Watcher(inbox, store, checks=CHECKS).run_once()
    monkeypatch.undo()
    assert (inbox / "processing" / "day2").is_dir()
    assert _ingests(store) == 2
    out = Watcher(inbox, store, checks=CHECKS).run_once()
    assert [(o.batch, o.status) for o in out] == [("day2", "done")]
    assert _ingests(store) == 2  # resumed: the batch was not ingested twice
    assert out[0].since is not None and out[0].changes["still"] > 0
    # the resumed scan is a new one, taken against day 1's scan (as its journal says)
    assert out[0].since == first.scan_id != out[0].scan_id
    assert _journal(inbox, "day2")["since"] == first.scan_id
    assert (inbox / "done" / "day2").is_dir() and not (inbox / "processing" / "day2").exists()


def _scan_ids(store) -> list[str]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return [
            r[0] for r in con.execute("SELECT scan_id FROM scans ORDER BY started_at").fetchall()
        ]
    finally:
        con.close()


def test_a_stopped_runs_saved_scan_is_adopted_and_an_analysts_scan_of_other_checks_is_not(
    days, tmp_path, monkeypatch
):
    """After a stop, the batch's scan is one the store holds only if it ran what the loop runs:
    an analyst's scan of PRICE001 in between is neither taken for it (its findings would be the
    batch's: 0 of the others) nor what its delta is taken against (all would be "new")."""
    from promoguard import engine, monitor

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "season.duckdb"
    _send(inbox, days, "day1")
    (first,) = Watcher(inbox, store, checks=CHECKS).run_once()
    _send(inbox, days, "day2")

    def crash(self, journal):
        raise Crash

    monkeypatch.setattr(Watcher, "_scan", crash)
    with pytest.raises(Crash):
        Watcher(inbox, store, checks=CHECKS).run_once()
    monkeypatch.undo()
    analyst = engine.scan(store, "cn", checks="PRICE001").scan_id
    # the run that takes it up stops again after its scan is saved, before it is journalled
    real_delta = monitor.delta
    monkeypatch.setattr(monitor, "delta", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        Watcher(inbox, store, checks=CHECKS).run_once()
    monkeypatch.setattr(monitor, "delta", real_delta)
    saved = _scan_ids(store)
    assert saved[:2] == [first.scan_id, analyst] and len(saved) == 3
    lines: list[str] = []
    (out,) = Watcher(inbox, store, checks=CHECKS, log=lines.append).run_once()
    assert out.status == "done" and _scan_ids(store) == saved  # adopted: not scanned again
    assert out.scan_id == saved[2] and f"day2: already scanned as {saved[2]} (resumed)" in lines
    assert out.since == first.scan_id
    full = engine.scan(store, "cn", checks=CHECKS, save=False)
    assert out.changes["new"] + out.changes["still"] == len(full.findings)
    assert out.changes["still"] > out.changes["new"]


def test_a_stopped_lake_ingest_is_found_by_its_batch_folder(days, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    root = tmp_path / "lake"
    _send(inbox, days, "day2")
    _crash_after_ingest(monkeypatch)
    with pytest.raises(Crash):
        Watcher(inbox, f"{root}/", checks="PRICE001").run_once()
    monkeypatch.undo()
    out = Watcher(inbox, root, checks="PRICE001").run_once()
    assert [o.status for o in out] == ["done"]
    ingests = [b for b in lake.read_manifest(root).batches if b["kind"] == "ingest"]
    assert len(ingests) == 1


def _send_example(inbox, name):
    """The small messy example as a batch (a few rows: quick to ingest and scan)."""
    shutil.copytree(EXAMPLE, inbox / name)
    (inbox / name / watch.READY).write_text("")


def _example_and_a_store(tmp_path):
    """An inbox holding the example as batch b1, and an empty DuckDB store made beside it (for
    another process to hold open)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "s.duckdb"
    store_mod.connect(store).close()
    _send_example(inbox, "b1")
    return inbox, store


def _crash_after_ingest(monkeypatch):
    real = Watcher._save

    def crash(self, journal):
        if journal["state"] == "ingested":
            raise Crash
        real(self, journal)

    monkeypatch.setattr(Watcher, "_save", crash)


def _lake_ingests(root):
    return [b for b in lake.read_manifest(root).batches if b["kind"] == "ingest"]


def test_a_lake_batch_is_known_by_its_folder_through_a_symlink(tmp_path, monkeypatch):
    """Stopped after the ingest, run once through a symlink to the inbox and resumed through
    its real path: found, not ingested again."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    link = tmp_path / "inbox-link"
    link.symlink_to(inbox)
    root = tmp_path / "lake"
    _send_example(inbox, "b1")
    _crash_after_ingest(monkeypatch)
    with pytest.raises(Crash):
        Watcher(link, f"{root}/", checks="PRICE001", tz="Asia/Shanghai").run_once()
    monkeypatch.undo()
    (recorded,) = _lake_ingests(root)
    out = Watcher(inbox, root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status, o.ingest_id) for o in out] == [
        ("b1", "done", recorded["ingest_id"])
    ]
    assert len(_lake_ingests(root)) == 1
    # the lake records the folder as it is, whatever path it was given by
    assert recorded["source"] == str((inbox / "processing" / "b1").resolve())


def test_a_lake_batch_is_not_taken_for_another_inboxs_of_the_same_relative_path(
    tmp_path, monkeypatch
):
    """Two inboxes named ``inbox`` from two working folders feed one lake: a batch of the
    first, stopped after its ingest, is not taken for the second's batch of the same name
    (which would then be moved to done/ without being ingested)."""
    root = tmp_path / "lake"
    for side in ("a", "b"):
        (tmp_path / side / "inbox").mkdir(parents=True)
        _send_example(tmp_path / side / "inbox", "b1")
    monkeypatch.chdir(tmp_path / "a")
    _crash_after_ingest(monkeypatch)
    with pytest.raises(Crash):
        Watcher("inbox", f"{root}/", checks="PRICE001", tz="Asia/Shanghai").run_once()
    monkeypatch.undo()
    (first,) = _lake_ingests(root)
    monkeypatch.chdir(tmp_path / "b")
    out = Watcher("inbox", root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status) for o in out] == [("b1", "done")]
    second = _lake_ingests(root)[1:]
    assert [b["ingest_id"] for b in second] == [out[0].ingest_id] != [first["ingest_id"]]
    assert second[0]["source"] == str(tmp_path.resolve() / "b" / "inbox" / "processing" / "b1")


def test_a_relative_source_an_older_lake_recorded_is_never_taken_for_a_batchs_folder(
    tmp_path, monkeypatch
):
    """The same two inboxes, under an older version: the lake recorded the first's folder as
    the relative path it was given (``inbox/processing/b1``), and the second's b1 was claimed
    (no ``ingest_as``: found by its folder) before that batch was published, then stopped
    before its ingest. Resumed from the second's working folder, the relative path names the
    same folder there; it is not taken for it: the second's batch is ingested."""
    root = tmp_path / "lake"
    for side in ("a", "b"):
        (tmp_path / side / "inbox").mkdir(parents=True)
        _send_example(tmp_path / side / "inbox", "b1")
    monkeypatch.chdir(tmp_path / "b")
    w = Watcher("inbox", root, checks="PRICE001", tz="Asia/Shanghai")
    with w._locked():
        journal = w._claim("b1")
    del journal["ingest_as"]  # as an older run wrote it
    watch._write_json(tmp_path / "b" / "inbox" / ".promoguard-watch" / "b1.json", journal)
    monkeypatch.chdir(tmp_path / "a")
    (first,) = Watcher("inbox", f"{root}/", checks="PRICE001", tz="Asia/Shanghai").run_once()
    doc = json.loads((root / lake.MANIFEST).read_text())
    (entry,) = [b for b in doc["batches"] if b["kind"] == "ingest"]
    entry["source"] = "inbox/processing/b1"  # relative, as an older lake recorded it
    (root / lake.MANIFEST).write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path / "b")
    out = Watcher("inbox", root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status) for o in out] == [("b1", "done")]
    ingests = _lake_ingests(root)
    assert [b["ingest_id"] for b in ingests] == [first.ingest_id, out[0].ingest_id]
    assert out[0].ingest_id != first.ingest_id


def _platform_count(store, platform_id):
    con = store_mod.connect(store, read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FROM platforms WHERE platform_id = ?", [platform_id]
        ).fetchone()[0]
    finally:
        con.close()


def _add_platform(folder, platform_id):
    with open(folder / "platforms.csv", "a", encoding="utf-8") as fh:
        fh.write(f"{platform_id},NewMall\n")


@pytest.mark.parametrize("kind", ["lake", "duckdb"])
def test_each_day_linked_from_one_refreshed_export_folder_is_ingested(tmp_path, kind):
    """A sender refreshes /export/today each day and links it into the inbox under the day's
    name: every day resolves to the same folder, and each is still ingested (a batch is found
    in the store by the ingest id its claim chose, never by its folder)."""
    inbox, export = tmp_path / "inbox", tmp_path / "export" / "today"
    inbox.mkdir()
    store = f"{tmp_path / 'lake'}/" if kind == "lake" else tmp_path / "s.duckdb"
    ids = []
    for day, extra in (("day1", None), ("day2", "P-NEW-999")):
        if export.exists():
            shutil.rmtree(export)
        shutil.copytree(EXAMPLE, export)
        if extra:
            _add_platform(export, extra)
        (export / watch.READY).write_text("")
        (inbox / day).symlink_to(export)
        out = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
        assert [(o.batch, o.status) for o in out] == [(day, "done")]
        ids.append(out[0].ingest_id)
    assert ids[0] != ids[1]
    assert _platform_count(store, "P-NEW-999") == 1
    if kind == "lake":
        assert [b["ingest_id"] for b in _lake_ingests(tmp_path / "lake")] == ids


@pytest.mark.parametrize("kind", ["lake", "duckdb"])
def test_a_batch_name_used_again_after_housekeeping_is_ingested(tmp_path, kind):
    """done/daily and its journal cleaned away, then a new batch named daily: a new batch."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = f"{tmp_path / 'lake'}/" if kind == "lake" else tmp_path / "s.duckdb"
    _send_example(inbox, "daily")
    first = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    shutil.rmtree(inbox / "done" / "daily")
    (inbox / ".promoguard-watch" / "daily.json").unlink()
    _send_example(inbox, "daily")
    _add_platform(inbox / "daily", "P-NEW-999")
    second = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status) for o in second] == [("daily", "done")]
    assert second[0].ingest_id != first[0].ingest_id
    assert _platform_count(store, "P-NEW-999") == 1


@pytest.mark.parametrize("stopped", ["after the ingest", "before the ingest"])
def test_a_journal_claimed_before_ingest_ids_were_chosen_resumes_by_folder_after_the_claim(
    tmp_path, monkeypatch, stopped
):
    """A batch a run of an older version claimed (its journal has no ``ingest_as``): found by
    its folder among the lake batches published after its claim, and only those."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    root = tmp_path / "lake"
    _send_example(inbox, "b1")
    Watcher(inbox, f"{root}/", checks="PRICE001", tz="Asia/Shanghai").run_once()
    (first,) = _lake_ingests(root)
    shutil.rmtree(inbox / "done" / "b1")
    (inbox / ".promoguard-watch" / "b1.json").unlink()
    _send_example(inbox, "b1")  # the same folder path again, later: another batch
    if stopped == "after the ingest":
        _crash_after_ingest(monkeypatch)
    else:

        def crash(*args, **kwargs):
            raise Crash

        monkeypatch.setattr(lake, "ingest", crash)
    with pytest.raises(Crash):
        Watcher(inbox, root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    monkeypatch.undo()
    journal = _journal(inbox, "b1")
    del journal["ingest_as"]  # as an older run wrote it
    if stopped == "before the ingest":  # claimed (at least) a second after the first was published
        at = dt.datetime.fromisoformat(first["at"]) + dt.timedelta(seconds=1)
        journal["claimed_at"] = max(at, dt.datetime.fromisoformat(journal["claimed_at"]))
    watch._write_json(inbox / ".promoguard-watch" / "b1.json", journal)
    out = Watcher(inbox, root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status) for o in out] == [("b1", "done")]
    ingests = _lake_ingests(root)
    assert len(ingests) == 2  # the second ingest was made once, and the first not taken for it
    assert out[0].ingest_id == ingests[1]["ingest_id"] != first["ingest_id"]


def _errors(res):
    return [ln for ln in res.stderr.splitlines() if ln.startswith("promoguard: error:")]


def _journal(inbox, batch):
    return json.loads((inbox / ".promoguard-watch" / f"{batch}.json").read_text())


def test_a_duckdb_journal_claimed_before_ingest_ids_were_chosen_is_not_an_earlier_ingest(
    tmp_path,
):
    """The DuckDB side of the above: a batch an older version claimed (no ``ingest_as``) and
    stopped before its ingest is found by its files among the ingests started after its claim
    only; an earlier ingest of the same files is another batch, and this one goes in."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "s.duckdb"
    _send_example(inbox, "b1")
    (first,) = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    shutil.rmtree(inbox / "done" / "b1")
    (inbox / ".promoguard-watch" / "b1.json").unlink()
    _send_example(inbox, "b1")  # the same files again, later: another batch
    w = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai")
    with w._locked():
        journal = w._claim("b1")
    del journal["ingest_as"]  # as an older run wrote it
    watch._write_json(inbox / ".promoguard-watch" / "b1.json", journal)
    (out,) = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert (out.batch, out.status) == ("b1", "done")
    assert _ingests(store) == 2 and out.ingest_id != first.ingest_id


def test_a_duckdb_journal_claimed_before_ingest_ids_were_chosen_resumes_by_its_files(
    tmp_path, monkeypatch
):
    """... and an ingest of its files started after its claim is the batch's: a run stopped
    after it resumes without ingesting again."""
    inbox, store = _example_and_a_store(tmp_path)
    w = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai")
    with w._locked():
        journal = w._claim("b1")
    del journal["ingest_as"]  # as an older run wrote it
    watch._write_json(inbox / ".promoguard-watch" / "b1.json", journal)
    _crash_after_ingest(monkeypatch)
    with pytest.raises(Crash):
        Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    monkeypatch.undo()
    assert _ingests(store) == 1
    (out,) = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert (out.batch, out.status) == ("b1", "done")
    assert _ingests(store) == 1  # found by its files: not ingested again
    con = duckdb.connect(str(store), read_only=True)
    try:
        (only,) = con.execute("SELECT DISTINCT ingest_id FROM ingest_log").fetchone()
    finally:
        con.close()
    assert out.ingest_id == only


def test_an_unreadable_store_leaves_the_batch_in_processing_and_stops(tmp_path):
    """A lake whose manifest is damaged: the batch is fine, so it is not moved to failed/; the
    run stops with one line, and once the store is mended the next run takes the batch."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    root = tmp_path / "lake"
    root.mkdir()
    (root / lake.MANIFEST).write_text("{not json")
    _send_example(inbox, "b1")
    _send_example(inbox, "b2")
    args = ["watch", str(inbox), "--store", str(root), "--checks", "PRICE001"]
    res = CliRunner().invoke(app, [*args, "--tz", "Asia/Shanghai", "--once", "--json"])
    assert res.exit_code == 1
    (line,) = _errors(res)
    assert "b1 stays in" in line and "cannot be read as a lake manifest" in line
    assert json.loads(res.stdout) == {"inbox": str(inbox), "batches": [], "error": line[19:]}
    assert (inbox / "processing" / "b1" / "listings.csv").exists()
    assert not list((inbox / "failed").iterdir())
    assert _journal(inbox, "b1")["state"] == "claimed"
    assert (inbox / "b2" / watch.READY).exists()  # not taken: the store cannot take it either
    (root / lake.MANIFEST).unlink()  # mended: an empty lake
    res = CliRunner().invoke(app, [*args, "--tz", "Asia/Shanghai", "--once"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["b1", "b2"]
    assert len(_lake_ingests(root)) == 2


def test_a_store_in_use_leaves_the_batch_in_processing(tmp_path):
    inbox, store = _example_and_a_store(tmp_path)
    with (
        StoreHolder(store),
        pytest.raises(WatchError, match="in use by another process") as caught,
    ):
        Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert "\n" not in str(caught.value) and caught.value.outcomes == []
    assert caught.value.busy
    assert (inbox / "processing" / "b1").is_dir() and not list((inbox / "failed").iterdir())
    out = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status) for o in out] == [("b1", "done")]
    assert _ingests(store) == 1


@pytest.mark.parametrize("read_only", [False, True], ids=["writer", "reader"])
@pytest.mark.parametrize("step", ["ingest", "scan"])
def test_the_loop_waits_for_a_store_another_process_holds(tmp_path, monkeypatch, step, read_only):
    """Without --once, a DuckDB store held open by another process (an analyst's duckdb shell)
    is waited for: said once on stderr, the batch kept where it is, taken up when the holder
    lets go; the loop does not end. Held while the batch is ingested, or after it is ingested
    (the scan's turn: a stopped run's batch journalled as ingested). A holder that only reads
    lets the loop read too: the batch's step is not begun, and said, at every look."""
    from promoguard.commands import watch_cmd

    inbox, store = _example_and_a_store(tmp_path)
    if step == "scan":  # ingested by a run that stopped before its scan
        w = Watcher(inbox, store, checks="PRICE001", tz="Asia/Shanghai")
        with w._locked():
            journal = w._claim("b1")
            w._ingest(journal, w._folder(journal))
    holder = StoreHolder(store, read_only=read_only)
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 3:  # two passes found the store held: now its holder lets go
            holder.release()
        if len(sleeps) == 4:  # the pass after took the batch: stop the loop as Ctrl-C does
            raise KeyboardInterrupt

    # the loop's own sleep only (other code's waits, such as DuckDB's, keep theirs)
    monkeypatch.setattr(watch_cmd, "time", types.SimpleNamespace(sleep=sleep))
    args = ["watch", str(inbox), "--store", str(store), "--checks", "PRICE001"]
    try:
        res = CliRunner().invoke(app, [*args, "--tz", "Asia/Shanghai", "--interval", "7"])
    finally:
        holder.release()
    assert res.exit_code == 0, res.output
    assert sleeps == [7, 7, 7, 7]
    assert not _errors(res)
    waits = [ln for ln in res.stderr.splitlines() if ln.startswith("waiting for the store")]
    assert len(waits) == 1, res.stderr  # said once, not at every look
    assert f"in use by another process (process {holder.pid})" in waits[0]
    assert "trying again every 7 s" in waits[0]
    err = res.stderr.splitlines()
    # said when the store is free, before the batch goes on; the step said once, not per look
    assert err.index("the store is free again") < err.index("b1: done")
    assert sum(ln.startswith("b1: ingest into") for ln in err) == (step == "ingest"), err
    assert sum(ln.startswith("b1: first scan") for ln in err) == 1, err
    assert [p.name for p in (inbox / "done").iterdir()] == ["b1"]
    assert _journal(inbox, "b1")["state"] == "done"
    assert _ingests(store) == 1


def test_once_stops_at_a_store_another_process_holds(tmp_path):
    """--once (cron) does not wait: the run ends with exit 1 and one line; the batch stays."""
    inbox, store = _example_and_a_store(tmp_path)
    args = ["watch", str(inbox), "--store", str(store), "--checks", "PRICE001", "--once"]
    with StoreHolder(store):
        res = CliRunner().invoke(app, [*args, "--tz", "Asia/Shanghai", "--json"])
    assert res.exit_code == 1
    (line,) = _errors(res)
    assert "in use by another process" in line and "b1 stays in" in line
    assert json.loads(res.stdout)["error"] == line[len("promoguard: error: ") :]
    assert _journal(inbox, "b1")["state"] == "claimed"


@pytest.mark.parametrize("step", ["ingest", "scan"])
def test_a_full_disk_is_the_stores_problem_not_the_batchs(tmp_path, monkeypatch, step):
    """ENOSPC while the lake publishes the batch's files (ingest) or the scan's findings: the
    batch stays in processing/ at the step it reached; the next run goes on from there."""
    import errno

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    root = tmp_path / "lake"
    _send_example(inbox, "b1")
    _send_example(inbox, "b2")
    real = lake.os.replace
    batch_file = f"/{lake.STAGING}/" if step == "ingest" else f"/{lake.STAGING}/scan-"

    def replace(src, dst, *args, **kwargs):
        if batch_file in str(src) and str(src).endswith(".parquet"):
            raise OSError(errno.ENOSPC, "No space left on device", str(src))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(lake.os, "replace", replace)
    with pytest.raises(WatchError, match="No space left on device") as caught:
        Watcher(inbox, f"{root}/", checks="PRICE001", tz="Asia/Shanghai").run_once()
    monkeypatch.undo()
    assert caught.value.outcomes == []
    assert (inbox / "processing" / "b1").is_dir() and not list((inbox / "failed").iterdir())
    assert _journal(inbox, "b1")["state"] == ("claimed" if step == "ingest" else "ingested")
    assert len(_lake_ingests(root)) == (0 if step == "ingest" else 1)
    out = Watcher(inbox, root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status) for o in out] == [("b1", "done"), ("b2", "done")]
    assert len(_lake_ingests(root)) == 2


@pytest.mark.parametrize("what", ["scratch database full", "listed file gone"])
def test_a_store_problem_while_ingest_reads_or_loads_keeps_the_batch_claimed(
    tmp_path, monkeypatch, what
):
    """A full disk under the lake's scratch database while ingest loads the batch, or a lake
    whose listed Parquet file is gone: the store's problem, not the batch's (not failed/)."""
    from tests.test_lake import _disk_full_while_loading

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    _send_example(inbox, "b1")
    if what == "scratch database full":
        _disk_full_while_loading(monkeypatch)
        expect = "No space left on device"
    else:
        gone = root / lake.read_manifest(root).tables["listings"][0]
        kept = gone.read_bytes()
        gone.unlink()
        expect = f"cannot read the lake {root}: "
    with pytest.raises(watch.StoreProblem) as caught:
        Watcher(inbox, root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    monkeypatch.undo()
    message = str(caught.value)
    assert "\n" not in message and expect in message and "b1 stays in" in message
    assert (inbox / "processing" / "b1").is_dir() and not list((inbox / "failed").iterdir())
    assert _journal(inbox, "b1")["state"] == "claimed"
    if what == "listed file gone":
        gone.write_bytes(kept)  # mended
    out = Watcher(inbox, root, checks="PRICE001", tz="Asia/Shanghai").run_once()
    assert [(o.batch, o.status) for o in out] == [("b1", "done")]
    assert len(_lake_ingests(root)) == 2


@pytest.mark.parametrize("where", ["store in inbox", "lake in inbox", "inbox in lake", "same"])
def test_a_store_and_an_inbox_inside_each_other_are_refused(tmp_path, where):
    inbox = tmp_path / "inbox"
    store = {
        "store in inbox": inbox / "s.duckdb",
        "lake in inbox": f"{inbox}/sub/lake/",
        "inbox in lake": tmp_path,
        "same": inbox,
    }[where]
    inbox.mkdir()
    _send_example(inbox, "b1")
    res = CliRunner().invoke(app, ["watch", str(inbox), "--store", str(store), "--once"])
    assert res.exit_code == 1
    (line,) = _errors(res)
    assert "inside" in line and res.stdout == ""
    assert sorted(p.name for p in inbox.iterdir()) == ["b1"]  # nothing taken, nothing made
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox"]


@pytest.mark.parametrize("resumed", [False, True])
def test_a_duckdb_file_with_no_tables_is_an_empty_store(tmp_path, resumed):
    """A store file created and never written (or made by another DuckDB client): the batch
    goes in, whether taken now or claimed by a run that stopped."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "s.duckdb"
    duckdb.connect(str(store)).close()
    _send_example(inbox, "b1")
    if resumed:
        w = Watcher(inbox, store)
        with w._locked():
            w._claim("b1")
    args = ["--store", str(store), "--checks", "PRICE001", "--tz", "Asia/Shanghai", "--once"]
    res = CliRunner().invoke(app, ["watch", str(inbox), *args])
    assert res.exit_code == 0, res.output
    assert [p.name for p in (inbox / "done").iterdir()] == ["b1"]
    assert _ingests(store) == 1


def test_one_watch_per_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    w = Watcher(inbox, tmp_path / "s.duckdb")
    with w._locked(), pytest.raises(WatchError, match="another watch"):
        Watcher(inbox, tmp_path / "s.duckdb").run_once()


def test_cases_are_opened_and_updated_from_the_delta_without_duplicates(days, tmp_path):
    from sqlalchemy import func, select

    from promoguard.cases.models import AuditEvent, Case, CaseFinding
    from promoguard.cases.service import CaseService

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "season.duckdb"
    db = tmp_path / "cases.db"
    _send(inbox, days, "day1")
    first = Watcher(inbox, store, checks=CHECKS, cases_db=str(db)).run_once()
    assert first[0].cases["opened"] > 10 and first[0].cases["resolved_noted"] == 0
    _send(inbox, days, "day2")
    second = Watcher(inbox, store, checks=CHECKS, cases_db=str(db)).run_once()[0]
    assert second.status == "done"
    svc = CaseService(watch.case_db_url(str(db)))

    def counts():
        with svc.db.session() as s:
            return (
                s.execute(select(func.count()).select_from(Case)).scalar_one(),
                s.execute(select(func.count()).select_from(CaseFinding)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
            )

    before = counts()
    # every finding of the second scan sits on a case
    con = duckdb.connect(str(store), read_only=True)
    keys = con.execute(
        "SELECT check_code, entity_type, entity_id FROM findings WHERE scan_id = ?",
        [second.scan_id],
    ).fetchall()
    con.close()
    with svc.db.session() as s:
        held = s.execute(
            select(CaseFinding.check_code, CaseFinding.entity_type, CaseFinding.entity_id)
        ).all()
    assert set(keys) <= set(held)
    # the cases step again for the same scan (a run stopped before journalling it): nothing new
    journal = json.loads((inbox / ".promoguard-watch" / "day2.json").read_text())
    # the journal says how the day was scanned: each scope group's keys and fallback
    # (groups of the scope vocabulary, which grows: listing_delta came in session 6)
    assert set(journal["incremental"]["scopes"]) <= set(incremental._GROUP.values())
    assert "untouched" in journal["incremental"]
    assert journal["incremental"]["scopes"]
    w = Watcher(inbox, store, checks=CHECKS, cases_db=str(db))
    again = w._cases(journal)
    assert again["opened"] == 0 and again["findings_added"] == 0
    assert again["resolved_noted"] == 0
    after = counts()
    assert after[:2] == before[:2]
    assert svc.audit_verify().ok


def test_resolved_findings_are_noted_once_on_their_cases(tmp_path):
    """On findings written by hand: a finding gone from the next scan is noted on its case, in
    the audit trail, once; the case stays open (gone from the data is not verified)."""
    import datetime as dt

    import pandas as pd
    from sqlalchemy import select

    from promoguard import monitor, store
    from promoguard.cases.models import AuditEvent, Case
    from promoguard.cases.service import CaseService

    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    t0 = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
    for i, scan in enumerate(("s1", "s2")):
        con.execute(
            "INSERT INTO scans (scan_id, pack, engine, checks, parameters, started_at, "
            "finished_at, findings) VALUES (?, 'cn', 'duckdb', 'PRICE001', '{}', ?, ?, 1)",
            [scan, t0 + dt.timedelta(days=i), t0 + dt.timedelta(days=i)],
        )
    for fid, scan, entity in (("a", "s1", "L1"), ("b", "s1", "L2"), ("b", "s2", "L2")):
        con.execute(
            "INSERT INTO findings (finding_id, scan_id, check_code, pack, entity_type, entity_id, "
            "merchant_id, platform_id, severity, observed, expected, legal_basis, "
            "evidence_sha256, detected_at) VALUES (?, ?, 'PRICE001', 'cn', 'listing', ?, 'M1', "
            "'P1', 'high', '{}', '{}', 'law', ?, ?)",
            [fid, scan, entity, fid * 64, t0],
        )
    con.execute("INSERT INTO evidence VALUES (?, '{}'), (?, '{}')", ["a" * 64, "b" * 64])
    con.close()
    svc = CaseService(watch.case_db_url(str(tmp_path / "c.db")), actor="t")
    svc.open_from_scan(path, scan_id="s1")
    con = store.connect(path, read_only=True)
    d = monitor.delta(con, "s2", previous="s1")
    con.close()
    resolved = d[d.change == "resolved"]
    assert list(resolved.entity_id) == ["L1"]
    assert watch.note_resolved(svc, "s2", resolved) == 1
    assert watch.note_resolved(svc, "s2", resolved) == 0  # once per case and scan
    assert watch.note_resolved(svc, "s2", pd.DataFrame()) == 0
    with svc.db.session() as s:
        events = s.execute(
            select(AuditEvent.case_id, AuditEvent.payload).where(
                AuditEvent.action == "findings_resolved"
            )
        ).all()
        status = s.execute(select(Case.status)).scalars().all()
    assert len(events) == 1
    payload = json.loads(events[0][1])
    assert payload["scan_id"] == "s2" and payload["findings"][0]["entity_id"] == "L1"
    assert status == ["open"]
    assert svc.audit_verify().ok


def test_ctrl_c_during_a_pass_says_where_the_batch_is_and_exits_130(tmp_path, monkeypatch):
    """An interrupt mid-pass (here in the ingest) is not a clean end: one line naming where the
    batch waits, exit 130; the next run takes it up. Between passes it ends the loop, exit 0."""
    from promoguard.commands import watch_cmd

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "s.duckdb"
    _send_example(inbox, "b1")

    def interrupted(self, journal, folder):
        raise KeyboardInterrupt

    monkeypatch.setattr(Watcher, "_ingest", interrupted)
    args = ["watch", str(inbox), "--store", str(store), "--checks", "PRICE001"]
    res = CliRunner().invoke(app, [*args, "--tz", "Asia/Shanghai"])
    assert res.exit_code == 130, res.output
    assert f"stopped during a pass: what it took stays in {inbox / 'processing'}" in res.stderr
    assert "Traceback" not in res.output
    monkeypatch.undo()
    assert (inbox / "processing" / "b1").is_dir()

    def stop(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(watch_cmd, "time", types.SimpleNamespace(sleep=stop))
    res = CliRunner().invoke(app, [*args, "--tz", "Asia/Shanghai"])
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[-1] == "stopped"
    assert [p.name for p in (inbox / "done").iterdir()] == ["b1"]
    assert _ingests(store) == 1


def test_a_batch_refused_names_its_files_where_they_now_are(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "b1").mkdir(parents=True)
    (inbox / "b1" / watch.READY).write_text("")  # a batch of no table file
    (out,) = Watcher(inbox, tmp_path / "s.duckdb").run_once()
    error = (inbox / "failed" / "b1.error").read_text()
    assert out.status == "failed" and f"{inbox / 'failed' / 'b1'}" in error
    assert "processing" not in error
    # ... and they are there now: the batch moved out of processing/ into failed/
    assert (inbox / "failed" / "b1" / watch.READY).is_file()
    assert not (inbox / "processing" / "b1").exists()


def test_when_the_loops_checks_change_the_delta_is_taken_against_the_nearest_scan(days, tmp_path):
    """A check added to the loop (a pack edit, --checks, an upgrade): no scan ran exactly its
    checks, so the delta is taken against the one that ran most of them, not against nothing
    (every finding "new", no resolved ones noted on cases)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "season.duckdb"
    _send(inbox, days, "day1")
    (first,) = Watcher(inbox, store, checks="PRICE,SHIP").run_once()
    _send(inbox, days, "day2")
    (second,) = Watcher(inbox, store, checks=CHECKS).run_once()
    assert second.status == "done" and second.since == first.scan_id
    assert second.changes["still"] > second.changes["new"] > 0
