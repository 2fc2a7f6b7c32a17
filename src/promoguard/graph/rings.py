"""Rings in a buyer-shop order graph: number the edges, peel (FRAUDAR), cut the peels into rings.

Used by BRUSH001. The engine-facing parts (queries, Bahmani passes) stay in the check; this module
is arrays only, so the same input gives the same rings whatever engine produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import csr_matrix

from promoguard.graph import components, fraudar


@dataclass
class Edges:
    """Aggregated (buyer, merchant) edges pulled from the engine, in id order."""

    buyer_ids: np.ndarray  # object, sorted unique
    merchant_ids: np.ndarray  # object, sorted unique
    graph: fraudar.BipartiteGraph
    first_at: np.ndarray  # epoch seconds per edge
    last_at: np.ndarray
    merchant_degree: np.ndarray | None = None  # int64 per merchant, when the engine gave it


def sorted_codes(
    column: pa.ChunkedArray | pa.Array, with_values: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each row's value among them), computed in Arrow.

    Nulls get the code of the empty string's place (callers mask them); ``with_values=False``
    skips building the Python list of values when only the codes are needed.
    """
    values, codes = sorted_dictionary(column)
    if not with_values:
        return np.zeros(0, dtype=object), codes
    return np.asarray(values.to_pylist(), dtype=object), codes


def sorted_dictionary(column: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``sorted_codes`` with the sorted distinct values left in Arrow (no Python string per
    value: a million ids stay in one buffer until a caller takes the few it needs)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    if n > 1 and not column.null_count:
        # rows the engine already sorted (BRUSH002's links): each value's code is the number of
        # value changes before it, the distinct values those at the changes; checked, not
        # assumed (in Arrow's own order), so any other input takes the dictionary below
        head, tail = column.slice(0, n - 1), column.slice(1)
        if pc.all(pc.less_equal(head, tail)).as_py():
            change = np.empty(n, dtype=bool)
            change[0] = True
            change[1:] = pc.not_equal(head, tail).to_numpy(zero_copy_only=False)
            return column.filter(pa.array(change)), np.cumsum(change, dtype=np.int64) - 1
    encoded = pc.dictionary_encode(pc.fill_null(column, ""))
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return encoded.dictionary.take(pa.array(order)), codes


def edges_from_arrow(t: pa.Table, c: float, weights: np.ndarray | None = None) -> Edges:
    """Number buyers and merchants in id order and sort the edges by (buyer, merchant), so the
    result never depends on the order the engine returned the rows in."""
    buyer_ids, b_idx = sorted_codes(t.column("buyer"))
    merchant_ids, m_idx = sorted_codes(t.column("merchant"))
    order = np.lexsort((m_idx, b_idx))
    b_idx, m_idx = b_idx[order], m_idx[order]
    orders = t.column("orders").to_numpy().astype(np.int64)[order]
    degree = None
    if "deg" in t.column_names:  # the merchant's degree came from the engine
        deg = t.column("deg").to_numpy().astype(np.int64)[order]
        degree = np.zeros(len(merchant_ids), dtype=np.int64)
        degree[m_idx] = deg  # one degree per merchant, on each of its edges
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)[order]
    elif degree is not None:
        weights = fraudar.column_weights(orders, deg, c)
    else:
        weights = fraudar.camouflage_weights(m_idx, orders, len(merchant_ids), c)
    g = fraudar.BipartiteGraph.build(
        len(buyer_ids), len(merchant_ids), b_idx, m_idx, weights, orders
    )
    return Edges(
        buyer_ids,
        merchant_ids,
        g,
        t.column("first_at").to_numpy().astype(np.int64)[order],
        t.column("last_at").to_numpy().astype(np.int64)[order],
        degree,
    )


@dataclass(frozen=True)
class Block:
    buyers: list[str]
    merchants: list[str]
    orders_by_merchant: dict[str, int]
    n_orders: int
    n_edges: int
    density: float
    first_at: int
    last_at: int


