"""The content checks' one pass over the texts is made once per scan, however many threads the
scan runs its checks on (each thread has its own view of the tables, all one scan cache)."""

from __future__ import annotations

import threading

import ibis
from tests.support import run_check

from promoguard.engine import backends
from promoguard.engine.base import Tables
from promoguard.engine.cache import scan_cache
from promoguard.rules.content import _shared


def test_threads_of_one_scan_share_one_pass(content_con, monkeypatch):
    made = []
    real = _shared._Scan.__init__

    def counting(self, rules, rows):
        made.append(rows.num_rows)
        real(self, rules, rows)

    monkeypatch.setattr(_shared._Scan, "__init__", counting)
    tables = Tables(ibis.duckdb.from_connection(content_con))
    # one view (one cursor) per thread, as the engine gives each running check: a cursor is
    # not to be shared by two threads at once (DuckDB refuses a busy connection)
    with scan_cache(tables), backends.worker_tables(tables, 4) as views:
        got: list[object] = []
        start = threading.Barrier(4)

        def ask(view: Tables, what: str) -> None:
            start.wait()
            got.append((what, _shared._shared_scan(view, what, {})))

        threads = [
            threading.Thread(target=ask, args=(v, w))
            for v, w in zip(views, ("texts", "reviews", "texts", "reviews"), strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(got) == 4  # every thread answered (a thread that raised would be missing)
    assert len(made) == 2  # one pass over the texts, one over the reviews
    for what in ("texts", "reviews"):
        scans = {id(s) for w, s in got if w == what}
        assert len(scans) == 1


def test_a_scan_on_two_threads_finds_what_one_thread_finds(content_con, monkeypatch):
    codes = ["REVIEW002", "TEXT001", "TEXT003", "TEXT004", "TEXT005", "TEXT006"]
    cols = ["finding_id", "severity", "evidence_sha256"]
    monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", "1")
    one = run_check(content_con, codes).findings[cols].sort_values("finding_id")
    monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", "2")
    two = run_check(content_con, codes).findings[cols].sort_values("finding_id")
    assert len(one) > 10
    assert one.reset_index(drop=True).equals(two.reset_index(drop=True))
