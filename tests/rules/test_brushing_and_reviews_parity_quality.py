"""The brushing and review rules (the graph and text rules): parity of DuckDB and Spark on the
hand-made worlds together, and quality on the simulated season against its ground truth."""

import pytest
from tests.rules.brushing.synth import brushing_world
from tests.rules.reviews.synth import review_world
from tests.support import run_check

from promoguard.evaluate import evaluate, read_table

CODES = "BRUSH001,BRUSH002,BRUSH003,REVIEW001,REVIEW003"
TARGET = 0.90


def _combined_world():
    """The brushing and review worlds in one store (review-world ids made distinct)."""
    w, rw = brushing_world(), review_world()
    for o in rw.orders:
        o["order_id"] = "X" + o["order_id"]
        for k in ("buyer_id", "buyer_device_id", "buyer_address_id"):
            o[k] = "Y" + o[k]
    for r in rw.reviews:
        r["order_id"] = "X" + r["order_id"]
        r["buyer_id"] = "Y" + r["buyer_id"]
    for s in rw.shipments:
        s["order_id"], s["tracking_no"] = "X" + s["order_id"], "X" + s["tracking_no"]
    for e in rw.events:
        e["tracking_no"] = "X" + e["tracking_no"]
    w.orders += rw.orders
    w.reviews = rw.reviews
    w.shipments += rw.shipments
    w.events += rw.events
    return w


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_give_identical_findings(tiny_store):
    con = tiny_store(_combined_world().tables())
    relational = {"BRUSH001": {"algorithm": "bahmani"}}  # Bahmani passes run in the engine itself
    duck = run_check(con, CODES)
    duck_b = run_check(con, "BRUSH001", overrides=relational)
    spark = run_check(con, CODES, engine="spark")
    spark_b = run_check(con, "BRUSH001", overrides=relational, engine="spark")
    cols = ["finding_id", "check_code", "entity_id", "observed", "expected", "evidence_sha256"]
    a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    assert set(a.check_code) == set(CODES.split(","))  # every code found something to compare
    assert a.equals(b), (a, b)
    # REVIEW003's rows scored and not scored, counted the same on both engines
    assert duck.coverage == spark.coverage
    a_b = duck_b.findings[cols].reset_index(drop=True)
    assert a_b.equals(spark_b.findings[cols].reset_index(drop=True))
    # and the relational form finds the same ring as the array form
    assert list(a_b.entity_id) == list(a[a.check_code == "BRUSH001"].entity_id)


def test_quality_on_the_small_season(season_store, season_dir):
    """Precision and recall of each code >= 0.90 under cn on the small season (seed 7)."""
    result = run_check(season_store, CODES)
    truth = read_table(season_dir / "ground_truth.csv")
    scores = evaluate(result.findings, truth, pack="cn", codes=CODES.split(",")).set_index(
        "check_code"
    )
    for code in CODES.split(","):
        row = scores.loc[code]
        assert row["truth"] > 0, f"the season has no {code} truth"
        assert row["precision"] >= TARGET and row["recall"] >= TARGET, (code, row.to_dict())
