"""Kept relations (``engine.cache.shared`` with a ``fold``): a saved scan keeps them in the store,
and ``scan --since`` folds the rows added since into the previous scan's copy instead of building
them on the whole season again, with the findings of a full re-scan.

The relation here is made up for the test (each merchant's number of paid orders, and a toy
check reading it), so that the plumbing is tested apart from any rule's fold: a rule's fold gets
its own equivalence test beside its rule.
"""

from __future__ import annotations

import shutil

import ibis
import pytest
from tests import spark_env

from promoguard import incremental, scans, store
from promoguard.engine import registry
from promoguard.engine import run as eng
from promoguard.engine.base import Check, CheckDoc, Parameter
from promoguard.engine.cache import Appended, kept_table_name, key_text, shared

#: the relation's definition version, in its key: a test changes it to change the key
VERSION = {"now": "v1"}
CALLS: dict[str, int] = {"build": 0, "fold": 0}


def merchant_orders(tables):
    """Each merchant's number of orders: built on the season, or folded from the last scan's."""

    def build():
        CALLS["build"] += 1
        o = tables.orders
        return o.group_by("merchant_id").aggregate(n=o.count())

    def fold(previous, season, new):
        CALLS["fold"] += 1
        o = new.orders
        added = o.group_by("merchant_id").aggregate(n=o.count())
        # (a stored table's columns are nullable: the new rows' relation is cast to match)
        both = ibis.union(previous, added.cast(previous.schema()))
        # (a HUGEINT here, as DuckDB sums BIGINT: stored as the build's BIGINT, by shared())
        return both.group_by("merchant_id").aggregate(n=both.n.sum())

    return shared(tables, ("test_merchant_orders", VERSION["now"]), build, fold)


class BusyMerchants(Check):
    """A toy season-wide check: merchants with at least ``least`` orders."""

    code = "TOY901"
    name = "busy-merchant"
    title = "A merchant with many orders"
    family = "toy"
    entity_type = "merchant"
    parameters = (Parameter("least", 3, "orders"),)
    doc = CheckDoc("flags merchants", "none", "a merchant with 3 orders")
    observed_columns = ("n",)
    expected_columns = ("least",)
    reads = ("orders",)

    def find(self, tables, params, ctx):
        m = merchant_orders(tables)
        return m.filter(m.n >= params["least"]).select(
            entity_id=m.merchant_id,
            merchant_id=m.merchant_id,
            platform_id=ibis.literal("p1"),
            n=m.n,
            least=ibis.literal(params["least"]),
        )

    def evidence(self, tables, found, params, ctx):
        m = merchant_orders(tables)  # a second reader of the same relation, in the same scan
        return {
            "count": found.join(m, found.entity_id == m.merchant_id).select(found.entity_id, m.n)
        }


class QuietMerchants(BusyMerchants):
    """A second reader of the relation (the scan builds or folds it once for both)."""

    code = "TOY902"
    name = "quiet-merchant"

    def find(self, tables, params, ctx):
        m = merchant_orders(tables)
        return m.filter(m.n < params["least"]).select(
            entity_id=m.merchant_id,
            merchant_id=m.merchant_id,
            platform_id=ibis.literal("p1"),
            n=m.n,
            least=ibis.literal(params["least"]),
        )


TOYS = [BusyMerchants(), QuietMerchants()]


def _orders(con, rows):
    con.executemany(
        "INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price, "
        "paid_at, status) VALUES (?, 'l1', ?, ?, 1, 10.00, TIMESTAMPTZ '2026-11-11 00:00:00+08', "
        "'paid')",
        rows,
    )


@pytest.fixture
def toys(monkeypatch):
    """The toy checks, as the registry and the scan's check choice see them."""
    for check in TOYS:
        monkeypatch.setitem(registry._CHECKS, check.code, check)
    monkeypatch.setattr(eng, "choose_checks", lambda pack, codes: list(TOYS))
    monkeypatch.setitem(VERSION, "now", "v1")
    for k in CALLS:
        monkeypatch.setitem(CALLS, k, 0)


