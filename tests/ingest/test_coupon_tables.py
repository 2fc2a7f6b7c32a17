"""Ingest of the coupon and prize tables and the columns added for them (issue #15)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ._helpers import one, quarantine, write

COUPONS = (
    "coupon_id,platform_id,merchant_id,kind,announced_at,valid_from,valid_to\n"
    "C1,P1,,threshold,2026-10-20T00:00:00+08:00,2026-10-31T20:00:00+08:00,2026-11-11T23:59:59+08:00\n"
    "C2,P1,M1,Red_Envelope,,2026-11-01,2026-11-12\n"
)
TERMS_HEADER = (
    "coupon_id,effective_at,source,face_value,percent_off,threshold_amount,max_discount,scope,"
    "stackable,per_buyer_cap,valid_to,disclosure,shown_text"
)


def test_coupons_and_terms_are_stored_typed(ingest, con):
    report = ingest(
        {
            "platforms.csv": "platform_id,name\nP1,Tmall\n",
            "merchants.csv": "merchant_id,platform_id,name\nM1,P1,a\n",
            "coupons.csv": COUPONS,
            "coupon_terms.csv": f"{TERMS_HEADER}\n"
            "C1,2026-10-20T00:00:00+08:00,displayed,50,,300,,all,yes,1,,prominent,满300减50\n"
            "C1,2026-10-20T00:00:00+08:00,applied,50,,300,,all,true,1,,,\n"
            "C1,2026-11-05T00:00:00+08:00,applied,50,,400,,all,是,1,,,\n"
            'C2,2026-11-01,displayed,,10%,,20,food,否,,,fine_print,"10% off, max ¥20"\n',
        }
    )
    assert report.tables["coupons"].stored == 2
    assert report.tables["coupons"].orphans == 0  # an empty merchant_id is platform-wide
    assert report.tables["coupon_terms"].stored == 4
    assert one(con, "SELECT kind FROM coupons WHERE coupon_id = 'C2'") == "red_envelope"
    rows = con.execute(
        "SELECT effective_at, source, threshold_amount::VARCHAR, stackable FROM coupon_terms "
        "WHERE coupon_id = 'C1' ORDER BY effective_at, source"
    ).fetchall()
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("applied", "300.00", True),
        ("displayed", "300.00", True),
        ("applied", "400.00", True),
    ]
    assert one(con, "SELECT stackable FROM coupon_terms WHERE coupon_id = 'C2'") is False
    assert one(con, "SELECT percent_off::VARCHAR FROM coupon_terms WHERE coupon_id = 'C2'") == (
        "10.00"
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("stackable", "maybe", "not a yes/no value (use true or false)"),
        ("source", "checkout", "not one of: displayed, applied"),
        ("disclosure", "tooltip", "not one of: prominent, fine_print, none"),
        ("threshold_amount", "-1", "negative amount"),
        ("per_buyer_cap", "1.5", "not a whole number"),
        ("effective_at", "", "required value is empty"),
    ],
)
def test_bad_coupon_terms_are_quarantined_with_a_reason(ingest, con, column, value, reason):
    row = dict.fromkeys(TERMS_HEADER.split(","), "")
    row.update(coupon_id="C1", effective_at="2026-11-01", source="displayed", face_value="5")
    row[column] = value
    report = ingest({"coupon_terms.csv": TERMS_HEADER + "\n" + ",".join(row.values()) + "\n"})
    counts = report.tables["coupon_terms"]
    assert (counts.read, counts.stored, counts.quarantined) == (1, 0, 1)
    (got,) = quarantine(con)
    assert got[2] == column
    assert got[3] == f"{column}: {reason}"


def test_redemptions_prizes_and_orphans(ingest, con):
    report = ingest(
        {
            "platforms.csv": "platform_id,name\nP1,Tmall\n",
            "coupons.csv": COUPONS,
            "orders.csv": "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,"
            "status,placed_at,discount_total\n"
            "O1,L1,M1,B1,1,299.00,2026-11-11T00:05:00Z,paid,2026-11-11T00:01:00Z,¥50.00\n",
            "coupon_redemptions.csv": "order_id,coupon_id,discount_amount\n"
            "O1,C1,50.00\nO1,C9,5\nO2,C1,x\n",
            "prize_promotions.csv": "prize_promotion_id,platform_id,merchant_id,name,kind,"
            "announced_at,starts_at,ends_at,currency,top_prize_value,disclosed_items,"
            "rules_changed_at,change_favours_buyer\n"
            'G1,P1,,抽红包,red_envelope_game,,2026-11-01,2026-11-11,cny,"50,000.00",'
            "prize_kinds;conditions,2026-11-05,0\n",
            "prize_awards.csv": "award_id,prize_promotion_id,buyer_id,prize_value,awarded_at\n"
            "A1,G1,B1,8.88,2026-11-02\nA2,G9,B1,1,2026-11-02\n",
        }
    )
    assert report.tables["coupon_redemptions"].stored == 2
    assert report.tables["coupon_redemptions"].quarantined == 1
    # O1 exists; C9 is no coupon: one orphan (orders has no O2, but that row was refused).
    assert report.tables["coupon_redemptions"].orphans == 1
    assert report.tables["prize_awards"].orphans == 1
    assert one(con, "SELECT discount_total::VARCHAR FROM orders") == "50.00"
    assert str(one(con, "SELECT placed_at FROM orders"))[:16] == "2026-11-11 00:01"
    g = con.execute(
        "SELECT currency, top_prize_value::VARCHAR, change_favours_buyer FROM prize_promotions"
    ).fetchone()
    assert g == ("CNY", "50000.00", False)


def test_final_price_claim_is_money(ingest, con):
    report = ingest(
        {
            "price_observations.csv": "listing_id,observed_at,price,final_price_claim\n"
            "L1,2026-11-11T00:00:00Z,299.00,249.00\nL1,2026-11-11T01:00:00Z,299.00,约249\n"
        }
    )
    assert report.tables["price_observations"].quarantined == 1
    assert one(con, "SELECT final_price_claim::VARCHAR FROM price_observations") == "249.00"


def test_parquet_booleans_are_read(ingest, con, tmp_path):
    folder = tmp_path / "pq"
    table = pa.table(
        {
            "coupon_id": ["C1", "C2"],
            "effective_at": pa.array([0, 0], pa.timestamp("s", tz="UTC")),
            "source": ["displayed", "applied"],
            "stackable": pa.array([True, None], pa.bool_()),
        }
    )
    folder.mkdir()
    pq.write_table(table, folder / "coupon_terms.parquet")
    write(folder, "README.txt", "not a table")
    from promoguard.ingest import ingest_dir

    report = ingest_dir(folder, con)
    assert report.tables["coupon_terms"].stored == 2
    got = con.execute("SELECT stackable FROM coupon_terms ORDER BY coupon_id").fetchall()
    assert got == [(True,), (None,)]


def test_final_price_basket_is_at_least_one_unit(ingest, con):
    report = ingest(
        {
            "price_observations.csv": "listing_id,observed_at,price,final_price_claim,"
            "final_price_qty\n"
            "L1,2026-11-11T00:00:00Z,180.00,155.00,2\nL1,2026-11-11T01:00:00Z,180.00,155.00,0\n"
        }
    )
    assert report.tables["price_observations"].quarantined == 1
    assert quarantine(con)[0][3] == "final_price_qty: must be at least 1"
    assert one(con, "SELECT final_price_qty FROM price_observations") == 2
