"""The data layer's reads at scale: every findings page walks an index newest first, no sort.

Timing is for ``benchmarks/web_load.py``; what a test can hold is the plan. SQLite's ``EXPLAIN
QUERY PLAN`` of the exact statement a page runs must search an index on the filter (for a platform
officer: the platform and the filter) and must not sort (``USE TEMP B-TREE FOR ORDER BY``): a sort,
or an index on the filter alone, is what made a platform officer's first findings page under a
severity filter cost 315 ms at city scale, walking past every other platform's newer findings.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from promoguard.web.data import WebData


@pytest.fixture(scope="module")
def data(cases_fx):
    d = WebData(cases_fx.db_url)
    yield d
    d.db.dispose()


def _plan(data: WebData, call) -> str:
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "FROM case_findings" in statement:
            seen.append((statement, parameters))

    event.listen(data.db.engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        event.remove(data.db.engine, "before_cursor_execute", grab)
    assert seen, "the call ran no findings query"
    statement, parameters = seen[-1]
    with data.db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
    return "\n".join(r[-1] for r in rows)


@pytest.mark.parametrize(
    ("scope", "filters", "index"),
    [
        (None, {}, None),
        (None, {"severity": "high"}, "ix_web_cf_severity_id"),
        (None, {"check": "PRICE001"}, "ix_web_cf_check_id"),
        (None, {"platform": "P1"}, "ix_web_cf_platform_id"),
        (None, {"merchant": "M1"}, "ix_web_cf_merchant_id"),
        ("P1", {}, "ix_web_cf_platform_id"),
        ("P1", {"severity": "high"}, "ix_web_cf_platform_severity_id"),
        ("P1", {"check": "PRICE001"}, "ix_web_cf_platform_check_id"),
    ],
)
def test_findings_pages_walk_an_index_in_order(data, scope, filters, index):
    plan = _plan(data, lambda: data.findings(scope, filters, None, 50))
    assert "TEMP B-TREE" not in plan, plan
    if index:
        assert f"USING INDEX {index} " in plan, plan
    # the next page (keyset cursor) takes the same path
    plan_next = _plan(data, lambda: data.findings(scope, filters, "999999", 50))
    assert "TEMP B-TREE" not in plan_next, plan_next


def test_a_finding_is_found_by_its_index(data, cases_fx):
    fid = cases_fx.ids["P1"]["finding_id"][0]
    plan = _plan(data, lambda: data.finding(None, fid))
    assert "ix_web_cf_finding_id" in plan, plan