def hub_merchants(degree: np.ndarray, hub_factor: float) -> np.ndarray:
    """Shops with more distinct buyers than ``hub_factor`` x the median shop."""
    used = degree[degree > 0]
    if not len(used):
        return np.zeros(len(degree), dtype=bool)
    return degree > hub_factor * np.median(used)


def cut_blocks(
    e: Edges,
    g: fraudar.BipartiteGraph,
    nodes: np.ndarray,
    params: dict[str, Any],
    hub: np.ndarray,
) -> list[Block]:
    """Cut a peeled node set into ring-shaped blocks and keep those that pass acceptance.

    A peel can hold several rings glued together by a merchant they all use for camouflage (the
    popular one) or by a shop two rings both work. Buyers of one ring repeat-order from the same
    shops, so buyers are grouped when their sets of repeat-order shops overlap by more than
    ``link_jaccard``; each group's core shops are those most of its buyers repeat-order from, and
    the block is the group's buyers that cover the core.
    """
    in_set = np.zeros(g.n_nodes, dtype=bool)
    in_set[nodes] = True
    # hubs (shops used by a large share of all buyers) are where rings buy their camouflage;
    # they say nothing about which ring a buyer belongs to, so they take no part in the cut
    inside = (
        in_set[g.src()]
        & in_set[g.dst()]
        & (g.orders >= params["min_orders_per_edge"])
        & ~hub[g.merchant]
    )
    idx = np.flatnonzero(inside)
    if not len(idx):
        return []
    b_local, b_of = np.unique(g.buyer[idx], return_inverse=True)
    m_local, m_of = np.unique(g.merchant[idx], return_inverse=True)
    incidence = csr_matrix(
        (np.ones(len(idx), dtype=np.float64), (b_of, m_of)), shape=(len(b_local), len(m_local))
    )
    sizes = np.asarray(incidence.sum(axis=1)).ravel()
    shared = (incidence @ incidence.T).tocoo()
    # each pair of buyers once (the product is symmetric; its diagonal is each buyer itself):
    # the tests below on half of the pairs, in the product's order (at city scale 3.6M entries)
    upper = shared.row < shared.col
    row, col, both = shared.row[upper], shared.col[upper], shared.data[upper]
    union = sizes[row] + sizes[col] - both
    link = both / union > params["link_jaccard"]
    if params.get("link_containment", True):
        # containment (the Szymkiewicz-Simpson overlap, |A & B| / min(|A|, |B|) = 1 with at least
        # two shops): a real account a ring reuses keeps its own repeat-order shops besides the
        # ring's, which dilutes the Jaccard overlap, but the ring's shops are all among its shops
        smaller = np.minimum(sizes[row], sizes[col])
        link |= (both >= 2) & (both >= smaller)
    labels = components.component_labels(len(b_local), row[link], col[link])
    return _accepted_blocks(e, g, idx, b_local, b_of, m_local, m_of, labels, params)


