"""Every instant ingest stores can be scanned: 64-bit epochs everywhere (issue #17, failure 3).

An order paid in 2039 crashed BRUSH001 (``ArrowInvalid ... truncated converting to int32``: ibis
types epoch seconds as int32); the stored range reaches 9999-12-31 and starts at 0001-01-01.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from promoguard.cli import app

runner = CliRunner()
WHEN = [
    "2039-06-01T00:00:00Z",
    "2100-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
]


@pytest.fixture(scope="module")
def extreme_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    (folder / "platforms.csv").write_text("platform_id,name\nP1,Tmall\n")
    (folder / "merchants.csv").write_text("merchant_id,platform_id,name\nM1,P1,A\nM2,P1,B\n")
    (folder / "listings.csv").write_text(
        "listing_id,merchant_id,platform_id,title,category,currency\n"
        "L1,M1,P1,nuts,food,CNY\nL2,M2,P1,tea,food,CNY\n"
    )
    orders = [
        "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status,confirmed_at"
    ]
    n = 0
    for b in range(8):  # eight buyers ordering four times from both shops: a dense block
        for m in (1, 2):
            for k in range(4):
                at = WHEN[(b + k) % len(WHEN)]
                orders.append(f"O{n},L{m},M{m},B{b},1,9.90,{at},delivered,{at}")
                n += 1
    (folder / "orders.csv").write_text("\n".join(orders) + "\n")
    (folder / "reviews.csv").write_text(
        "review_id,listing_id,buyer_id,order_id,rating,created_at,text\n"
        + "".join(f"R{i},L1,B{i},O{i * 8},5,{WHEN[i % 4]},great\n" for i in range(8))
    )
    store = tmp_path_factory.mktemp("s") / "s.duckdb"
    result = runner.invoke(app, ["ingest", str(folder), "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["quarantined"] == 0
    return store


@pytest.mark.parametrize("pack", ["cn", "eu"])
def test_a_scan_over_the_whole_stored_range_does_not_crash(extreme_store, pack):
    result = runner.invoke(app, ["scan", "--store", str(extreme_store), "--pack", pack, "--json"])
    assert result.exit_code == 0, result.output[-3000:]
