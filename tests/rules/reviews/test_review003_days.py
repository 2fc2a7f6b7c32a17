"""REVIEW003's days and delivery times, on cases written apart from the simulator (a blind set of
session 40): a burst of reviews posted together whatever day their orders were paid, days that
are the pack's local days and bursts that straddle a day's boundary, and a buyer's confirmation
of receipt, which is no delivery time."""

import datetime as dt
import json
import math

from tests.rules.brushing.synth import World
from tests.support import run_check

from promoguard.rules.reviews.review003_spam_behaviour_score import review_scores

#: Beijing is UTC+8: 08:00 there is midnight UTC
BEIJING = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 10, 1, 12, tzinfo=BEIJING)


class _Reviews(World):
    """A World whose orders are reviewed: ``reviewed`` places an order and posts its review."""

    def reviewed(
        self,
        buyer: str,
        merchant: str,
        paid: dt.datetime,
        posted: dt.datetime,
        rating: int = 5,
        *,
        delivered: dt.datetime | None = None,
        confirmed: dt.datetime | None = None,
    ) -> str:
        oid = self.order(buyer, merchant, paid, delivered_at=delivered, confirmed_at=confirmed)
        rid = f"RV{len(self.reviews):04d}"
        self.reviews.append(
            {
                "review_id": rid,
                "listing_id": f"L-{merchant}",
                "buyer_id": buyer,
                "order_id": oid,
                "rating": rating,
                "created_at": posted,
                "text": f"review {rid}",
            }
        )
        return rid


def _steady(w: _Reviews, merchant: str, n: int = 16) -> list[str]:
    """A listing's ordinary life: a review every other day for a month (ratings 3-5), each two
    days after delivery, by buyers with a few other orders."""
    ids = []
    for i in range(n):
        paid = START + dt.timedelta(days=2 * i, hours=i % 5)
        delivered = paid + dt.timedelta(days=2)
        buyer = f"H-{merchant}-{i}"
        ids.append(w.reviewed(buyer, merchant, paid, delivered + dt.timedelta(days=2), 3 + i % 3))
        for k in range(3):
            w.order(buyer, "M999", paid - dt.timedelta(days=10 + k))
    return ids


def _observed(result, ids):
    f = result.findings[result.findings.check_code == "REVIEW003"]
    return {e: json.loads(o) for e, o in zip(f.entity_id, f.observed, strict=True) if e in ids}


def test_reviews_posted_together_are_a_burst_whatever_day_their_orders_were_paid(tiny_store):
    """Eight fresh accounts' orders paid over five days; their five-star reviews all posted in
    one hour, each half an hour after its parcel's delivery scan. The listing's days by purchase
    hold one or two of them (no burst); the day they were posted holds eight (a burst: before,
    the burst was counted on purchase days only, and none of them was reported)."""
    w = _Reviews(merchants=["M001", "M999"])
    honest = _steady(w, "M001")
    evening = START + dt.timedelta(days=40, hours=8)  # 20:00 in Beijing
    farm = []
    for i in range(8):
        paid = START + dt.timedelta(days=34 + i % 5, hours=i)
        posted = evening + dt.timedelta(minutes=7 * i)
        delivered = posted - dt.timedelta(minutes=30)
        farm.append(w.reviewed(f"F{i}", "M001", paid, posted, delivered=delivered))
    con = tiny_store(w.tables())
    scores = review_scores(con, timezone="Asia/Shanghai").set_index("review_id")
    assert (scores.loc[farm, "listing_burst"] == 1.0).all()
    # a burst is measured against listing_burst_factor times the typical day: a day of eight
    # is a whole one at the default 4, part of one when it must be 8 times the typical day
    eight = review_scores(con, {"listing_burst_factor": 8.0}, timezone="Asia/Shanghai")
    part = eight.set_index("review_id").loc[farm, "listing_burst"]
    assert ((part > 0.0) & (part < 1.0)).all()
    found = _observed(run_check(con, "REVIEW003"), set(farm) | set(honest))
    assert sorted(found) == sorted(farm)


