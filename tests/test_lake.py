"""The Parquet lake: same rows, quarantine and findings as the DuckDB store; batches all or nothing."""

from __future__ import annotations

import errno
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import promoguard
from promoguard import lake
from promoguard import store as store_mod
from promoguard.errors import IngestError, StoreError
from promoguard.ingest import ingest_dir
from promoguard.model import TABLE_NAMES

EXAMPLE = Path(promoguard.__file__).parent / "examples" / "messy"
FINDING_COLS = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]


def _rows(con, table: str, drop: tuple[str, ...] = ()) -> list[tuple]:
    cols = [c for c, _ in lake.schema()[table] if c not in drop]
    sel = ", ".join(f'"{c}"' for c in cols)
    return con.execute(f"SELECT {sel} FROM {table} ORDER BY ALL").fetchall()


def test_lake_holds_the_same_rows_and_types_as_the_duckdb_store(season_lake, season_store):
    duck = store_mod.connect(season_store, read_only=True)
    lk = store_mod.connect(season_lake)  # a folder opens as the lake's views
    try:
        for table in TABLE_NAMES:
            assert _rows(duck, table) == _rows(lk, table), table
            d_types = [r[:2] for r in duck.execute(f"DESCRIBE {table}").fetchall()]
            assert d_types == [r[:2] for r in lk.execute(f"DESCRIBE {table}").fetchall()]
    finally:
        duck.close()
        lk.close()


def test_large_tables_are_partitioned_by_utc_day(season_lake):
    files = lake.read_manifest(season_lake).tables["orders"]
    assert len(files) > 30
    assert all(f.startswith("orders/day=20") for f in files)
    con = lake.connect(season_lake)
    day = files[0].split("/")[1].removeprefix("day=")
    got = con.execute(
        "SELECT DISTINCT strftime(timezone('UTC', paid_at), '%Y-%m-%d') FROM "
        f"read_parquet('{season_lake / files[0]}')"
    ).fetchall()
    assert got == [(day,)]


def test_messy_example_quarantines_the_same_rows_in_both_stores(tmp_path):
    duck = store_mod.connect(tmp_path / "s.duckdb")
    d_report = ingest_dir(EXAMPLE, duck, tz="Asia/Shanghai")
    l_report = lake.ingest(EXAMPLE, tmp_path / "lake", tz="Asia/Shanghai")
    assert {t: vars(c) for t, c in d_report.tables.items()} == {
        t: vars(c) for t, c in l_report.tables.items()
    }
    lk = lake.connect(tmp_path / "lake")
    for table in TABLE_NAMES:
        assert _rows(duck, table) == _rows(lk, table), table
    assert _rows(duck, "quarantine", ("ingest_id",)) == _rows(lk, "quarantine", ("ingest_id",))
    assert len(_rows(lk, "quarantine")) == l_report.totals.quarantined > 0
    # personal data: every file the lake wrote is owner-only, like a new DuckDB store
    written = [p for p in (tmp_path / "lake").rglob("*") if p.is_file()]
    assert written and all(p.stat().st_mode & 0o077 == 0 for p in written)
    assert lk.execute("SELECT count(*) FROM ingest_log").fetchone()[0] == len(l_report.files)


def test_a_second_batch_appends_and_repeated_rows_are_unchanged(season_dir, tmp_path):
    root = tmp_path / "lake"
    first = lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    files_before = lake.read_manifest(root).tables
    again = lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    # every good row is already stored, identical: nothing new, nothing lost
    assert again.totals.stored == first.totals.stored == again.totals.unchanged
    lk = lake.connect(root)
    assert lk.execute("SELECT count(*) FROM orders").fetchone()[0] == first.tables["orders"].stored
    # the canonical tables got no new files; the quarantine and log did
    m = lake.read_manifest(root)
    assert {t: m.tables[t] for t in TABLE_NAMES} == {t: files_before[t] for t in TABLE_NAMES}
    assert len(m.batches) == 2 and m.version == 2


