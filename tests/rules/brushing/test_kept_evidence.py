"""BRUSH002's and BRUSH003's kept-evidence hooks (``evidence_touched``): a finding the hook does
not name keeps the previous scan's document, so every found entity whose evidence rows the new
rows changed (with the same found row: the engine compares that apart) must be named.

Each case builds a season's base and its new rows in one store (as ``test_kept`` does), runs
the finders and the evidence on the base (recording the kept relations, as a saved scan does),
then on the whole season with every relation folded, and compares the evidence per entity. Two
planted cases fail a hook that is too narrow: a new *cancelled* order of a found group's buyer at
its shop (BRUSH002's evidence quotes cancelled orders; its groups do not count them), and an
earlier delivered scan of an old instantly confirmed order of a found shop with no new order
(still instant, so the shop's counts stay: only the quoted ``delivered_at`` moves). A third
(``_brush003_day``) fails a BRUSH003 hook without the shops of its new rapid buyer-hours or of
its new instant orders, and one naming every shop with a new order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from tests.support import make_store, write_rows

from promoguard.engine.cache import scan_cache
from promoguard.rules.brushing import brush002_linked_buyers_same_merchant as brush002
from promoguard.rules.brushing import brush003_order_velocity as brush003

from .synth import T0, World, brushing_world
from .test_kept import GROWING, Kept, _hand_built, _params, _season, _split

CHECKS = {"BRUSH002": brush002.LinkedBuyersSameMerchant(), "BRUSH003": brush003.OrderVelocity()}


def _found(check: Any, tables: Any, params: dict, ctx: Any) -> pa.Table:
    if check.code == "BRUSH002":
        return check.find_local(tables, params, ctx)
    return tables.to_arrow(check.find(tables, params, ctx))


def _by_entity(t: pa.Table) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for r in t.to_pylist():
        out.setdefault(r["entity_id"], []).append(tuple(sorted(r.items())))
    return {k: sorted(v, key=repr) for k, v in out.items()}


def _run(tables: Any, params: dict, ctx: Any, new: Any = None) -> dict[str, dict]:
    """Per check: found rows and evidence rows per entity (and, given ``new``, the entities the
    hook names), in one scan of ``tables``."""
    out = {}
    with scan_cache(tables):
        for code, check in CHECKS.items():
            p = params[code]
            found = _found(check, tables, p, ctx)
            f = ibis.memtable(found)
            touched = None
            if new is not None:
                t = check.evidence_touched(tables, new, f, p, ctx)
                touched = set(tables.to_arrow(t).column("entity_id").to_pylist())
            evidence: dict[str, list] = {}
            for name, rows in check.evidence(tables, f, p, ctx).items():
                for entity, quoted in _by_entity(tables.to_arrow(rows)).items():
                    evidence.setdefault(entity, []).append((name, quoted))
            heads = {r["entity_id"]: r for r in found.to_pylist()}
            out[code] = {"heads": heads, "evidence": evidence, "touched": touched}
    return out


def _changed(tmp_path, monkeypatch, base: dict, new: dict) -> dict[str, tuple[set, set, set]]:
    """Per check: (entities whose evidence rows changed and whose document the engine could take
    from S, entities the hook names); asserts every fold ran and the first set is within the
    second. S's rows are taken for an entity found before and now with the same found row, and,
    when the check allows re-heading (``evidence_rows_by_entity``), with any found row."""
    params, ctx = _params()
    kept = Kept(monkeypatch)
    with _season(tmp_path, base, new) as (before, season, added):
        was = _run(before, params, ctx)
        kept.record()
        kept.new = added
        now = _run(season, params, ctx, added)
    assert ("brush003_instant_orders", "v4", 600, 43200, 259200) in kept.folded
    out = {}
    for code in CHECKS:
        a, b = was[code], now[code]
        if CHECKS[code].evidence_rows_by_entity:  # S's rows go under a moved head too
            taken = [e for e in b["heads"] if e in a["heads"]]
        else:
            taken = [e for e in b["heads"] if a["heads"].get(e) == b["heads"][e]]
        moved = {e for e in taken if a["evidence"].get(e, []) != b["evidence"].get(e, [])}
        assert moved <= b["touched"], (code, moved - b["touched"])
        assert b["touched"] <= set(b["heads"])
        out[code] = (moved, b["touched"], set(b["heads"]))
    return out


@pytest.mark.parametrize("days", [4, 9, 12, 19])
def test_the_hooks_name_every_finding_whose_evidence_a_day_changes(tmp_path, monkeypatch, days):
    base, new = _split(brushing_world(), T0 + dt.timedelta(days=days))
    out = _changed(tmp_path, monkeypatch, base, new)  # asserts each hook names what moved
    assert set(out) == set(CHECKS)
    # (that the hooks leave findings to carry is test_scan_since_carries_the_evidence_...'s)


def test_the_hooks_on_hand_built_cases(tmp_path, monkeypatch):
    base, new = _hand_built()
    out = _changed(tmp_path, monkeypatch, base, new)  # asserts each hook names what moved
    assert set(out) == set(CHECKS)


def _rows(world: World, prefix: str) -> dict[str, pd.DataFrame]:
    t = world.tables()
    for name in ("orders", "shipments"):
        if "order_id" in t[name]:
            t[name]["order_id"] = t[name]["order_id"].str.replace("O", prefix, n=1)
    return {name: t[name] for name in GROWING}


def _planted(tmp_path) -> tuple[dict, dict, str, str]:
    """(base, new rows, a found group, a found shop): the brushing world before day 12 and one
    planted row for each (nothing else is new): a cancelled order of the group's buyer at its
    shop, and an earlier delivered scan of one of the shop's old instant orders (still instant:
    confirmed 3+ minutes after its first scan, now a minute more)."""
    base, new = _split(brushing_world(), T0 + dt.timedelta(days=12))
    params, ctx = _params()
    none = {t: new[t].iloc[:0] for t in GROWING}
    with _season(tmp_path / "probe", base, none) as (b, _, _n), scan_cache(b):
        groups = _found(CHECKS["BRUSH002"], b, params["BRUSH002"], ctx).to_pylist()
        shops = _found(CHECKS["BRUSH003"], b, params["BRUSH003"], ctx)
        inst = b.to_arrow(brush003._instant_orders(b, params["BRUSH003"])).to_pylist()
    group = groups[0]
    buyers = set(group["entity_id"].split("|"))
    found_shops = set(shops.column("entity_id").to_pylist())
    order = next(
        r
        for r in inst
        if r["merchant_id"] in found_shops
        and r["merchant_id"] != group["merchant_id"]
        and r["buyer_id"] not in buyers
        and (r["confirmed_at"] - r["delivered_at"]) >= dt.timedelta(minutes=2)
    )
    day = T0 + dt.timedelta(days=12, hours=1)
    planted = World()
    planted.order(sorted(buyers)[0], group["merchant_id"], day)
    planted.orders[-1]["status"] = "cancelled"
    rows = _rows(planted, "E")
    ships = base["shipments"]
    parcel = ships[ships.order_id == order["order_id"]].iloc[0]
    scan = {
        "carrier": parcel.carrier,
        "tracking_no": parcel.tracking_no,
        "event_at": order["delivered_at"] - dt.timedelta(minutes=1),
        "event_type": "delivered",
    }
    base = _twin(base, shop=order["merchant_id"], buyers=buyers)
    # only these rows: BRUSH003's found rows hold shares of every shop's orders together (the
    # odd-hour ratio), which another shop's new order moves: kept apart, the planted rows are the
    # only change the hooks must see (BRUSH002's moved found rows are proved again whatever the
    # hook says; BRUSH003's, which pick rows by entity, would be re-headed)
    new = {
        "orders": rows["orders"],
        "shipments": new["shipments"].iloc[:0],
        "tracking_events": pd.DataFrame([scan]),
    }
    return base, new, group["entity_id"], order["merchant_id"]


def _twin(base: dict, shop: str, buyers: set[str], name: str = "MX") -> dict:
    """``base`` with a twin of ``shop`` (its orders, parcels and scans again, at shop ``name``,
    by buyers and on parcels of their own) and of the ``buyers`` (their orders again, by buyers,
    phones and addresses of their own): findings no planted row reaches, to carry."""
    out = dict(base)
    o, s, e = base["orders"], base["shipments"], base["tracking_events"]
    a = o[o.merchant_id == shop].copy()
    a["merchant_id"] = name
    b = o[o.buyer_id.isin(buyers)].copy()
    x = "-" + name.lower()
    for t, tag in ((a, x), (b, "-y")):
        for c in ("order_id", "buyer_id", "buyer_device_id", "buyer_address_id"):
            t[c] = t[c] + tag
    sa = s[s.order_id.isin(o[o.merchant_id == shop].order_id)].copy()
    ea = e[e.tracking_no.isin(sa.tracking_no)].copy()
    sa["order_id"] = sa["order_id"] + x
    sa["tracking_no"] = sa["tracking_no"] + x
    ea["tracking_no"] = ea["tracking_no"] + x
    m = base["merchants"]
    twin = m[m.merchant_id == shop].assign(merchant_id=name)
    out["merchants"] = pd.concat([m, twin], ignore_index=True)
    out["orders"] = pd.concat([o, a, b], ignore_index=True)
    out["shipments"] = pd.concat([s, sa], ignore_index=True)
    out["tracking_events"] = pd.concat([e, ea], ignore_index=True)
    return out


def test_too_narrow_hooks_miss_planted_changes(tmp_path, monkeypatch):
    base, new, group, shop = _planted(tmp_path)
    out = _changed(tmp_path, monkeypatch, base, new)
    assert group in out["BRUSH002"][0]  # its evidence quotes the cancelled order
    assert shop in out["BRUSH003"][0]  # the order's delivered_at moved, its counts did not


def _hashes(result, code: str) -> dict[str, str]:
    f = result.findings
    f = f[f.check_code == code]
    return dict(zip(f.entity_id, f.evidence_sha256, strict=True))


@pytest.mark.parametrize("narrow", [None, "BRUSH002", "BRUSH003"])
def test_scan_since_carries_the_evidence_a_full_scan_proves(tmp_path, monkeypatch, narrow):
    # through the engine: the increment's evidence hashes are a full re-scan's, most of them
    # carried; a hook that names nothing (``narrow``) gives the planted entity another hash
    import shutil

    from promoguard import incremental
    from promoguard.engine import run as eng

    from .test_kept import store_connect

    base, new, group, shop = _planted(tmp_path)
    path = tmp_path / "s.duckdb"
    make_store(path, base).close()
    codes = ",".join(CHECKS)
    eng.scan(path, "cn", checks=codes)
    con = store_connect(path)
    write_rows(con, new)
    con.close()
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks=codes, save=False)
    if narrow is not None:
        cls = type(CHECKS[narrow])
        monkeypatch.setattr(
            cls,
            "evidence_touched",
            lambda self, t, n, found, p, c: found.select("entity_id").limit(0),
        )
    inc, _ = incremental.scan_since(path, "cn", "last", checks=codes, save=False)
    carried = {r.code: r.carried for r in inc.runs}
    for code, entity in (("BRUSH002", group), ("BRUSH003", shop)):
        a, b = _hashes(inc, code), _hashes(full, code)
        assert set(a) == set(b) and entity in b
        assert carried[code], (code, carried)  # not vacuous: most documents carried
        if narrow == code:
            assert a[entity] != b[entity]  # the planted row's evidence, carried wrongly
            assert {e for e in a if a[e] != b[e]} == {entity}
        else:
            assert a == b


def _brush003_day(tmp_path) -> tuple[dict, dict, str, str, str]:
    """(base, new rows, three found shops): the brushing world before day 12 with three twins
    of a shop BRUSH003 finds and, as the only new rows, new buyers' orders at the twins: three in one hour at the first (a
    new rapid buyer-hour), one delivered and confirmed two minutes later at the second (a new
    instant order), and one paid, not yet delivered, at the third (neither)."""
    base, new = _split(brushing_world(), T0 + dt.timedelta(days=12))
    params, ctx = _params()
    none = {t: new[t].iloc[:0] for t in GROWING}
    with _season(tmp_path / "probe", base, none) as (b, _, _n), scan_cache(b):
        shops = _found(CHECKS["BRUSH003"], b, params["BRUSH003"], ctx)
    shop = sorted(shops.column("entity_id").to_pylist())[0]
    # (the world has one such shop: its twins are three more, one for each planted case)
    for name in ("MA", "MB", "MC"):
        base = _twin(base, shop, set(), name)
    rapid, instant, plain = "MA", "MB", "MC"
    day = T0 + dt.timedelta(days=12, hours=1)
    planted = World()
    for minutes in (0, 10, 20):
        planted.order("BZ-rapid", rapid, day + dt.timedelta(minutes=minutes))
    delivered = day + dt.timedelta(hours=4)
    planted.order(
        "BZ-instant",
        instant,
        day,
        confirmed_at=delivered + dt.timedelta(minutes=2),
        delivered_at=delivered,
    )
    planted.order("BZ-plain", plain, day)
    rows = _rows(planted, "F")
    for name in ("shipments", "tracking_events"):  # (parcels of their own, not the world's)
        rows[name]["tracking_no"] = rows[name]["tracking_no"].str.replace("TO", "TF", n=1)
    return base, rows, rapid, instant, plain


def test_brush003_names_the_shops_whose_rows_the_day_changes_not_every_shop_with_an_order(
    tmp_path, monkeypatch
):
    # the hook names a shop for its new rapid buyer-hour and for its new instant order (a hook
    # without either misses one), and not for an order in neither (the shops it may leave to
    # be carried or re-headed: every shop with a new order was named before)
    base, new, rapid, instant, plain = _brush003_day(tmp_path)
    moved, touched, found = _changed(tmp_path, monkeypatch, base, new)["BRUSH003"]
    assert {rapid, instant, plain} <= found
    assert {rapid, instant} <= moved  # (asserted within the hook's names by _changed)
    assert plain not in moved and plain not in touched


def test_brush003_day_through_scan_since_equals_a_full_rescan(tmp_path):
    # the day above through the engine: the evidence hashes of the shops with new orders are a
    # full re-scan's, the plain one's taken from S (re-headed: its found row moved)
    import shutil

    from promoguard import incremental
    from promoguard.engine import run as eng

    from .test_kept import store_connect

    base, new, rapid, instant, plain = _brush003_day(tmp_path)
    path = tmp_path / "s.duckdb"
    make_store(path, base).close()
    eng.scan(path, "cn", checks="BRUSH003")
    con = store_connect(path)
    write_rows(con, new)
    con.close()
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks="BRUSH003", save=False)
    inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH003", save=False)
    a, b = _hashes(inc, "BRUSH003"), _hashes(full, "BRUSH003")
    assert a == b and {rapid, instant, plain} <= set(b)
    [run] = inc.runs
    assert run.carried and run.carried >= len(b) - 2  # all but the rapid and instant shops