def _accepted_blocks(
    e: Edges,
    g: fraudar.BipartiteGraph,
    idx: np.ndarray,
    b_local: np.ndarray,
    b_of: np.ndarray,
    m_local: np.ndarray,
    m_of: np.ndarray,
    labels: np.ndarray,
    params: dict[str, Any],
) -> list[Block]:
    """Each buyer group's block, judged for all groups at once on the edge arrays.

    Per group (buyers of one label, in order of the label, the group's smallest buyer): its core
    shops are those at least ``min_fill`` of its buyers repeat-order from; its block, the buyers
    who repeat-order from at least ``min_fill`` of the core. Counts are whole numbers and each
    share is the same float division as one group at a time would make; a block's weight is summed
    over its edges in edge order, as ``g.weight[sel].sum()`` of that group alone.
    """
    n_b, n_m = len(b_local), len(m_local)
    size = np.bincount(labels, minlength=n_b)
    group = labels[b_of]  # each inside edge's buyer group
    live = size[group] >= params["min_buyers"]
    # how many of the group's buyers repeat-order from each shop (edges are one per pair)
    pair = group * np.int64(n_m) + m_of
    pairs, pair_of, pair_n = np.unique(pair[live], return_inverse=True, return_counts=True)
    coverage = pair_n / size[pairs // n_m]
    core_pair = coverage >= params["min_fill"]
    n_core = np.bincount((pairs // n_m)[core_pair], minlength=n_b)
    in_core = np.zeros(len(idx), dtype=bool)
    in_core[np.flatnonzero(live)] = core_pair[pair_of]
    in_core &= n_core[group] >= params["min_merchants"]
    # each buyer's share of its group's core that it repeat-orders from
    hits = np.bincount(b_of[in_core], minlength=n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = hits / n_core[labels]
    chosen = (n_core[labels] >= params["min_merchants"]) & (cover >= params["min_fill"])
    n_chosen = np.bincount(labels[chosen], minlength=n_b)
    chosen &= n_chosen[labels] >= params["min_buyers"]
    keep = chosen[b_of] & in_core
    accepted = np.flatnonzero(
        (size >= params["min_buyers"])
        & (n_core >= params["min_merchants"])
        & (n_chosen >= params["min_buyers"])
    )
    if not len(accepted):
        return []
    # per group, in ascending order: its kept edges (in edge order), chosen buyers, core shops
    at = np.flatnonzero(keep)
    at = at[np.argsort(group[at], kind="stable")]
    who = np.flatnonzero(chosen)
    who = who[np.argsort(labels[who], kind="stable")]
    core_pairs = pairs[core_pair]  # sorted: group-major, then shop
    spans = [
        (np.searchsorted(keys, accepted), np.searchsorted(keys, accepted, side="right"))
        for keys in (group[at], labels[who], core_pairs // n_m)
    ]
    # the per-block sums and extremes, for all blocks at once on their kept edges (which lie in
    # one run per block): a block's weight stays numpy's sum of its edges' weights in edge order
    sel_at = idx[at]
    w_at, o_at, eid_at = g.weight[sel_at], g.orders[sel_at], g.eid[sel_at]
    lo, hi = spans[0]
    filled = hi > lo
    n_orders = np.zeros(len(accepted), dtype=np.int64)
    first = np.zeros(len(accepted), dtype=np.int64)
    last = np.zeros(len(accepted), dtype=np.int64)
    if filled.any():
        runs = lo[filled]
        n_orders[filled] = np.add.reduceat(o_at, runs)[: len(runs)]
        first[filled] = np.minimum.reduceat(e.first_at[eid_at], runs)
        last[filled] = np.maximum.reduceat(e.last_at[eid_at], runs)
    # orders per (block, core shop): each kept edge's shop is one of its block's core shops
    at_pair = np.searchsorted(core_pairs, group[at] * np.int64(n_m) + m_of[at])
    per_pair = np.bincount(at_pair, weights=o_at, minlength=len(core_pairs))
    buyer_names = e.buyer_ids[b_local[who]].tolist()
    shop_names = e.merchant_ids[m_local[core_pairs % n_m]].tolist()
    pair_orders = per_pair.tolist()
    out: list[Block] = []
    for k in range(len(accepted)):
        a, b = int(lo[k]), int(hi[k])
        b0, b1 = int(spans[1][0][k]), int(spans[1][1][k])
        m0, m1 = int(spans[2][0][k]), int(spans[2][1][k])
        density = float(w_at[a:b].sum()) / ((b1 - b0) + (m1 - m0))
        if density < params["min_density"]:
            continue
        if a == b:  # no kept edge (min_fill 0 and min_density <= 0): no first or last order
            raise ValueError("BRUSH001: a block without edges (min_fill and min_density 0?)")
        out.append(
            Block(
                buyers=sorted(str(x) for x in buyer_names[b0:b1]),
                merchants=sorted(str(x) for x in shop_names[m0:m1]),
                orders_by_merchant={
                    str(m): int(n)
                    for m, n in zip(shop_names[m0:m1], pair_orders[m0:m1], strict=True)
                },
                n_orders=int(n_orders[k]),
                n_edges=b - a,
                density=density,
                first_at=int(first[k]),
                last_at=int(last[k]),
            )
        )
    return out


def fraudar_blocks(e: Edges, params: dict[str, Any], hub: np.ndarray | None = None) -> list[Block]:
    """Peel the densest block, set its buyers aside, peel again; then cut blocks from all peels.

    The pruned graph falls apart into connected parts (a block lies inside one part), so each part
    is peeled on its own, numbered compactly: the same peels as on the whole graph, at the cost of
    the part rather than of the whole graph per peel. Cutting once from the union of the peels
    (rather than peel by peel) keeps a ring whole when the greedy peel took part of it in one
    round and the rest in the next.
    """
    g = e.graph
    g0 = fraudar.prune_below(g.subgraph(g.weight > 0), params["min_density"])
    order, cuts = fraudar.component_order(g0)
    whole = fraudar._peel_parts()
    if whole is not None:  # the loop below in one compiled call, to the bit
        peeled = whole(
            g0.n_buyers,
            g0.n_merchants,
            g0.buyer,
            g0.merchant,
            g0.weight,
            order,
            cuts,
            float(params["min_density"]),
            int(params["max_blocks"]),
        )
    else:
        peeled = _peel_parts_py(g0, order, cuts, params)
    # a ring's last buyers can drop out of the graph once the rest was set aside (their shops
    # fall below min_density); bring back every buyer of the pruned graph tied to a peeled shop
    tied = peeled[g0.dst()]
    peeled[g0.src()[tied]] = True
    if hub is None:
        hub = hub_merchants(np.bincount(g.merchant, minlength=g.n_merchants), params["hub_factor"])
    return cut_blocks(e, g0, np.flatnonzero(peeled), params, hub)


def warm(params: dict[str, Any]) -> None:
    """:func:`fraudar_blocks` on a ring of three buyers at two shops: loads the compiled peel
    (numba's cache: ~0.4 s of import and ~0.5 s of loading on this host, once per process) with
    the argument types a scan's graph gives it, which :func:`edges_from_arrow` makes alike for
    any graph."""
    toy = pa.table(
        {
            "buyer": ["a", "b", "c"] * 2,
            "merchant": ["x"] * 3 + ["y"] * 3,
            "orders": [3] * 6,
            "first_at": [0] * 6,
            "last_at": [1] * 6,
            "deg": [3] * 6,
        }
    )
    fraudar_blocks(edges_from_arrow(toy, float(params["weight_c"])), params)


def _peel_parts_py(
    g0: fraudar.BipartiteGraph, order: np.ndarray, cuts: np.ndarray, params: dict[str, Any]
) -> np.ndarray:
    """The peeled flags of ``g0``'s nodes, part by part (what ``_peel_jit.peel_parts`` must
    equal, and what runs without numba)."""
    peeled = np.zeros(g0.n_nodes, dtype=bool)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        part = g0.subgraph(order[a:b])
        small, buyers, merchants = fraudar.compact(part)
        to_global = np.concatenate([buyers, g0.n_buyers + merchants])
        for _ in range(int(params["max_blocks"])):
            if not len(small.weight):
                break
            peel = fraudar.greedy_peel(small)
            if not len(peel.nodes):
                break
            # keep peeling below min_density too: what is left of a ring after part of it was
            # peeled is less dense than the whole ring, and the cut below reunites the parts
            peeled[to_global[peel.nodes]] = True
            # set the peeled buyers aside (not shops: another ring may work the same shop)
            gone = np.zeros(small.n_nodes, dtype=bool)
            gone[peel.nodes] = True
            small = fraudar.prune_below(small.subgraph(~gone[small.src()]), params["min_density"])
    return peeled
