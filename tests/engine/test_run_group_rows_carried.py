"""Group evidence rows written straight into the documents (GroupRows), with some found rows
carried (``_freeze_findings``'s ``carried``: the kept-evidence path, ``_Fill.take(rebuilt)`` and
the runs' permutation): every proved row's hash and document are the ones a freeze of all rows
gives (review 11: no production check reaches this path yet)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from tests.engine.test_run import MerchantAndBuyerOrdersOnce, con, group_con  # noqa: F401

from promoguard.engine import run
from promoguard.engine.backends import duckdb_tables
from promoguard.engine.packs import load_pack
from promoguard.engine.run import run_checks


def test_carried_rows_beside_group_fills(group_con, monkeypatch):  # noqa: F811
    real = run._freeze_findings
    seen: list = []

    def spy(check, pack, params, found, ev, scan_id, detected_at, carried=None, heads=None):
        full = real(check, pack, params, found, ev, scan_id, detected_at, None, heads)
        n = found.num_rows
        for keep in (0, 1):
            mark = [("c" * 64 if i % 2 == keep else None) for i in range(n)]
            part = real(
                check,
                pack,
                params,
                found,
                ev,
                scan_id,
                detected_at,
                pa.array(mark, pa.string()),
                heads,
            )
            want = full[0].column("evidence_sha256").to_pylist()
            got = part[0].column("evidence_sha256").to_pylist()
            docs_full = dict(
                zip(*(full[1].column(c).to_pylist() for c in full[1].column_names), strict=True)
            )
            docs_part = dict(
                zip(*(part[1].column(c).to_pylist() for c in part[1].column_names), strict=True)
            )
            seen.append(n)
            assert got == [m or w for m, w in zip(mark, want, strict=True)]
            # a document for every row proved (none for a carried one), each a full freeze's
            assert set(docs_part) == {w for m, w in zip(mark, want, strict=True) if m is None}
            assert all(docs_full[s] == d for s, d in docs_part.items())
        return full

    monkeypatch.setattr(run, "_freeze_findings", spy)
    monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", "1")
    with duckdb_tables(group_con) as tables:
        run_checks(
            tables,
            [MerchantAndBuyerOrdersOnce()],
            load_pack("cn"),
            engine="duckdb",
            scan_id="s",
            detected_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
        )
    assert seen and max(seen) >= 2