def test_a_batch_that_fails_while_publishing_leaves_the_lake_as_it_was(
    season_dir, tmp_path, monkeypatch
):
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    before = (root / lake.MANIFEST).read_bytes()
    files_before = sorted(p for p in root.rglob("*.parquet"))
    real_move = lake._move_into_place
    calls = []

    def failing_move(r, staging, files, moved):
        calls.append(files)
        if len(calls) == 3:  # some tables' files are already in place: they must go again
            raise OSError("disk full")
        return real_move(r, staging, files, moved)

    monkeypatch.setattr(lake, "_move_into_place", failing_move)
    with pytest.raises(lake.LakeError, match="disk full; the lake is unchanged"):
        lake.ingest(season_dir, root)
    assert (root / lake.MANIFEST).read_bytes() == before
    assert sorted(p for p in root.rglob("*.parquet")) == files_before
    assert not (root / lake.STAGING).exists()


def _an_empty_lake_that_takes_the_next_batch(root: Path) -> None:
    """``root`` reads as an empty lake, and the next batch goes in and is read whole."""
    assert lake.read_manifest(root).batches == []
    report = lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    m = lake.read_manifest(root)
    assert [b["ingest_id"] for b in m.batches] == [report.ingest_id]
    lk = lake.connect(root)
    assert lk.execute("SELECT count(*) FROM ingest_log").fetchone()[0] == len(report.files)
    assert lk.execute("SELECT count(*) FROM listings").fetchone()[0] == (
        report.tables["listings"].stored
    )
    assert not (root / lake.STAGING).exists()


def test_a_first_batch_that_fails_while_publishing_leaves_an_empty_lake(tmp_path, monkeypatch):
    root = tmp_path / "lake"
    real_move = lake._move_into_place
    calls = []

    def failing_move(r, staging, files, moved):
        calls.append(files)
        if len(calls) == 3:  # two tables' files were in place: the lake's folders exist
            raise OSError("disk full")
        return real_move(r, staging, files, moved)

    monkeypatch.setattr(lake, "_move_into_place", failing_move)
    with pytest.raises(lake.LakeError, match="disk full"):
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    monkeypatch.undo()
    assert not list(root.rglob("*.parquet"))
    _an_empty_lake_that_takes_the_next_batch(root)


def test_a_first_batch_killed_while_publishing_leaves_an_empty_lake(tmp_path):
    """A kill runs no clean-up: the batch's files stay, unlisted, beside its staging folder."""
    root = tmp_path / "lake"
    _ingest_killed_after(root, "_move_into_place", "r, staging, files, moved")
    assert list(root.rglob("*.parquet")) and (root / lake.STAGING).is_dir()
    _an_empty_lake_that_takes_the_next_batch(root)
    _only_listed_files(root)  # the killed batch's files went with the next batch


def _ingest_killed_after(root: Path, step: str, params: str, when: str = "True") -> None:
    """Ingest the example into ``root`` in another process, killed (``os._exit``: no clean-up
    runs) as soon as ``lake.<step>(params)`` returns with ``when`` true."""
    import subprocess
    import sys

    script = (
        "import os, sys\n"
        "from promoguard import lake\n"
        f"real = lake.{step}\n"
        f"def killed({params}):\n"
        f"    real({params})\n"
        f"    if {when}:\n"
        "        os._exit(9)\n"
        f"lake.{step} = killed\n"
        "lake.ingest(sys.argv[1], sys.argv[2], tz='Asia/Shanghai')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(EXAMPLE), str(root)], capture_output=True, text=True
    )
    assert done.returncode == 9, done.stderr


def _only_listed_files(root: Path) -> None:
    """Every data file in the lake's table folders is one its manifest lists."""
    m = lake.read_manifest(root)
    listed = sorted(f for files in m.tables.values() for f in files)
    kept = sorted(p.relative_to(root).as_posix() for p in root.rglob("part-*.parquet"))
    assert kept == listed


