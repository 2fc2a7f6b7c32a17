"""BRUSH001 dense-buyer-merchant-block: Dense block of buyers ordering again and again from the same merchants."""

from __future__ import annotations

import re
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.engine import backends
from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.cache import previous_copy, shared
from promoguard.engine.registry import register
from promoguard.graph import rings
from promoguard.rules._relations import merchant_platforms, utc_offset_hours
from promoguard.rules.brushing import _shared
from promoguard.rules.brushing._shared import (
    BUYER_SEP,
    _group_orders_evidence,
    _iso,
    _order_edges,
    _table,
    bahmani_blocks,
    buyer_shop_pairs,
    group_members,
    merchant_degree,
    repeat_pairs,
)


def _repeat_edges(tables: Tables) -> tuple[ir.Table, ir.Table]:
    """(edges with two or more orders, each with its merchant's degree; every merchant's degree).

    A single purchase weighs log(1) = 0, so only repeat edges are pulled out of the engine: a
    tenth of the pairs on order data. The merchant's degree (distinct buyers) counts every pair;
    it is the scan's shared ``merchant_degree`` (BRUSH003 reads it too).
    """
    e = _order_edges(tables)
    deg = merchant_degree(tables)
    rep = e.filter(e.orders >= 2).join(deg, "merchant")
    return rep, deg


#: most prune rounds run in the engine; what is left after them is pruned exactly on arrays
PRUNE_ROUNDS = 12
#: ... and the rounds stop once one removes less than this share of the edges left: the first
#: round removes most of what the prune will (at city scale 66,000 of 405,000 edges, the next
#: seven some 500 together), and the arrays finish the prune exactly whenever the rounds stop
PRUNE_STOP_SHARE = 0.01
#: the rounds run where nothing large may reach the driver (Spark); DuckDB hands every repeat
#: edge to the arrays, which prune exactly (``fraudar.prune_below``) either way: at city scale
#: the rounds left 338,772 of ~405,000 edges and cost more (a materialised copy per round) than
#: the pull of the rest. Tests turn them on for DuckDB to check that both give the same core.
PRUNE_IN_DUCKDB = False
#: the engine prunes just below min_density, so that a last-bit difference between its sums (in
#: any order, with SQL's ln) and numpy's can only keep a node more, never drop one too many
PRUNE_MARGIN = 1e-6


