"""The simulator's truth for the eu, uk and us packs, and `evaluate` scoring a scan against it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from promoguard.cli import app
from promoguard.simulate import calendar as cal
from promoguard.simulate.inject_pricing import NA
from promoguard.simulate.pack_truth import PACKS, offered_prior, pack_rules


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
    assert list(prior) == [8000, 700, NA]  # the 40-day-old 50.00 is outside the window
    # progressive: the price only fell in the window; the prior is taken before the first cut
    rows = [(0, _day(k), 10000) for k in range(60, 25, -1)] + [
        (0, _day(20), 9000),
        (0, _day(10), 8000),
    ]
    prog = offered_prior(1, _obs(rows), {**params, "progressive": True})
    assert prog[0] == 10000
    assert offered_prior(1, _obs(rows), params)[0] == 8000


def test_established_offered_needs_28_days():
    params = {"prior_rule": "established_offered", "lookback_days": 90, "min_days_offered": 28}
    long = [(0, _day(k), 12000) for k in range(80, 50, -1)]  # 30 days at 120.00
    short = [(0, _day(k), 15000) for k in range(10, 0, -1)]  # 10 days at 150.00
    assert offered_prior(1, _obs(long + short), params)[0] == 12000
    assert offered_prior(1, _obs(short), params)[0] == 15000  # none established: the lowest


def test_eu_scan_is_scored_against_eu_truth(season_store_copy, season_dir, tmp_path):
    runner = CliRunner()
    done = runner.invoke(app, ["scan", "--store", str(season_store_copy), "--pack", "eu", "--json"])
    assert done.exit_code == 0, done.output
    scored = runner.invoke(
        app,
        ["evaluate", "--store", str(season_store_copy), "--truth",
         str(season_dir / "ground_truth.csv"), "--json"],
    )  # fmt: skip
    data = json.loads(scored.stdout)
    assert data["pack"] == "eu" and data["truth"].endswith("ground_truth_eu.csv")
    assert data["micro"]["precision"] > 0.95 and data["micro"]["recall"] > 0.95
    # without the eu file beside it, cn truth is refused with the reason
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(season_dir / "ground_truth.csv", alone / "ground_truth.csv")
    refused = runner.invoke(
        app,
        ["evaluate", "--store", str(season_store_copy), "--truth",
         str(alone / "ground_truth.csv"), "--json"],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "labels pack(s) cn, not eu" in json.loads(refused.stdout)["error"]
