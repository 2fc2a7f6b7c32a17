"""Opening a store: operator mistakes are one line, new stores are owner-only. The store owns the
scans/findings contract: a scan is saved whole or not at all, and read back by the report and the
API through the same functions."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import stat
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from tests.support import StoreHolder

from promoguard import store
from promoguard.errors import PromoGuardError, StoreBusy, StoreError
from promoguard.model import FINDING_COLUMNS


def test_a_folder_is_not_a_store(tmp_path):
    (tmp_path / "s.duckdb").mkdir()
    with pytest.raises(StoreError, match="is a folder, not a DuckDB file"):
        store.connect(tmp_path / "s.duckdb")


def test_a_text_file_is_not_a_store(tmp_path):
    (tmp_path / "s.duckdb").write_text("hello\n")
    with pytest.raises(StoreError, match="not a PromoGuard store"):
        store.connect(tmp_path / "s.duckdb", read_only=True)


def test_a_store_held_by_another_process_is_named_as_such(tmp_path):
    path = tmp_path / "s.duckdb"
    store.connect(path).close()
    with StoreHolder(path) as holder:
        for read_only in (False, True):
            with pytest.raises(
                StoreBusy, match=f"in use by another process \\(process {holder.pid}\\)"
            ):
                store.connect(path, read_only=read_only)


def test_a_new_store_is_owner_only(tmp_path):
    path = tmp_path / "s.duckdb"
    store.connect(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_memory_limit_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMOGUARD_MEMORY_LIMIT", "512MB")
    con = store.connect(tmp_path / "s.duckdb")
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"


def test_without_a_limit_duckdb_gets_the_default_cap_and_none_lifts_it(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMOGUARD_MEMORY_LIMIT", raising=False)
    con = store.connect(tmp_path / "s.duckdb")

    def mib(c):
        return c.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    expected = min(store.DEFAULT_MEMORY_LIMIT_BYTES, int(machine * 0.4)) // 2**20
    assert store.default_memory_limit() == f"{expected}MiB"
    assert mib(con) == mib(store.connect(":memory:")) != mib(duckdb.connect())
    # beside the store file; an in-memory database spills to a private folder, not to ./.tmp
    assert con.execute("SELECT current_setting('temp_directory')").fetchone()[0].endswith(".tmp")
    spill = store.connect(":memory:").execute("SELECT current_setting('temp_directory')")
    folder = spill.fetchone()[0]
    assert folder != ".tmp" and stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    monkeypatch.setenv("PROMOGUARD_MEMORY_LIMIT", "none")
    assert mib(store.connect(":memory:")) == mib(duckdb.connect())


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        (64 * 2**30, "3072MiB"),  # a big machine: the fixed cap
        (4 * 2**30, "1638MiB"),  # 40% of 4 GiB is less than the cap
        (512 * 2**20, "256MiB"),  # 40% of 512 MiB (204 MiB) is under the floor
        (0, "3072MiB"),  # a system that does not say: the fixed cap
    ],
)
def test_the_default_cap_is_forty_percent_of_a_small_machine(monkeypatch, machine, expected):
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": machine // 4096}
    monkeypatch.setattr(store.os, "sysconf", lambda name: pages[name])
    assert store.default_memory_limit() == expected


@pytest.mark.parametrize("bad", ["lots", "4GB'; DROP TABLE orders; --", "-1GB"])
def test_a_limit_that_is_not_a_size_is_one_clear_error(bad):
    con = store.connect(":memory:")
    with pytest.raises(PromoGuardError, match="not a size"):
        store.set_memory_limit(con, bad)


T0 = dt.datetime(2026, 11, 12, tzinfo=dt.UTC)


def _finding(scan_id: str, entity: str) -> dict:
    row = {c.name: None for c in FINDING_COLUMNS}
    row.update(
        finding_id=f"f-{scan_id}-{entity}",
        scan_id=scan_id,
        check_code="PRICE001",
        pack="cn",
        entity_type="listing",
        entity_id=entity,
        merchant_id="m1",
        platform_id="p1",
        severity="high",
        observed="{}",
        expected="{}",
        legal_basis="x",
        evidence_sha256="a" * 64,
        detected_at=T0,
    )
    return row


def _save(
    con,
    scan_id: str,
    entities: list[str],
    started: dt.datetime,
    evidence: dict[str, str] | None = None,
) -> None:
    """Save a PRICE001 scan of ``entities``, the findings pointing at the ``evidence`` documents
    in turn (default: one document ``a…a`` for all)."""
    evidence = evidence or {"a" * 64: '{"doc":1}'}
    frame = pd.DataFrame(
        [
            {**_finding(scan_id, e), "evidence_sha256": h}
            for e, h in zip(entities, itertools.cycle(evidence))
        ],
        columns=[c.name for c in FINDING_COLUMNS],
    )
    store.save_scan(
        con,
        scan_id=scan_id,
        pack="cn",
        engine="duckdb",
        checks=["PRICE001"],
        parameters="{}",
        started_at=started,
        findings=frame,
        evidence=evidence,
    )


def test_a_saved_scan_reads_back_and_the_latest_is_the_default(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    assert store.latest_scan_id(con) is None
    assert store.load_findings(con).empty
    with pytest.raises(PromoGuardError, match="no scan yet"):
        store.scan_record(con)
    _save(con, "scan-1", ["l2", "l1"], T0)
    _save(con, "scan-2", ["l3"], T0 + dt.timedelta(hours=1))
    assert store.scan_record(con)["scan_id"] == "scan-2"
    assert store.scan_record(con, "scan-1")["findings"] == 2
    assert store.load_findings(con, "scan-1").entity_id.tolist() == ["l1", "l2"]
    assert store.load_findings(con).entity_id.tolist() == ["l3"]
    # one evidence document, however many scans point at it
    assert con.execute("SELECT count(*) FROM evidence").fetchone()[0] == 1
    with pytest.raises(PromoGuardError, match="no scan 'nope'"):
        store.scan_record(con, "nope")
    # the latest is the one started last, not the greatest id
    _save(con, "scan-0", ["l9"], T0 + dt.timedelta(hours=2))
    assert store.latest_scan_id(con) == "scan-0"
    assert store.load_findings(con).entity_id.tolist() == ["l9"]


def test_a_scan_that_fails_to_save_leaves_nothing_behind(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    bad = pd.DataFrame({"finding_id": ["x"]})  # not the findings table's columns
    with pytest.raises(Exception):  # noqa: B017 - DuckDB's own error
        store.save_scan(
            con,
            scan_id="scan-bad",
            pack="cn",
            engine="duckdb",
            checks=["PRICE001"],
            parameters="{}",
            started_at=T0,
            findings=bad,
            evidence={},
        )
    assert store.latest_scan_id(con) is None


def test_evidence_documents_are_stored_zstd_compressed_and_read_back_whole(tmp_path):
    # a saved scan writes every document it made anew: zstd keeps a city scan's in a ninth of
    # the default string compression's file (store.EVIDENCE_SQL); they must read back as written
    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    docs = {
        f"{i:064x}": '{"rows":['
        + ",".join(f'{{"order":"O{i}-{k}","gmv":{k}}}' for k in range(300))
        + '],"note":"多买多送 \\u0000 \\"q\\""}'
        for i in range(2_000)
    }
    _save(con, "scan-1", [f"l{i}" for i in range(len(docs))], T0, evidence=docs)
    con.execute("CHECKPOINT")
    con.close()
    con = duckdb.connect(str(path), read_only=True)
    used = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('evidence') "
            "WHERE column_name = 'document' AND segment_type = 'VARCHAR'"
        ).fetchall()
    }
    assert used == {"ZSTD"}
    got = dict(con.execute("SELECT evidence_sha256, document FROM evidence").fetchall())
    assert got == docs


def _old_evidence_table(path, docs: dict[str, str]) -> None:
    """A store as releases before the zstd documents made it: evidence with the default
    compression, holding ``docs``."""
    con = store.connect(path)
    con.execute("DROP TABLE evidence")
    con.execute(
        "CREATE TABLE evidence (evidence_sha256 VARCHAR NOT NULL, document VARCHAR NOT NULL)"
    )
    for h, d in docs.items():
        con.execute("INSERT INTO evidence VALUES (?, ?)", [h, d])
    con.close()


def _evidence_ddl(path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT sql FROM duckdb_tables() WHERE table_name = 'evidence'"
        ).fetchone()[0]
    finally:
        con.close()


def test_an_older_store_without_documents_takes_the_compressed_table(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_evidence_table(path, {})
    assert "ZSTD" not in _evidence_ddl(path).upper()
    store.connect(path, read_only=True).close()  # a reader changes nothing
    assert "ZSTD" not in _evidence_ddl(path).upper()
    store.connect(path).close()
    assert "USING COMPRESSION ZSTD" in _evidence_ddl(path).upper()


def test_an_older_store_with_documents_keeps_its_table_and_them(tmp_path):
    path = tmp_path / "old.duckdb"
    docs = {"b" * 64: '{"doc":2}', "c" * 64: '{"doc":3}'}
    _old_evidence_table(path, docs)
    con = store.connect(path)
    assert dict(con.execute("SELECT evidence_sha256, document FROM evidence").fetchall()) == docs
    con.close()
    assert "ZSTD" not in _evidence_ddl(path).upper()


def _old_format_store(path, docs: dict[str, str]) -> None:
    """A store file in DuckDB's storage format before 1.2 (as a DuckDB 1.1 client wrote it,
    or one attached with that ``STORAGE_VERSION``): its evidence table without compression,
    holding ``docs``. Such a file refuses a compression named in a table's DDL."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS old (STORAGE_VERSION 'v1.1.0')")
    con.execute("USE old")
    con.execute(store.PLAIN_EVIDENCE_SQL)
    for h, d in docs.items():
        con.execute("INSERT INTO evidence VALUES (?, ?)", [h, d])
    con.close()


