"""A store written before the model grew (no coupon tables, no ``orders.placed_at``) still scans.

A scan opens the store read-only, so it cannot add what a newer release expects. Seen for real: the
city-scale store made this morning, scanned with the coupon rules, stopped with ``TableNotFound:
coupons`` (and a missing nullable column with an AttributeError) instead of saying which checks
could not run.
"""

from __future__ import annotations

import os

import duckdb
import pytest
from tests import spark_env

from promoguard.engine import scan

OLD_RELEASE_LACKS = (
    "coupons",
    "coupon_terms",
    "coupon_redemptions",
    "prize_promotions",
    "prize_awards",
)


def test_an_older_store_scans_and_says_what_it_could_not_check(season_store_copy):
    con = duckdb.connect(str(season_store_copy))
    for name in OLD_RELEASE_LACKS:
        con.execute(f"DROP TABLE {name}")
    con.execute("ALTER TABLE orders DROP COLUMN placed_at")
    con.close()
    os.chmod(season_store_copy, 0o400)  # as a bureau keeps a received store: nobody writes it

    result = scan(season_store_copy, pack="cn", checks="COUPON,PRIZE,SHIP004", save=False)

    cover = result.coverage
    assert cover["COUPON001"] == {"status": "skipped", "reason": "no coupons"}
    assert cover["PRIZE001"]["status"] == "skipped"
    assert cover["COUPON004"]["status"] == "skipped"
    # SHIP004 reads placed_at when it is there; without it the rule still runs on paid_at
    assert cover["SHIP004"]["status"] == "ran"
    assert (result.findings["check_code"] == "SHIP004").sum() > 0


@pytest.mark.spark
@pytest.mark.slow
def test_an_older_store_scans_on_spark_and_leaves_no_hand_off(season_store_copy, capfd):
    import subprocess

    con = duckdb.connect(str(season_store_copy))
    for name in OLD_RELEASE_LACKS:
        con.execute(f"DROP TABLE {name}")
    con.execute("ALTER TABLE orders DROP COLUMN placed_at")
    con.close()
    os.chmod(season_store_copy, 0o400)
    # what a scan killed with -9 leaves: a hand-off folder of a process that is gone
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = season_store_copy.parent / f".{season_store_copy.name}.spark-{dead.pid}-deadbeef"
    (stale / "orders.parquet").mkdir(parents=True)
    # a live scan's folder (this process) is left alone
    live = season_store_copy.parent / f".{season_store_copy.name}.spark-{os.getpid()}-0live000"
    live.mkdir()

    result = scan(
        season_store_copy,
        pack="cn",
        engine="spark",
        spark_master=spark_env.MASTER,
        checks="COUPON001,SHIP004",
        save=False,
    )

    assert result.coverage["COUPON001"] == {"status": "skipped", "reason": "no coupons"}
    assert result.coverage["SHIP004"]["status"] == "ran"
    duck = scan(season_store_copy, pack="cn", checks="SHIP004", save=False)
    assert sorted(result.findings.evidence_sha256) == sorted(duck.findings.evidence_sha256)
    assert len(duck.findings) > 0
    left = sorted(p.name for p in season_store_copy.parent.glob(".*.spark-*"))
    assert left == [live.name]  # the stale one reaped, this scan's own removed
    assert "copying the DuckDB store's tables to Parquet" in capfd.readouterr().err
