"""The simulator's files: the model's columns, keys, references, determinism, offered prices."""

from __future__ import annotations

import filecmp
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from promoguard import model
from promoguard.evaluate import rule_codes
from promoguard.simulate import generate

SPEC_CODES = rule_codes()


def _con(folder: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for t in model.TABLES:
        types = {c.name: c.duckdb_type for c in t.columns}
        con.execute(
            f"CREATE VIEW {t.name} AS SELECT * FROM read_csv('{folder / (t.name + '.csv')}', "
            f"header=true, columns={types!r}, auto_detect=false)"
        )
    con.execute(f"CREATE VIEW truth AS SELECT * FROM read_csv('{folder / 'ground_truth.csv'}')")
    return con


@pytest.fixture(scope="module")
def con(small_season):
    return _con(small_season[0])


def test_every_table_has_exactly_the_model_columns(small_season):
    folder, _ = small_season
    for t in model.TABLES:
        header = (folder / f"{t.name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.replace('"', "").split(",") == t.column_names, t.name
    truth_header = (folder / "ground_truth.csv").read_text().splitlines()[0]
    assert truth_header.split(",") == list(model.GROUND_TRUTH_COLUMNS)


def test_keys_are_unique_and_required_columns_filled(con):
    for t in model.TABLES:
        key = ", ".join(t.key)
        dupes = con.execute(
            f"SELECT count(*) FROM (SELECT {key} FROM {t.name} GROUP BY ALL HAVING count(*) > 1)"
        )
        assert dupes.fetchone()[0] == 0, t.name
        for c in t.required:
            nulls = con.execute(f'SELECT count(*) FROM {t.name} WHERE "{c}" IS NULL').fetchone()[0]
            assert nulls == 0, f"{t.name}.{c}"


def test_references_resolve(con):
    for t in model.TABLES:
        for ref in t.references:
            on = " AND ".join(
                f"a.{c} = b.{d}" for c, d in zip(ref.columns, ref.target_columns, strict=True)
            )
            notnull = " AND ".join(f"a.{c} IS NOT NULL" for c in ref.columns)
            orphans = con.execute(
                f"SELECT count(*) FROM {t.name} a ANTI JOIN {ref.table} b ON {on} WHERE {notnull}"
            ).fetchone()[0]
            assert orphans == 0, f"{t.name}{ref.columns} -> {ref.table}"
    # consistency beyond the declared references
    assert (
        con.execute(
            "SELECT count(*) FROM orders o JOIN listings l USING (listing_id) WHERE o.merchant_id <> l.merchant_id"
        ).fetchone()[0]
        == 0
    )
    assert (
        con.execute(
            "SELECT count(*) FROM reviews r JOIN orders o USING (order_id) "
            "WHERE r.listing_id <> o.listing_id OR r.buyer_id <> o.buyer_id OR r.created_at < o.paid_at"
        ).fetchone()[0]
        == 0
    )
    assert (
        con.execute(
            "SELECT count(*) FROM reviews WHERE order_id NOT IN (SELECT order_id FROM orders)"
        ).fetchone()[0]
        == 0
    )


def test_orders_pay_the_offered_detail_price_of_their_beijing_day(con):
    bad = con.execute(
        """
        SELECT count(*) FROM orders o JOIN price_observations p
          ON p.listing_id = o.listing_id AND p.channel = 'detail'
         AND date_trunc('day', p.observed_at + INTERVAL 8 HOUR) = date_trunc('day', o.paid_at + INTERVAL 8 HOUR)
         AND p.price <> o.unit_price
        """
    ).fetchone()[0]
    assert bad == 0
    joined = con.execute(
        """SELECT count(DISTINCT o.order_id) FROM orders o JOIN price_observations p
           ON p.listing_id = o.listing_id AND p.channel = 'detail'
          AND date_trunc('day', p.observed_at + INTERVAL 8 HOUR) = date_trunc('day', o.paid_at + INTERVAL 8 HOUR)"""
    ).fetchone()[0]
    total = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    assert joined > 0.95 * total


def test_every_spec_code_has_at_least_15_labels(small_season):
    _, summary = small_season
    for code in SPEC_CODES:
        assert summary["truth"].get(code, 0) >= 15, (code, summary["truth"].get(code))


def test_small_scale_size(small_season):
    rows = small_season[1]["rows"]
    assert 25_000 <= rows["price_observations"] <= 60_000
    assert 12_000 <= rows["orders"] <= 40_000
    assert rows["platforms"] == 3 and rows["promotions"] == 6


def test_honest_reference_prices_equal_the_legal_prior_price(con):
    """Unlabelled listings showing a 原价-type reference on 11-11 show exactly the lowest
    transacted price of the 7 days before the promotion (else the last one before it); a cancelled
    order is not a transaction."""
    rows = con.execute(
        """
        WITH d11 AS (SELECT platform_id, starts_at FROM promotions WHERE promotion_id LIKE '%-D11-%'),
        lst AS (SELECT l.listing_id, d11.starts_at FROM listings l JOIN d11 USING (platform_id)),
        win AS (SELECT o.listing_id, min(o.unit_price) AS p FROM orders o JOIN lst USING (listing_id)
                WHERE o.paid_at >= lst.starts_at - INTERVAL 7 DAY AND o.paid_at < lst.starts_at
                  AND o.status <> 'cancelled' GROUP BY 1),
        last AS (SELECT o.listing_id, arg_min(o.unit_price, -epoch(o.paid_at)) AS p
                 FROM orders o JOIN lst USING (listing_id)
                 WHERE o.paid_at < lst.starts_at AND o.status <> 'cancelled' GROUP BY 1),
        prior AS (SELECT listing_id, coalesce(win.p, last.p) AS p FROM last LEFT JOIN win USING (listing_id)),
        shown AS (SELECT DISTINCT p.listing_id, p.reference_price FROM price_observations p
                  JOIN lst USING (listing_id)
                  WHERE p.observed_at >= lst.starts_at AND p.observed_at < lst.starts_at + INTERVAL 1 DAY
                    AND p.reference_price IS NOT NULL
                    AND p.reference_label NOT IN ('MSRP','厂商建议零售价','建议零售价','RRP'))
        SELECT s.listing_id, s.reference_price, prior.p, l.msrp,
               s.listing_id IN (SELECT entity_id FROM truth WHERE check_code = 'PRICE001') AS p001,
               s.listing_id IN (SELECT entity_id FROM truth WHERE check_code = 'PRICE005') AS p005
        FROM shown s LEFT JOIN prior USING (listing_id) JOIN listings l USING (listing_id)
        """
    ).fetchall()
    assert len(rows) > 100
    honest = 0
    for listing, ref, prior, msrp, p001, p005 in rows:
        if p001:
            assert ref > prior, listing
        elif p005:  # the MSRP shown as 原价, below the prior price: only PRICE005
            assert ref == msrp and ref <= prior, listing
        else:
            assert ref == prior, listing
            honest += 1
    assert honest > 0.6 * len(rows)


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((a, 5), (b, 5), (c, 6)):
        generate("small", seed, folder, shrink=0.3)
    names = sorted(p.name for p in a.iterdir())
    assert len(names) == len(model.TABLES) + 1
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert mismatch == [] and errors == []
    _, differ, _ = filecmp.cmpfiles(a, c, names, shallow=False)
    assert {"orders.csv", "price_observations.csv", "ground_truth.csv"} <= set(differ)


def test_parquet_types_and_determinism(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        generate("small", 2, folder, fmt="parquet", shrink=0.3)
    for t in model.TABLES:
        assert (a / f"{t.name}.parquet").read_bytes() == (b / f"{t.name}.parquet").read_bytes(), (
            t.name
        )
    schema = pq.read_schema(a / "orders.parquet")
    assert str(schema.field("unit_price").type) == "decimal128(18, 2)"
    assert str(schema.field("paid_at").type) == "timestamp[us, tz=UTC]"
    obs = pq.read_schema(a / "price_observations.parquet")
    assert str(obs.field("claimed_discount_pct").type) == "decimal128(7, 2)"
    csv_dir = tmp_path / "c"
    generate("small", 2, csv_dir, fmt="csv", shrink=0.3)
    con = duckdb.connect()
    x = con.execute(f"SELECT sum(unit_price), count(*) FROM '{a / 'orders.parquet'}'").fetchone()
    y = con.execute(
        f"SELECT sum(CAST(unit_price AS DECIMAL(18,2))), count(*) FROM read_csv('{csv_dir / 'orders.csv'}', all_varchar=true)"
    ).fetchone()
    assert x == y


def test_shards_in_worker_processes_give_the_same_bytes(tmp_path):
    """Chunked output: three shards written in order, the same with 1 or 2 worker processes."""
    one, two = tmp_path / "one", tmp_path / "two"
    s1 = generate("medium", 9, one, fmt="parquet", shrink=0.025, shards=3, jobs=1)
    s2 = generate("medium", 9, two, fmt="parquet", shrink=0.025, shards=3, jobs=2)
    assert s1 == {**s2, "out": s1["out"]}
    for t in model.TABLES:
        assert (one / f"{t.name}.parquet").read_bytes() == (two / f"{t.name}.parquet").read_bytes()
    assert pq.ParquetFile(one / "orders.parquet").num_row_groups == 3
    ids = pq.read_table(one / "orders.parquet", columns=["order_id"]).column(0).to_pylist()
    assert len(ids) == len(set(ids)) and {i[1:4] for i in ids} == {"000", "001", "002"}


def _labels(con, code: str) -> set[str]:
    return {
        r[0]
        for r in con.execute("SELECT entity_id FROM truth WHERE check_code = ?", [code]).fetchall()
    }


def test_price004_and_ship003_labels_are_their_rules(con):
    cheaper = con.execute(
        """SELECT DISTINCT s.listing_id FROM price_observations s JOIN price_observations d
           ON s.listing_id = d.listing_id AND s.observed_at = d.observed_at AND d.channel = 'detail'
           WHERE s.channel IN ('search', 'home') AND s.price < d.price"""
    ).fetchall()
    assert {r[0] for r in cheaper} == _labels(con, "PRICE004")
    late = con.execute(
        """SELECT o.order_id FROM orders o JOIN shipments s USING (order_id)
           JOIN tracking_events e USING (carrier, tracking_no) WHERE e.event_type = 'pickup'
           GROUP BY o.order_id, o.promised_dispatch_by, o.paid_at
           HAVING min(e.event_at) > coalesce(o.promised_dispatch_by, o.paid_at + INTERVAL 48 HOUR)"""
    ).fetchall()
    assert {r[0] for r in late} == _labels(con, "SHIP003")
