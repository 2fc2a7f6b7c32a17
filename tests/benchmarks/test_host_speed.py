"""benchmarks/_common.host_speed: the yardstick printed beside the benchmarks' figures.

Figures in seconds taken on different hosts are read together through it (the workplace's hosts
differ about twofold per core), so it must time the fixed work it names, each piece the best of
its repeats, and that work must be the same work on every host.
"""

from __future__ import annotations

import time

from tests.support import load_benchmark

common = load_benchmark("_common.py", "bench_common")


def test_it_times_each_piece_of_work_and_keeps_the_best_run(monkeypatch):
    # one run of each piece undisturbed, the others slow, in a different place for each piece:
    # the first, the last, the middle one and the mean are all 0.25 s or more; the best is not
    runs = {"py": [0.05, 1.0, 0.25], "db": [1.0, 0.25, 0.05]}

    def work(name):
        def run():
            time.sleep(runs[name].pop(0))

        return run

    monkeypatch.setattr(common, "_python_work", work("py"))
    monkeypatch.setattr(common, "_duckdb_work", work("db"))
    got = common.host_speed(repeat=3)
    assert set(got) == {"python_s", "duckdb_s"}
    # (0.15 s above the best: a loaded machine oversleeps by milliseconds)
    assert 0.05 <= got["python_s"] < 0.2
    assert 0.05 <= got["duckdb_s"] < 0.2
    assert runs == {"py": [], "db": []}  # each piece ran its three times


def test_the_work_is_fixed_and_done_in_full():
    # the loop reads its own last value at every step (nothing to skip or fold), and the
    # aggregate sums every generated row: results a shortened run would not give
    s = 0
    for i in range(1000):
        s += i ^ (s & 1023)
    assert common._python_work(1000) == s
    assert common._python_work(1000) != common._python_work(999)
    assert common._duckdb_work(1000) == common._duckdb_work(1000)
    assert common._duckdb_work(1000) != common._duckdb_work(999)
