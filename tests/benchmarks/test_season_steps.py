"""benchmarks/season.py simulates a season only for the steps that read one.

A scan of an existing store (``--store S --steps scan``, the command docs/benchmarks.md gives for
the full scan) must not simulate a city season first (about 2 minutes and 4 GB under /tmp); ingest
and the increment still do when no season is there. The steps' work is recorded, not run.
"""

from __future__ import annotations

import json
import sys

import pytest
from tests.support import load_benchmark

bench = load_benchmark("season.py", "season_bench")


@pytest.fixture
def ran(monkeypatch, tmp_path):
    """The names of the functions the benchmark measured, in order (none of them runs)."""
    calls: list[str] = []
    common = sys.modules[bench.measure_full.__module__]

    def record(fn, *args):
        calls.append(fn.__name__)
        result = {"findings": 0, "per_check_s": {}, "parts_s": {}, "entities": {}, "found": 0}
        return common.Measurement(0.0, 0.0, 0, result)

    monkeypatch.setattr(bench, "measure_full", record)
    monkeypatch.setattr(bench, "host_speed", lambda: {"python_s": 1.0, "duckdb_s": 2.0})
    monkeypatch.setattr(bench, "CITY", tmp_path / "no-city")  # not this machine's /work/city
    return calls


def _main(monkeypatch, *argv: str) -> None:
    monkeypatch.setattr(sys, "argv", ["season.py", *argv])
    bench.main()


def test_a_scan_of_a_given_store_simulates_nothing(ran, monkeypatch, tmp_path):
    store = tmp_path / "city.duckdb"
    store.write_bytes(b"")  # only its existence is read before the (recorded) scan
    _main(monkeypatch, "--store", str(store), "--steps", "scan", "--work", str(tmp_path / "w"))
    assert ran == ["scan"]
    assert not (tmp_path / "w" / "season").exists()


def test_ingest_into_a_new_store_simulates_the_season_first(ran, monkeypatch, tmp_path):
    _main(monkeypatch, "--steps", "ingest", "--work", str(tmp_path / "w"), "--scale", "small")
    assert ran == ["simulate", "ingest_duckdb"]


def test_the_increment_simulates_the_season_it_splits(ran, monkeypatch, tmp_path):
    store = tmp_path / "city.duckdb"
    store.write_bytes(b"")
    work = tmp_path / "w"
    _main(monkeypatch, "--store", str(store), "--steps", "increment", "--work", str(work))
    assert ran[0] == "simulate" and "split_last_day" in ran


def test_the_host_speed_is_printed_before_any_step(ran, monkeypatch, tmp_path, capsys):
    store = tmp_path / "city.duckdb"
    store.write_bytes(b"")
    _main(monkeypatch, "--store", str(store), "--steps", "scan", "--work", str(tmp_path / "w"))
    first = capsys.readouterr().out.splitlines()[0]
    assert json.loads(first) == {"host_speed": {"python_s": 1.0, "duckdb_s": 2.0}}
