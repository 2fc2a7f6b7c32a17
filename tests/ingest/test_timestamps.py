"""Every timestamp is stored as the instant it names, or quarantined with a reason.

The probe found offsets such as ``+99:99`` silently shifting the time, year 0000 stored as 1 BC,
``9999-12-31T23:00:00-14:00`` stored as year 10000 (which then crashed every scan), and
nanoseconds cut to microseconds without a word.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from promoguard.ingest import normalise

from ._helpers import quarantine

HEADER = "listing_id,observed_at,price\n"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2026-11-11T00:00:00+99:99", "UTC offset out of range"),
        ("2026-11-11T00:00:00+00:60", "UTC offset out of range"),
        ("2026-11-11T00:00:00+24:00", "UTC offset out of range"),
        ("2026-11-11T00:00:00-1500", "UTC offset out of range"),
        ("2026-11-11T00:00:00+14:30", "UTC offset out of range"),
        ("0000-01-01", "year 0000: outside the stored range"),
        ("0000-06-01T00:00:00Z", "year 0000: outside the stored range"),
        ("9999-12-31T23:00:00-14:00", "outside the stored range"),
        ("0001-01-01T00:00:00+01:00", "outside the stored range"),
        ("2026-11-11T00:00:00.123456789Z", "more than 6 decimal places"),
        ("2026-11-11T00:00:00.0000001+08:00", "more than 6 decimal places"),
    ],
)
def test_unrepresentable_timestamps_are_quarantined_with_a_reason(ingest, con, value, why):
    report = ingest({"price_observations.csv": f"{HEADER}L1,{value},1\n"})
    assert report.tables["price_observations"].quarantined == 1
    [(_, line, column, reason)] = quarantine(con)
    assert (line, column) == (2, "observed_at")
    assert why in reason, reason


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("2026-11-11T00:00:00+14:00", datetime(2026, 11, 10, 10, tzinfo=UTC)),
        ("2026-11-11T00:00:00-12:00", datetime(2026, 11, 11, 12, tzinfo=UTC)),
        ("2026-11-11T00:00:00+05:45", datetime(2026, 11, 10, 18, 15, tzinfo=UTC)),
        ("2026-11-11T00:00:00.123456000Z", datetime(2026, 11, 11, 0, 0, 0, 123456, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2039-06-01T00:00:00+08:00", datetime(2039, 5, 31, 16, tzinfo=UTC)),  # past int32 epoch
    ],
)
def test_edge_timestamps_inside_the_range_are_stored_exactly(ingest, con, value, stored):
    report = ingest({"price_observations.csv": f"{HEADER}L1,{value},1\n"})
    assert report.tables["price_observations"].stored == 1
    got = con.execute("SELECT observed_at FROM price_observations").fetchone()[0]
    assert got == stored


def test_the_stored_range_is_what_python_can_hold(con):
    # Readers (datetime, Arrow, Spark) must be able to hold every stored instant: the range's
    # ends come back from DuckDB as Python datetimes, equal to datetime.min and datetime.max.
    low, high = con.execute(
        f"SELECT TIMESTAMPTZ '{normalise.TIMESTAMP_MIN}', TIMESTAMPTZ '{normalise.TIMESTAMP_MAX}'"
    ).fetchone()
    assert low == datetime.min.replace(tzinfo=UTC)
    assert high == datetime.max.replace(tzinfo=UTC)


ORDER_HEADER = (
    "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,"
    "promised_dispatch_by,promised_delivery_by,status\n"
)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        # a bare date promises the whole day, to its last microsecond, in the export's zone
        # (here Asia/Shanghai)
        ("2026-11-14", datetime(2026, 11, 14, 15, 59, 59, 999999, tzinfo=UTC)),
        ("2026/11/14", datetime(2026, 11, 14, 15, 59, 59, 999999, tzinfo=UTC)),
        ("２０２６-１１-１４", datetime(2026, 11, 14, 15, 59, 59, 999999, tzinfo=UTC)),
        (" 2026-11-4 ", datetime(2026, 11, 4, 15, 59, 59, 999999, tzinfo=UTC)),
        ("2026-11-14 ", datetime(2026, 11, 14, 15, 59, 59, 999999, tzinfo=UTC)),
        # "no deadline" as exports write it stays in the stored range (midnight)
        ("9999-12-31", datetime(9999, 12, 30, 16, tzinfo=UTC)),
        # a time of day, midnight included, is taken as written
        ("2026-11-14 00:00:00", datetime(2026, 11, 13, 16, tzinfo=UTC)),
        ("2026-11-14T10:30", datetime(2026, 11, 14, 2, 30, tzinfo=UTC)),
        ("2026-11-14T10:30:00+00:00", datetime(2026, 11, 14, 10, 30, tzinfo=UTC)),
    ],
)
def test_a_promise_given_as_a_date_lasts_to_the_end_of_that_day(ingest, con, value, stored):
    row = f'O1,L1,M1,B1,1,10,2026-11-14,"{value}","{value}",paid\n'
    report = ingest({"orders.csv": ORDER_HEADER + row}, tz="Asia/Shanghai")
    assert report.tables["orders"].stored == 1, quarantine(con)
    paid, dispatch, delivery = con.execute(
        "SELECT paid_at, promised_dispatch_by, promised_delivery_by FROM orders"
    ).fetchone()
    assert dispatch == stored and delivery == stored
    # paid_at is an instant, not a deadline: its bare date is the day's first second
    assert paid == datetime(2026, 11, 13, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", ["2026-11-14 ", "2026-11-14\t", "2026-11-14 10:00 ", "2026-11-14T10:00Z "]
)
def test_a_trailing_blank_is_trimmed_in_every_timestamp(ingest, con, value):
    """The fast path's shape had allowed a blank at the end, which DuckDB's cast refuses: the
    row was quarantined as "not an ISO 8601 timestamp" instead of trimmed."""
    report = ingest({"price_observations.csv": f'{HEADER}L1,"{value}",1\n'})
    assert report.tables["price_observations"].stored == 1, quarantine(con)


def test_a_deadline_of_year_9999_is_kept_west_of_utc(ingest, con):
    row = "O1,L1,M1,B1,1,10,2026-11-14,9999-12-31,9999-12-31,paid\n"
    report = ingest({"orders.csv": ORDER_HEADER + row}, tz="America/New_York")
    assert report.tables["orders"].stored == 1, quarantine(con)


@pytest.mark.parametrize("value", ["2026-13-14", "2026-11-31", "2026-11-14+08:00", "2026-11"])
def test_a_deadline_that_is_no_date_is_still_refused(ingest, con, value):
    row = f"O1,L1,M1,B1,1,10,2026-11-14,{value},,paid\n"
    report = ingest({"orders.csv": ORDER_HEADER + row})
    assert report.tables["orders"].quarantined == 1
    [(_, _, column, reason)] = quarantine(con)
    assert column == "promised_dispatch_by" and "ISO 8601" in reason, reason