@pytest.fixture
def day_two(tmp_path, toys):
    """A store scanned after day 1 (m1: 2 orders, m2: 3), then given day 2 (m1's third order
    lifts it over the threshold, a new merchant m3): (store, first scan id)."""
    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    _orders(
        con, [("o1", "m1", "b1"), ("o2", "m1", "b2"), *[(f"o{i}", "m2", "b1") for i in (3, 4, 5)]]
    )
    con.close()
    first = eng.scan(path, "cn")
    con = store.connect(path)
    _orders(con, [("o6", "m1", "b3"), ("o7", "m3", "b1")])
    con.close()
    return path, first.scan_id


def _findings(result):
    f = result.findings.sort_values("finding_id")
    return f[["finding_id", "check_code", "entity_id", "observed", "evidence_sha256"]].reset_index(
        drop=True
    )


def _full(path, tmp_path):
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    return eng.scan(copy, "cn", save=False)


def _kept(path):
    con = store.connect(path, read_only=True)
    try:
        return con.execute(
            "SELECT scan_id, relation_key, table_name, row_count FROM kept_relations"
        ).fetchall()
    finally:
        con.close()


def test_a_saved_scan_keeps_the_relation_once_under_its_key(day_two):
    path, first = day_two
    assert CALLS == {"build": 1, "fold": 0}  # two checks read it: built once
    [(scan_id, key, table, rows)] = _kept(path)
    assert (scan_id, key, rows) == (first, repr(("test_merchant_orders", "v1")), 2)
    con = store.connect(path, read_only=True)
    try:
        got = sorted(con.execute(f'SELECT merchant_id, n FROM "{table}"').fetchall())
    finally:
        con.close()
    assert got == [("m1", 2), ("m2", 3)]


def test_scan_since_folds_the_new_rows_into_the_kept_copy(day_two, tmp_path):
    path, first = day_two
    full = _full(path, tmp_path)
    CALLS.update(build=0, fold=0)
    inc, info = incremental.scan_since(path, "cn", "last")
    assert CALLS == {"build": 0, "fold": 1}
    assert info["kept"] == {"folded": [repr(("test_merchant_orders", "v1"))], "built": []}
    assert _findings(inc).equals(_findings(full))
    assert set(_findings(inc).entity_id) == {"m1", "m2", "m3"}
    # the increment keeps its own (folded) copy, and the first scan's is dropped
    [(scan_id, _, table, rows)] = _kept(path)
    assert scan_id == inc.scan_id and rows == 3
    con = store.connect(path, read_only=True)
    try:
        assert sorted(con.execute(f'SELECT merchant_id, n FROM "{table}"').fetchall()) == [
            ("m1", 3),
            ("m2", 3),
            ("m3", 1),
        ]
        left = {r[0] for r in con.execute("SHOW TABLES").fetchall() if r[0].startswith("kept_")}
        assert left == {"kept_relations", table}
    finally:
        con.close()
    # and the next day folds from the increment's copy
    con = store.connect(path)
    _orders(con, [("o8", "m3", "b2"), ("o9", "m3", "b3")])
    con.close()
    (tmp_path / "2").mkdir()
    full2 = _full(path, tmp_path / "2")
    CALLS.update(build=0, fold=0)
    inc2, _ = incremental.scan_since(path, "cn", "last")
    assert CALLS == {"build": 0, "fold": 1}
    assert _findings(inc2).equals(_findings(full2))


def test_a_wrong_fold_would_be_seen(day_two, tmp_path, monkeypatch):
    """The equality above is not vacuous: a fold that forgets the new rows changes findings."""
    path, _ = day_two
    full = _full(path, tmp_path)

    def stale(tables):
        return shared(tables, ("test_merchant_orders", "v1"), lambda: None, lambda p, t, n: p)

    monkeypatch.setitem(globals(), "merchant_orders", stale)
    inc, info = incremental.scan_since(path, "cn", "last", save=False)
    assert info["kept"]["folded"]
    assert not _findings(inc).equals(_findings(full))