def test_a_move_that_fails_partway_through_a_table_takes_out_the_files_before_it(
    season_dir, tmp_path, monkeypatch
):
    """A partitioned table's files move one by one: a failure at its second file takes out its
    first (it was in place, unlisted), not only the tables moved whole before."""
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    before = (root / lake.MANIFEST).read_bytes()
    real = lake.os.replace
    orders: list[str] = []

    def replace(src, dst, *args, **kwargs):
        if "/orders/" in str(dst) and str(src).endswith(".parquet"):
            orders.append(str(dst))
            if len(orders) == 2:
                raise OSError(28, "No space left on device", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(lake.os, "replace", replace)
    with pytest.raises(
        lake.LakeError, match=r"No space left on device \(.*\); the lake is unchanged"
    ):
        lake.ingest(season_dir, root)
    monkeypatch.undo()
    assert len(orders) == 2 and not Path(orders[0]).exists()
    assert (root / lake.MANIFEST).read_bytes() == before
    _only_listed_files(root)


def test_a_killed_batchs_files_are_swept_and_nothing_else(tmp_path):
    """Under the writer lock the next batch removes the unlisted data files of a batch whose
    staging folder a kill left (what a kill between the moves and the manifest leaves), and
    leaves alone every other file: a listed one, one a person put there, a link, and an
    unlisted file of a batch that left no staging folder (it ended: the manifest may have been
    restored from an older copy)."""
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    listed = lake.read_manifest(root).tables["orders"][0]
    dead = "20261111T080000Z-deadbeef"
    for batch in (dead, "scan-20261111T080000Z-abcdef"):
        (root / lake.STAGING / batch).mkdir(parents=True)
    ended = root / "orders" / "part-20261111T090000Z-cafebabe-0.parquet"
    shutil.copy(root / listed, ended)
    day = root / "orders" / "day=1999-01-01"
    day.mkdir()
    shutil.copy(root / listed, day / f"part-{dead}-0.parquet")
    shutil.copy(root / listed, root / "listings" / "part-scan-20261111T080000Z-abcdef-0.parquet")
    keep = [root / "orders" / "notes.parquet", root / "orders" / "part-mine-0.parquet"]
    for f in keep:
        shutil.copy(root / listed, f)
    (root / "orders" / f"part-{dead}-1.parquet").symlink_to(root / listed)
    (root / f".{lake.MANIFEST}.{'0' * 32}").write_text("{")  # a manifest never renamed
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    assert not (root / f".{lake.MANIFEST}.{'0' * 32}").exists()
    assert not day.exists()  # its one file was the dead batch's: the folder went with it
    assert not (root / "listings" / "part-scan-20261111T080000Z-abcdef-0.parquet").exists()
    assert all(f.exists() for f in keep) and ended.exists()
    assert (root / "orders" / f"part-{dead}-1.parquet").is_symlink()
    assert (root / listed).exists()
    lk = lake.connect(root)
    assert lk.execute("SELECT count(*) FROM ingest_log").fetchone()[0] > 0


def test_a_batch_killed_after_its_manifest_was_replaced_keeps_its_files(tmp_path):
    """A kill after the rename that published the batch leaves its staging folder: the next
    batch's sweep takes the killed batch for a dead one, and must keep the files its manifest
    lists (they are the lake's)."""
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    # (a publish that lists batches: a new lake's first publish, of an empty manifest, does not)
    _ingest_killed_after(root, "_publish", "r, manifest", when="manifest.batches")
    killed = lake.read_manifest(root)
    assert len(killed.batches) == 2 and (root / lake.STAGING).is_dir()
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    m = lake.read_manifest(root)
    assert len(m.batches) == 3 and not (root / lake.STAGING).exists()
    for table, files in killed.tables.items():
        assert all((root / f).exists() for f in files), table
    _only_listed_files(root)
    lk = lake.connect(root)
    assert lk.execute("SELECT count(DISTINCT ingest_id) FROM ingest_log").fetchone()[0] == 3


BATCH = "20261111T080000Z-1a2b3c4d"
PART = f"part-{BATCH}-0.parquet"


def _files(root: Path) -> list[tuple[str, bytes]]:
    return sorted(
        (p.relative_to(root).as_posix(), p.read_bytes()) for p in root.rglob("*") if p.is_file()
    )


def test_what_a_first_batch_stopped_before_its_manifest_left_reads_as_an_empty_lake(tmp_path):
    """A first batch killed while it ingested (before it published the empty manifest): the
    lock, its staging folder, maybe a manifest's temporary file. The next batch goes in, and
    removes the staging folder the killed one left."""
    root = tmp_path / "lake"
    (root / lake.STAGING / BATCH).mkdir(parents=True)
    (root / lake.STAGING / BATCH / "scratch.duckdb").write_bytes(b"left by a kill")
    (root / lake.LOCK).write_text("")
    (root / f".{lake.MANIFEST}.{'0' * 32}").write_text("{")
    _an_empty_lake_that_takes_the_next_batch(root)
    assert not (root / lake.STAGING / BATCH / "scratch.duckdb").exists()  # the kill's leftovers


@pytest.mark.parametrize(
    "left",
    [
        "the table folders of one batch",  # a lake of one batch that lost its manifest
        "an empty table folder",
        "a folder of its own in _staging",
        "a file in _staging",
        "a linked _staging",
        "a linked lock",
    ],
)
def test_a_folder_without_a_manifest_holding_anything_else_is_refused(tmp_path, left):
    """Only what a lake itself leaves before its first manifest (named as it names them) makes
    an empty lake; anything else is refused and left as it was."""
    root = tmp_path / "lake"
    root.mkdir()
    (root / lake.LOCK).write_text("")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / BATCH).mkdir(parents=True)
    (elsewhere / BATCH / "work.bin").write_text("theirs")
    if left == "the table folders of one batch":
        for rel in (f"platforms/{PART}", f"orders/day=2026-11-11/{PART}"):
            (root / rel).parent.mkdir(parents=True)
            (root / rel).write_bytes(b"a batch")
    elif left == "an empty table folder":
        (root / "merchants").mkdir()
    elif left == "a folder of its own in _staging":
        (root / lake.STAGING / "drafts").mkdir(parents=True)
        (root / lake.STAGING / "drafts" / "thesis.txt").write_text("mine")
    elif left == "a file in _staging":
        (root / lake.STAGING).mkdir()
        (root / lake.STAGING / BATCH).write_text("mine")
    elif left == "a linked _staging":
        (root / lake.STAGING).symlink_to(elsewhere)
    else:
        (root / lake.LOCK).unlink()
        (root / lake.LOCK).symlink_to(elsewhere / BATCH / "work.bin")
    before, theirs = _files(root), _files(elsewhere)
    with pytest.raises(lake.LakeError) as caught:
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    message = str(caught.value)
    assert "\n" not in message and f"no {lake.MANIFEST}" in message
    if "table" in left:
        assert "restore the manifest" in message
    assert _files(root) == before and _files(elsewhere) == theirs
    assert not (root / lake.MANIFEST).exists()


