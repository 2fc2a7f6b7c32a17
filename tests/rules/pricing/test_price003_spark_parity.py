"""PRICE003 gives the same findings, ids and evidence on DuckDB and Spark on hand-built histories:
the rise inside the season and the rises before it (the price in force as the season opened),
a rise undone and made again inside the season,
the early, modest, deep-cut and new-listing negatives."""

from __future__ import annotations

import pytest
from tests.support import run_check

from .pricing_fixtures import Season, day


def _history(s: Season, lid: str, ordinary: str, raised: str, raise_from: int) -> None:
    s.listing(lid)
    s.prices(lid, -70, raise_from - 1, ordinary)
    s.prices(lid, raise_from, -1, raised)


@pytest.mark.spark
@pytest.mark.slow  # one Spark session, the finder and its evidence
def test_price003_is_identical_on_duckdb_and_spark(tmp_path):
    s = Season(tmp_path / "p.duckdb")
    for lid, raise_from, raised, promo in (
        ("R25", -25, "130.00", "99.00"),
        ("R29", -29, "130.00", "125.00"),
        ("R35", -35, "130.00", "125.00"),
        ("R45", -45, "130.00", "125.00"),
        ("EARLY", -65, "130.00", "99.00"),
        ("MODEST", -20, "106.00", "99.00"),
        ("DEEP", -20, "120.00", "70.00"),
    ):
        _history(s, lid, "100.00", raised, raise_from)
        s.obs(lid, day(0, 2), promo, ref=raised, label="原价")
    # 130 as the season opened, back to 100 and raised again inside it: a rise in the season
    s.listing("TWICE")
    s.prices("TWICE", -70, -36, "100.00")
    s.prices("TWICE", -35, -29, "130.00")
    s.prices("TWICE", -28, -11, "100.00")
    s.prices("TWICE", -10, -1, "130.00")
    s.obs("TWICE", day(0, 2), "125.00", ref="130.00", label="原价")
    s.close()
    duck = run_check(tmp_path / "p.duckdb", "PRICE003")
    spark = run_check(tmp_path / "p.duckdb", "PRICE003", engine="spark")
    assert set(duck.findings.entity_id) == {"R25", "R29", "TWICE"}
    cols = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]
    a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    assert a.equals(b), a.compare(b) if a.shape == b.shape else (a, b)
    assert duck.evidence == spark.evidence