def test_no_copy_or_another_key_builds(day_two, tmp_path):
    path, first = day_two
    full = _full(path, tmp_path)
    # another key (a parameter or the definition changed): the copy is not used
    VERSION["now"] = "v2"
    CALLS.update(build=0, fold=0)
    inc, info = incremental.scan_since(path, "cn", first, save=False)
    assert CALLS == {"build": 1, "fold": 0}
    assert info["kept"] == {"folded": [], "built": [repr(("test_merchant_orders", "v2"))]}
    assert _findings(inc).equals(_findings(full))
    # no copy (a store made before relations were kept, or a scan that kept none)
    VERSION["now"] = "v1"
    con = store.connect(path)
    store.drop_kept(con, [first])
    con.close()
    CALLS.update(build=0, fold=0)
    inc, info = incremental.scan_since(path, "cn", first, save=False)
    assert CALLS == {"build": 1, "fold": 0}
    assert _findings(inc).equals(_findings(full))


def test_a_copy_written_by_other_releases_builds(day_two, tmp_path, monkeypatch):
    # the copy records the releases that wrote it (store.kept_fingerprint): after an upgrade
    # (another duckdb, pyarrow, PromoGuard) the relation is built, not folded from the old copy
    path, first = day_two
    full = _full(path, tmp_path)
    con = store.connect(path, read_only=True)
    try:
        [(made_by,)] = con.execute("SELECT made_by FROM kept_relations").fetchall()
    finally:
        con.close()
    assert made_by == store.kept_fingerprint() and "duckdb=" in made_by
    CALLS.update(build=0, fold=0)
    monkeypatch.setattr(store, "kept_fingerprint", lambda: made_by + ";upgraded")
    inc, info = incremental.scan_since(path, "cn", first, save=False)
    assert CALLS == {"build": 1, "fold": 0}
    assert info["kept"]["folded"] == []
    assert _findings(inc).equals(_findings(full))


def test_outside_a_scan_and_unsaved_scans_keep_nothing(tmp_path, toys):
    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    _orders(con, [("o1", "m1", "b1")])
    con.close()
    unsaved = eng.scan(path, "cn", save=False)
    assert _kept(path) == []
    assert unsaved.kept == []  # not even written out for a store that will not get them
    con = store.connect(path, read_only=True)
    try:
        from promoguard.engine.backends import duckdb_tables

        with duckdb_tables(con) as tables:  # no scan: build() itself
            assert tables.to_arrow(merchant_orders(tables)).num_rows == 1
    finally:
        con.close()


