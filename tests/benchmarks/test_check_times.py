"""benchmarks/check_times.py: one check at a time on a store, this tree beside a baseline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "check_times.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow  # two fresh processes importing the engine
def test_a_check_is_timed_on_both_trees_with_the_same_findings(season_store, tmp_path):
    # the baseline is this tree itself: the two rows must agree on what the check found
    out = _run(
        "--store",
        str(season_store),
        "--codes",
        "PRICE001",
        "--baseline",
        str(ROOT),
        "--modes",
        "find",
        "--profile",
        str(tmp_path / "prof"),
    )
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("PRICE001")]
    assert [r[2] for r in rows] == ["this", "baseline"]
    assert rows[0][3] == rows[1][3] and int(rows[0][3].replace(",", "")) > 0
    assert sorted(p.name for p in (tmp_path / "prof").iterdir()) == [
        "PRICE001-baseline-0.json",
        "PRICE001-this-0.json",
    ]


def test_a_missing_store_or_baseline_is_one_line(tmp_path):
    out = _run("--store", str(tmp_path / "no.duckdb"), "--codes", "X", "--baseline", ".")
    assert (
        out.returncode != 0
        and out.stderr.strip() == f"check_times: no store at {tmp_path / 'no.duckdb'}"
    )
    store = tmp_path / "s.duckdb"
    store.write_bytes(b"")
    out = _run("--store", str(store), "--codes", "X", "--baseline", str(tmp_path))
    assert out.returncode != 0 and "holds no src/promoguard" in out.stderr.strip()
