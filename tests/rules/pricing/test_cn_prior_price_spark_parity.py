"""PRICE001 and PRICE002 under cn's prior rule (lowest transacted in 7 days, else the last sale
before, else the offered price of a listing that never sold before the promotion) give the same
findings, ids and evidence on DuckDB and Spark."""

from __future__ import annotations

import pytest
from tests.support import run_check

from .pricing_fixtures import Season, day


@pytest.mark.spark
@pytest.mark.slow  # one Spark session, two finders and their evidence
def test_cn_prior_price_is_identical_on_duckdb_and_spark(tmp_path):
    s = Season(tmp_path / "p.duckdb")
    for lid in ("SOLD", "LAST", "C", "C2", "LATE"):
        s.listing(lid)
        s.prices(lid, -30, -1, "500.00")
        s.obs(lid, day(0, 2), "499.00", ref="999.00", label="原价", pct="50")
    s.order("SOLD", day(-3), "480.00")  # in the 7 days
    s.order("LAST", day(-20), "450.00")  # the last sale before
    s.order("C", day(0, 7), "499.00")  # first sold during the promotion: offered price
    s.order("LATE", day(3), "499.00")  # first sold after it: offered price
    # '-50%' with no struck-through price beside it: PRICE002's alone
    s.listing("NOREF")
    s.prices("NOREF", -10, -1, "100.00")
    s.order("NOREF", day(-4), "100.00")
    s.obs("NOREF", day(0, 2), "80.00", pct="50")
    s.close()
    codes = "PRICE001,PRICE002"
    duck = run_check(tmp_path / "p.duckdb", codes)
    spark = run_check(tmp_path / "p.duckdb", codes, engine="spark")
    got = duck.findings[duck.findings.check_code == "PRICE001"]
    assert set(got.entity_id) == {"SOLD", "LAST", "C", "C2", "LATE"}
    assert "NOREF" in set(duck.findings[duck.findings.check_code == "PRICE002"].entity_id)
    cols = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]
    a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    assert a.equals(b), a.compare(b) if a.shape == b.shape else (a, b)
    assert duck.evidence == spark.evidence


@pytest.mark.spark
@pytest.mark.slow  # one Spark session
def test_price005_labels_and_own_prices_are_identical_on_duckdb_and_spark(tmp_path):
    """PRICE005's MSRP read from the shop's labels (a composite label, a second link of the same
    title with other spacing and case, a Latin word) and from another shop's, and its own-price
    test, on both engines."""
    from .test_pricing import _labelled_msrp_world, _reseller_world

    s = Season(tmp_path / "p.duckdb")
    _labelled_msrp_world(s)
    _reseller_world(s)  # another shop's label on a listing of the same title
    s.listing("OLD", msrp="599.00")
    s.order("OLD", day(-12), "599.00")
    s.order("OLD", day(-3), "499.00")
    s.obs("OLD", day(0, 2), "459.00", ref="599.00", label="原价")
    s.listing("OWN", msrp="599.00")
    s.order("OWN", day(-2), "599.00")
    s.obs("OWN", day(0, 2), "529.00", ref="599.00", label="原价")
    s.listing("W", msrp="120.00")
    s.obs("W", day(0, 2), "99.00", ref="120.00", label="Was (RRP)")
    # titles spaced by a vertical tab (\s on Spark, not on DuckDB) and an ideographic space;
    # full-width letters and a denial in the labels; a sale on the promotion day
    s.listing("V1", title="Kettle\x0bK2")
    s.listing("V2", title="kettle\u3000k2")
    s.obs("V1", day(-5), "99.00", ref="129.00", label="ＭＳＲＰ")
    s.obs("V2", day(-5), "99.00", ref="129.00", label="原价")
    s.listing("N", msrp="120.00")
    s.obs("N", day(0, 2), "99.00", ref="120.00", label="Was (not RRP)")
    s.listing("PRE", msrp="599.00")
    s.order("PRE", day(-2), "599.00")
    s.order("PRE", day(0, 1), "529.00")
    s.obs("PRE", day(0, 2), "529.00", ref="599.00", label="原价")
    s.close()
    duck = run_check(tmp_path / "p.duckdb", "PRICE005")
    spark = run_check(tmp_path / "p.duckdb", "PRICE005", engine="spark")
    assert set(duck.findings.entity_id) == {"A", "B", "C", "D2", "OLD", "V2", "N", "RS"}
    cols = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]
    a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    assert a.equals(b), a.compare(b) if a.shape == b.shape else (a, b)
    assert duck.evidence == spark.evidence
