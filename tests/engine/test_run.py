"""The engine turns a check's found rows into findings the same way on DuckDB and Spark."""

import datetime as dt

import ibis
import pytest
from tests import spark_env

from promoguard import store
from promoguard.engine import evidence as ev
from promoguard.engine.backends import duckdb_tables, spark_tables
from promoguard.engine.base import Check, CheckDoc, Parameter
from promoguard.engine.packs import load_pack
from promoguard.engine.run import finding_id, run_checks


class ExpensiveOrders(Check):
    """A toy relational check: orders whose unit price is above a threshold."""

    code = "TOY001"
    name = "expensive-order"
    title = "Order above a price"
    family = "toy"
    entity_type = "order"
    parameters = (Parameter("above", 100, "price threshold"),)
    doc = CheckDoc("flags orders", "none", "an order at 120")
    observed_columns = ("unit_price",)
    expected_columns = ("above",)

    def find(self, tables, params, ctx):
        o = tables.orders
        return o.filter(o.unit_price > params["above"]).select(
            entity_id=o.order_id,
            merchant_id=o.merchant_id,
            platform_id=ibis.literal("p1"),
            unit_price=o.unit_price,
            above=ibis.literal(params["above"]),
        )

    def evidence(self, tables, found, params, ctx):
        o = tables.orders
        rows = found.join(o, found.entity_id == o.order_id).select(
            found.entity_id, o.order_id, o.unit_price, o.paid_at
        )
        return {"order": rows}


@pytest.fixture
def con(tmp_path):
    c = store.connect(tmp_path / "s.duckdb")
    c.execute(
        """INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price,
        paid_at, status) VALUES
        ('o1','l1','m1','b1',1,120.10,'2026-11-11 00:00:00+08','paid'),
        ('o2','l1','m1','b2',1,99.99,'2026-11-11 00:00:00+08','paid'),
        ('o3','l2','m2','b1',2,1299.00,'2026-11-11 01:00:00+08','paid')"""
    )
    yield c
    c.close()


def _run(tables, engine, checks=None):
    pack = load_pack("cn")
    when = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    return run_checks(
        tables, checks or [ExpensiveOrders()], pack, engine=engine, scan_id="s", detected_at=when
    )


def test_duckdb_findings_carry_ids_observed_and_hashed_evidence(con):
    with duckdb_tables(con) as tables:
        result = _run(tables, "duckdb")
    f = result.findings.sort_values("entity_id")
    assert list(f.entity_id) == ["o1", "o3"]
    assert list(f.observed) == ['{"unit_price":"120.10"}', '{"unit_price":"1299.00"}']
    params = {"above": 100}
    assert f.finding_id.iloc[0] == finding_id("cn", ExpensiveOrders(), "o1", params)
    # (compared with finding_id itself, the id must still name what it is stable over: the
    # same entity under another parameter value, pack or entity type is another finding)
    others = {
        finding_id("cn", ExpensiveOrders(), "o1", {"above": 50}),
        finding_id("eu", ExpensiveOrders(), "o1", params),
        finding_id("cn", ExpensiveOrders(), "o1", params, entity_type="merchant"),
        f.finding_id.iloc[1],
    }
    assert len(others) == 4 and f.finding_id.iloc[0] not in others
    doc = result.evidence[f.evidence_sha256.iloc[0]]
    sha, text = ev.freeze(__import__("json").loads(doc))
    assert sha == f.evidence_sha256.iloc[0] and text == doc
    assert '"paid_at":"2026-11-10T16:00:00Z"' in doc


def test_read_evidence_detects_tampering(con):
    sha, text = ev.freeze({"a": 1})
    con.execute("INSERT INTO evidence VALUES (?, ?)", [sha, text])
    assert ev.read_evidence(con, sha) == {"a": 1}
    con.execute("UPDATE evidence SET document = '{\"a\":2}'")
    with pytest.raises(ValueError, match="corrupt"):
        ev.read_evidence(con, sha)


@pytest.mark.spark
def test_spark_gives_the_same_findings_and_evidence(con):
    with duckdb_tables(con) as tables:
        duck = _run(tables, "duckdb")
    with spark_tables(con, spark_env.MASTER) as tables:
        spark = _run(tables, "spark")
    cols = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]
    a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    assert a.equals(b), (a, b)


def test_half_up_ratio_rounds_exact_integers_half_up():
    from promoguard.engine.exact import half_up_ratio

    t = ibis.memtable({"num": [1, 3, 181746, 5, 0], "den": [8, 8, 3600, 3, 7]})
    got = t.select(r=half_up_ratio(t.num, t.den, 100)).to_pyarrow()["r"].to_pylist()
    # 12.5 -> 13, 37.5 -> 38, 50.485 h -> 50.49 (a float .round(2) may give 50.48), 166.67, 0
    assert got == [13, 38, 5049, 167, 0]


# -- evidence canonicalised in Arrow ---------------------------------------------------------------


def _edge_table():
    import decimal

    import pyarrow as pa

    utc = dt.UTC
    instants = [
        dt.datetime(2026, 11, 11, 0, 5, 0, tzinfo=utc),  # whole seconds
        dt.datetime(2026, 11, 11, 0, 5, 0, 500000, tzinfo=utc),  # a half second
        dt.datetime(2026, 11, 11, 0, 5, 0, 120, tzinfo=utc),  # microseconds
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=utc),  # before 1970
        dt.datetime(1900, 1, 1, tzinfo=utc),
        None,
        dt.datetime(2000, 2, 29, 12, 0, 0, 100000, tzinfo=utc),
    ]
    dec = decimal.Decimal
    return pa.table(
        {
            "entity_id": ["b", "a", "b", "a", "c", "c", "a"],
            "at": pa.array(instants, pa.timestamp("us", tz="UTC")),
            "naive_ns": pa.array(
                [i and i.replace(tzinfo=None) for i in instants], pa.timestamp("ns")
            ),
            "price": pa.array(
                [
                    dec("5.00"),
                    dec("-0.50"),
                    dec("0.05"),
                    None,
                    dec("0.00"),
                    dec("1e3"),
                    dec("9.90"),
                ],
                pa.decimal128(18, 2),
            ),
            "ratio": [1.0, 0.1 + 0.2, None, float("nan"), -2.5, 1e20, 1 / 3],
            "day": pa.array(
                [dt.date(2026, 11, 11), None, dt.date(1969, 1, 1)] * 2 + [dt.date(2000, 1, 1)],
                pa.date32(),
            ),
            "n": [3, 1, None, 2, 2, 0, -1],
            "ok": [True, False, None, True, True, False, True],
            "city": ["上海", "", None, "北京", "a", "b", "c"],
            "tags": [["x"], [], None, ["y", "z"], ["x"], ["a"], ["b"]],
        }
    )


def test_canonical_groups_equal_canonical_value_cell_by_cell():
    table = _edge_table()
    groups = ev.canonical_groups(table)
    expected: dict[str, list] = {}
    for row in table.to_pylist():
        expected.setdefault(row["entity_id"], []).append(ev.canonical_value(row))
    assert set(groups) == set(expected)
    for entity, rows in groups.items():
        # the same canonical rows (as a multiset), now in the canonical order
        key = lambda r: ev.canonical_json(r)  # noqa: E731
        assert sorted(rows, key=key) == sorted(expected[entity], key=key)
    # spot checks of the exact texts
    a = groups["a"]
    assert {r["at"] for r in groups["b"]} == {"2026-11-11T00:05:00Z", "2026-11-11T00:05:00.00012Z"}
    assert {r["at"] for r in groups["c"]} == {"1900-01-01T00:00:00Z", None}
    assert "1969-12-31T23:59:59.999999Z" in {r["at"] for r in a}
    assert {r["price"] for r in groups["c"]} == {"0.00", "1000.00"}


