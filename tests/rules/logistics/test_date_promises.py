"""A promise exported as a bare date ("dispatch by 2026-11-14") holds until that day is over.

Platform exports often give 承诺发货时间 / 承诺送达时间 as a date. Read as the day's first
instant, every parcel dispatched or delivered on the promised day was reported late (SHIP003,
SHIP005). Built through the real ingest from CSV text, as a platform sends it."""

from __future__ import annotations

from pathlib import Path

from tests.rules.logistics.helpers import ingest_export
from tests.support import run_check

ORDERS = (
    "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,"
    "promised_dispatch_by,promised_delivery_by,declared_shipped_at,status\n"
    # picked up and delivered in the afternoon of the promised day: on time
    "O1,L1,M1,B1,1,99,2026-11-12 10:00,2026-11-13,2026-11-15,2026-11-13 15:00,delivered\n"
    # picked up the next morning and delivered the morning after the promised day: both late
    "O2,L1,M1,B2,1,99,2026-11-12 10:00,2026-11-13,2026-11-15,2026-11-14 08:00,delivered\n"
    # a promise with a time of day is kept as written: 09:00 is before the 15:00 pickup
    "O3,L1,M1,B3,1,99,2026-11-12 10:00,2026-11-13 09:00,2026-11-15 09:00,2026-11-13 15:00,delivered\n"
)
SHIPMENTS = "order_id,carrier,tracking_no\nO1,SF,T1\nO2,SF,T2\nO3,SF,T3\n"
EVENTS = (
    "carrier,tracking_no,event_at,event_type,city\n"
    "SF,T1,2026-11-13 15:00,pickup,杭州\nSF,T1,2026-11-15 16:00,delivered,上海\n"
    "SF,T2,2026-11-14 08:00,pickup,杭州\nSF,T2,2026-11-16 08:00,delivered,上海\n"
    "SF,T3,2026-11-13 15:00,pickup,杭州\nSF,T3,2026-11-15 16:00,delivered,上海\n"
)


def _store(tmp_path: Path) -> Path:
    files = {"orders.csv": ORDERS, "shipments.csv": SHIPMENTS, "tracking_events.csv": EVENTS}
    return ingest_export(tmp_path, files)[0]


def test_a_promised_day_is_kept_by_a_dispatch_or_delivery_that_day(tmp_path):
    result = run_check(
        _store(tmp_path),
        "SHIP003,SHIP005",
        overrides={
            "SHIP003": {"grace_minutes": 0},
            "SHIP005": {"grace_minutes": 0},
        },
    )
    found = set(zip(result.findings.check_code, result.findings.entity_id, strict=True))
    assert found == {("SHIP003", "O2"), ("SHIP005", "O2"), ("SHIP003", "O3"), ("SHIP005", "O3")}