def test_a_lake_that_lost_its_manifest_is_refused_not_taken_for_an_empty_one(tmp_path):
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    (root / lake.MANIFEST).unlink()  # a bad restore, an rsync --exclude, an operator's rm
    before = _files(root)
    with pytest.raises(lake.LakeError, match="but no _manifest.json: a lake that lost its"):
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    with pytest.raises(lake.LakeError, match="restore the manifest"):
        lake.connect(root)
    assert _files(root) == before


def test_a_linked_staging_folder_is_refused_and_not_emptied(tmp_path):
    """``_staging`` a link to a shared scratch folder: the lake refuses it (nothing in the
    folder it points to is removed, not even a folder named like a batch)."""
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    shared = tmp_path / "scratch"
    for name in ("someone-elses-job", BATCH):
        (shared / name).mkdir(parents=True)
        (shared / name / "work.bin").write_text("theirs")
    (root / lake.STAGING).symlink_to(shared)
    before = (root / lake.MANIFEST).read_bytes()
    with pytest.raises(lake.LakeError, match=r"_staging is a link or a file, not a staging"):
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    assert sorted(p.name for p in shared.iterdir()) == sorted([BATCH, "someone-elses-job"])
    assert (shared / BATCH / "work.bin").read_text() == "theirs"
    assert (root / lake.MANIFEST).read_bytes() == before