def _core_edges(tables: Tables, params: dict[str, Any]) -> tuple[pa.Table, float]:
    """The repeat-order edges that can lie in a block of density >= min_density, and the median
    shop degree (distinct buyers over every shop), computed where the orders are.

    FRAUDAR starts by removing, round after round, every node whose weighted degree is below
    min_density (``fraudar.prune_below``): a node of such a block keeps at least that degree in
    it. The rounds are relational (two group-bys, two semi-joins) and run in the engine for at
    most PRUNE_ROUNDS (fewer once a round removes little), at a threshold a hair below
    min_density; what they leave is a superset of the exact prune's result, which the arrays
    then prune exactly. The pruned subgraph is the unique largest one whose nodes all reach the
    threshold, so the peel sees the same graph and gives the same blocks as from every edge,
    while only the dense core (of the findings' order of size, not the season's) leaves the
    engine: on Spark nothing larger reaches the driver. DuckDB skips the rounds
    (``PRUNE_IN_DUCKDB``) and hands the arrays every repeat edge: the same pruned graph.

    Every buyer-shop pair is aggregated from the orders once and kept for the step: the shops'
    degrees (shared with BRUSH003 in a scan), their median and the repeat edges all read it.
    An incremental scan folds the degrees and the repeat pairs the previous scan kept with the
    new orders instead (``_shared.fold_merchant_degree``, ``fold_repeat_pairs``): no pass over
    every pair then.
    """
    floor = float(params["min_density"]) * (1.0 - PRUNE_MARGIN)
    c = float(params["weight_c"])
    with backends.Scratch(tables.backend, "_brush001") as scratch:
        # the pairs keep their first and last payment as timestamps: whole epoch seconds (a
        # floor, monotonic: the floor of the earliest is the earliest floor) only for the repeat
        # pairs, not for each of 5.5M orders
        made: list[ir.Table] = []

        def pairs() -> ir.Table:
            # every pair, grouped once and only if a relation is built from them: an
            # incremental scan folds the degrees and repeat pairs kept from the previous one
            if not made:
                made.append(scratch.keep(buyer_shop_pairs(tables)))
            return made[0]

        deg = scratch.keep(merchant_degree(tables, pairs))
        median = _median_degree(tables, deg)
        # the repeat pairs are the scan's (BRUSH003 reads them too)
        rep = repeat_pairs(tables, pairs)
        rep = rep.join(deg, "merchant")
        rep = rep.select(
            "buyer",
            "merchant",
            "orders",
            first_at=epoch_seconds(rep.first_paid),
            last_at=epoch_seconds(rep.last_paid),
            deg=rep.deg,
        )
        current = rep
        rounds = backends.is_spark(tables.backend) or PRUNE_IN_DUCKDB
        if rounds and floor > 0 and c > 0:  # ln(deg + c) > 0: every weight is positive
            weight = rep.orders.cast("float64").ln() / (rep.deg.cast("float64") + c).ln()
            current = scratch.keep(rep.mutate(w=weight))
            size = _rows(scratch, current)
            for _ in range(PRUNE_ROUNDS):
                b = current.group_by("buyer").aggregate(d=current.w.sum())
                m = current.group_by("merchant").aggregate(d=current.w.sum())
                kept = current.semi_join(b.filter(b.d >= floor).select("buyer"), "buyer")
                kept = kept.semi_join(m.filter(m.d >= floor).select("merchant"), "merchant")
                kept = scratch.keep(kept.select(*current.columns))
                left = _rows(scratch, kept)
                current = kept
                if size - left <= PRUNE_STOP_SHARE * size or not left:
                    break
                size = left
            current = current.drop("w")
        return scratch.to_arrow(current), median


def _rows(scratch: backends.Scratch, expr: ir.Table) -> int:
    return int(scratch.to_arrow(expr.count().as_table()).column(0)[0].as_py())


