"""Keys, the store, references, atomicity and the folder rules."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest

from promoguard import store
from promoguard.errors import IngestError
from promoguard.ingest import ingest_dir, load
from promoguard.ingest.validate import StageQuery

from ._helpers import PRICE_HEADER, one, quarantine, write

PLATFORMS = "platform_id,name\nP1,Tmall\nP2,JD\n"
MERCHANTS = "merchant_id,platform_id,name\nM1,P1,a\nM2,P9,b\n"


def test_duplicate_key_keeps_first_row(ingest, con):
    report = ingest(
        {"platforms.csv": "platform_id,name\nP1,first\nP2,other\nP1,second\n P1 ,third\n"}
    )
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (4, 2, 2)
    assert one(con, "SELECT name FROM platforms WHERE platform_id = 'P1'") == "first"
    reasons = quarantine(con)
    assert [(r[1], r[2]) for r in reasons] == [(4, "platform_id"), (5, "platform_id")]
    assert all("duplicate key (platform_id): first seen at line 2" in r[3] for r in reasons)
    # the refused rows are kept in quarantine with their values, not dropped
    raws = con.execute("SELECT raw FROM quarantine ORDER BY line_number").fetchall()
    assert [json.loads(r[0])["name"] for r in raws] == ["second", "third"]


def test_null_key_parts_compare_equal(ingest, con):
    report = ingest(
        {
            "price_observations.csv": f"{PRICE_HEADER}\n"
            "L1,2026-11-11T00:00:00Z,1,,,,\n"
            "L1,2026-11-11T08:00:00+08:00,2,,,,\n"
        }
    )
    assert report.tables["price_observations"].quarantined == 1
    assert one(con, "SELECT price::VARCHAR FROM price_observations") == "1.00"


def test_repeated_keys_with_a_null_part_all_point_at_the_first_good_line(ingest, con):
    # The first row of a repeated key is found by joining the repeated keys back to the rows:
    # NULL channels must meet there, and a refused row (line 2) is never the first.
    report = ingest(
        {
            "price_observations.csv": f"{PRICE_HEADER}\n"
            "L1,2026-11-11T00:00:00Z,x,,,,\n"  # line 2: bad price, not a key holder
            "L1,2026-11-11T00:00:00Z,1,,,,\n"  # line 3: first good row of (L1, t, NULL)
            "L2,2026-11-11T00:00:00Z,5,,,,live\n"  # line 4
            "L1,2026-11-11T08:00:00+08:00,2,,,,\n"  # line 5: repeat
            "L2,2026-11-11T00:00:00Z,6,,,,live\n"  # line 6: repeat of line 4
            "L1,2026-11-11T00:00:00Z,3,,,, \n"  # line 7: repeat (blank channel is NULL)
        }
    )
    counts = report.tables["price_observations"]
    assert (counts.read, counts.stored, counts.quarantined) == (6, 2, 4)
    got = [(q[1], q[2], q[3]) for q in quarantine(con)]
    first = "duplicate key (listing_id, observed_at, channel): first seen at line"
    assert got[0][:2] == (2, "price")
    assert got[1:] == [
        (5, "listing_id", f"{first} 3"),
        (6, "listing_id", f"{first} 4"),
        (7, "listing_id", f"{first} 3"),
    ]
    assert one(con, "SELECT sum(price)::VARCHAR FROM price_observations") == "6.00"


def test_ingest_twice_is_idempotent(tmp_path, con):
    folder = tmp_path / "in"
    write(folder, "platforms.csv", PLATFORMS)
    write(folder, "merchants.csv", MERCHANTS + "M1,P1,dup\n")
    first = ingest_dir(folder, con)
    before = con.execute("SELECT * FROM merchants ORDER BY ALL").fetchall()
    second = ingest_dir(folder, con)
    assert con.execute("SELECT * FROM merchants ORDER BY ALL").fetchall() == before
    for report in (first, second):
        counts = report.tables["merchants"]
        assert (counts.read, counts.stored, counts.quarantined) == (3, 2, 1)
    assert second.tables["merchants"].unchanged == 2
    assert second.tables["platforms"].unchanged == 2
    assert first.tables["merchants"].unchanged == 0


def test_different_row_with_stored_key_is_quarantined(tmp_path, con):
    write(tmp_path / "a", "platforms.csv", PLATFORMS)
    write(tmp_path / "b", "platforms.csv", "platform_id,name\nP1,Tmall\nP2,Jingdong\nP3,new\n")
    # a value where the stored row has none (NULL) is a difference too, not "unchanged"
    write(tmp_path / "a", "merchants.csv", "merchant_id,platform_id,name\nM1,P1,a\n")
    write(
        tmp_path / "b",
        "merchants.csv",
        "merchant_id,platform_id,name,registered_at\nM1,P1,a,2026-01-01\n",
    )
    ingest_dir(tmp_path / "a", con)
    report = ingest_dir(tmp_path / "b", con)
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.unchanged, counts.quarantined) == (3, 2, 1, 1)
    assert one(con, "SELECT name FROM platforms WHERE platform_id = 'P2'") == "JD"
    counts = report.tables["merchants"]
    assert (counts.read, counts.stored, counts.unchanged, counts.quarantined) == (1, 0, 0, 1)
    assert one(con, "SELECT registered_at FROM merchants WHERE merchant_id = 'M1'") is None
    got = [(q[0], q[1], q[2]) for q in quarantine(con)]
    assert got == [("merchants.csv", 2, "merchant_id"), ("platforms.csv", 3, "platform_id")]
    assert all("already stored with different values" in q[3] for q in quarantine(con))
    # the refused rows keep the values they came with
    raws = con.execute("SELECT raw FROM quarantine ORDER BY source_file").fetchall()
    merchant, platform = (json.loads(r[0]) for r in raws)
    assert merchant["merchant_id"] == "M1" and merchant["registered_at"].startswith("2026-01-01")
    assert platform == {"platform_id": "P2", "name": "Jingdong"}


def test_orphans_are_stored_and_counted(ingest, con):
    report = ingest({"platforms.csv": PLATFORMS, "merchants.csv": MERCHANTS})
    merchants = report.tables["merchants"]
    assert (merchants.stored, merchants.orphans) == (2, 1)
    assert one(con, "SELECT count(*) FROM merchants") == 2


def test_references_resolve_within_the_same_ingest_whatever_the_file_order(ingest, con):
    # merchants.csv sorts before platforms.csv, which it references: read in name order, M9's
    # platform would not be stored yet when its orphans are counted. Load order fixes it.
    report = ingest(
        {
            "merchants.csv": "merchant_id,platform_id,name\nM9,P1,a\n",
            "platforms.csv": PLATFORMS,
            "shipments.csv": "order_id,carrier,tracking_no\nO1,SF,T1\nO2,SF,T2\n",
            "orders.csv": "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status\n"
            "O1,L1,M1,B1,1,1,2026-11-11T00:00:00Z,paid\n",
        }
    )
    assert report.tables["merchants"].orphans == 0  # P1 is in platforms.csv
    assert report.tables["shipments"].orphans == 1  # O2 has no order
    assert report.tables["orders"].orphans == 1  # L1 and M1 are absent: one row, counted once


def test_null_reference_is_not_an_orphan(ingest, con):
    # R2's listing and R3's order are stored, and R2's order_id is empty: only R1 (whose
    # listing L1 is missing) is an orphan. A review alone would be an orphan by its listing
    # whatever its empty order_id did, so the count could not tell.
    report = ingest(
        {
            "listings.csv": "listing_id,merchant_id,platform_id,title,category,currency\n"
            "L2,M1,P1,t,c,CNY\n",
            "orders.csv": "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status\n"
            "O1,L2,M1,B1,1,1,2026-11-11T00:00:00Z,paid\n",
            "reviews.csv": "review_id,listing_id,buyer_id,order_id,rating,created_at\n"
            "R1,L1,B1,,5,2026-11-11\nR2,L2,B1,,5,2026-11-11\nR3,L2,B1,O1,5,2026-11-11\n",
        }
    )
    assert report.tables["reviews"].stored == 3
    assert report.tables["reviews"].orphans == 1  # L1 is missing; the empty order_id is not


def test_missing_required_column_refuses_everything(tmp_path):
    path = tmp_path / "store.duckdb"
    folder = tmp_path / "in"
    write(folder, "platforms.csv", PLATFORMS)
    write(folder, "merchants.csv", MERCHANTS)
    # orders load after platforms and merchants: this fails midway through the ingest.
    write(folder, "orders.csv", "order_id,listing_id\nO1,L1\n")
    with pytest.raises(IngestError, match="orders.csv: missing required column merchant_id"):
        ingest_dir(folder, path)
    with store.open_store(path, read_only=True) as con:
        assert store.table_counts(con) == {name: 0 for name in store.table_counts(con)}
        assert one(con, "SELECT count(*) FROM quarantine") == 0
        assert one(con, "SELECT count(*) FROM ingest_log") == 0


def test_failure_midway_leaves_a_populated_store_exactly_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    write(tmp_path / "a", "platforms.csv", PLATFORMS)
    ingest_dir(tmp_path / "a", path)
    write(tmp_path / "b", "platforms.csv", "platform_id,name\nP3,new\n")
    write(tmp_path / "b", "merchants.csv", MERCHANTS)
    write(
        tmp_path / "b",
        "listings.csv",
        "listing_id,merchant_id,platform_id,title,category,currency\nL1,M1,P1,t,c,CNY\n",
    )
    real = load._count_orphans
    calls = []

    def explode_on_second_file(con, table, stage):
        calls.append(table.name)
        if len(calls) == 2:  # after platforms and merchants were inserted and quarantined
            raise RuntimeError("disk on fire")
        return real(con, table, stage)

    monkeypatch.setattr(load, "_count_orphans", explode_on_second_file)
    with store.open_store(path, read_only=True) as con:
        before = {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("platforms", "merchants", "quarantine", "ingest_log")
        }
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_dir(tmp_path / "b", path)
    assert calls == ["platforms", "merchants"]
    with store.open_store(path, read_only=True) as con:
        after = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in before}
    assert after == before


def test_extra_columns_are_ignored_and_reported(ingest, con):
    report = ingest({"platforms.csv": "platform_id,Name ,internal_note\nP1,Tmall,x\n"})
    assert report.files[0].extra_columns == ["internal_note"]
    assert one(con, "SELECT name FROM platforms") == "Tmall"  # header matched trimmed, any case


def test_unknown_files_are_listed_as_ignored(ingest):
    report = ingest({"platforms.csv": PLATFORMS, "notes.txt": "hi", "orders_old.csv": "x\n"})
    assert report.ignored == ["notes.txt", "orders_old.csv"]
    assert list(report.tables) == ["platforms"]


def test_table_file_names_are_read_in_any_case(ingest, con):
    # a Windows export names its files ORDERS.CSV: they were listed as ignored, their rows
    # never read, and the listings that name them reported as orphans
    files = {"PLATFORMS.CSV": PLATFORMS, "Merchants.Csv.GZ": gzip.compress(MERCHANTS.encode())}
    report = ingest({**files, "notes.TXT": "hi"})
    assert report.ignored == ["notes.TXT"]
    assert sorted(report.tables) == ["merchants", "platforms"]
    assert one(con, "SELECT count(*) FROM platforms") == report.tables["platforms"].stored == 2
    assert one(con, "SELECT count(*) FROM merchants") == 2


def test_folder_without_a_table_is_an_error(tmp_path, con):
    write(tmp_path / "in", "notes.txt", "hi")
    with pytest.raises(IngestError, match="no canonical table file"):
        ingest_dir(tmp_path / "in", con)


def test_missing_folder_and_bad_options_are_errors(tmp_path, con):
    with pytest.raises(IngestError, match="no such folder"):
        ingest_dir(tmp_path / "nope", con)
    write(tmp_path / "in", "platforms.csv", PLATFORMS)
    with pytest.raises(IngestError, match="unknown time zone"):
        ingest_dir(tmp_path / "in", con, tz="Mars/Olympus")
    with pytest.raises(IngestError, match="unknown encoding"):
        ingest_dir(tmp_path / "in", con, encoding="klingon-8")


def test_ragged_lines_are_quarantined_with_their_line_numbers(ingest, con):
    content = (
        f"{PRICE_HEADER}\n"
        "L1,2026-11-11T00:00:00Z,1,,,,a\n"  # line 2
        "L2,2026-11-11T00:00:00Z,1,,,,a,extra\n"  # line 3: too many columns
        "L3,2026-11-11T00:00:00Z\n"  # line 4: too few
        "L4,2026-11-11T00:00:00Z,x,,,,a\n"  # line 5: bad price
        "L5,2026-11-11T00:00:00Z,1,,,,a\n"  # line 6
        "L1,2026-11-11T00:00:00Z,1,,,,a\n"  # line 7: duplicate of line 2
    )
    report = ingest({"price_observations.csv": content})
    counts = report.tables["price_observations"]
    assert (counts.read, counts.stored, counts.quarantined) == (6, 2, 4)
    got = [(q[1], q[2]) for q in quarantine(con)]
    assert got == [(3, None), (4, "price"), (5, "price"), (7, "listing_id")]
    # a row refused for a value (read line by line here) keeps its values as written
    raw = one(con, "SELECT raw FROM quarantine WHERE line_number = 5")
    assert json.loads(raw)["listing_id"] == "L4" and json.loads(raw)["price"] == "x"


def test_quoted_multiline_field_is_one_row(ingest, con):
    report = ingest({"platforms.csv": 'platform_id,name\nP1,"two\nlines"\nP2,x\n'})
    assert report.tables["platforms"].stored == 2
    assert one(con, "SELECT name FROM platforms WHERE platform_id = 'P1'") == "two\nlines"


def test_huge_field_is_stored(ingest, con):
    big = "长" * 3_000_000  # 9 MB of UTF-8 in one cell
    report = ingest({"platforms.csv": f"platform_id,name\nP1,{big}\nP2,small\n"})
    assert report.tables["platforms"].stored == 2
    assert one(con, "SELECT length(name) FROM platforms WHERE platform_id = 'P1'") == 3_000_000


def test_over_long_line_is_quarantined_with_a_reason(ingest, con):
    big = "x" * (17 * 1024 * 1024)
    report = ingest({"platforms.csv": f"platform_id,name\nP1,{big}\nP2,small\n"})
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (2, 1, 1)
    [(_, line, _, why)] = quarantine(con)
    assert line == 2 and "line size" in why.lower()
    assert one(con, "SELECT max(length(raw)) FROM quarantine") <= 65536


def test_csv_the_strict_parser_gives_up_on_keeps_its_good_lines(ingest, con):
    # A lone carriage return in a LF file stops DuckDB's strict parser for the whole file. The
    # file is read again line by line (a lone CR ends a line, as in DuckDB's line reader): the
    # short lines are quarantined with their own text, the good line is stored.
    good = "L9,2026-11-11T00:00:00Z,1,,,,a"
    report = ingest({"price_observations.csv": f"{PRICE_HEADER}\nL1 short\rL2 short\n{good}\n"})
    counts = report.tables["price_observations"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 1, 2)
    rows = con.execute("SELECT line_number, reason, raw FROM quarantine ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == [2, 3]
    assert all(r[1].startswith("unreadable line: missing columns") for r in rows)
    assert [r[2] for r in rows] == ["L1 short", "L2 short"]
    assert one(con, "SELECT listing_id FROM price_observations") == "L9"


def test_an_error_in_our_own_sql_is_not_blamed_on_the_file(ingest, con, monkeypatch):
    # Only the CSV reader's refusal sends a file down the line-by-line path; a bug of ours must
    # fail the ingest loudly rather than quarantine every line of a good file.
    def broken(table, source, stage, rejects):
        return StageQuery(f"CREATE TEMP TABLE {stage} AS SELECT no_such_column")

    monkeypatch.setattr(load, "stage_query", broken)
    with pytest.raises(IngestError, match="no_such_column"):
        ingest({"platforms.csv": PLATFORMS})
    assert one(con, "SELECT count(*) FROM quarantine") == 0


def test_untrusted_text_is_data_not_sql(ingest, con):
    evil = "x'); DROP TABLE platforms; --"
    ingest(
        {
            "platforms.csv": f'platform_id,name\nP1,"{evil}"\n',
            "merchants.csv": f'merchant_id,platform_id,name\n"{evil}",P1,a\n',
        }
    )
    assert one(con, "SELECT name FROM platforms") == evil
    assert one(con, "SELECT merchant_id FROM merchants") == evil


def test_ingest_log_has_one_row_per_file(ingest, con):
    report = ingest({"platforms.csv": PLATFORMS, "merchants.csv": MERCHANTS})
    rows = con.execute(
        "SELECT table_name, source_file, rows_read, rows_stored, rows_quarantined, rows_orphaned "
        "FROM ingest_log WHERE ingest_id = ? ORDER BY table_name",
        [report.ingest_id],
    ).fetchall()
    assert rows == [
        ("merchants", "merchants.csv", 2, 2, 0, 1),
        ("platforms", "platforms.csv", 2, 2, 0, 0),
    ]


def test_store_path_is_accepted(tmp_path):
    write(tmp_path / "in", "platforms.csv", PLATFORMS)
    ingest_dir(tmp_path / "in", tmp_path / "s.duckdb")
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    assert con.execute("SELECT count(*) FROM platforms").fetchone()[0] == 2


def test_two_files_for_one_table_are_both_read(ingest, con):
    report = ingest(
        {
            "platforms.csv": "platform_id,name\nP1,a\nP2,b\n",
            "platforms.jsonl": '{"platform_id": "P2", "name": "b"}\n'
            '{"platform_id": "P3", "name": "c"}\n{"platform_id": "P1", "name": "changed"}\n',
        }
    )
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.unchanged, counts.quarantined) == (5, 4, 1, 1)
    assert one(con, "SELECT count(*) FROM platforms") == 3
    assert [f.file for f in report.files] == ["platforms.csv", "platforms.jsonl"]