def test_only_batch_folders_left_in_staging_are_removed(tmp_path):
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    staging = root / lake.STAGING
    for name in (BATCH, "scan-20261111T080000Z-1a2b3c", "drafts"):
        (staging / name).mkdir(parents=True)
        (staging / name / "work.bin").write_text("x")
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    assert [p.name for p in staging.iterdir()] == ["drafts"]  # not the lake's: kept


@pytest.mark.parametrize("where", ["moving a file in", "replacing the manifest", "writing parquet"])
def test_a_disk_error_while_publishing_is_one_line_and_the_lake_is_unchanged(
    tmp_path, monkeypatch, where
):
    import duckdb

    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    before = (root / lake.MANIFEST).read_bytes()
    listed = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    real_replace, real_write = lake.os.replace, lake._write_table

    def replace(src, dst, *args, **kwargs):
        src = str(src)
        if where == "moving a file in" and lake.STAGING in src and src.endswith(".parquet"):
            raise OSError(errno.ENOSPC, "No space left on device", src)
        if where == "replacing the manifest" and Path(dst).name == lake.MANIFEST:
            raise OSError(errno.EIO, "Input/output error", src)
        return real_replace(src, dst, *args, **kwargs)

    def write_table(con, select_sql, table, staging, batch):
        if where == "writing parquet" and table == "orders":
            raise duckdb.IOException("IO Error: Could not write file: No space left on device")
        return real_write(con, select_sql, table, staging, batch)

    monkeypatch.setattr(lake.os, "replace", replace)
    monkeypatch.setattr(lake, "_write_table", write_table)
    # the same rows again: the batch still writes its ingest log (and quarantine)
    with pytest.raises(lake.LakeError) as caught:
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    monkeypatch.undo()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"cannot write the lake {root}: ")
    assert message.endswith("; the lake is unchanged")
    expect = {
        "moving a file in": "No space left on device (",
        "replacing the manifest": "Input/output error (",
        "writing parquet": "IO Error: Could not write file: No space left on device",
    }[where]
    assert expect in message
    assert (root / lake.MANIFEST).read_bytes() == before
    assert sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) == listed
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")  # then it goes in
    assert len(lake.read_manifest(root).batches) == 2


WAL_FULL = (
    'Failed to commit: Could not write file "{where}/scratch.duckdb.wal": No space left on device'
)


def _disk_full_while_loading(monkeypatch):
    """A full disk under the store while ingest loads a file: DuckDB ends the transaction
    itself (a ROLLBACK after it finds none) and says why."""
    from promoguard.ingest import load

    real = load.load_staged

    def load_staged(con, *args, **kwargs):
        real(con, *args, **kwargs)
        con.execute("ROLLBACK")
        raise duckdb.TransactionException(WAL_FULL.format(where="/the/store"))

    monkeypatch.setattr(load, "load_staged", load_staged)


@pytest.mark.parametrize("kind", ["lake", "duckdb"])
def test_a_full_disk_while_ingest_loads_is_a_store_error_with_its_cause(
    tmp_path, monkeypatch, kind
):
    """Not an IngestError (the batch is fine) and not "cannot rollback": the write that failed."""
    store = tmp_path / ("lake" if kind == "lake" else "s.duckdb")
    ingest = lake.ingest if kind == "lake" else ingest_dir
    ingest(EXAMPLE, store, tz="Asia/Shanghai")
    _disk_full_while_loading(monkeypatch)
    with pytest.raises(StoreError) as caught:
        ingest(EXAMPLE, store, tz="Asia/Shanghai")
    monkeypatch.undo()
    message = str(caught.value)
    assert not isinstance(caught.value, IngestError) and "\n" not in message
    assert message.startswith("ingest failed writing to disk, the store is unchanged: ")
    assert "No space left on device" in message and "rollback" not in message
    con = store_mod.connect(store, read_only=True)
    assert con.execute("SELECT count(DISTINCT ingest_id) FROM ingest_log").fetchone()[0] == 1
    con.close()