def test_a_day_is_the_packs_local_day(tiny_store):
    """A buyer's four reviews posted between 07:00 and 09:00 in Beijing, on four shops: one
    Beijing day (a full reviewer burst under cn), though UTC's midnight falls between them."""
    w = _Reviews(merchants=["M001", "M002", "M003", "M004", "M999"])
    for m in ("M001", "M002", "M003", "M004"):
        _steady(w, m, n=6)
    morning = START + dt.timedelta(days=20, hours=-5)  # 07:00 in Beijing, 23:00 UTC the day before
    ids = [
        w.reviewed(
            "B1",
            m,
            morning - dt.timedelta(days=5),
            morning + dt.timedelta(minutes=40 * k),
            4,
            delivered=morning - dt.timedelta(days=2),
        )
        for k, m in enumerate(("M001", "M002", "M003", "M004"))
    ]
    con = tiny_store(w.tables())
    local = review_scores(con, timezone="Asia/Shanghai").set_index("review_id")
    utc = review_scores(con).set_index("review_id")
    assert (local.loc[ids, "reviewer_burst"] == 1.0).all()
    assert (utc.loc[ids, "reviewer_burst"] < 1.0).all()  # two UTC days of two reviews each
    # (max_day - 1) / (burst_reviews - 1): two a day is a third of a burst of four, four a day
    # three quarters of a burst of five
    assert (utc.loc[ids, "reviewer_burst"] == 0.3333).all()
    five = review_scores(con, {"burst_reviews": 5}, timezone="Asia/Shanghai")
    assert (five.set_index("review_id").loc[ids, "reviewer_burst"] == 0.75).all()


def test_a_purchase_burst_across_midnight_is_one_burst(tiny_store, monkeypatch):
    """Eight fresh accounts pay for the listing between 22:00 and 02:00 in Beijing (a farm's
    evening running past midnight) and review over the following week: split by midnight into
    days of four (under the five a burst needs), the burst is whole on the days that turn at
    noon."""
    w = _Reviews(merchants=["M001", "M999"])
    _steady(w, "M001")
    night = START + dt.timedelta(days=40, hours=10)  # 22:00 in Beijing
    farm = []
    for i in range(8):
        paid = night + dt.timedelta(minutes=30 * i)
        delivered = paid + dt.timedelta(days=2, hours=i)
        posted = delivered + dt.timedelta(days=i % 4, minutes=20)
        farm.append(w.reviewed(f"F{i}", "M001", paid, posted, delivered=delivered))
    con = tiny_store(w.tables())
    scores = review_scores(con, timezone="Asia/Shanghai").set_index("review_id")
    assert (scores.loc[farm, "listing_burst"] == 1.0).all()
    # on midnight's days alone (the noon grid turned at midnight too) it is two small days
    from promoguard.rules.reviews import _shared

    midnight = tuple((per, active, which, 0) for per, active, which, _ in _shared.BURST_DAYS)
    monkeypatch.setattr(_shared, "BURST_DAYS", midnight)
    split = review_scores(con, timezone="Asia/Shanghai").set_index("review_id")
    assert (split.loc[farm, "listing_burst"] < 1.0).all()
    # days of four are under the five a burst needs: no burst at all, not a smaller one
    assert (split.loc[farm, "listing_burst"] == 0.0).all()
    # and when four make a burst, a day of four is one
    four = review_scores(con, {"listing_burst_min": 4}, timezone="Asia/Shanghai")
    assert (four.set_index("review_id").loc[farm, "listing_burst"] > 0.0).all()


def test_a_confirmation_of_receipt_is_no_delivery_time(tiny_store):
    """Buyers who confirm receipt and review minutes later (the platform asks for the review on
    confirming): with no delivery scan, how soon after delivery they reviewed is not available,
    not maximally suspicious. The same minutes after a delivery scan still count as early."""
    w = _Reviews(merchants=["M001", "M999"])
    _steady(w, "M001")
    confirmed_only, after_scan = [], []
    for i in range(4):
        paid = START + dt.timedelta(days=3 * i + 1, hours=3)
        arrived = paid + dt.timedelta(days=2)
        posted = arrived + dt.timedelta(minutes=5)
        confirmed_only.append(w.reviewed(f"C{i}", "M001", paid, posted, confirmed=arrived))
        after_scan.append(
            w.reviewed(f"D{i}", "M001", paid, posted, delivered=arrived, confirmed=arrived)
        )
    con = tiny_store(w.tables())
    scores = review_scores(con, timezone="Asia/Shanghai").set_index("review_id")
    assert all(math.isnan(v) for v in scores.loc[confirmed_only, "early"])
    assert (scores.loc[after_scan, "early"] > 0.9).all()
    # 1 - minutes after / early_hours: five minutes of two hours; nothing of three minutes
    assert (scores.loc[after_scan, "early"] == round(1 - 5 / 120, 4)).all()
    short = review_scores(con, {"early_hours": 0.05}, timezone="Asia/Shanghai")
    assert (short.set_index("review_id").loc[after_scan, "early"] == 0.0).all()
    assert all(math.isnan(v) for v in short.set_index("review_id").loc[confirmed_only, "early"])
