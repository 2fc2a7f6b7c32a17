"""benchmarks/incremental.py's split of a season into a base, one day, and the days after it.

The increment the benchmark times must be one day: every row stamped on that day and none from
another, and nothing of the season lost (base + day + later = the season, table by table).
``--tail`` keeps the older increment (every row from the day on) for comparison.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from tests.support import load_benchmark

bench = load_benchmark("incremental.py", "incremental_bench")

#: the stamp that puts a row on a day (parcels and redemptions go with their order's payment)
STAMP = {
    "orders": "paid_at",
    "tracking_events": "event_at",
    "price_observations": "observed_at",
    "reviews": "created_at",
    "texts": "created_at",
    "prize_awards": "awarded_at",
}


def _count(path: Path, table: str) -> int:
    if not path.exists():
        return 0
    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]


def _bounds(path: Path, column: str) -> tuple:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(
        f"SELECT min({column}), max({column}) FROM read_parquet('{path}')"
    ).fetchone()


@pytest.mark.parametrize("tail", [False, True], ids=["one-day", "tail"])
def test_split_is_one_day_and_loses_nothing(season_store, tmp_path, tail):
    store, batch = tmp_path / "base.duckdb", tmp_path / "day"
    split = bench.make_base(str(season_store), str(store), str(batch), tail=tail)
    start = dt.datetime.fromisoformat(split["day"])
    src = duckdb.connect(str(season_store), read_only=True)
    base = duckdb.connect(str(store), read_only=True)
    later_rows = 0
    for table in bench.INCREMENT:
        day_n = _count(batch / f"{table}.parquet", table)
        later_n = _count(tmp_path / "later" / f"{table}.parquet", table)
        assert day_n == split["rows"][table] and later_n == split["later"].get(table, 0)
        whole = src.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        kept = base.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert kept + day_n + later_n == whole, table
        later_rows += later_n
        if table in STAMP and day_n:
            low, high = _bounds(batch / f"{table}.parquet", STAMP[table])
            assert low >= start, table
            if not tail:
                assert high < start + dt.timedelta(days=1), table
        if table in STAMP and kept:
            latest = base.execute(f"SELECT max({STAMP[table]}) FROM {table}").fetchone()[0]
            assert latest < start, table
    assert split["rows"]["orders"] > 0 and split["rows"]["tracking_events"] > 0
    if tail:
        assert later_rows == 0 and split["end"] is None
    else:
        # the small season's scans and reviews go on for days after its last payment
        assert later_rows > 0


def test_split_on_a_named_day_in_beijing(season_store, tmp_path):
    store, batch = tmp_path / "base.duckdb", tmp_path / "day"
    split = bench.make_base(
        str(season_store), str(store), str(batch), day="2026-11-11", tz="Asia/Shanghai"
    )
    assert split["day"].startswith("2026-11-11 00:00:00+08") or split["day"].startswith(
        "2026-11-11T00:00:00+08"
    )
    low, high = _bounds(batch / "orders.parquet", "paid_at")
    assert low >= dt.datetime(2026, 11, 10, 16, tzinfo=dt.UTC)
    assert high < dt.datetime(2026, 11, 11, 16, tzinfo=dt.UTC)
    # the orders paid after 11-11 are later rows, with their parcels
    assert split["later"]["orders"] > 0 and split["later"]["shipments"] > 0


def test_reach_counts_what_the_day_reaches_past_the_marks(tmp_path):
    """The day's reach, on a store built by hand: the rows past the scan's marks are the day's,
    and each share is counted over the season (cancelled orders aside)."""
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (buyer_id VARCHAR, merchant_id VARCHAR, status VARCHAR)")
    con.execute("CREATE TABLE reviews (listing_id VARCHAR)")
    con.execute("CREATE TABLE scan_marks (scan_id VARCHAR, table_name VARCHAR, row_count BIGINT)")
    # before the marks: shop A has b1 twice (a repeat pair) and b2 once; shop B has b3 twice
    # (a repeat pair) and b1 once; shop C has b4 once, and a cancelled order of b5
    before = [
        ("b1", "A", "paid"), ("b1", "A", "paid"), ("b2", "A", "paid"),
        ("b3", "B", "paid"), ("b3", "B", "paid"), ("b1", "B", "paid"),
        ("b4", "C", "paid"), ("b5", "C", "cancelled"),
    ]  # fmt: skip
    con.executemany("INSERT INTO orders VALUES (?, ?, ?)", before)
    con.executemany("INSERT INTO reviews VALUES (?)", [("L1",), ("L1",), ("L2",), ("L3",)])
    con.execute("INSERT INTO scan_marks VALUES ('S', 'orders', 8), ('S', 'reviews', 4)")
    # the day: b2 orders again at A (A's pair b2 becomes a repeat), a cancelled order at C
    # (reaches nothing), and one review on L1
    con.executemany(
        "INSERT INTO orders VALUES (?, ?, ?)", [("b2", "A", "paid"), ("b6", "C", "cancelled")]
    )
    con.execute("INSERT INTO reviews VALUES ('L1')")
    # another scan's marks are not read
    con.execute("INSERT INTO scan_marks VALUES ('T', 'orders', 10), ('T', 'reviews', 5)")
    con.close()
    got = bench.reach(str(path), "S")
    # 8 non-cancelled orders; the day's 1 is at A (1 of 3 shops), which holds 4 of them; A's
    # repeat pairs (b1, b2) are 2 of the 3 (with B's b3)
    assert got["orders"] == {
        "day": round(1 / 8, 4),
        "shops": round(1 / 3, 4),
        "orders_at_shops": round(4 / 8, 4),
        "repeat_pairs_at_shops": round(2 / 3, 4),
    }
    # 5 reviews; the day's 1 is on L1 (1 of 3 listings), which holds 3 of them
    assert got["reviews"] == {
        "day": round(1 / 5, 4),
        "listings": round(1 / 3, 4),
        "reviews_on_listings": round(3 / 5, 4),
    }


def test_the_saved_increment_finds_what_the_unsaved_one_does_and_leaves_the_base(
    season_store, tmp_path
):
    # --saved times the daily loop's saved scan --since on a copy of the base: the same
    # findings as the unsaved increment, written into the copy, the base left with its one scan
    import shutil

    store, batch = tmp_path / "base.duckdb", tmp_path / "day"
    bench.make_base(str(season_store), str(store), str(batch))
    scan = bench.scan_full(str(store), True)
    bench.ingest_day(str(batch), str(store))
    unsaved = bench.scan_increment(str(store), scan["scan_id"])
    copy = tmp_path / "saved.duckdb"
    shutil.copyfile(store, copy)
    saved = bench.scan_increment_saved(str(copy), scan["scan_id"])
    assert saved["digest"] == unsaved["digest"] and saved["findings"] == unsaved["findings"] > 0
    assert saved["save_s"] is not None and saved["save_s"] >= 0
    with duckdb.connect(str(copy), read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT scan_id FROM scans").fetchall()}
        assert ids == {scan["scan_id"], saved["scan_id"]}
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT scan_id FROM scans").fetchall() == [(scan["scan_id"],)]
