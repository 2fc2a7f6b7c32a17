"""rings.cut_blocks judges every buyer group at once on the edge arrays; it must give exactly the
blocks (same buyers, shops, order counts and float densities) that judging one group at a time
gives, on graphs made to hit the edge cases: core shops no chosen buyer uses, buyers outside the
core, groups just under a threshold, hubs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from promoguard.graph import components, fraudar, rings


def _one_group_at_a_time(e, g, nodes, params, hub) -> list[rings.Block]:
    """The form cut_blocks had before it was vectorised: a loop over the groups."""
    in_set = np.zeros(g.n_nodes, dtype=bool)
    in_set[nodes] = True
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
    union = sizes[shared.row] + sizes[shared.col] - shared.data
    link = (shared.row < shared.col) & (shared.data / union > params["link_jaccard"])
    smaller = np.minimum(sizes[shared.row], sizes[shared.col])
    contained = (shared.data >= 2) & (shared.data >= smaller)
    link |= (shared.row < shared.col) & contained & params.get("link_containment", True)
    labels = components.component_labels(len(b_local), shared.row[link], shared.col[link])
    out = []
    for members in components.groups(labels):
        if len(members) < params["min_buyers"]:
            continue
        sub = incidence[members]
        coverage = np.asarray(sub.sum(axis=0)).ravel() / len(members)
        core = np.flatnonzero(coverage >= params["min_fill"])
        if len(core) < params["min_merchants"]:
            continue
        cover = np.asarray(sub[:, core].sum(axis=1)).ravel() / len(core)
        buyers = members[cover >= params["min_fill"]]
        if len(buyers) < params["min_buyers"]:
            continue
        sel = idx[np.isin(b_of, buyers) & np.isin(m_of, core)]
        density = float(g.weight[sel].sum()) / (len(buyers) + len(core))
        if density < params["min_density"]:
            continue
        per_m = np.bincount(g.merchant[sel], weights=g.orders[sel], minlength=g.n_merchants)
        mset = m_local[core]
        out.append(
            rings.Block(
                buyers=sorted(str(b) for b in e.buyer_ids[b_local[buyers]]),
                merchants=sorted(str(m) for m in e.merchant_ids[mset]),
                orders_by_merchant={str(e.merchant_ids[m]): int(per_m[m]) for m in mset},
                n_orders=int(g.orders[sel].sum()),
                n_edges=len(sel),
                density=density,
                first_at=int(e.first_at[g.eid[sel]].min()),
                last_at=int(e.last_at[g.eid[sel]].max()),
            )
        )
    return out


def _ringy_edges(seed: int) -> rings.Edges:
    """Rings of 2-9 buyers over 1-5 shops, some buyers skipping some ring shops (so a core shop
    may be left to buyers outside the block), rings sharing shops, reused accounts with shops of
    their own, and one-off noise; buyers and shops numbered in id order."""
    rng = np.random.default_rng(seed)
    n_b, n_m = 300, 60
    pairs: dict[tuple[int, int], int] = {}
    for _ in range(rng.integers(5, 25)):
        buyers = rng.choice(n_b, size=rng.integers(2, 10), replace=False)
        shops = rng.choice(n_m, size=rng.integers(1, 6), replace=False)
        skip = rng.random()
        for b in buyers:
            for m in shops:
                if rng.random() > skip * 0.6:
                    pairs[(int(b), int(m))] = int(rng.integers(2, 7))
            if rng.random() < 0.3:  # a reused account with its own repeat shops
                for m in rng.choice(n_m, size=rng.integers(1, 4), replace=False):
                    pairs.setdefault((int(b), int(m)), int(rng.integers(1, 4)))
    for _ in range(600):
        pairs.setdefault((int(rng.integers(n_b)), int(rng.integers(n_m))), int(rng.integers(1, 3)))
    keys = sorted(pairs)
    b = np.array([k[0] for k in keys], dtype=np.int64)
    m = np.array([k[1] for k in keys], dtype=np.int64)
    orders = np.array([pairs[k] for k in keys], dtype=np.int64)
    w = fraudar.camouflage_weights(m, orders, n_m)
    first = rng.integers(0, 10**6, size=len(keys))
    return rings.Edges(
        np.array([f"b{i:04d}" for i in range(n_b)], dtype=object),
        np.array([f"m{i:03d}" for i in range(n_m)], dtype=object),
        fraudar.BipartiteGraph.build(n_b, n_m, b, m, w, orders),
        first,
        first + rng.integers(0, 10**5, size=len(keys)),
    )


def _params(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "min_orders_per_edge": int(rng.integers(1, 4)),
        "link_jaccard": float(rng.choice([0.2, 0.5, 0.8])),
        "link_containment": bool(rng.random() < 0.7),
        "min_buyers": int(rng.integers(1, 5)),
        "min_merchants": int(rng.integers(1, 4)),
        "min_fill": float(rng.choice([0.34, 0.5, 0.66, 1.0])),
        "min_density": float(rng.choice([0.0, 0.1, 0.2, 0.5])),
    }


@pytest.mark.parametrize("seed", range(40))
def test_cut_blocks_all_groups_at_once_equals_one_group_at_a_time(seed):
    e = _ringy_edges(seed)
    g = e.graph
    rng = np.random.default_rng(1000 + seed)
    params = _params(rng)
    nodes = np.flatnonzero(rng.random(g.n_nodes) < 0.9)
    hub = rng.random(g.n_merchants) < 0.05
    want = _one_group_at_a_time(e, g, nodes, params, hub)
    got = rings.cut_blocks(e, g, nodes, params, hub)
    assert got == want
    if seed == 0:
        assert want  # the graphs do hold blocks


def test_a_core_shop_no_chosen_buyer_uses_stays_in_the_block():
    # A, B, C (0-2) repeat-order from shops 1-3; D, E, F (3-5) from shop 4; A and D share shop 9,
    # which links the two trios into one group of six. At fill 0.5 the core is shops 1-4 (each
    # used by half the group); A, B, C cover 3 of 4 and are chosen, D, E, F 1 of 4 and are not:
    # shop 4 is a core shop that none of the block's buyers uses, and still one of its shops
    pairs = [(b, m) for b in range(3) for m in (1, 2, 3)] + [(0, 9), (3, 9)]
    pairs += [(b, 4) for b in range(3, 6)]
    pairs.sort()
    b = np.array([p[0] for p in pairs])
    m = np.array([p[1] for p in pairs])
    orders = np.full(len(pairs), 3)
    g = fraudar.BipartiteGraph.build(6, 10, b, m, fraudar.camouflage_weights(m, orders, 10), orders)
    e = rings.Edges(
        np.array([f"b{i}" for i in range(6)], dtype=object),
        np.array([f"m{i}" for i in range(10)], dtype=object),
        g,
        np.zeros(len(pairs), dtype=np.int64),
        np.ones(len(pairs), dtype=np.int64),
    )
    params = {
        "min_orders_per_edge": 2,
        "link_jaccard": 0.15,
        "link_containment": True,
        "min_buyers": 3,
        "min_merchants": 2,
        "min_fill": 0.5,
        "min_density": 0.0,
    }
    hub = np.zeros(10, dtype=bool)
    nodes = np.arange(g.n_nodes)
    (block,) = rings.cut_blocks(e, g, nodes, params, hub)
    assert block.buyers == ["b0", "b1", "b2"]
    assert block.merchants == ["m1", "m2", "m3", "m4"]
    assert block.orders_by_merchant == {"m1": 9, "m2": 9, "m3": 9, "m4": 0}
    assert [block] == _one_group_at_a_time(e, g, nodes, params, hub)


@pytest.mark.parametrize("seed", range(4))
def test_sorted_dictionary_of_rows_already_in_order_is_the_dictionary_one(seed):
    """Rows the engine sorted (BRUSH002's links) are numbered by a pass over their changes; the
    values and codes are the dictionary path's, and rows out of order or with nulls take it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    # ids of different lengths, prefixes of each other, non-ASCII, many repeats
    pool = ["B1", "B10", "B2", "b1", "B1\u00e9", "B\u00e9", "", "B100", "C"]
    values = pa.array([pool[i] for i in rng.integers(0, len(pool), 500)], pa.string())

    def by_dictionary(column):
        encoded = pc.dictionary_encode(pc.fill_null(column, ""))
        order = pc.sort_indices(encoded.dictionary).to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
        return encoded.dictionary.take(pa.array(order)), codes

    ordered = pc.take(values, pc.sort_indices(values))
    chunked = pa.chunked_array([ordered.slice(0, 123), ordered.slice(123)])
    # nulls take the dictionary path even where the rest is in order (the order check skips a
    # null: B1, B1, null passes it)
    nulls = [pa.array([None, "B2", "B1"], pa.string()), pa.array(["B1", "B1", None], pa.string())]
    for column in (ordered, chunked, values, *nulls):
        got_values, got_codes = rings.sorted_dictionary(column)
        want_values, want_codes = by_dictionary(
            column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        )
        assert got_values.equals(want_values)
        assert np.array_equal(got_codes, want_codes)


@pytest.mark.parametrize("seed", range(60))
def test_every_part_peeled_in_one_compiled_call_is_the_python_loop(seed, monkeypatch):
    # fraudar_blocks peels each connected part up to max_blocks times in one numba call: the
    # same peeled nodes and blocks as the part-by-part loop with numpy's steps and the Python
    # peel, on ring-shaped graphs and on graphs of equal weights where only ties decide
    e = _ringy_edges(seed)
    g = e.graph
    rng = np.random.default_rng(2000 + seed)
    if seed % 3 == 0:  # ties everywhere
        g = fraudar.BipartiteGraph.build(
            g.n_buyers, g.n_merchants, g.buyer, g.merchant, np.full(len(g.weight), 0.25), g.orders
        )
        e = rings.Edges(e.buyer_ids, e.merchant_ids, g, e.first_at, e.last_at)
    params = {**_params(rng), "max_blocks": int(rng.choice([1, 2, 5, 200]))}
    hub = rng.random(g.n_merchants) < 0.05
    assert fraudar._peel_parts() is not None  # the scan does use it
    g0 = fraudar.prune_below(g.subgraph(g.weight > 0), params["min_density"])
    order, cuts = fraudar.component_order(g0)
    got = fraudar._peel_parts()(
        g0.n_buyers, g0.n_merchants, g0.buyer, g0.merchant, g0.weight, order, cuts,
        float(params["min_density"]), params["max_blocks"],
    )  # fmt: skip
    fast = rings.fraudar_blocks(e, params, hub)
    monkeypatch.setattr(fraudar, "_peel_parts", lambda: None)
    monkeypatch.setattr(fraudar, "_peel_graph", lambda: None)
    monkeypatch.setattr(fraudar, "_peel_order", lambda: fraudar.peel_order_py)
    want = rings._peel_parts_py(g0, order, cuts, params)
    assert got.tolist() == want.tolist()
    assert rings.fraudar_blocks(e, params, hub) == fast
    if seed == 1:
        assert want.any() and fast  # the graphs do peel and hold blocks