def test_canonical_order_is_by_sorted_column_names_and_ignores_input_order():
    import pyarrow as pa

    table = _edge_table()
    groups = ev.canonical_groups(table)
    # columns other than entity_id by name: at, city, day, n, naive_ns, ok, price, ratio, tags;
    # `at` decides here: nulls first, then by instant
    assert [r["at"] for r in groups["a"]] == [
        "1969-12-31T23:59:59.999999Z",
        "2000-02-29T12:00:00.1Z",
        "2026-11-11T00:05:00.5Z",
    ]
    assert [r["at"] for r in groups["c"]] == [None, "1900-01-01T00:00:00Z"]
    reversed_table = table.take(pa.array(range(table.num_rows - 1, -1, -1)))
    shuffled = ev.canonical_groups(
        pa.Table.from_batches(reversed_table.to_batches(max_chunksize=2))
    )
    assert shuffled == groups
    ties = pa.table({"entity_id": ["e"] * 4, "b": [2, 1, 1, None], "a": ["x", "y", "x", "x"]})
    assert [(r["a"], r["b"]) for r in ev.canonical_groups(ties)["e"]] == [
        ("x", None),
        ("x", 1),
        ("x", 2),
        ("y", 1),
    ]


def test_freeze_canonical_gives_the_bytes_freeze_gives():
    doc = {"rows": ev.canonical_groups(_edge_table()), "p": {"x": 1.5}, "when": "2026-11-11Z"}
    assert ev.freeze_canonical(ev.canonical_value(doc)) == ev.freeze(doc)


class _SharingCheck(ExpensiveOrders):
    """Two toy checks reading one shared relation; evidence records what the scan had found."""

    builds: list[str] = []
    seen_found: list[set[str]] = []

    def find(self, tables, params, ctx):
        from promoguard.engine.cache import shared

        def build():
            type(self).builds.append(self.code)
            o = tables.orders
            return o.filter(o.unit_price > 100)

        rel = shared(tables, ("expensive",), build)
        return rel.select(
            entity_id=rel.order_id,
            merchant_id=rel.merchant_id,
            platform_id=ibis.literal("p1"),
            unit_price=rel.unit_price,
            above=ibis.literal(params["above"]),
        )

    def evidence(self, tables, found, params, ctx):
        from promoguard.engine.cache import found_entities

        type(self).seen_found.append(set(found_entities(tables, "order") or {}))
        return super().evidence(tables, found, params, ctx)


class _SharingA(_SharingCheck):
    code = "TOY002"


class _SharingB(_SharingCheck):
    code = "TOY003"


def test_a_shared_relation_is_built_once_per_scan_and_dropped_after(con):
    from promoguard.engine.cache import shared

    _SharingCheck.builds, _SharingCheck.seen_found = [], []
    pack = load_pack("cn")
    when = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    with duckdb_tables(con) as tables:
        result = run_checks(
            tables,
            [_SharingA(), _SharingB()],
            pack,
            engine="duckdb",
            scan_id="s",
            detected_at=when,
        )
        assert _SharingCheck.builds == ["TOY002"]  # TOY003 read TOY002's temporary table
        # every finder ran before any evidence: both saw both checks' found rows
        assert _SharingCheck.seen_found == [{"TOY002", "TOY003"}] * 2
        left = con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        assert left == []
        # (the relation was kept in the scan's attached database: it went with it)
        attached = con.sql("SELECT database_name FROM duckdb_databases()").fetchall()
        assert not [n for (n,) in attached if n.startswith("_promoguard_scan")]
        # outside a scan the relation is just the expression, built on every call
        calls = []
        shared(tables, ("expensive",), lambda: calls.append(1) or tables.orders)
        shared(tables, ("expensive",), lambda: calls.append(1) or tables.orders)
        assert len(calls) == 2
    f = result.findings.sort_values(["check_code", "entity_id"])
    assert list(zip(f.check_code, f.entity_id, strict=True)) == [
        ("TOY002", "o1"),
        ("TOY002", "o3"),
        ("TOY003", "o1"),
        ("TOY003", "o3"),
    ]


# -- evidence written as canonical JSON column by column -------------------------------------------


def _strings_table():
    import pyarrow as pa

    return pa.table(
        {
            "entity_id": ["x", "x", "y", "y", "z"],
            # quotes, backslashes, control characters json escapes, CJK, U+2028, DEL, empty
            "s": ['a"b\\c', "tab\there\nand\x01", None, "上海\u2028é", ""],
            "k": pa.array([2, 1, None, 3, 0], pa.int16()),
            "b": [True, None, False, True, False],
            "nothing": pa.array([None] * 5, pa.null()),
            'odd "key"': ["\x7f", "\\", "\b\f\r", "}", "{"],
        }
    )


@pytest.mark.parametrize("make", [_edge_table, _strings_table])
def test_canonical_json_groups_are_the_bytes_json_dumps_gives(make):
    import pyarrow as pa

    table = make()
    dumps = ev._dumps
    groups = ev.canonical_groups(table)
    texts = ev.canonical_json_groups(table)
    assert texts == {g: dumps(rows) for g, rows in groups.items()}
    # whatever order and chunks the engine returned the rows in
    backwards = table.take(pa.array(range(table.num_rows - 1, -1, -1)))
    assert ev.canonical_json_groups(pa.Table.from_batches(backwards.to_batches(2))) == texts
    # one object per row, over all columns or a subset, keys sorted
    rows = table.to_pylist()
    assert ev.json_objects(table).to_pylist() == [dumps(ev.canonical_value(r)) for r in rows]
    some = sorted(table.column_names)[::-1][:2]
    assert ev.json_objects(table, some).to_pylist() == [
        dumps({c: ev.canonical_value(r[c]) for c in some}) for r in rows
    ]
    assert ev.json_objects(table, []).to_pylist() == ["{}"] * table.num_rows


def test_evidence_groups_are_runs_of_the_sorted_rows_whatever_the_chunks_and_nulls():
    """Groups are cut where the sorted group changes: a null group is one group, chunk
    boundaries cut nothing, and one row or none still gives the same bytes."""
    import pyarrow as pa

    table = pa.table(
        {
            "entity_id": [None, "b", None, "a", "b", "a", "c"],
            "x": [3, 1, 2, None, 0, 5, 1],
            "s": ["q", None, "z", "y", "上", "a", "b"],
        }
    )
    for chunked in (table, pa.Table.from_batches(table.to_batches(max_chunksize=3))):
        want = {g: ev._dumps(rows) for g, rows in ev.canonical_groups(chunked).items()}
        assert ev.canonical_json_groups(chunked) == want and None in want
    assert ev.canonical_json_groups(table.slice(3, 1)) == {
        "a": '[{"entity_id":"a","s":"y","x":null}]'
    }
    assert ev.canonical_json_group_table(table.slice(0, 0)).num_rows == 0


