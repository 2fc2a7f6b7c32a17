"""The simulator's truth for the eu, uk and us packs, and `evaluate` scoring a scan against it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from promoguard.cli import app
from promoguard.simulate import calendar as cal
from promoguard.simulate.inject_pricing import NA
from promoguard.simulate.pack_truth import (
    PACKS,
    offered_prior,
    pack_rules,
    prize_disclosure_labels,
)


def _truth(season_dir, pack: str) -> pd.DataFrame:
    name = "ground_truth.csv" if pack == "cn" else f"ground_truth_{pack}.csv"
    return pd.read_csv(season_dir / name, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("pack", PACKS)
def test_every_pack_has_its_truth_file_with_the_spec_columns(season_dir, pack):
    t = _truth(season_dir, pack)
    assert list(t.columns) == ["check_code", "entity_type", "entity_id", "pack"]
    assert set(t.pack) == {pack} and len(t) > 1000
    enabled, _params = pack_rules(pack)
    assert set(t.check_code) <= enabled
    assert "TEXT004" not in set(t.check_code)  # the off-platform lure rule is cn's only


def test_cn_truth_file_is_still_cn_only(season_dir):
    t = _truth(season_dir, "cn")
    assert set(t.pack) == {"cn"} and "TEXT004" in set(t.check_code)


def test_rules_that_differ_give_different_truth(season_dir):
    cn, eu, us = (_truth(season_dir, p) for p in ("cn", "eu", "us"))

    def ids(t, code):
        return set(t[t.check_code == code].entity_id)

    assert ids(eu, "PRICE001") != ids(cn, "PRICE001")  # 30-day lowest offered vs 7-day transacted
    assert ids(us, "PRICE001") != ids(eu, "PRICE001")  # established over 90 days
    assert ids(eu, "SHIP003") < ids(cn, "SHIP003")  # 30 days to dispatch, not 48 hours
    assert ids(eu, "BRUSH001") == ids(cn, "BRUSH001")  # same rule, same truth


def _obs(rows):
    listing, t, price = zip(*rows, strict=True)
    return {
        "listing": np.array(listing),
        "observed_at": np.array(t, dtype=np.int64),
        "price": np.array(price, dtype=np.int64),
        "channel": np.array(["detail"] * len(rows), dtype=object),
    }


def _day(k: int) -> int:
    """An instant k days before the promotion starts (10:00 Beijing, as the crawler's)."""
    return cal.D11_START - k * cal.DAY + 10 * cal.HOUR


def test_lowest_offered_in_30_days_and_progressive_reductions():
    params = {"prior_rule": "lowest_offered", "lookback_days": 30, "progressive": False}
    obs = _obs([(0, _day(40), 5000), (0, _day(20), 9000), (0, _day(5), 8000), (1, _day(3), 700)])
    prior = offered_prior(3, obs, params)
    # the 40-day-old 50.00 was still in force when the window opened 30 days before (Art. 6a(2):
    # the price *applied* in the period, not only the prices observed in it)
    assert list(prior) == [5000, 700, NA]
    rows = [(0, _day(k), 10000) for k in range(60, 25, -1)] + [
        (0, _day(20), 9000),
        (0, _day(10), 8000),
    ]
    # ordinary (unannounced) cuts are prices applied, progressive or not
    assert offered_prior(1, _obs(rows), {**params, "progressive": True})[0] == 8000
    assert offered_prior(1, _obs(rows), params)[0] == 8000


def _announced(rows, refs):
    obs = _obs(rows)
    obs["reference_price"] = np.array(refs, dtype=np.int64)
    obs["reference_label"] = np.array(["was"] * len(rows), dtype=object)
    return obs


def test_progressive_only_for_successive_announced_reductions_the_promotion_continues():
    params = {"prior_rule": "lowest_offered", "lookback_days": 30, "progressive": True}
    before = [(0, _day(k), 10000) for k in range(60, 20, -1)]
    campaign = [(0, _day(20), 9000), (0, _day(10), 8000)]
    promo = [(0, cal.D11_START + cal.HOUR, 7000)]
    rows = before + campaign + promo
    refs = [NA] * len(before) + [10000, 10000, 10000]
    assert offered_prior(1, _announced(rows, refs), params)[0] == 10000  # Art. 6a(5)
    assert offered_prior(1, _announced(rows, refs), {**params, "progressive": False})[0] == 8000
    # the promotion price does not continue the decline: no progressive campaign
    up = before + campaign + [(0, cal.D11_START + cal.HOUR, 8500)]
    assert offered_prior(1, _announced(up, refs), params)[0] == 8000
    # a manufacturer's price shown as the reference is no announced reduction
    rrp = _announced(rows, refs)
    rrp["reference_label"] = np.array(["RRP"] * len(rows), dtype=object)
    assert offered_prior(1, rrp, {**params, "msrp_labels": ["RRP"]})[0] == 8000


def test_the_period_counts_calendar_days_in_the_packs_zone():
    """30 calendar days before a reduction on 11-10 (Brussels) open at 2026-10-11 00:00 CEST,
    i.e. 10-10 22:00 UTC: a price set at 21:00 UTC is still in force when the window opens and
    counts; a price set before it and replaced by then does not."""
    params = {"prior_rule": "lowest_offered", "lookback_days": 30, "progressive": False}
    opens = cal.utc("2026-10-10T22:00:00")
    rows = [
        (0, opens - 5 * cal.DAY, 3000),
        (0, opens - cal.HOUR, 9000),
        (0, opens + cal.HOUR, 9500),
    ]
    assert offered_prior(1, _obs(rows), params, "Europe/Brussels")[0] == 9000
    # counted in UTC the window opens two hours later, when 95.00 has replaced it
    assert offered_prior(1, _obs(rows), params, "UTC")[0] == 9500
    early = [(0, opens - 5 * cal.DAY, 3000), (0, opens + cal.HOUR, 9500)]
    assert offered_prior(1, _obs(early), params, "Europe/Brussels")[0] == 3000  # in force at 22:00


def test_established_offered_needs_28_days():
    params = {"prior_rule": "established_offered", "lookback_days": 90, "min_days_offered": 28}
    long = [(0, _day(k), 12000) for k in range(80, 50, -1)]  # 30 days at 120.00
    short = [(0, _day(k), 15000) for k in range(10, 0, -1)]  # 10 days at 150.00
    assert offered_prior(1, _obs(long + short), params)[0] == 12000
    assert offered_prior(1, _obs(short), params)[0] == 15000  # none established: the lowest


def test_established_counts_every_local_day_a_price_was_in_force():
    """A price set at 02:00 UTC on 10-15 is in force on 10-14 in New York (22:00 EDT) and on the
    promotion's own day until it starts: 28 calendar days, established (simulated L000000375)."""
    params = {"prior_rule": "established_offered", "lookback_days": 90, "min_days_offered": 28}
    rows = [(0, cal.utc("2026-09-05T02:00:00"), 3900), (0, cal.utc("2026-10-15T02:00:00"), 4370)]
    assert offered_prior(1, _obs(rows), params, "America/New_York")[0] == 4370
    assert offered_prior(1, _obs(rows), params, "Asia/Shanghai")[0] == 4370
    later = [rows[0], (0, cal.utc("2026-10-16T02:00:00"), 4370)]  # 27 days in New York
    assert offered_prior(1, _obs(later), params, "America/New_York")[0] == 3900


def test_prize_disclosures_are_judged_by_the_packs_own_list():
    games = {
        "prize_promotion_id": np.array(["G1", "G2", "G3"], dtype=object),
        "disclosed_items": np.array(
            ["conditions; METHOD；prize_kinds;draw_time;draw_method;organiser;contact", None,
             "conditions;method"], dtype=object,
        ),
    }  # fmt: skip
    seven = pack_rules("eu")[1]["PRIZE002"]["required_items"]
    assert prize_disclosure_labels(games, seven) == ["G2", "G3"]
    assert prize_disclosure_labels(games, [*seven, "odds"]) == ["G1", "G2", "G3"]


@pytest.fixture(scope="module")
def scored(season_store, season_dir, tmp_path_factory) -> tuple[dict[str, dict], Path]:
    """Each pack's full scan of the season, scored against the season's truth as the command line
    does it: ({pack: evaluate's JSON}, a store whose latest scan is the eu one). One scan per pack
    serves both tests below."""
    runner = CliRunner()
    work = tmp_path_factory.mktemp("pack-truth")
    store = work / "season.duckdb"
    shutil.copy(season_store, store)
    truth = str(season_dir / "ground_truth.csv")
    data, eu_store = {}, work / "eu.duckdb"
    for pack in PACKS:
        # (the human table, as a bureau reads it: --json is not asked for)
        done = runner.invoke(app, ["scan", "--store", str(store), "--pack", pack])
        assert done.exit_code == 0, done.output
        graded = runner.invoke(app, ["evaluate", "--store", str(store), "--truth", truth, "--json"])
        data[pack] = json.loads(graded.stdout)
        if pack == "eu":
            shutil.copy(store, eu_store)
    return data, eu_store


def test_pricing_and_prizes_score_exactly_against_their_own_pack_truth(scored):
    """The truth is labelled from each pack's parameters and the law's definitions (independent
    of the rules' code); the rules find exactly it for every price and prize code."""
    for pack in PACKS:
        data = scored[0][pack]
        assert data["pack"] == pack
        rows = {r["check_code"]: r for r in data["checks"]}
        for code in ("PRICE001", "PRICE002", "PRICE003", "PRICE005", "PRIZE002", "LIC001"):
            if code in rows and rows[code]["truth"]:
                assert (rows[code]["fp"], rows[code]["fn"]) == (0, 0), (pack, rows[code])


def test_eu_scan_is_scored_against_eu_truth(scored, season_dir, tmp_path):
    runner = CliRunner()
    data, eu_store = scored[0]["eu"], scored[1]
    assert data["pack"] == "eu" and data["truth"].endswith("ground_truth_eu.csv")
    assert data["micro"]["precision"] > 0.95 and data["micro"]["recall"] > 0.95
    # without the eu file beside it, cn truth is refused with the reason
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(season_dir / "ground_truth.csv", alone / "ground_truth.csv")
    refused = runner.invoke(
        app,
        ["evaluate", "--store", str(eu_store), "--truth",
         str(alone / "ground_truth.csv"), "--json"],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "labels pack(s) cn, not eu" in json.loads(refused.stdout)["error"]
