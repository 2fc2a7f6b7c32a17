"""The report's brushing section: a ring's time strip reads in the pack's local time."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from promoguard.report.sections.brushing import ring_svg


def test_ring_strip_is_in_local_time_and_escaped():
    t0 = dt.datetime(2026, 11, 10, 16, 30, tzinfo=dt.UTC).timestamp()
    orders = pd.DataFrame(
        {"buyer_id": ["b<1>", "b2"], "merchant_id": ["m1", "m1"], "paid_s": [t0, t0 + 3600]}
    )
    svg = ring_svg(["b<1>", "b2"], ["m1"], orders, "Asia/Shanghai")
    assert "2026-11-11 00:30 CST" in svg and "2026-11-11 01:30 CST" in svg
    assert "UTC" not in svg and "b&lt;1&gt;" in svg and "<1>" not in svg
    assert "2026-11-10 16:30 UTC" in ring_svg(["b2"], ["m1"], orders)  # no zone given: UTC