@pytest.mark.parametrize("spill_bytes", [0, 2**30])
def test_frozen_evidence_is_a_mapping_held_or_spilled_to_disk(tmp_path, spill_bytes):
    import pathlib

    import pyarrow as pa

    docs = ev.FrozenEvidence(spill_bytes=spill_bytes)
    docs.add(pa.table({"evidence_sha256": ["a", "b"], "document": ['{"x":1}', '{"上":2}']}))
    docs.add(pa.table({"evidence_sha256": ["c"], "document": ["{}"]}))
    files, memory = docs.parts()
    # spill_bytes 0: every check's documents went to a Parquet file in a private folder
    assert (len(files), memory.num_rows) == ((2, 0) if spill_bytes == 0 else (0, 3))
    for f in files:
        assert pathlib.Path(f).parent.stat().st_mode & 0o077 == 0
    assert dict(docs) == {"a": '{"x":1}', "b": '{"上":2}', "c": "{}"} and len(docs) == 3
    assert docs["c"] == "{}" and "d" not in docs
    assert docs.to_arrow().to_pydict()["evidence_sha256"] == ["a", "b", "c"]
    # the store writes them from the files and Arrow, each document it lacks once
    con = store.connect(tmp_path / "s.duckdb")
    con.execute("INSERT INTO evidence VALUES ('a', '{\"x\":1}')")
    store._insert_evidence(con, docs)
    assert con.execute("SELECT * FROM evidence ORDER BY 1").fetchall() == [
        ("a", '{"x":1}'),
        ("b", '{"上":2}'),
        ("c", "{}"),
    ]
    con.close()


def test_frozen_evidence_keeps_one_row_per_document():
    import pyarrow as pa

    docs = ev.FrozenEvidence()
    docs.add(pa.table({"evidence_sha256": ["a", "b"], "document": ["{1}", "{2}"]}))
    docs.add(pa.table({"evidence_sha256": ["b"], "document": ["{2}"]}))
    assert docs.to_arrow().to_pydict() == {
        "evidence_sha256": ["a", "b"],
        "document": ["{1}", "{2}"],
    }
    assert ev.FrozenEvidence().to_arrow().num_rows == 0


def test_scan_documents_are_canonical_json_of_the_document_the_checks_describe(con):
    """Written part by part, each document is still exactly ``freeze`` of its content, and
    its rows and found row are canonical_groups' rows."""
    import json

    with duckdb_tables(con) as tables:
        result = _run(tables, "duckdb")
    assert len(result.evidence) == 2
    for row in result.findings.itertuples():
        text = result.evidence[row.evidence_sha256]
        doc = json.loads(text)
        assert ev.freeze(doc) == (row.evidence_sha256, text)
        assert set(doc) == {
            "check_code",
            "pack",
            "entity_type",
            "entity_id",
            "parameters",
            "observed",
            "expected",
            "found",
            "rows",
        }
        assert doc["found"]["entity_id"] == row.entity_id == doc["rows"]["order"][0]["order_id"]
        assert (
            doc["observed"]
            == json.loads(row.observed)
            == {"unit_price": doc["found"]["unit_price"]}
        )
        # (and its expected: the parameter the check compared with, not another column)
        assert doc["expected"] == json.loads(row.expected) == {"above": 100}


def test_instants_are_written_as_canonical_value_writes_them_without_strftime():
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(7)
    # 1906-2027, whole seconds, milliseconds, microseconds, before 1970, nulls, two chunks
    us = rng.integers(-2 * 10**15, 1_800_000_000 * 10**6, 20_000)
    us[::3] = us[::3] // 10**6 * 10**6
    us[::7] = us[::7] // 1000 * 1000
    us[:2] = [-1, 999_999]
    mask = np.arange(len(us)) % 17 == 5
    col = pa.chunked_array(
        [
            pa.array(us[:100], pa.timestamp("us", tz="UTC")),
            pa.array(us[100:], pa.timestamp("us", tz="UTC"), mask=mask[100:]),
        ]
    )
    got = ev._canonical_instants(col).to_pylist()
    assert got == [ev.canonical_value(v) for v in col.to_pylist()]
    assert got[:2] == ["1969-12-31T23:59:59.999999Z", "1970-01-01T00:00:00.999999Z"]


# -- checks run on several threads, each on its own cursor ------------------------------------------


class _Timed(ExpensiveOrders):
    """A toy check that sleeps in its finder and its evidence (``find_s``, ``evidence_s``) and
    records which connection it ran on, and when."""

    find_s = 0.0
    evidence_s = 0.0
    log: list[tuple[str, int, float, float]] = []

    def _hold(self, tables, seconds, what):
        import time

        start = time.perf_counter()
        # a query on this check's connection while it holds it: a shared cursor would interleave
        tables.backend.con.execute("SELECT count(*) FROM orders").fetchall()
        time.sleep(seconds)
        type(self).log.append(
            (f"{self.code}:{what}", id(tables.backend.con), start, time.perf_counter())
        )

    def find(self, tables, params, ctx):
        self._hold(tables, self.find_s, "find")
        return super().find(tables, params, ctx)

    def evidence(self, tables, found, params, ctx):
        self._hold(tables, self.evidence_s, "evidence")
        return super().evidence(tables, found, params, ctx)


def _timed(code, find_s, evidence_s, above):
    attrs = {"code": code, "find_s": find_s, "evidence_s": evidence_s}
    attrs["parameters"] = (Parameter("above", above, "price threshold"),)
    return type(f"Timed{code}", (_Timed,), attrs)()


def _timed_checks():
    # the first checks take longest: threads started in order finish in the reverse order. The
    # evidence phase starts all at once, so TOY013's evidence ends 0.4 s before TOY011's (at
    # 0.1 s apart, a loaded host's late thread once ended them in order: 0.08 s the other way)
    return [
        _timed("TOY011", 0.4, 0.5, 100),
        _timed("TOY012", 0.2, 0.0, 1000),
        _timed("TOY013", 0.0, 0.1, 100),
        _timed("TOY014", 0.1, 0.1, 50),
    ]


def _scan_on(tables, checks, threads, monkeypatch):
    monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", str(threads))
    calls = []
    when = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    result = run_checks(
        tables,
        checks,
        load_pack("cn"),
        engine="duckdb",
        scan_id="s",
        detected_at=when,
        progress=lambda *a: calls.append(a),
    )
    return result, calls


def test_results_do_not_depend_on_the_order_threads_finish_in(con, monkeypatch):
    with duckdb_tables(con) as tables:
        _Timed.log = []
        one, one_calls = _scan_on(tables, _timed_checks(), 1, monkeypatch)
        assert len({c for _, c, _, _ in _Timed.log}) == 1  # one thread: the scan's connection
        _Timed.log = []
        many, many_calls = _scan_on(tables, _timed_checks(), 3, monkeypatch)
    ends = {what: end for what, _, _, end in _Timed.log}
    # the threads did finish out of the checks' order (else this test proves nothing)
    assert ends["TOY012:find"] < ends["TOY011:find"]
    assert ends["TOY013:evidence"] < ends["TOY011:evidence"]
    # the same findings in the same row order, the same runs in order, the same progress calls
    assert many.findings.equals(one.findings)
    assert (
        [r.code for r in many.runs]
        == [r.code for r in one.runs]
        == [
            "TOY011",
            "TOY012",
            "TOY013",
            "TOY014",
        ]
    )
    assert [r.findings for r in many.runs] == [r.findings for r in one.runs] == [2, 1, 2, 3]
    assert many_calls == one_calls and len(one_calls) == 2 * 4 + 1
    assert dict(many.evidence) == dict(one.evidence) and many.coverage == one.coverage
    # each check's own time is its own: TOY011's finder slept 0.4 s, not the others' time too;
    # read against how long its finder really ran (on a loaded machine a 0.4 s sleep runs
    # longer: a bound on the sleep alone failed at 0.79 s with the suite on two workers)
    own = {what: end - start for what, _, start, end in _Timed.log}
    parts = {r.code: r.parts for r in many.runs}
    assert own["TOY011:find"] >= 0.4
    assert own["TOY011:find"] <= parts["TOY011"]["find"] < own["TOY011:find"] + 0.3
    # TOY012's finder (0.2 s) ended before TOY011's: its time is not the wait for TOY011's
    assert parts["TOY012"]["find"] < own["TOY011:find"]


