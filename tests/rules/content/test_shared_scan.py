"""The content checks' one pass over the texts is made once per scan, however many threads the
scan runs its checks on (each thread has its own view of the tables, all one scan cache)."""

from __future__ import annotations

import datetime as dt
import json
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


def test_a_repeated_text_is_judged_by_each_rows_kind_and_category(tiny_store):
    """Rows repeating one text share its preparation and a check's decision on it, but only rows
    of the same kind and listing category: a disease claim is allowed on the medical device's
    listing and not on the food's, a price cut is TEXT006's in a livestream and not in a title;
    and every row keeps its own id, merchant and platform."""
    from tests.support import listing

    when = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
    claim = "电子理疗仪，用于缓解疼痛，辅助治疗颈椎病"
    cut = "最后3单，直降500，快抢"
    rows = [
        # text_id, kind, merchant, listing, content
        ("T1", "listing_description", "M1", "L1", claim),
        ("T2", "listing_description", "M2", "L2", claim),
        ("T3", "listing_description", "M3", "L3", claim),
        ("T4", "livestream", "M1", "L1", cut),
        ("T5", "listing_title", "M1", "L1", cut),
        ("T6", "livestream", "M3", "L3", cut),
    ]
    listings = [("L1", "M1", "P1", "food"), ("L2", "M2", "P1", "medical_device")]
    listings.append(("L3", "M3", "P2", "food"))
    con = tiny_store(
        {
            "platforms": [{"platform_id": p, "name": p} for p in ("P1", "P2")],
            "merchants": [
                {"merchant_id": m, "platform_id": p, "name": m} for _, m, p, _ in listings
            ],
            "listings": [listing(lid, m, p, cat) for lid, m, p, cat in listings],
            "texts": [
                {
                    "text_id": t,
                    "kind": k,
                    "merchant_id": m,
                    "listing_id": lid,
                    "created_at": when,
                    "lang": "zh",
                    "content": c,
                }
                for t, k, m, lid, c in rows
            ],
            "reviews": [
                {
                    "review_id": r,
                    "listing_id": lid,
                    "buyer_id": r,
                    "order_id": None,
                    "rating": 5,
                    "created_at": when,
                    "text": "商家说五星好评返5元，质量不错。",
                }
                for r, lid in (("R1", "L1"), ("R2", "L3"), ("R3", "L3"))
            ],
        }
    )
    f = run_check(con, ["TEXT002", "TEXT006", "REVIEW002"]).findings
    got = {
        (c, e): (m, p, json.loads(o)["matched"])
        for c, e, m, p, o in zip(
            f.check_code, f.entity_id, f.merchant_id, f.platform_id, f.observed, strict=True
        )
    }
    medical = got[("TEXT002", "T1")][2]
    assert medical and got[("TEXT002", "T3")] == ("M3", "P2", medical)
    assert got[("TEXT002", "T1")][:2] == ("M1", "P1")
    assert ("TEXT002", "T2") not in got  # the same text on the medical device's listing
    assert got[("TEXT006", "T4")][:2] == ("M1", "P1")
    assert got[("TEXT006", "T6")] == ("M3", "P2", got[("TEXT006", "T4")][2])
    assert ("TEXT006", "T5") not in got  # the same text in a title
    assert {e: got[("REVIEW002", e)][:2] for c, e in got if c == "REVIEW002"} == {
        "R1": ("M1", "P1"),
        "R2": ("M3", "P2"),
        "R3": ("M3", "P2"),
    }