@pytest.mark.parametrize("docs", [{}, {"d" * 64: '{"doc":4}'}], ids=["empty", "documents"])
def test_a_store_of_an_older_file_format_opens_for_writing_and_keeps_its_table(tmp_path, docs):
    # (the compressed DDL failed there even for a table that exists, and an empty table was
    # dropped before the failing CREATE: the store was left without one)
    path = tmp_path / "v11.duckdb"
    _old_format_store(path, docs)
    for _ in range(2):  # and again: the first open left it as it can be opened
        con = store.connect(path)
        con.execute("INSERT INTO evidence VALUES (?, ?)", ["e" * 64, '{"new":1}'])
        got = dict(con.execute("SELECT evidence_sha256, document FROM evidence").fetchall())
        assert got == {**docs, "e" * 64: '{"new":1}'}
        con.execute("DELETE FROM evidence WHERE evidence_sha256 = ?", ["e" * 64])
        con.close()
    assert "ZSTD" not in _evidence_ddl(path).upper()


def test_the_empty_table_is_replaced_in_one_transaction(tmp_path, monkeypatch):
    # the new table failing to be made (a crash between the two statements) leaves the old one
    path = tmp_path / "old.duckdb"
    _old_evidence_table(path, {})
    monkeypatch.setattr(store, "EVIDENCE_SQL", "CREATE TABLE evidence (x NO_SUCH_TYPE)")
    con = duckdb.connect(str(path))
    with pytest.raises(duckdb.Error):
        store.initialise(con)
    con.close()
    assert "CREATE TABLE evidence(evidence_sha256 VARCHAR" in _evidence_ddl(path)