def test_two_checks_running_at_once_never_share_a_cursor(con, monkeypatch):
    with duckdb_tables(con) as tables:
        _Timed.log = []
        _scan_on(tables, _timed_checks(), 3, monkeypatch)
        main = id(tables.backend.con)
    log = _Timed.log
    assert len({c for _, c, _, _ in log}) > 1  # several cursors were used
    assert main not in {c for _, c, _, _ in log}  # and never the scan's own connection
    overlapped = 0
    for i, (a, ca, sa, ea) in enumerate(log):
        for b, cb, sb, eb in log[i + 1 :]:
            if sa < eb and sb < ea:  # ran at the same time
                overlapped += 1
                assert ca != cb, f"{a} and {b} ran at once on one cursor"
    assert overlapped  # the checks did run at the same time


def test_a_shared_relation_is_built_once_by_threads_that_ask_at_once(con, monkeypatch):
    import threading

    barrier = threading.Barrier(2, timeout=5)

    class Racing(_SharingCheck):
        def find(self, tables, params, ctx):
            barrier.wait()  # both finders ask for the relation at the same moment
            return super().find(tables, params, ctx)

    _SharingCheck.builds, _SharingCheck.seen_found = [], []
    a = type("RacingA", (Racing,), {"code": "TOY002"})()
    b = type("RacingB", (Racing,), {"code": "TOY003"})()
    with duckdb_tables(con) as tables:
        result, _ = _scan_on(tables, [a, b], 2, monkeypatch)
        left = con.sql("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall()
    assert len(_SharingCheck.builds) == 1  # one thread built it, the other waited and read it
    assert _SharingCheck.seen_found == [{"TOY002", "TOY003"}] * 2
    assert sorted(result.findings.check_code) == ["TOY002", "TOY002", "TOY003", "TOY003"]
    assert all(not name.startswith("_promoguard_scan") for (name,) in left)  # detached after


def test_a_connection_with_private_tables_runs_its_checks_on_itself(con, monkeypatch):
    """Temporary tables (an incremental scan's scoped tables) are not seen by other cursors."""
    con.execute("CREATE TEMP TABLE scoped AS SELECT 1 AS x")
    with duckdb_tables(con) as tables:
        _Timed.log = []
        result, _ = _scan_on(tables, _timed_checks(), 3, monkeypatch)
        assert {c for _, c, _, _ in _Timed.log} == {id(tables.backend.con)}
    assert [r.code for r in result.runs] == ["TOY011", "TOY012", "TOY013", "TOY014"]


@pytest.mark.parametrize("spill_bytes", [0, 2**30])
def test_frozen_evidence_absorbs_parts_without_losing_their_spill_files(spill_bytes):
    """An incremental scan joins the evidence of its parts: the spilled files of a part must
    outlive the part (their folder goes with it), and a plain mapping joins as a table."""
    import gc
    import pathlib

    import pyarrow as pa

    part = ev.FrozenEvidence(spill_bytes=spill_bytes)
    part.add(pa.table({"evidence_sha256": ["a", "b"], "document": ['{"x":1}', '{"上":2}']}))
    spilled, _ = part.parts()
    whole = ev.FrozenEvidence(spill_bytes=2**30)
    whole.absorb(part)
    whole.absorb({"c": "{}"})
    whole.absorb(whole)  # absorbing itself adds nothing
    del part
    gc.collect()
    files, memory = whole.parts()
    assert files == spilled and all(pathlib.Path(f).exists() for f in files)
    assert (len(files), memory.num_rows) == ((1, 1) if spill_bytes == 0 else (0, 3))
    assert dict(whole) == {"a": '{"x":1}', "b": '{"上":2}', "c": "{}"} and len(whole) == 3


def test_float_json_text_is_json_dumps_of_the_canonical_value():
    import math
    import random

    import pyarrow as pa

    rng = random.Random(7)
    special = [0.0, -0.0, 1.0, -2.5, 0.1 + 0.2, 1 / 3, 1e20, 2.0**53, 2.0**53 + 2, -(2.0**60)]
    special += [float("nan"), float("inf"), -float("inf"), 5e-324, 1e-7, 123456789.123, None]
    values = special + [rng.uniform(-1e6, 1e6) for _ in range(500)]
    values += [round(rng.uniform(0, 1), rng.randint(0, 12)) for _ in range(500)]
    values += values[:50]  # repeated values come from the memo
    want = ["null" if v is None else ev._dumps(ev.canonical_value(v)) for v in values]
    assert ev._float_texts(values) == want
    for t in (pa.float64(), pa.float32()):
        # (each distinct value written once for the column: the repeats in another chunk too)
        col = pa.chunked_array([pa.array(values[:700], t), pa.array(values[700:], t)])
        got = ev.json_column(col).to_pylist()
        assert got == [
            "null" if v is None else ev._dumps(ev.canonical_value(v)) for v in col.to_pylist()
        ]
    assert math.isnan(values[10])


def test_two_heavy_finders_never_run_at_once_but_run_beside_light_ones(con, monkeypatch):
    from promoguard.engine import run

    monkeypatch.setattr(run, "_HEAVY_FIND", frozenset({"TOY011", "TOY012"}))
    with duckdb_tables(con) as tables:
        _Timed.log = []
        result, _ = _scan_on(tables, _timed_checks(), 2, monkeypatch)
    spans = {what: (start, end) for what, _, start, end in _Timed.log}
    (a0, a1), (b0, b1) = spans["TOY011:find"], spans["TOY012:find"]
    assert a1 <= b0 or b1 <= a0  # the heavy two one after the other
    c0, c1 = spans["TOY013:find"]
    assert c0 < a1 and a0 < c1  # a light one beside the first heavy one
    assert [r.code for r in result.runs] == ["TOY011", "TOY012", "TOY013", "TOY014"]


def test_heavy_finders_run_side_by_side_in_a_scan_that_folds(con, monkeypatch):
    # the whole-store part of scan --since folds kept relations with the day's rows: its heavy
    # finders read small folds, and run at once (both orders, and the checks' order of results)
    from promoguard.engine import run
    from promoguard.engine.cache import KeptState

    monkeypatch.setattr(run, "_HEAVY_FIND", frozenset({"TOY011", "TOY012"}))
    monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", "2")
    folding = KeptState(previous={"a copy": "kept_x"}, new={"orders": 0})
    with duckdb_tables(con) as tables:
        _Timed.log = []
        result = run_checks(
            tables,
            _timed_checks(),
            load_pack("cn"),
            engine="duckdb",
            scan_id="s",
            detected_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
            kept=folding,
        )
    spans = {what: (start, end) for what, _, start, end in _Timed.log}
    (a0, a1), (b0, b1) = spans["TOY011:find"], spans["TOY012:find"]
    assert a0 < b1 and b0 < a1  # the heavy two overlap
    assert [r.code for r in result.runs] == ["TOY011", "TOY012", "TOY013", "TOY014"]
    # a scoped group handed relations folded already (no new rows of its own) keeps them apart
    assert run._folds(folding) and not run._folds(KeptState(previous={"a copy": "t"}, new={}))
    assert not run._folds(KeptState(new={"orders": 0})) and not run._folds(None)


def test_a_failing_finder_fails_the_scan_and_leaves_nothing_attached(con, monkeypatch):
    from promoguard.errors import CheckError

    class Broken(ExpensiveOrders):
        code = "TOY019"

        def find(self, tables, params, ctx):
            raise CheckError("TOY019 cannot read its table")

    with duckdb_tables(con) as tables:
        with pytest.raises(CheckError, match="TOY019 cannot read"):
            _scan_on(tables, [*_timed_checks(), Broken()], 2, monkeypatch)
        attached = con.sql("SELECT database_name FROM duckdb_databases()").fetchall()
    assert not [n for (n,) in attached if n.startswith("_promoguard_scan")]


class FirstOfMerchant(ExpensiveOrders):
    """Evidence that depends on the other findings (as REVIEW001 quotes a cluster's first
    members): each found order's document lists the first found order of its merchant."""

    code = "TOY021"
    parameters = (Parameter("above", 50, "price threshold"),)

    def evidence(self, tables, found, params, ctx):
        o = tables.orders
        first = found.group_by("merchant_id").aggregate(first_id=found.entity_id.min())
        pairs = found.join(first, "merchant_id").select(found.entity_id, first.first_id)
        rows = pairs.join(o, pairs.first_id == o.order_id).select(
            pairs.entity_id, o.order_id, o.unit_price
        )
        return {"first": rows, "order": super().evidence(tables, found, params, ctx)["order"]}


def _frozen_parts(monkeypatch):
    """The found rows of each part ``_freeze_findings`` froze from now on (a test of parts must
    see the evidence really cut: an ignored PROMOGUARD_EVIDENCE_PART_ROWS proves all at once,
    which gives the same documents too)."""
    from promoguard.engine import run

    frozen: list[int] = []
    freeze = run._freeze_findings
    monkeypatch.setattr(
        run,
        "_freeze_findings",
        lambda check, pack, params, found, *a, **k: (
            frozen.append(found.num_rows) or freeze(check, pack, params, found, *a, **k)
        ),
    )
    return frozen


@pytest.mark.parametrize("part_rows", ["1", "2"])
def test_evidence_proved_in_parts_gives_the_same_documents(con, monkeypatch, part_rows):
    checks = [ExpensiveOrders(), FirstOfMerchant()]

    def scan():
        with duckdb_tables(con) as tables:
            return run_checks(
                tables,
                checks,
                load_pack("cn"),
                engine="duckdb",
                scan_id="s",
                detected_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
            )

    monkeypatch.delenv("PROMOGUARD_EVIDENCE_PART_ROWS", raising=False)
    whole = scan()
    monkeypatch.setenv("PROMOGUARD_EVIDENCE_PART_ROWS", part_rows)
    frozen = _frozen_parts(monkeypatch)
    parts = scan()
    assert len(whole.findings) == 5  # o1, o3 and o1, o2, o3: several parts when cut by 1 or 2
    assert sum(frozen) == 5 and len(frozen) > len(checks), frozen
    assert parts.findings.equals(whole.findings)
    assert dict(parts.evidence) == dict(whole.evidence)
    # a part's document still quotes a row another part found: o2's merchant's first is o1
    o2 = whole.findings[
        (whole.findings.check_code == "TOY021") & (whole.findings.entity_id == "o2")
    ]
    assert (
        '"first":[{"entity_id":"o2","order_id":"o1"' in whole.evidence[o2.evidence_sha256.iloc[0]]
    )
    left = "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
    assert not [t for (t,) in con.execute(left).fetchall() if t.startswith("_")]


def test_evidence_rows_alone_cut_the_parts(con, monkeypatch):
    """Parts are cut on the evidence rows the engine counts in its evidence tables, not only on
    the found rows: two found orders of one evidence row each, at most one evidence row a part
    (and a hundred found rows), are proved in two parts, with the documents of one part."""
    from promoguard.engine import run

    def scan():
        with duckdb_tables(con) as tables:
            return _run(tables, "duckdb")

    whole = scan()
    frozen = _frozen_parts(monkeypatch)
    monkeypatch.setattr(run, "_part_rows", lambda: (1, 100))
    parts = scan()
    assert frozen == [1, 1]  # o1, then o3
    assert parts.findings.equals(whole.findings)
    assert dict(parts.evidence) == dict(whole.evidence)


def test_findings_spilled_to_parquet_read_and_save_as_held_in_memory(con, tmp_path, monkeypatch):
    from promoguard.engine import run

    # two checks: their files must be read back in the checks' order, as held in memory
    checks = [ExpensiveOrders(), FirstOfMerchant()]
    with duckdb_tables(con) as tables:
        held = _run(tables, "duckdb", checks)
    monkeypatch.setattr(run.HeldFindings, "SPILL_BYTES", 1)
    with duckdb_tables(con) as tables:
        spilled = _run(tables, "duckdb", checks)
    assert spilled._held is not None and len(spilled._held._files) == 2  # on disk until read
    assert spilled.finding_count == 5
    assert spilled.summary()["by_check"] == {"TOY001": 2, "TOY021": 3}
    assert spilled.findings.equals(held.findings)
    saved = {}
    for name, result in (("held", held), ("spilled", spilled)):
        c = store.connect(tmp_path / f"{name}.duckdb")
        files, rest = result.findings_parts()  # as run.save_result hands them to the store
        store.save_scan(
            c,
            scan_id="s",
            pack="cn",
            engine="duckdb",
            checks=["TOY001", "TOY021"],
            parameters="{}",
            started_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
            findings=rest,
            findings_files=files,
            evidence=result.evidence,
        )
        saved[name] = (
            c.execute("SELECT * EXCLUDE (scan_id) FROM findings ORDER BY finding_id").fetchall(),
            c.execute("SELECT findings FROM scans").fetchall(),
        )
        c.close()
    assert saved["spilled"] == saved["held"] and saved["held"][1] == [(5,)]


# -- evidence that a group of findings shows alike, given once per group ----------------------------


class MerchantOrders(ExpensiveOrders):
    """Each found order's document lists its merchant's orders of two or more items (rows many
    findings share), written out per finding: one row per finding and merchant order."""

    code = "TOY041"
    parameters = (Parameter("above", 10, "price threshold"),)

    def _members(self, tables):
        o = tables.orders
        return o.filter(o.quantity >= 2).select(
            group_id=o.merchant_id,
            order_id=o.order_id,
            buyer_id=o.buyer_id,
            unit_price=o.unit_price,
            paid_at=o.paid_at,
            placed_at=o.placed_at,
        )

    def evidence(self, tables, found, params, ctx):
        m = self._members(tables)
        pairs = found.select(entity_id=found.entity_id, gid=found.merchant_id)
        rows = pairs.join(m, pairs.gid == m.group_id).select(
            pairs.entity_id, m.order_id, m.buyer_id, m.unit_price, m.paid_at, m.placed_at
        )
        return {"merchant": rows, "order": super().evidence(tables, found, params, ctx)["order"]}


class MerchantOrdersOnce(MerchantOrders):
    """The same evidence, given once per merchant (GroupRows)."""

    def evidence(self, tables, found, params, ctx):
        from promoguard.engine.base import GroupRows

        groups = found.select(entity_id=found.entity_id, group_id=found.merchant_id)
        once = GroupRows(rows=self._members(tables), groups=groups)
        return {
            "merchant": once,
            "order": ExpensiveOrders.evidence(self, tables, found, params, ctx)["order"],
        }


@pytest.fixture
def group_con(con):
    """Merchants with several orders of two or more items (one placed at an unknown time), the
    blank, a quote and a backslash in a buyer id, and merchant m1 with none of them (its
    findings list no merchant rows)."""
    con.execute(
        """INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price,
        paid_at, placed_at, status) VALUES
        ('o4','l2','m2','b\x01"q\\',2,15.00,'2026-11-11 02:00:00+08',NULL,'paid'),
        ('o5','l2','m2','b5',3,15.00,'2026-11-11 02:00:00+08','2026-11-11 01:00:00+08','paid'),
        ('o6','l3','m3','b3',2,11.50,'2026-11-12 00:00:00.25+08',NULL,'paid'),
        ('o7','l3','m3','b3',1,11.50,'2026-11-12 00:00:00+08',NULL,'paid')"""
    )
    return con


@pytest.mark.parametrize("part_rows", ["", "1", "3"])
def test_group_evidence_gives_the_documents_its_rows_written_out_give(
    group_con, monkeypatch, part_rows
):
    def scan(check, threads="2"):
        monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", threads)
        with duckdb_tables(group_con) as tables:
            return run_checks(
                tables,
                [check],
                load_pack("cn"),
                engine="duckdb",
                scan_id="s",
                detected_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
            )

    monkeypatch.delenv("PROMOGUARD_EVIDENCE_PART_ROWS", raising=False)
    written = scan(MerchantOrders())
    if part_rows:
        monkeypatch.setenv("PROMOGUARD_EVIDENCE_PART_ROWS", part_rows)
    frozen = _frozen_parts(monkeypatch)
    once = scan(MerchantOrdersOnce())
    assert len(written.findings) == 7
    assert sum(frozen) == 7 and (len(frozen) > 1) == bool(part_rows), frozen
    assert once.findings.equals(written.findings)
    assert dict(once.evidence) == dict(written.evidence)
    docs = {
        e: once.evidence[s]
        for e, s in zip(once.findings.entity_id, once.findings.evidence_sha256, strict=True)
    }
    # each finding's own entity id in its group's rows; m1's orders list no merchant rows
    assert '{"buyer_id":"b5","entity_id":"o5"' in docs["o5"]
    assert '{"buyer_id":"b\\u0001\\"q\\\\","entity_id":"o5"' in docs["o5"]
    # the document's, its found row's, m2's three orders of two or more items, its own order's
    assert docs["o4"].count('"entity_id":"o4"') == 6
    assert '"merchant"' not in docs["o1"] and "\x01" not in "".join(docs.values())


class MerchantAndBuyerOrders(MerchantOrders):
    """Two tables of rows many findings share, written out per finding: the merchant's orders of
    two or more items (as MerchantOrders) and the found order's buyer's. Found in order id order,
    the buyers' groups are not runs (b1 has o1 and o3, m2's o3 sits between them) and a finding
    may have rows of one table only (o1: its buyer's, none of m1's) or of neither (o2)."""

    def _buyer_members(self, tables):
        o = tables.orders
        return o.filter(o.quantity >= 2).select(
            group_id=o.buyer_id, order_id=o.order_id, unit_price=o.unit_price, paid_at=o.paid_at
        )

    def _buyers(self, tables, found):
        o = tables.orders
        return found.join(o, found.entity_id == o.order_id).select(
            entity_id=found.entity_id, group_id=o.buyer_id
        )

    def evidence(self, tables, found, params, ctx):
        b, m = self._buyers(tables, found), self._buyer_members(tables)
        rows = b.join(m, b.group_id == m.group_id).select(
            b.entity_id, m.order_id, m.unit_price, m.paid_at
        )
        merchant = MerchantOrders.evidence(self, tables, found, params, ctx)["merchant"]
        return {"merchant": merchant, "buyer": rows}


class MerchantAndBuyerOrdersOnce(MerchantAndBuyerOrders):
    """The same evidence, both tables given once per group (GroupRows)."""

    def evidence(self, tables, found, params, ctx):
        from promoguard.engine.base import GroupRows

        merchants = found.select(entity_id=found.entity_id, group_id=found.merchant_id)
        return {
            "merchant": GroupRows(rows=self._members(tables), groups=merchants),
            "buyer": GroupRows(
                rows=self._buyer_members(tables), groups=self._buyers(tables, found)
            ),
        }


@pytest.mark.parametrize("part_rows, scalar_pieces", [("", 256), ("2", 256), ("", 0)])
def test_two_group_tables_whose_groups_interleave_give_the_written_out_documents(
    group_con, monkeypatch, part_rows, scalar_pieces
):
    """Each finding's group rows are written into its document a run of findings alike at a
    time (the findings put together by their groups, then their hashes put back): every
    finding's document and hash are the ones its rows written out give, whether a template's
    pieces are given to the join as scalars or (``scalar_pieces`` 0) joined per finding."""
    from promoguard.engine import run

    monkeypatch.setattr(run, "_SCALAR_PIECES", scalar_pieces)

    def scan(check):
        monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", "1")
        with duckdb_tables(group_con) as tables:
            return run_checks(
                tables,
                [check],
                load_pack("cn"),
                engine="duckdb",
                scan_id="s",
                detected_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
            )

    monkeypatch.delenv("PROMOGUARD_EVIDENCE_PART_ROWS", raising=False)
    written = scan(MerchantAndBuyerOrders())
    if part_rows:
        monkeypatch.setenv("PROMOGUARD_EVIDENCE_PART_ROWS", part_rows)
    frozen = _frozen_parts(monkeypatch)
    once = scan(MerchantAndBuyerOrdersOnce())
    assert len(written.findings) == 7
    assert sum(frozen) == 7 and (len(frozen) > 1) == bool(part_rows), frozen
    assert once.findings.equals(written.findings)
    assert dict(once.evidence) == dict(written.evidence)
    docs = {
        e: once.evidence[s]
        for e, s in zip(once.findings.entity_id, once.findings.evidence_sha256, strict=True)
    }
    assert '"rows":{"buyer":[{"entity_id":"o1","order_id":"o3"' in docs["o1"]
    assert '"merchant"' not in docs["o1"] and '"rows":{}' in docs["o2"]
    assert '"buyer":[{"entity_id":"o3","order_id":"o3"' in docs["o3"]
    assert '}],"merchant":[{"buyer_id":' in docs["o3"]


def test_group_evidence_without_the_scan_database_is_the_same(group_con):
    """The path Spark takes (no scan database: the check's evidence whole)."""
    import pyarrow as pa

    from promoguard.engine import run
    from promoguard.engine.base import ScanContext

    ctx = ScanContext(pack="cn", engine="duckdb")
    found = pa.table(
        {"entity_id": ["o1", "o4", "o6", "o7"], "merchant_id": ["m1", "m2", "m3", "m3"]}
    )
    found = found.append_column("platform_id", pa.array(["p1"] * 4))
    params = {"above": 10}
    with duckdb_tables(group_con) as tables:
        once = run._evidence_rows(MerchantOrdersOnce(), tables, found, params, ctx)
        written = run._evidence_rows(MerchantOrders(), tables, found, params, ctx)

    def as_dict(t):
        return dict(zip(t.column("g").to_pylist(), t.column("j").to_pylist(), strict=True))

    assert as_dict(once["merchant"]) == as_dict(written["merchant"])
    assert sorted(as_dict(once["merchant"])) == ["o4", "o6", "o7"]


def test_group_evidence_refuses_an_entity_in_two_groups(group_con, monkeypatch):
    from promoguard.engine.base import GroupRows
    from promoguard.errors import CheckError

    class TwoGroups(MerchantOrdersOnce):
        def evidence(self, tables, found, params, ctx):
            g = found.select(entity_id=found.entity_id, group_id=found.merchant_id)
            both = g.union(g.mutate(group_id=ibis.literal("m2")), distinct=True)
            return {"merchant": GroupRows(rows=self._members(tables), groups=both)}

    monkeypatch.setenv("PROMOGUARD_SCAN_THREADS", "1")
    with duckdb_tables(group_con) as tables, pytest.raises(CheckError, match="two groups"):
        run_checks(
            tables,
            [TwoGroups()],
            load_pack("cn"),
            engine="duckdb",
            scan_id="s",
            detected_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
        )


def test_group_templates_need_a_group_and_no_entity_column():
    import pyarrow as pa

    with pytest.raises(ValueError, match="group_id"):
        ev.group_templates(pa.table({"entity_id": ["a"], "group_id": ["g"], "x": [1]}))
    with pytest.raises(ValueError, match="group_id"):
        ev.group_templates(pa.table({"x": [1]}))


def test_of_two_scans_begun_in_one_second_the_later_is_the_latest(season_store_copy, monkeypatch):
    """A scan, a fix, a re-scan within one second: the re-scan is the latest (the verdict of a
    case is read from it), whatever the random part of the two ids. CI once took the first."""
    import types
    import uuid

    from promoguard import api
    from promoguard.cases import source
    from promoguard.engine import run

    instants = iter(
        [dt.datetime(2026, 11, 30, 6, 0, 0, 100, tzinfo=dt.UTC),
         dt.datetime(2026, 11, 30, 6, 0, 0, 900_000, tzinfo=dt.UTC)]
    )  # fmt: skip

    hexes = iter(["ffffff", "000000"])  # the later scan's id sorts first
    scripted: list[str] = []  # the id part of the scan whose clock was just read

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # only scan_clock reads the time in run.py
            scripted.append(next(hexes))
            return next(instants)

    real_uuid4 = uuid.uuid4

    def uuid4():  # the scan id's random part as scripted; any other (view names) random
        return uuid.UUID(scripted.pop() + real_uuid4().hex[6:]) if scripted else real_uuid4()

    monkeypatch.setattr(run, "dt", types.SimpleNamespace(**{**vars(dt), "datetime": Clock}))
    monkeypatch.setattr(run, "uuid", types.SimpleNamespace(uuid4=uuid4))
    first = run.scan(season_store_copy, "cn", checks="TEXT001").scan_id
    second = run.scan(season_store_copy, "cn", checks="TEXT001").scan_id
    monkeypatch.undo()
    assert first[:-6] == second[:-6] and first > second  # one second; ids the wrong way round
    assert api.findings(season_store_copy).attrs["scan"]["scan_id"] == second
    assert source.scan_info(season_store_copy).scan_id == second
    assert api.scans(season_store_copy)["scan_id"].tolist()[:2] == [second, first]


# -- the column-wise JSON writer against json.dumps, value by value -----------------------------

#: characters json.dumps escapes (quote, backslash, every control character) beside ones it
#: writes as they are (DEL, U+2028, CJK, astral, the slash, braces)
_ALPHABET = [chr(c) for c in range(0x20)] + list('"\\/{}[]:,. aZ09\x7f\x80\u2028\u2029上海店')
_ALPHABET += ["\U0001f600", "é"]


def _random_strings(rng, n, alphabet, escape_rate):
    plain = [c for c in alphabet if c >= " " and c not in '"\\']
    out = []
    for _ in range(n):
        pool = alphabet if rng.random() < escape_rate else plain
        out.append(
            None if rng.random() < 0.05 else "".join(rng.choices(pool, k=rng.randint(0, 12)))
        )
    return out


@pytest.mark.parametrize("escape_rate", [0.0, 0.01, 0.5, 1.0])
def test_json_strings_are_json_dumps_of_each_string(escape_rate):
    import json
    import random

    import numpy as np
    import pyarrow as pa

    rng = random.Random(int(escape_rate * 100) + 7)
    values = _random_strings(rng, 3000, _ALPHABET, escape_rate)
    values += ['say "hi"', "back\\slash", '"', "\\", "\u2028", "\x7f", "", "上\n海"]
    want = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    for col in (
        pa.array(values, pa.string()),
        pa.chunked_array([pa.array(values[:1000]), pa.array(values[1000:])]),
        pa.chunked_array([pa.array(values, pa.large_string())]),
    ):
        if pa.types.is_large_string(col.type):
            got = ev.json_column(col).to_pylist()
            assert got == ["null" if w is None else w for w in want]
        else:
            assert ev._json_strings(col).to_pylist() == want
    assert ev._json_strings(pa.array([], pa.string())).to_pylist() == []
    # a slice (offset into the buffers), large strings, and no chunks at all
    part = pa.array(values, pa.string()).slice(7, 1500)
    assert ev._json_strings(part).to_pylist() == want[7:1507]
    assert ev._json_strings(pa.array(values, pa.large_string())).to_pylist() == want
    assert ev._json_strings(pa.chunked_array([], pa.string())).to_pylist() == []
    # a null whose slot spans bytes json would escape stays null; the strings around it do not
    # borrow its bytes
    spans = pa.Array.from_buffers(
        pa.string(),
        3,
        [
            pa.py_buffer(bytes([0b101])),
            pa.py_buffer(np.array([0, 1, 3, 4], np.int32).tobytes()),
            pa.py_buffer(b'a"\\b'),
        ],
    )
    assert ev._json_strings(spans).to_pylist() == ['"a"', None, '"b"']
    assert ev._json_strings(pa.array([None, None], pa.string())).to_pylist() == [None, None]


@pytest.mark.parametrize("fractions", [False, True])
def test_instants_json_text_is_json_dumps_of_the_canonical_value(fractions):
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(11)
    us = rng.integers(-2 * 10**15, 1_800_000_000 * 10**6, 5_000)
    if not fractions:  # whole seconds only: written without a fraction's pieces
        us = us // 10**6 * 10**6
    mask = np.arange(len(us)) % 13 == 4
    for unit, tz in (("us", "UTC"), ("s", None), ("ms", "Asia/Shanghai")):
        scale = {"us": 1, "ms": 1000, "s": 10**6}[unit]
        col = pa.chunked_array(
            [
                pa.array(us[:50] // scale, pa.timestamp(unit, tz=tz)),
                pa.array(us[50:] // scale, pa.timestamp(unit, tz=tz), mask=mask[50:]),
            ]
        )
        want = ["null" if v is None else ev._dumps(ev.canonical_value(v)) for v in col.to_pylist()]
        assert ev.json_column(col).to_pylist() == want
    # years outside 1000-9999 go through strftime (whose year 702 is "0702" where Python's
    # strftime writes "702": a difference the engine had before), quoted as any string
    far = pa.chunked_array([pa.array([-40_000_000_000 * 10**6, 0, None], pa.timestamp("us"))])
    plain = ev._canonical_instants(far).to_pylist()
    assert ev.json_column(far).to_pylist() == ["null" if t is None else f'"{t}"' for t in plain]


def _random_evidence_table(rng, n_rows, n_groups):
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa

    def maybe(v):
        return None if rng.random() < 0.1 else v

    groups = [f"e{rng.randrange(n_groups)}" for _ in range(n_rows)]
    return pa.table(
        {
            "entity_id": groups,
            "s": pa.array(_random_strings(rng, n_rows, _ALPHABET, 0.2), pa.string()),
            "i": pa.array([maybe(rng.randint(-(2**62), 2**62)) for _ in range(n_rows)], pa.int64()),
            "f": pa.array(
                [maybe(rng.choice([rng.uniform(-1e17, 1e17), 0.5, 1e16, 3.0])) for _ in groups],
                pa.float64(),
            ),
            "d": pa.array(
                [maybe(Decimal(rng.randint(-99999, 99999)) / 100) for _ in groups],
                pa.decimal128(9, 2),
            ),
            "t": pa.array(
                [
                    maybe(
                        dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
                        + dt.timedelta(
                            seconds=rng.randint(0, 10**6), microseconds=rng.choice([0, 0, 250])
                        )
                    )
                    for _ in groups
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "b": pa.array([maybe(rng.random() < 0.5) for _ in groups], pa.bool_()),
            "l": pa.array(
                [maybe([rng.randint(0, 3), 1.5]) if rng.random() < 0.5 else None for _ in groups],
                pa.list_(pa.float64()),
            ),
            'q"k': pa.array([maybe(rng.choice(["x", "上", "\n"])) for _ in groups], pa.string()),
        }
    )


def test_evidence_group_texts_are_json_dumps_of_the_canonical_rows_on_random_tables():
    import random

    import pyarrow as pa

    rng = random.Random(16)
    for n_rows, n_groups in [(1, 1), (2, 1), (7, 3), (200, 5), (500, 400), (1500, 60)]:
        table = _random_evidence_table(rng, n_rows, n_groups)
        want = {g: ev._dumps(rows) for g, rows in ev.canonical_groups(table).items()}
        assert ev.canonical_json_groups(table) == want
        chunked = pa.Table.from_batches(table.to_batches(max_chunksize=max(1, n_rows // 3)))
        assert ev.canonical_json_groups(chunked) == want


def test_frozen_documents_are_freeze_of_their_content_with_rows_of_several_tables():
    """Each found entity's document, with evidence tables that hold rows for some entities and
    not others (the rows' members written in place, absent ones as nothing), is exactly
    ``freeze`` of the document built in Python."""
    import json
    import random

    import pyarrow as pa

    from promoguard.engine import run

    rng = random.Random(5)
    entities = [f"e{i}" for i in range(60)]  # the random tables hold rows of e0-e89
    found = pa.table(
        {
            "entity_id": entities,
            "merchant_id": ["m1"] * 60,
            "platform_id": ["p1"] * 60,
            "unit_price": [rng.choice([1.25, 120.0, None]) for _ in entities],
            "above": [100] * 60,
        }
    )
    tables = {
        name: _random_evidence_table(rng, n, 90)
        for name, n in (("a", 40), ("b", 3), ('c"d', 120), ("z", 0))
    }
    ev_rows = {name: ev.canonical_json_group_table(t) for name, t in tables.items() if t.num_rows}
    pack = load_pack("cn")
    check = ExpensiveOrders()
    params = {"above": 100}
    when = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    findings, docs, _ = run._freeze_findings(check, pack, params, found, ev_rows, "s", when)
    texts = dict(zip(docs.column(0).to_pylist(), docs.column(1).to_pylist(), strict=True))
    groups = {name: ev.canonical_groups(t) for name, t in tables.items() if t.num_rows}
    with_rows = 0
    shas = findings.column("evidence_sha256").to_pylist()
    for row, sha in zip(found.to_pylist(), shas, strict=True):
        rows = {n: g[row["entity_id"]] for n, g in groups.items() if row["entity_id"] in g}
        with_rows += len(rows) > 1
        doc = {
            "check_code": check.code,
            "pack": pack.name,
            "entity_type": "order",
            "entity_id": row["entity_id"],
            "parameters": params,
            "observed": {"unit_price": row["unit_price"]},
            "expected": {"above": 100},
            "found": row,
            "rows": rows,
        }
        assert ev.freeze(doc) == (sha, texts[sha])
        assert json.loads(texts[sha])["rows"] == json.loads(ev.canonical_json(rows))
    assert with_rows  # some documents list rows of two or three tables


def test_sort_keys_are_the_canonical_columns_keys():
    import random

    import pyarrow as pa

    table = _random_evidence_table(random.Random(3), 300, 20)
    table = table.append_column("big", pa.array(["x", None, "上"] * 100, pa.large_string()))
    table = table.append_column("day", pa.array([19000, None, 20000] * 100, pa.date32()))
    for name in table.column_names:
        col = table.column(name)
        assert ev._sort_key(col).equals(ev._canonical_column(col)[1]), name


def test_the_final_save_waits_for_a_process_holding_the_store_then_gives_up(tmp_path, monkeypatch):
    """A scan's save waits (WRITE_WAIT_SECONDS) for another process to let go of the DuckDB
    file, opens it once free, and says the store is busy if it never is; a store that is no
    store is said at once, without waiting."""
    import threading

    from tests.support import StoreHolder

    from promoguard.engine import run as run_mod
    from promoguard.errors import StoreBusy, StoreError

    path = tmp_path / "s.duckdb"
    store.connect(path).close()
    with StoreHolder(path) as holder:
        threading.Timer(1.0, holder.release).start()
        con = run_mod._writer(path)  # waited for the holder's exit
        con.close()
    monkeypatch.setattr(run_mod, "WRITE_WAIT_SECONDS", 0.5)
    with StoreHolder(path), pytest.raises(StoreBusy, match="in use by another process"):
        run_mod._writer(path)
    naps: list[float] = []
    monkeypatch.setattr(run_mod.time, "sleep", naps.append)
    (tmp_path / "folder.duckdb").mkdir()
    with pytest.raises(StoreError, match="is a folder") as caught:
        run_mod._writer(tmp_path / "folder.duckdb")
    assert not isinstance(caught.value, StoreBusy) and naps == []


class _Seen(ExpensiveOrders):
    """ExpensiveOrders that notes whether numpy asks for huge pages while the check runs."""

    seen: list[bool] = []

    def find(self, tables, params, ctx):
        import numpy as np

        type(self).seen.append(bool(np._core.multiarray._get_madvise_hugepage()))
        return super().find(tables, params, ctx)


def test_checks_run_without_numpy_asking_for_huge_pages(con):
    """numpy's madvise(MADV_HUGEPAGE) made the same array's first touch take 0.14 s or 1.47 s
    within a scan (the kernel compacting memory for a 2 MB page): the checks run without it, and
    the caller's setting is back when the scan returns."""
    import numpy as np

    multiarray = np._core.multiarray
    _Seen.seen = []
    before = multiarray._set_madvise_hugepage(True)
    try:
        with duckdb_tables(con) as tables:
            _run(tables, "duckdb", [_Seen()])
        after = multiarray._get_madvise_hugepage()
    finally:
        multiarray._set_madvise_hugepage(before)
    assert _Seen.seen == [False]
    assert after
