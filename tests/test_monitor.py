"""Scan-to-scan changes (new, still, resolved) and the watchlist's alerts first, on findings
written by hand (independent of any check)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from promoguard import monitor, store
from promoguard.errors import PromoGuardError

T0 = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)


@pytest.fixture
def con():
    c = store.connect(":memory:")
    c.execute("INSERT INTO listings VALUES ('L1','M1','P1','t','food','CNY',NULL)")
    c.execute("INSERT INTO listings VALUES ('L2','M2','P1','t','food','CNY',NULL)")
    c.execute(
        "INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price, "
        "paid_at, status) VALUES ('O1','L2','M2','B1',1,1.00,?, 'shipped')",
        [T0],
    )
    for i, (scan, hours) in enumerate((("s1", 0), ("s2", 24), ("other", 30))):
        pack = "eu" if scan == "other" else "cn"
        c.execute(
            "INSERT INTO scans (scan_id, pack, engine, checks, parameters, started_at, finished_at, "
            "findings) VALUES (?, ?, 'duckdb', '', '{}', ?, ?, 0)",
            [scan, pack, T0 + dt.timedelta(hours=hours), T0 + dt.timedelta(hours=hours, minutes=i)],
        )
    return c


def _finding(
    c, scan, fid, code="PRICE001", etype="listing", entity="L1", merchant="M1", sev="high"
):
    c.execute(
        "INSERT INTO findings VALUES (?, ?, ?, 'cn', ?, ?, ?, 'P1', ?, '{}', '{}', '', 'x', ?)",
        [fid, scan, code, etype, entity, merchant, sev, T0],
    )


def test_changes_between_two_scans_of_a_pack(con):
    _finding(con, "s1", "a")
    _finding(con, "s1", "b", entity="L2", merchant="M2")
    _finding(con, "s2", "b", entity="L2", merchant="M2")
    _finding(con, "s2", "c", code="SHIP001", etype="order", entity="O1", merchant="M2")
    _finding(con, "other", "z")
    assert monitor.previous_scan(con, "s2") == "s1"  # not the later scan of another pack
    assert monitor.previous_scan(con, "s1") is None
    # nor the scan of another pack between the two
    con.execute(
        "INSERT INTO scans (scan_id, pack, engine, checks, parameters, started_at, finished_at, "
        "findings) VALUES ('eu-mid', 'eu', 'duckdb', '', '{}', ?, ?, 0)",
        [T0 + dt.timedelta(hours=12), T0 + dt.timedelta(hours=12)],
    )
    assert monitor.previous_scan(con, "s2") == "s1"
    assert monitor.previous_scan(con, "other") == "eu-mid"
    d = monitor.delta(con, "s2")
    assert dict(zip(d.finding_id, d.change, strict=True)) == {
        "a": "resolved",
        "b": "still",
        "c": "new",
    }
    assert monitor.summary(d) == {
        "new": 1,
        "still": 1,
        "resolved": 1,
        "new_watched": 0,
        "new_watched_high": 0,
    }
    # the first scan of a pack: everything is new
    assert set(monitor.delta(con, "s1").change) == {"new"}


def test_watched_merchants_and_listings_come_first(con, tmp_path):
    _finding(con, "s2", "m-medium", entity="L1", sev="medium")
    _finding(con, "s2", "m-high", code="PRICE002", entity="L1", sev="high")
    _finding(
        con,
        "s2",
        "order-on-watched-listing",
        code="SHIP001",
        etype="order",
        entity="O1",
        merchant="M2",
        sev="medium",
    )
    _finding(
        con, "s2", "unwatched-critical", code="PRICE003", entity="L9", merchant="M9", sev="critical"
    )
    # a watched finding the previous scan had and this one has not: resolved, no new alert
    _finding(con, "s1", "gone-watched", code="PRICE004", entity="L1", sev="high")
    path = tmp_path / "watch.csv"
    path.write_text("entity_type,entity_id,note\nmerchant,M1,key shop\nlisting,L2,\n")
    watch = monitor.read_watchlist(path)
    d = monitor.delta(con, "s2", watch=watch)
    assert list(d.finding_id) == [
        "m-high",
        "m-medium",
        "order-on-watched-listing",
        "unwatched-critical",
        "gone-watched",
    ]
    assert list(d.watched) == [True, True, True, False, True]
    assert monitor.summary(d) == {
        "new": 4,
        "still": 0,
        "resolved": 1,
        "new_watched": 3,
        "new_watched_high": 1,
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("id\nM1\n", "a watchlist needs the columns entity_type,entity_id"),
        (
            "entity_type,entity_id\nbuyer,B1\n",
            "line 2: entity_type must be merchant or listing, with an entity_id",
        ),
        (
            "entity_type,entity_id\nmerchant,M1\nbuyer,B1\n",
            "line 3: entity_type must be merchant or listing, with an entity_id",
        ),
        (
            "entity_type,entity_id\nmerchant,\n",
            "line 2: entity_type must be merchant or listing, with an entity_id",
        ),
    ],
)
def test_a_malformed_watchlist_is_one_clear_error(tmp_path, text, error):
    path = tmp_path / "w.csv"
    path.write_text(text)
    with pytest.raises(PromoGuardError, match=f"^{re.escape(f'{path}: {error}')}$"):
        monitor.read_watchlist(path)


def test_a_missing_watchlist_is_named(tmp_path):
    with pytest.raises(PromoGuardError, match="^no watchlist at .*nope.csv$"):
        monitor.read_watchlist(tmp_path / "nope.csv")


def test_the_stores_own_watchlist_table_is_read_and_checked(con):
    assert monitor.store_watchlist(con) is None  # no table: no watchlist
    con.execute("CREATE TABLE watchlist (entity_type VARCHAR, entity_id VARCHAR, note VARCHAR)")
    con.execute(
        "INSERT INTO watchlist VALUES ('Merchant', ' M1 ', 'key shop'), ('listing', 'L2', NULL)"
    )
    watch = monitor.store_watchlist(con)
    assert watch.merchants == {"M1"} and watch.listings == {"L2"}
    _finding(con, "s2", "unwatched", code="PRICE003", entity="L9", merchant="M9", sev="critical")
    _finding(con, "s2", "watched", entity="L1", sev="low")
    assert list(monitor.delta(con, "s2", watch=watch).finding_id) == ["watched", "unwatched"]
    con.execute("INSERT INTO watchlist VALUES ('buyer', 'B1', NULL)")
    with pytest.raises(PromoGuardError, match="watchlist table"):
        monitor.store_watchlist(con)


def test_a_partial_scan_resolves_only_what_it_checked(con):
    """A scan that ran PRICE001 only says nothing about the SHIP001 findings before it."""
    con.execute("UPDATE scans SET checks = 'PRICE001' WHERE scan_id = 's2'")
    _finding(con, "s1", "price-gone")
    _finding(con, "s1", "ship-not-run", code="SHIP001", etype="order", entity="O1", merchant="M2")
    d = monitor.delta(con, "s2", previous="s1")
    assert dict(zip(d.finding_id, d.change, strict=True)) == {"price-gone": "resolved"}