def test_a_full_disk_while_the_scratch_database_is_made_is_one_line(tmp_path, monkeypatch):
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    before = _files(root)

    def initialise(con):
        raise duckdb.TransactionException(WAL_FULL.format(where=root / lake.STAGING))

    monkeypatch.setattr(store_mod, "initialise", initialise)
    with pytest.raises(lake.LakeError) as caught:
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    monkeypatch.undo()
    message = str(caught.value)
    assert "\n" not in message and message.startswith("cannot write the lake's staging folder")
    assert message.endswith("No space left on device; the lake is unchanged")
    assert _files(root) == before


@pytest.mark.parametrize("which", ["first gone", "last gone", "last damaged"])
def test_a_listed_file_gone_or_damaged_is_a_lake_error_before_the_batch_is_read(tmp_path, which):
    """A damaged lake (a listed Parquet file gone, or not Parquet any more): one line saying
    which file, a LakeError (the store's problem), before the batch is read."""
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    more = tmp_path / "more"
    more.mkdir()
    header = (EXAMPLE / "platforms.csv").read_text(encoding="utf-8").splitlines()[0]
    (more / "platforms.csv").write_text(f"{header}\nP-NEW-999,NewMall\n", encoding="utf-8")
    lake.ingest(more, root, tz="Asia/Shanghai")
    platforms = lake.read_manifest(root).tables["platforms"]
    assert len(platforms) == 2
    gone = root / platforms[0 if which.startswith("first") else -1]
    if which.endswith("gone"):
        gone.unlink()
    else:
        gone.write_bytes(b"not parquet")
    before = _files(root)
    with pytest.raises(lake.LakeError) as caught:
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"cannot read the lake {root}: ")
    assert gone.name in message
    assert _files(root) == before
    if which.endswith("gone"):  # any reader of the lake says so in one line too
        with pytest.raises(
            lake.LakeError, match=f"^cannot read the lake {re.escape(str(root))}: .*{gone.name}"
        ):
            store_mod.connect(root, read_only=True)


def test_a_lake_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("mine")
    root = tmp_path / "a-file" / "lake"
    with pytest.raises(lake.LakeError, match=r"^cannot write the lake .*: Not a directory \("):
        lake.ingest(EXAMPLE, root)
    assert (tmp_path / "a-file").read_text() == "mine"


def test_spark_without_pyspark_is_the_scans_setup_not_a_lake_problem(tmp_path, monkeypatch):
    """As on a DuckDB file: a CheckError, which watch does not take for a store problem."""
    import sys

    from promoguard.errors import CheckError, StoreError

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(CheckError, match="needs pyspark") as caught, lake.spark_tables(tmp_path):
        pass
    assert not isinstance(caught.value, StoreError)


def test_a_bad_file_leaves_the_lake_unchanged(tmp_path):
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    before = (root / lake.MANIFEST).read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "orders.csv").write_text("order_id,listing_id\nO9,L1\n", encoding="utf-8")
    with pytest.raises(IngestError, match="missing required column"):
        lake.ingest(bad, root)
    assert (root / lake.MANIFEST).read_bytes() == before


def test_a_manifest_pointing_outside_the_lake_is_refused(tmp_path):
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    good = (root / lake.MANIFEST).read_text()
    for outside in ("../../etc/passwd", "/etc/passwd", "orders/../../secret.parquet"):
        doc = json.loads(good)
        doc["tables"]["orders"].append(outside)
        (root / lake.MANIFEST).write_text(json.dumps(doc))
        with pytest.raises(lake.LakeError, match=f"file {outside!r} is outside the lake"):
            lake.connect(root)