def _median_degree(tables: Tables, deg: ir.Table) -> float:
    """``np.median`` of every shop's degree (the hub test's yardstick), from the engine's
    histogram of degrees (one row per distinct degree: small whatever the number of shops)."""
    hist = tables.to_arrow(deg.group_by("deg").aggregate(n=deg.count()))
    if not hist.num_rows:
        return float("nan")
    order = np.argsort(hist.column("deg").to_numpy())
    values = hist.column("deg").to_numpy().astype(np.int64)[order]
    ends = np.cumsum(hist.column("n").to_numpy().astype(np.int64)[order])
    total = int(ends[-1])
    # the middle one or two degrees in sorted order, as np.median takes them
    middle = values[np.searchsorted(ends, [(total - 1) // 2, total // 2], side="right")]
    return float(np.median(middle))


def _hubs_by_median(e: rings.Edges, median: float, hub_factor: float) -> np.ndarray:
    """Hub flags for ``e``'s merchants (``rings.hub_merchants`` against every shop's median),
    from the degrees that came with the edges (``e.merchant_degree``)."""
    assert e.merchant_degree is not None
    return e.merchant_degree > hub_factor * np.float64(median)


def _platforms_of(tables: Tables, merchants: set[str]) -> dict[str, str | None]:
    """The platform of each named merchant (only the blocks' shops leave the engine; the
    platform :func:`merchant_platforms` gives, which the evidence reads)."""
    if not merchants:
        return {}
    m = merchant_platforms(tables)
    wanted = ibis.memtable({"merchant_id": sorted(merchants)})
    rows = tables.to_arrow(m.semi_join(wanted, m.m_id == wanted.merchant_id))
    return dict(zip(rows["m_id"].to_pylist(), rows["platform_id"].to_pylist(), strict=True))


def _buying_groups(
    tables: Tables, blocks: list[rings.Block], params: dict[str, Any], ctx: ScanContext
) -> dict[int, str]:
    """Blocks that look like a recurring buying group, by index, with the evidence as a sentence.

    Colleagues or a family who order together (拼单: one sitting, each paying their own order)
    from the same few shops form a dense block too. What marks them is the habit: most of their
    orders at the block's shops are placed within minutes of another member's order at the same
    shop, in sittings that recur week after week over many weeks (the weekly lunch order). A ring
    fabricating sales in a burst also orders close together, on the three or four days of its
    burst: that is not a habit, so the weeks decide, not the days. Such a block is reported at a
    lowered severity with this evidence, never dropped (docs/exemptions.md); linked accounts
    ordering together are BRUSH002's.
    """
    limit = float(params.get("max_shared_occasion_share", 1.0))
    if not blocks or limit >= 1.0:
        return {}
    window = int(float(params.get("session_minutes", 30)) * 60)
    min_days = int(params.get("min_group_days", 3))
    min_weeks = int(params.get("min_group_weeks", 4))
    o = tables.orders
    o = o.filter(o.status != "cancelled")
    # only a block's buyers' orders at the block's own shops count (_block_visits keeps no
    # other): the pairs leave the engine, not every order of the buyers (a semi-join: the
    # pairs' order and repeats do not matter)
    keys = ibis.memtable(
        pa.table(
            {
                "buyer_id": pa.array(
                    [b for blk in blocks for b in blk.buyers for _ in blk.merchants], pa.string()
                ),
                "merchant_id": pa.array(
                    [m for blk in blocks for _ in blk.buyers for m in blk.merchants], pa.string()
                ),
            }
        )
    )
    o = o.semi_join(keys, [o.buyer_id == keys.buyer_id, o.merchant_id == keys.merchant_id])
    offset = utc_offset_hours(ctx.timezone) * 3600
    pulled = tables.to_arrow(o.select("buyer_id", "merchant_id", t=epoch_seconds(o.paid_at)))
    visits = _block_visits(pulled, blocks, window)
    if visits is None:
        return {}
    block, t, near = visits
    n_visits = np.bincount(block, minlength=len(blocks))
    n_shared = np.bincount(block[near], minlength=len(blocks))
    # the shared sittings' local days and weeks, one row per (block, day) / (block, week); local
    # days since 1970-01-01 (a Thursday): +3 makes Monday the first day of a week
    days = np.unique(np.stack([block[near], (t[near] + offset) // 86400], axis=1), axis=0)
    weeks = np.unique(np.stack([days[:, 0], (days[:, 1] + 3) // 7], axis=1), axis=0)
    n_days = np.bincount(days[:, 0], minlength=len(blocks))
    n_weeks = np.bincount(weeks[:, 0], minlength=len(blocks))
    groups: dict[int, str] = {}
    for index in range(len(blocks)):
        n, shared_n = int(n_visits[index]), int(n_shared[index])
        if not (
            n and shared_n / n > limit and n_days[index] >= min_days and n_weeks[index] >= min_weeks
        ):
            continue
        mine = days[days[:, 0] == index, 1]
        first, last = int(mine.min()), int(mine.max())
        groups[index] = (
            f"looks like a recurring buying group (拼单): {shared_n} of its {n} "
            f"orders at these shops were placed within {window // 60} min of another "
            f"member's, in sittings on {int(n_days[index])} days across "
            f"{int(n_weeks[index])} weeks ({_day(first)} to {_day(last)}); lowered, not "
            "dropped: a ring's burst lasts days"
        )
    return groups


def _buying_groups_kept(
    tables: Tables,
    blocks: list[rings.Block],
    params: dict[str, Any],
    ctx: ScanContext,
    platforms: list[str | None],
) -> dict[int, str]:
    """:func:`_buying_groups`, kept from scan to scan (DuckDB): a block's verdict is a function
    of its buyers, its shops and their non-cancelled orders at its shops only, so a block the
    previous scan judged (the same buyers and shops) with no new non-cancelled order of one of
    its buyers at one of its shops keeps its verdict; only the others are judged again (judging
    pulls every order of the judged blocks' buyers: on the city day 2026-11-22, 3,079 of 6,656
    blocks were new or reached, the rest carried). The relation is one row per block: ``entity_id``, ``merchants``,
    ``reason`` (null: not a buying group) and ``platform_id`` (the block's, ``platforms``: read
    by the kept evidence, which quotes the orders on the block's platform)."""
    limit = float(params.get("max_shared_occasion_share", 1.0))
    if not blocks or limit >= 1.0 or backends.is_spark(tables.backend):
        return _buying_groups(tables, blocks, params, ctx)
    ids = [BUYER_SEP.join(b.buyers) for b in blocks]
    shops = [BUYER_SEP.join(b.merchants) for b in blocks]

    def verdicts(groups: dict[int, str], of: list[int]) -> ir.Table:
        return ibis.memtable(
            pa.table(
                {
                    "entity_id": pa.array([ids[i] for i in of], pa.string()),
                    "merchants": pa.array([shops[i] for i in of], pa.string()),
                    "reason": pa.array([groups.get(i) for i in of], pa.string()),
                    "platform_id": pa.array([platforms[i] for i in of], pa.string()),
                }
            )
        )

    def build() -> ir.Table:
        return verdicts(_buying_groups(tables, blocks, params, ctx), list(range(len(blocks))))

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        before = tables.to_arrow(previous).to_pydict()
        judged = dict(
            zip(
                zip(before["entity_id"], before["merchants"], strict=True),
                before["reason"],
                strict=True,
            )
        )
        touched = _touched_blocks(tables, new, blocks)
        again = [i for i in range(len(blocks)) if i in touched or (ids[i], shops[i]) not in judged]
        fresh = _buying_groups(tables, [blocks[i] for i in again], params, ctx)
        # a block judged before keeps its verdict; the new and the touched ones take the fresh
        groups = {i: judged.get((ids[i], shops[i])) for i in range(len(blocks))}
        groups.update({i: fresh.get(k) for k, i in enumerate(again)})
        return verdicts(
            {i: r for i, r in groups.items() if r is not None}, list(range(len(blocks)))
        )

    key = buying_groups_key(params, utc_offset_hours(ctx.timezone))
    rows = tables.to_arrow(shared(tables, key, build, fold)).to_pydict()
    reason = dict(
        zip(zip(rows["entity_id"], rows["merchants"], strict=True), rows["reason"], strict=True)
    )
    return {i: r for i in range(len(blocks)) if (r := reason.get((ids[i], shops[i]))) is not None}


def buying_groups_key(params: dict[str, Any], utc_offset_hours: int) -> tuple:
    """The kept verdicts' key: every parameter (the blocks depend on all of them) and the
    offset of local days."""
    return (
        "brush001_buying_groups",
        # v2: each block's platform_id beside its verdict
        "v2",
        tuple(sorted((k, v) for k, v in params.items() if isinstance(v, str | int | float | bool))),
        utc_offset_hours,
    )


def _touched_blocks(tables: Tables, new: Tables, blocks: list[rings.Block]) -> set[int]:
    """Indices of the blocks one of whose buyers placed a new non-cancelled order at one of the
    block's shops."""
    n = new.orders
    n = n.filter(n.status != "cancelled")
    wanted = sorted({b for blk in blocks for b in blk.buyers})
    n = n.semi_join(ibis.memtable({"buyer_id": wanted}), "buyer_id")
    pulled = tables.to_arrow(n.select("buyer_id", "merchant_id").distinct()).to_pydict()
    shops_of: dict[str, set[str]] = {}
    for b, m in zip(pulled["buyer_id"], pulled["merchant_id"], strict=True):
        shops_of.setdefault(b, set()).add(m)
    return {
        i
        for i, blk in enumerate(blocks)
        if any(not shops_of.get(b, set()).isdisjoint(blk.merchants) for b in blk.buyers)
    }


def _codes_by_block(blocks: list[rings.Block], field: str, values: pa.Array) -> np.ndarray:
    """(code of each block's buyer or shop among ``values``, block index) rows, block by block
    (``values`` hold every one of them)."""
    names = [x for blk in blocks for x in getattr(blk, field)]
    block = np.repeat(
        np.arange(len(blocks), dtype=np.int64), [len(getattr(blk, field)) for blk in blocks]
    )
    code = pc.index_in(pa.array(names, pa.string()), value_set=values)
    return np.stack([code.to_numpy(zero_copy_only=False).astype(np.int64), block], axis=1)


def _block_visits(
    pulled: pa.Table, blocks: list[rings.Block], window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each block's orders at its own shops, as (block index, epoch second, shared) arrays.

    An order is *shared* when another member ordered at the same shop within ``window`` seconds
    of it, before or after. Sorted by (block, shop, time, buyer), the nearest other member's order
    before one is the last order before its run of the same buyer's orders, and after it the
    first after that run: the latest earlier and earliest later order of any other buyer, so
    checking those two decides it, for all blocks at once.
    """
    buyer_list = pa.array(sorted({b for blk in blocks for b in blk.buyers}), pa.string())
    shop_list = pa.array(sorted({m for blk in blocks for m in blk.merchants}), pa.string())
    buyer = pc.index_in(pulled.column("buyer_id"), value_set=buyer_list)
    buyer = pc.fill_null(buyer, -1).to_numpy().astype(np.int64)
    shop = pc.index_in(pulled.column("merchant_id"), value_set=shop_list)
    shop = pc.fill_null(shop, -1).to_numpy().astype(np.int64)
    t = pulled.column("t").to_numpy().astype(np.int64)
    # (block, buyer) memberships by buyer, sorted by (buyer's code, block); an order goes to
    # each block of its buyer
    member = _codes_by_block(blocks, "buyers", buyer_list)
    member = member[np.lexsort((member[:, 1], member[:, 0]))]
    lo = np.searchsorted(member[:, 0], buyer)
    n_of = np.searchsorted(member[:, 0], buyer, side="right") - lo
    row = np.repeat(np.arange(len(buyer)), n_of)
    block = member[
        np.repeat(lo, n_of) + (np.arange(len(row)) - np.repeat(np.cumsum(n_of) - n_of, n_of)), 1
    ]
    buyer, shop, t = buyer[row], shop[row], t[row]
    # ... at one of that block's shops
    n_shops = max(len(shop_list), 1)
    shops_of = _codes_by_block(blocks, "merchants", shop_list)
    own = np.unique(shops_of[:, 1] * n_shops + shops_of[:, 0])
    key = block * n_shops + shop
    at = np.searchsorted(own, key)
    keep = (shop >= 0) & (at < len(own)) & (own[np.minimum(at, len(own) - 1)] == key)
    block, shop, t, buyer = block[keep], shop[keep], t[keep], buyer[keep]
    if not len(block):
        return None
    order = np.lexsort((buyer, t, shop, block))
    block, shop, t, buyer = block[order], shop[order], t[order], buyer[order]
    n = len(block)
    place = (np.diff(block) != 0) | (np.diff(shop) != 0)  # a new (block, shop) at i + 1
    run = place | (np.diff(buyer) != 0)  # a new (block, shop, buyer) run at i + 1
    idx = np.arange(n)
    starts = np.maximum.accumulate(np.where(np.concatenate([[True], run]), idx, 0))
    ends = np.minimum.accumulate(np.where(np.concatenate([run, [True]]), idx, n)[::-1])[::-1]
    same_place = np.concatenate([[False], ~place])  # i and i - 1 at the same (block, shop)
    before = starts - 1  # another buyer's latest earlier order, if at the same place
    after = ends + 1  # another buyer's earliest later order, if at the same place
    near = (before >= 0) & same_place[starts] & (t - t[np.maximum(before, 0)] <= window)
    later = np.minimum(after, n - 1)
    near |= (after < n) & same_place[later] & (t[later] - t <= window)
    return block, t, near


def _group_orders_touched(found: ir.Table, orders: ir.Table) -> ir.Table:
    """``entity_id`` of the found rows with an order among ``orders`` (any status) of one of
    their buyers at one of their merchants: the rows whose ``_group_orders_evidence`` those
    orders can reach (it splits ``entity_id`` and matches ``merchants`` the same way)."""
    members = group_members(found)
    rows = members.join(orders, members.buyer_id == orders.buyer_id)
    rows = rows.filter(
        (BUYER_SEP + rows.merchants + BUYER_SEP).contains(BUYER_SEP + rows.merchant_id + BUYER_SEP)
    )
    return rows.select("entity_id").distinct()


def _shapes(
    tables: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
) -> tuple[ir.Table, ir.Table] | None:
    """(``entity_id`` of the found blocks S found with the same buyers, shops and platform,
    ``entity_id`` of those for whose buyers S found other shops, or two blocks), from S's kept
    buying-group verdicts (one row per block S found); None without that copy. A block whose
    platform moved (a new order made another platform's shop its largest) is in neither: its
    evidence quoted the other platform's orders."""
    before = previous_copy(tables, buying_groups_key(params, utc_offset_hours(ctx.timezone)))
    if before is None:
        return None
    b = before.select(
        b_entity=before.entity_id,
        b_merchants=before.merchants,
        b_platform=before.platform_id.fill_null(""),
    )
    other = found.join(b, [found.entity_id == b.b_entity, found.merchants != b.b_merchants])
    same = found.semi_join(
        b,
        [
            found.entity_id == b.b_entity,
            found.merchants == b.b_merchants,
            found.platform_id.fill_null("") == b.b_platform,
        ],
    )
    return same.select("entity_id"), other.select("entity_id")


def _late_shops(found: ir.Table, new: Tables) -> ir.Table:
    """``entity_id`` of the found blocks one of whose shops has a merchant row among the rows
    added since (``new``): an order's merchant may come before its row (ingest keeps such
    orders), and the row gives the shop a platform, so which of the block's orders its
    evidence quotes may change with no order of its own."""
    nm = new.merchants.select(nm_id=new.merchants.merchant_id)
    shops = found.select(
        found.entity_id, shop=found.merchants.re_split(re.escape(BUYER_SEP)).unnest()
    )
    return shops.semi_join(nm, shops.shop == nm.nm_id).select("entity_id").distinct()


def _day(local_day: int) -> str:
    import datetime as dt

    try:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=local_day)).isoformat()
    except OverflowError:  # outside years 1..9999 (the store keeps what it was given)
        return f"day {local_day} from 1970-01-01"


@register
class DenseBuyerMerchantBlock(Check):
    code = "BRUSH001"
    name = "dense-buyer-merchant-block"
    title = "Dense block of buyers ordering again and again from the same merchants"
    family = "brushing"
    entity_type = "buyer_group"
    severity = "high"
    #: 2: a buyer id holding a comma is one buyer (group_members split at "," too); 3: the
    #: orders quoted are those on the block's platform
    evidence_version = "3"
    parameters = (
        Parameter("algorithm", "fraudar", "fraudar (arrays, one machine) or bahmani (relational)"),
        Parameter("weight_c", 5.0, "c in the merchant edge weight 1/log(deg(merchant)+c)"),
        Parameter("min_buyers", 3, "fewest buyers in a reported block", unit="buyers"),
        Parameter("min_merchants", 2, "fewest shops in a block (one shop: BRUSH002/BRUSH003)"),
        Parameter("min_density", 0.2, "smallest block density g(S) = weight / nodes"),
        Parameter("min_orders_per_edge", 2, "orders a buyer-shop pair needs to count as repeated"),
        Parameter("min_fill", 0.66, "share of the core shops each buyer repeat-orders from"),
        Parameter("hub_factor", 10.0, "shops with more buyers than this x the median are hubs"),
        Parameter("link_jaccard", 0.5, "overlap of two buyers' repeat-order shops to group them"),
        Parameter(
            "link_containment",
            True,
            "also group two buyers when one's repeat-order shops (>= 2) all lie among the other's",
        ),
        Parameter(
            "max_shared_occasion_share",
            0.5,
            "above this share of the block's orders placed within minutes of another member's "
            "order at the same shop, in sittings recurring over min_group_weeks weeks, the block "
            "looks like a buying group (拼单) and is reported at buying_group_severity",
        ),
        Parameter(
            "session_minutes", 30, "orders this close at one shop share a sitting", unit="min"
        ),
        Parameter("min_group_days", 3, "a buying group's shared sittings recur on this many days"),
        Parameter(
            "min_group_weeks",
            4,
            "... and in this many different weeks: a habit, not a burst (a ring's 72-hour burst "
            "covers 3-4 days but one or two weeks)",
        ),
        Parameter(
            "buying_group_severity",
            "low",
            "severity of a block that looks like a recurring buying group: lowered, not dropped",
        ),
        Parameter("max_blocks", 200, "most peels per connected part (each sets its buyers aside)"),
        Parameter("eps", 0.1, "bahmani only: remove nodes below (1+eps) x average degree"),
    )
    doc = CheckDoc(
        what=(
            "Builds the bipartite graph of buyers and merchants (one edge per pair, weighted "
            "log(orders) / log(buyers of the merchant + c), so single purchases weigh nothing and "
            "popular merchants little), repeatedly peels the densest block (FRAUDAR, Hooi et al. "
            "2016), then cuts the peeled part into rings: buyers who repeat-order from the same "
            "shops (hub shops used for camouflage ignored). Each ring of several buyers and at "
            "least two shops is reported with its shops, order count, density and time span. A "
            "block whose orders are mostly shared sittings recurring week after week over many "
            "weeks looks like a buying group (拼单, colleagues ordering lunch together): it is "
            "reported at a lowered severity with that evidence, never dropped. A ring's finding "
            "is its largest shop's platform's, and its evidence quotes the ring's orders on that "
            "platform (a platform reads only its own rows); its head counts every platform's."
        ),
        why=(
            "Organised fake orders (刷单) fabricate sales volume to deceive consumers: a false "
            "transaction and false commercial publicity under the e-commerce and unfair "
            "competition laws, and consumer-deceiving fake reviews under EU, UK and US rules."
        ),
        example=(
            "Eight new accounts each order four times from the same two shops over three days, "
            "and almost nowhere else: one block, 64 orders, fill 1.0."
        ),
    )
    observed_columns = (
        "n_buyers",
        "n_merchants",
        "merchants",
        "n_orders",
        "density",
        "first_order_at",
        "last_order_at",
        "span_hours",
    )
    expected_columns = ("min_buyers", "min_density", "min_orders_per_edge")
    reads = ("orders", "merchants")

    def warm(self, params: dict[str, Any]) -> None:
        if params["algorithm"] == "fraudar":  # (the relational peel compiles nothing)
            rings.warm(params)

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        if params["algorithm"] == "bahmani":
            blocks = bahmani_blocks(tables, params)
        elif params["algorithm"] == "fraudar":
            core, median = _core_edges(tables, params)
            edges = rings.edges_from_arrow(core, params["weight_c"])
            hubs = _hubs_by_median(edges, median, float(params["hub_factor"]))
            blocks = rings.fraudar_blocks(edges, params, hubs)
        else:
            raise ValueError(
                f"BRUSH001 algorithm must be fraudar or bahmani, not {params['algorithm']!r}"
            )
        platforms = _platforms_of(tables, {m for b in blocks for m in b.orders_by_merchant})
        # a block's shop with the most orders, and its platform, are the finding's
        tops = [
            sorted(b.orders_by_merchant.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for b in blocks
        ]
        groups = _buying_groups_kept(
            tables, blocks, params, ctx, [platforms.get(top) for top in tops]
        )
        lowered = str(params.get("buying_group_severity", "low"))
        rows = []
        for b, top in zip(blocks, tops, strict=True):
            rows.append(
                {
                    "entity_id": BUYER_SEP.join(b.buyers),
                    "merchant_id": top,
                    "platform_id": platforms.get(top),
                    "n_buyers": len(b.buyers),
                    "n_merchants": len(b.merchants),
                    "merchants": BUYER_SEP.join(b.merchants),
                    "n_orders": b.n_orders,
                    "density": round(b.density, 4),
                    "first_order_at": _iso(b.first_at),
                    "last_order_at": _iso(b.last_at),
                    "span_hours": round((b.last_at - b.first_at) / 3600, 2),
                    "min_buyers": params["min_buyers"],
                    "min_density": params["min_density"],
                    "min_orders_per_edge": params["min_orders_per_edge"],
                }
            )
        table = _table(rows, self)
        reasons = [groups.get(i) for i in range(len(blocks))]
        return table.append_column(
            "severity", pa.array([lowered if r else None for r in reasons], pa.string())
        ).append_column("severity_reason", pa.array(reasons, pa.string()))

    def evidence(self, tables, found, params, ctx):
        return {"orders": _group_orders_evidence(tables, found)}

    #: re-heading (docs/kept.md): the evidence picks a block's orders by its ``entity_id`` (the
    #: buyers) and its ``merchants``; the hook names every block whose shops the scan since did
    #: not find for the same buyers, so a block it leaves has the rows S froze for it
    evidence_rows_by_entity = True

    def evidence_touched(self, tables, new, found, params, ctx):
        """The found blocks whose evidence rows may differ from the scan since's document.

        The evidence is every order (any status) of the block's buyers at the block's shops, the
        first MAX_EVIDENCE_ORDERS by payment (``_group_orders_evidence``: it reads ``orders``
        only, keyed by the found row's ``entity_id`` buyers and ``merchants``); orders are never
        changed or removed, so for a block S found with the same buyers and shops only a new
        order of one of its buyers at one of its shops, cancelled or not, can. A block can keep
        its buyers and move shops with no order of its own (another shop's buyers make one a
        hub, or lift its weights): S's shops for each block are read from S's kept buying-group
        verdicts (one row per block S found: ``entity_id``, ``merchants``), and a block S did
        not find with exactly these shops is named too. Without that copy every block is.
        The orders quoted are those on the block's platform: a block whose platform moved is
        not ``same`` (``_shapes``), and one with a shop whose merchant row is new (a shop S
        knew no platform of) is named (``_late_shops``)."""
        touched = _group_orders_touched(found, new.orders)
        shapes = _shapes(tables, found, params, ctx)
        if shapes is None:
            return found.select("entity_id")
        same, other = shapes
        # ... or S had no block of these buyers at these shops
        unknown = found.select("entity_id").anti_join(same, "entity_id")
        late = _late_shops(found, new)
        return ibis.union(touched, other, unknown, late, distinct=False)

    def evidence_appended(self, tables, new, found, params, ctx):
        """The new evidence rows of the found blocks whose rows are S's and these (docs/kept.md,
        "Appended evidence"): ``("orders", rows, cap)``, or None without S's blocks.

        A block S found with the same buyers and shops (and no other block of these buyers)
        listed every order of its buyers at its shops then, when it listed fewer than the cap
        (``_group_orders_evidence``: the first MAX_EVIDENCE_ORDERS by payment). Orders are only
        added, so its orders now are those and the new ones at its shops, and while they are at
        most the cap together they are its rows now: these are the new ones, found by the same
        query on the new orders alone."""
        shapes = _shapes(tables, found, params, ctx)
        if shapes is None:
            return None
        same, other = shapes
        # (the ids pulled: a relation of ``found`` joined back to ``found`` confuses Ibis, and a
        # semi-join's result cannot be joined again as the evidence query does)
        ids = same.anti_join(other, "entity_id").anti_join(_late_shops(found, new), "entity_id")
        ids = ibis.memtable(tables.to_arrow(ids))
        kept = found.filter(found.entity_id.isin(ids.entity_id))
        rows = _group_orders_evidence(new, kept, merchant_platforms(tables))
        return "orders", rows, _shared.MAX_EVIDENCE_ORDERS