def test_inside_a_callers_transaction_the_replacement_is_the_callers(tmp_path):
    # no BEGIN of its own there (it would abort the caller's transaction): the caller's
    # rollback takes the replacement back with the rest
    path = tmp_path / "old.duckdb"
    _old_evidence_table(path, {})
    con = duckdb.connect(str(path))
    con.execute("BEGIN TRANSACTION")
    store.initialise(con)
    assert (
        "ZSTD"
        in con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'evidence'")
        .fetchone()[0]
        .upper()
    )
    con.execute("ROLLBACK")
    con.close()
    assert "ZSTD" not in _evidence_ddl(path).upper()


@pytest.mark.parametrize("suffix", ["csv", "parquet", "json"])
def test_a_data_file_given_as_the_store_is_refused_and_left_as_it_was(tmp_path, suffix):
    # DuckDB opens an existing data file as an in-memory database with a view of it: an
    # ingest "stored" its rows there and lost them at close, saying it had stored them
    data = tmp_path / f"orders.{suffix}"
    con = duckdb.connect()
    fmt = {"csv": "csv", "parquet": "parquet", "json": "json"}[suffix]
    con.execute(f"COPY (SELECT 1 AS a, 'x' AS b) TO '{data}' (FORMAT {fmt})")
    con.close()
    before = data.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="is not a PromoGuard store"):
            store.connect(data, read_only=read_only)
    assert data.read_bytes() == before
    from promoguard.ingest import ingest_dir

    example = Path(__file__).resolve().parents[1] / "src" / "promoguard" / "examples" / "messy"
    with pytest.raises(StoreError, match="is not a PromoGuard store"):
        ingest_dir(example, data)
    assert data.read_bytes() == before
