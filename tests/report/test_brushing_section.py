"""The brushing section of the HTML report: rings drawn as inline SVG in the pack's local time,
every value escaped."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from tests.rules.brushing.synth import brushing_world
from tests.support import make_store, run_check

from promoguard.report.sections import brushing as section
from promoguard.report.sections.brushing import ring_svg


@pytest.fixture(scope="module")
def brushing_con(tmp_path_factory):
    con = make_store(tmp_path_factory.mktemp("brush") / "s.duckdb", brushing_world().tables())
    yield con
    con.close()


def test_section_draws_each_ring_and_lists_velocity_shops(brushing_con):
    findings = run_check(brushing_con, "BRUSH001,BRUSH002,BRUSH003").findings
    html = section.render(brushing_con, findings)
    assert html.count('<figure class="ring"><svg') == 2  # BRUSH001 ring + BRUSH002 group
    assert "Order velocity (1 shops)" in html
    assert "<script" not in html


def test_ring_svg_escapes_ids_from_data():
    orders = pd.DataFrame(
        {"buyer_id": ["<b>x</b>"] * 2, "merchant_id": ["M&1"] * 2, "paid_s": [0, 3600]}
    )
    svg = section.ring_svg(["<b>x</b>"], ["M&1"], orders)
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "M&amp;1" in svg and "<b>" not in svg
    assert svg.count("<line") == 1 + 1 + 2  # one pair, the time axis, two order ticks


def test_section_is_silent_without_its_findings(brushing_con):
    assert section.render(brushing_con, pd.DataFrame(columns=["check_code"])) is None


def test_ring_strip_is_in_local_time_and_escaped():
    t0 = dt.datetime(2026, 11, 10, 16, 30, tzinfo=dt.UTC).timestamp()
    orders = pd.DataFrame(
        {"buyer_id": ["b<1>", "b2"], "merchant_id": ["m1", "m1"], "paid_s": [t0, t0 + 3600]}
    )
    svg = ring_svg(["b<1>", "b2"], ["m1"], orders, "Asia/Shanghai")
    assert "2026-11-11 00:30 CST" in svg and "2026-11-11 01:30 CST" in svg
    assert "UTC" not in svg and "b&lt;1&gt;" in svg and "<1>" not in svg
    assert "2026-11-10 16:30 UTC" in ring_svg(["b2"], ["m1"], orders)  # no zone given: UTC