def test_a_folder_that_is_not_a_lake_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(lake.LakeError, match="not a PromoGuard lake"):
        lake.ingest(EXAMPLE, tmp_path)
    # and left as it was: no lock file among the user's files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_scan_of_a_lake_gives_the_duckdb_stores_findings_and_keeps_them_in_the_lake(
    season_lake, season_scan, tmp_path
):
    root = tmp_path / "lake"
    shutil.copytree(season_lake, root)
    duck = season_scan.result  # the same season's DuckDB file, scanned with cn
    got = lake.scan(root, "cn")
    a = duck.findings.sort_values("finding_id")[FINDING_COLS].reset_index(drop=True)
    b = got.findings.sort_values("finding_id")[FINDING_COLS].reset_index(drop=True)
    assert len(a) > 1000 and a.equals(b)
    lk = lake.connect(root)
    assert lk.execute("SELECT count(*) FROM findings").fetchone()[0] == len(b)
    assert lk.execute("SELECT scan_id FROM scans").fetchall() == [(got.scan_id,)]
    shas = {r[0] for r in lk.execute("SELECT evidence_sha256 FROM evidence").fetchall()}
    assert shas == set(b["evidence_sha256"])
    # a second scan adds its findings but no evidence document twice
    lake.scan(root, "cn", checks="PRICE001")
    lk2 = lake.connect(root)
    assert (
        lk2.execute("SELECT count(*) - count(DISTINCT evidence_sha256) FROM evidence").fetchone()[0]
        == 0
    )
    assert lk2.execute("SELECT count(*) FROM scans").fetchone()[0] == 2


def test_cli_ingests_into_a_new_lake_and_scans_it(tmp_path):
    from promoguard.cli import app

    runner = CliRunner()
    root = str(tmp_path / "lake") + "/"
    res = runner.invoke(
        app, ["ingest", str(EXAMPLE), "--store", root, "--tz", "Asia/Shanghai", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "lake" / lake.MANIFEST).exists()
    res = runner.invoke(app, ["scan", "--store", root, "--pack", "cn", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    lk = lake.connect(tmp_path / "lake")
    assert lk.execute("SELECT count(*) FROM findings").fetchone()[0] == summary["findings"]


def test_a_lake_scan_is_sealed_and_verifies(season_lake, tmp_path):
    from promoguard.cli import app

    root = tmp_path / "lake"
    shutil.copytree(season_lake, root)
    runner = CliRunner()
    res = runner.invoke(
        app, ["scan", "--store", str(root), "--pack", "cn", "--checks", "PRICE", "--json"]
    )
    assert res.exit_code == 0, res.output
    seal = json.loads(res.stdout)["seal"]
    res = runner.invoke(app, ["verify", "--store", str(root), "--expect", seal])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["verify", "--store", str(root), "--expect", "0" * 64])
    assert res.exit_code == 1


def test_a_manifest_restored_from_an_older_copy_costs_no_file(season_dir, tmp_path):
    """docs/scale.md tells an operator to restore a lost manifest: restored from a copy taken
    before the latest batches, their files are unlisted but theirs; the next batches keep them
    (an operator can list them again), however many batches follow."""
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    backup = (root / lake.MANIFEST).read_bytes()
    lake.ingest(season_dir, root)
    later = sorted(p for p in root.rglob("part-*.parquet"))
    (root / lake.MANIFEST).write_bytes(backup)
    # a batch killed since leaves its staging folder: the next batch sweeps the killed one's
    # unlisted files, and must not take the restored manifest's unlisted ones for them
    (root / lake.STAGING / "20261111T080000Z-deadbeef").mkdir(parents=True)
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    assert not (root / lake.STAGING).exists()  # the sweep ran
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    assert later and all(p.exists() for p in later)


def test_a_stop_after_the_manifest_is_replaced_keeps_the_batchs_files(tmp_path, monkeypatch):
    """Ctrl-C (or a failed fsync) after the rename that published the batch: its files are the
    lake's now; the clean-up of a failed batch took them out of a lake whose manifest lists
    them."""
    root = tmp_path / "lake"
    lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    real_open = lake.os.open

    def interrupted(path, *args, **kwargs):  # the fsync of the folder, after the rename
        if Path(path) == root:
            raise KeyboardInterrupt
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(lake.os, "open", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lake.ingest(EXAMPLE, root, tz="Asia/Shanghai")
    monkeypatch.undo()
    m = lake.read_manifest(root)
    assert len(m.batches) == 2
    _only_listed_files(root)
    lk = lake.connect(root)
    assert lk.execute("SELECT count(DISTINCT ingest_id) FROM ingest_log").fetchone()[0] == 2