def test_deleting_a_scan_drops_its_copies_and_verify_is_clean(day_two):
    from promoguard import integrity

    path, first = day_two
    con = store.connect(path)
    try:
        assert integrity.verify(con).ok
        [(table,)] = con.execute("SELECT table_name FROM kept_relations").fetchall()
        scans.delete(con, first)
        assert con.execute("SELECT count(*) FROM kept_relations").fetchone()[0] == 0
        assert table not in {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        # and what remains of the store still verifies (no seal or copy of the scan is left)
        assert integrity.verify(con).ok
    finally:
        con.close()


def test_a_key_holds_only_plain_values():
    assert key_text(("a", 1, 2.5, True, None, ("b",))) == "('a', 1, 2.5, True, None, ('b',))"
    with pytest.raises(TypeError, match="kept relation's key"):
        key_text(("a", [1]))


@pytest.mark.spark
def test_on_spark_the_relation_is_built(day_two, tmp_path):
    pytest.importorskip("pyspark")
    path, _ = day_two
    full = _full(path, tmp_path)
    CALLS.update(build=0, fold=0)
    inc, info = incremental.scan_since(
        path, "cn", "last", engine="spark", spark_master=spark_env.MASTER, save=False
    )
    assert CALLS["fold"] == 0 and CALLS["build"] >= 1
    assert info["kept"] == {"folded": [], "built": []}  # Spark keeps no relations
    assert _findings(inc).equals(_findings(full))


def test_a_kept_relation_comes_back_with_its_types_and_values(tmp_path):
    """Written to Parquet and stored, a relation keeps its DuckDB types and values exactly, also
    where Parquet has no such type (a HUGEINT would come back a DOUBLE, a list as text)."""
    from promoguard.engine.cache import KeptState, _write_out

    con = ibis.duckdb.connect()
    con.con.execute("ATTACH ':memory:' AS scan (READ_WRITE)")
    con.con.execute(
        "CREATE TABLE scan.main.r AS SELECT 'm1' AS merchant_id, "
        "(2::HUGEINT ** 70)::HUGEINT + 1 AS big, [1, 2]::INTEGER[] AS xs, "
        "TIMESTAMPTZ '2026-11-11 00:00:00+08' AS at, 12.34::DECIMAL(18, 2) AS price"
    )
    state = KeptState(save=True)
    file = _write_out(con, "scan", "r", state, "('r',)")
    path = tmp_path / "s.duckdb"
    s = store.connect(path)
    try:
        s.execute(
            "INSERT INTO scans (scan_id, pack, engine, checks, parameters, started_at) "
            "VALUES ('x', 'cn', 'duckdb', '', '{}', now())"
        )
        store.save_kept(s, "x", "cn", __import__("datetime").datetime.now(), [{"('r',)": file}])
        [(table,)] = s.execute("SELECT table_name FROM kept_relations").fetchall()
        got = s.execute(f'SELECT * FROM "{table}"').fetchall()
        types = s.execute(
            "SELECT data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
        want = con.con.execute("SELECT * FROM scan.main.r").fetchall()
    finally:
        s.close()
    assert [t for (t,) in types] == [t for _, t in file.types]
    assert "HUGEINT" in [t for (t,) in types] and got == want and got[0][1] == 2**70 + 1


# -- an appending fold (``Appended``): the scan reads a view over the store's previous copy, a
# saved scan deletes and inserts the day's rows in that table instead of writing it whole ------

#: the rows of each appending relation the toy check read in the last scan (through the scan's
#: view, as every reader reads it)
SEEN: dict[str, list[tuple]] = {}


def device_orders(tables):
    """Each buyer device's number of orders (a missing device is one key, NULL): folded by
    taking out the day's devices' rows and adding them recounted."""

    def build():
        o = tables.orders
        return o.group_by(device=o.buyer_device_id).aggregate(n=o.count())

    def fold(previous, season, new):
        CALLS["fold"] += 1
        o = new.orders
        day = o.group_by(device=o.buyer_device_id).aggregate(n=o.count())
        # (nulls equal: the day's orders without a device recount the NULL row too)
        old = previous.semi_join(day, previous.device.identical_to(day.device))
        both = ibis.union(old, day.cast(previous.schema()))
        again = both.group_by("device").aggregate(n=both.n.sum())
        return Appended(added=again, removed=day.select("device"), key=("device",))

    return shared(tables, ("test_device_orders", "v1"), build, fold)


def buyer_devices(tables):
    """Each buyer's distinct devices: append only (no row ever goes)."""

    def build():
        o = tables.orders
        return o.select("buyer_id", device=o.buyer_device_id).distinct()

    def fold(previous, season, new):
        CALLS["fold"] += 1
        o = new.orders
        day = o.select("buyer_id", device=o.buyer_device_id).distinct()
        fresh = day.anti_join(
            previous,
            [day.buyer_id == previous.buyer_id, day.device.identical_to(previous.device)],
        )
        return Appended(added=fresh)

    return shared(tables, ("test_buyer_devices", "v1"), build, fold)


APPENDING = {"test_device_orders": device_orders, "test_buyer_devices": buyer_devices}


class DeviceOrders(BusyMerchants):
    """A toy check reading both appending relations (and recording what it read)."""

    code = "TOY903"
    name = "device-orders"

    def find(self, tables, params, ctx):
        for name, relation in APPENDING.items():
            rows = tables.to_arrow(relation(tables)).to_pylist()
            SEEN[name] = sorted((tuple(r.values()) for r in rows), key=repr)
        m = device_orders(tables)
        m = m.filter(m.device.notnull() & (m.n >= params["least"]))
        return m.select(
            entity_id=m.device,
            merchant_id=ibis.literal("m1"),
            platform_id=ibis.literal("p1"),
            n=m.n,
            least=ibis.literal(params["least"]),
        )

    def evidence(self, tables, found, params, ctx):
        b = buyer_devices(tables)
        return {
            "buyers": found.join(b, found.entity_id == b.device).select(found.entity_id, b.buyer_id)
        }


def _device_orders(con, rows):
    con.executemany(
        "INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price, "
        "paid_at, status, buyer_device_id) VALUES (?, 'l1', 'm1', ?, 1, 10.00, "
        "TIMESTAMPTZ '2026-11-11 00:00:00+08', 'paid', ?)",
        rows,
    )


@pytest.fixture
def appending(monkeypatch, tmp_path):
    """A store scanned and saved after day 1 (devices d1: 2 orders, d2: 1, none: 1): its path."""
    check = DeviceOrders()
    monkeypatch.setitem(registry._CHECKS, check.code, check)
    monkeypatch.setattr(eng, "choose_checks", lambda pack, codes: [check])
    for k in CALLS:
        monkeypatch.setitem(CALLS, k, 0)
    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    _device_orders(
        con, [("o1", "b1", "d1"), ("o2", "b2", "d1"), ("o3", "b1", "d2"), ("o4", "b3", None)]
    )
    con.close()
    eng.scan(path, "cn")
    return path


def _built(path):
    """Both relations built on every row of the store now (what the view and the kept table
    must hold), as sorted rows."""
    con = store.connect(path, read_only=True)
    try:
        return {
            "test_device_orders": sorted(
                con.execute(
                    "SELECT buyer_device_id AS device, count(*) AS n FROM orders GROUP BY 1"
                ).fetchall(),
                key=repr,
            ),
            "test_buyer_devices": sorted(
                con.execute("SELECT DISTINCT buyer_id, buyer_device_id FROM orders").fetchall(),
                key=repr,
            ),
        }
    finally:
        con.close()


def _tables_of(path):
    """relation name -> (its kept table, its rows, the registry's row count)."""
    con = store.connect(path, read_only=True)
    try:
        out = {}
        for key, table, count in con.execute(
            "SELECT relation_key, table_name, row_count FROM kept_relations"
        ).fetchall():
            rows = sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            out[eval(key)[0]] = (table, rows, count)  # noqa: S307 - our own repr of a tuple
        return out
    finally:
        con.close()


def test_an_appending_fold_is_read_as_a_view_and_saved_into_the_previous_copy(appending, tmp_path):
    path = appending
    before = _tables_of(path)
    assert {k: v[1] for k, v in before.items()} == _built(path)
    # day 2: an old device's order (its row must go: an append would repeat it), a new device,
    # an order without a device (the NULL row must go too: an anti join on ``=`` keeps it, a
    # ``NOT IN`` of a key list holding NULL would keep no row at all), a device twice, and a
    # buyer's old (buyer, device) pair again (append only: nothing to add)
    con = store.connect(path)
    _device_orders(
        con,
        [
            ("o5", "b4", "d1"),
            ("o6", "b4", "d9"),
            ("o7", "b5", "d9"),
            ("o8", "b6", None),
            ("o9", "b1", "d2"),
        ],
    )
    con.close()
    for day in (2, 3):
        (tmp_path / str(day)).mkdir()
        full = _full(path, tmp_path / str(day))
        CALLS.update(fold=0)
        inc, info = incremental.scan_since(path, "cn", "last")
        assert CALLS["fold"] == 2 and len(info["kept"]["folded"]) == 2, info["kept"]
        built = _built(path)
        assert built == SEEN  # what the scan read: the view over the previous copy
        assert _findings(inc).equals(_findings(full))
        after = _tables_of(path)
        for name, (table, rows, count) in after.items():
            # the previous copy's table, taken over: the day's rows deleted and inserted
            assert table == before[name][0] and rows == built[name] and count == len(rows)
        con = store.connect(path, read_only=True)
        try:
            assert {r[0] for r in con.execute("SELECT scan_id FROM kept_relations").fetchall()} == {
                inc.scan_id
            }
            left = {r[0] for r in con.execute("SHOW TABLES").fetchall() if r[0].startswith("kept_")}
            assert left == {"kept_relations", *(t for t, _, _ in after.values())}
        finally:
            con.close()
        # day 3 folds from the copy day 2 changed
        con = store.connect(path)
        _device_orders(con, [("o10", "b7", None), ("o11", "b7", "d2"), ("o12", "b8", "d7")])
        con.close()


def test_an_appending_fold_s_save_writes_a_new_copy_when_the_old_one_is_kept(tmp_path):
    """The previous copy is taken over only when its scan's copies are dropped by this save;
    else the relation is written whole from it (and when it is gone, nothing is kept: the next
    scan builds)."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from promoguard.engine.cache import KeptDelta, KeptFile

    path = tmp_path / "s.duckdb"
    s = store.connect(path)
    text = repr(("r",))
    types = [("k", "VARCHAR"), ("n", "BIGINT")]
    pq.write_table(pa.table({"k": ["a", None]}), tmp_path / "removed.parquet")
    pq.write_table(pa.table({"k": ["a", None, "c"], "n": [10, 20, 30]}), tmp_path / "added.parquet")
    delta = KeptDelta(
        "prev",
        ("k",),
        KeptFile(str(tmp_path / "removed.parquet"), [("k", "VARCHAR")]),
        KeptFile(str(tmp_path / "added.parquet"), types),
        types,
        "old",  # the scan the fold read "prev" as
    )
    try:
        s.execute("CREATE TABLE prev (k VARCHAR, n BIGINT)")
        s.execute("INSERT INTO prev VALUES ('a', 1), ('a', 2), (NULL, 3), ('b', 4)")
        now = dt.datetime.now(dt.UTC)
        for scan_id, pack, at in (("old", "other", now), ("new", "cn", now)):
            s.execute(
                "INSERT INTO scans (scan_id, pack, engine, checks, parameters, started_at) "
                "VALUES (?, ?, 'duckdb', '', '{}', ?)",
                [scan_id, pack, at],
            )
        # the copy is another pack's scan's: not dropped by this save, so not taken over
        s.execute(
            "INSERT INTO kept_relations VALUES ('old', ?, 'prev', 4, ?)",
            [text, store.kept_fingerprint()],
        )
        store.save_kept(s, "new", "cn", now, [{text: delta}])
        rows = s.execute(
            "SELECT scan_id, table_name, row_count FROM kept_relations ORDER BY 1"
        ).fetchall()
        assert rows[0] == ("new", kept_table_name("new", text), 4) and rows[1] == ("old", "prev", 4)
        got = sorted(s.execute(f'SELECT * FROM "{rows[0][1]}"').fetchall(), key=repr)
        assert got == sorted([("b", 4), ("a", 10), (None, 20), ("c", 30)], key=repr)
        assert s.execute("SELECT count(*) FROM prev").fetchone()[0] == 4  # left as it was
        # a copy gone (another save took it over): nothing kept for the key
        s.execute("DELETE FROM kept_relations")
        store.save_kept(s, "new2", "cn", now, [{text: delta}])
        assert s.execute("SELECT count(*) FROM kept_relations").fetchone()[0] == 0
    finally:
        s.close()
