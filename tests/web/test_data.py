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
        ("P1", {"merchant": "M1"}, "ix_web_cf_merchant_id"),
        ("P1", {"merchant": "M-none"}, "ix_web_cf_merchant_id"),
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


def _first_lines(plan: str) -> list[str]:
    return plan.splitlines()


@pytest.mark.parametrize("scope", [None, "P1"])
def test_a_state_filter_starts_from_few_cases_or_walks_many_findings(data, scope):
    # the states the scope's cases are in now (other tests move cases along)
    states = sorted({c["status"] for c in data.cases(scope, {}, None, 500)[0]})
    assert states
    for state in states:
        _state_plans(data, scope, state)


def _state_plans(data, scope, state):
    few = _plan(data, lambda: data.findings(scope, {"state": state}, None, 50))
    # few findings in such cases: from the cases of that state, their findings, one small sort
    assert _first_lines(few)[0].startswith("SEARCH cases USING INDEX ix_cases_status_priority"), few
    assert "SEARCH case_findings USING INDEX" in few, few
    rows_few, _ = data.findings(scope, {"state": state}, None, 50)
    data.STATE_SORT_LIMIT = 0  # as if the state's cases held more findings than that
    try:
        many = _plan(data, lambda: data.findings(scope, {"state": state}, None, 50))
        rows_many, _ = data.findings(scope, {"state": state}, None, 50)
    finally:
        del data.STATE_SORT_LIMIT
    # many: every finding newest first (an index walk, no sort), its case by key
    assert _first_lines(many)[0].startswith(("SCAN case_findings", "SEARCH case_findings")), many
    assert "TEMP B-TREE" not in many and "cases USING INTEGER PRIMARY KEY" in many, many
    # both plans give the same page
    assert rows_few and [r["finding_id"] for r in rows_few] == [r["finding_id"] for r in rows_many]
    assert {r["case_status"] for r in rows_few} == {state}


def test_a_state_no_case_is_in_answers_without_reading_findings(data):
    plan_calls: list[str] = []
    event.listen(
        data.db.engine,
        "before_cursor_execute",
        grab := lambda c, cur, st, p, ctx, em: plan_calls.append(st),  # noqa: ARG005
    )
    try:
        assert data.findings("P1", {"state": "no-such-state"}, None, 50) == ([], None)
    finally:
        event.remove(data.db.engine, "before_cursor_execute", grab)
    assert not [st for st in plan_calls if "FROM case_findings" in st]


@pytest.mark.parametrize("scope", [None, "P1"])
def test_a_family_is_one_index_walk_per_check_merged(data, scope):
    from promoguard.web import rules

    family = rules.family_of("PRICE001")
    statements: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "FROM case_findings" in statement:
            statements.append((statement, parameters))

    event.listen(data.db.engine, "before_cursor_execute", grab)
    try:
        rows, _ = data.findings(scope, {"family": family}, None, 3)
    finally:
        event.remove(data.db.engine, "before_cursor_execute", grab)
    codes = [c for c in rules.rule_pages() if rules.family_of(c) == family]
    assert len(statements) == len(codes) > 1
    with data.db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in statements:
            plan = "\n".join(
                r[-1] for r in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "TEMP B-TREE" not in plan and "_check_id" in plan, plan
    # the merged page is the family's newest findings, as one query over all of them would give
    everything = []
    for code in codes:
        everything += data.findings(scope, {"check": code}, None, 1000)[0]
    all_rows, _ = data.findings(scope, {"family": family}, None, 1000)
    assert {r["finding_id"] for r in all_rows} == {r["finding_id"] for r in everything}
    assert rows and all_rows[:3] == rows  # newest first across the checks, the same cut


def test_the_cache_computes_a_value_once_for_many_waiting_requests():
    import threading
    import time

    from promoguard.web.data import _TTLCache

    cache = _TTLCache(30)
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)  # a dashboard's aggregates: long enough for every thread to ask meanwhile
        return "value"

    got: list[str] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get("dashboard", slow))) for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == ["value"] * 20 and len(calls) == 1
    cache.clear()  # a write: the next request computes again
    assert cache.get("dashboard", slow) == "value" and len(calls) == 2


def test_dashboard_counts_match_the_findings_of_the_scope(data, cases_fx):
    for scope, platforms in ((None, ("P1", "P2")), ("P1", ("P1",))):
        d = data._dashboard(scope)
        expected = sum(len(cases_fx.ids[p]["finding_id"]) for p in platforms)
        assert d["totals"]["findings"] == expected
        assert sum(n for _, n in d["by_check"]) == expected
        assert sum(n for _, n in d["by_severity"]) == expected
