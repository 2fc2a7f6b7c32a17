"""The bundled messy example: valid input that shows every quirk and quarantine at work."""

from __future__ import annotations

from pathlib import Path

import promoguard
from promoguard.ingest import ingest_dir

from ._helpers import one

EXAMPLE = Path(promoguard.__file__).parent / "examples" / "messy"


def test_messy_example_ingests_with_the_expected_counts(con):
    report = ingest_dir(EXAMPLE, con, tz="Asia/Shanghai")
    got = {t: (c.read, c.stored, c.quarantined, c.orphans) for t, c in report.tables.items()}
    assert got == {
        "platforms": (2, 2, 0, 0),
        "merchants": (4, 4, 0, 1),
        "listings": (4, 3, 1, 0),
        "price_observations": (13, 7, 6, 1),
        "orders": (6, 3, 3, 1),
    }
    assert report.ignored == ["README.txt"]
    encodings = {f.file: f.encoding for f in report.files}
    assert encodings["merchants.csv"] == "gb18030"
    assert one(con, "SELECT name FROM merchants WHERE merchant_id = 'M1'") == "华为官方旗舰店,天猫"
    assert one(con, "SELECT platform_id FROM platforms ORDER BY 1 LIMIT 1") == "P1"
    assert one(con, "SELECT msrp::VARCHAR FROM listings WHERE listing_id = 'L2'") == "1299.00"
    assert (
        one(
            con,
            "SELECT price::VARCHAR FROM price_observations "
            "WHERE listing_id = 'L2' AND channel = 'detail'",
        )
        == "1099.00"
    )
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine").fetchall()]
    for expected in (
        "more than 2 decimal places",
        "negative amount",
        "not an amount of money",
        "not an ISO 8601 timestamp",
        "duplicate key",
        "too many columns",
        "must be at least 1",
        "not one of",
        "not a JSON object",
        "not a three-letter currency code",
    ):
        assert any(expected in r for r in reasons), expected
