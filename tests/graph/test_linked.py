"""graph.linked judges every (component, shop) segment's distinct buyers and share on arrays and
numbers devices and addresses without sorting them; the groups must be exactly those the
segment-by-segment form found, on orders with shared phones, shared addresses, households
spreading their shopping, and orders exactly a window apart."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from promoguard.graph import components, linked
from promoguard.graph.rings import sorted_codes


def _segment_by_segment(orders: pa.Table, params: dict) -> list[linked.LinkedGroup]:
    """The form linked_groups had before: sorted codes for every column, a loop over segments."""
    import pyarrow.compute as pc

    buyer_ids, b_idx = sorted_codes(orders.column("buyer_id"))
    nb = len(buyer_ids)
    src_parts, dst_parts, offset = [], [], nb
    for col in ("device", "address"):
        column = orders.column(col)
        has = pc.is_valid(column).to_numpy(zero_copy_only=False)
        if not has.any():
            continue
        _, k_idx = sorted_codes(column, with_values=False)
        src_parts.append(b_idx[has])
        dst_parts.append(offset + k_idx[has])
        offset += int(k_idx.max()) + 1
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, np.int64)
    dst = np.concatenate(dst_parts) if dst_parts else np.zeros(0, np.int64)
    labels = components.component_labels(offset, src, dst)[:nb]
    size = np.bincount(labels, minlength=nb)
    o_big = (size[labels] >= params["min_buyers"])[b_idx]
    if not o_big.any():
        return []
    merchant_ids, m_idx = sorted_codes(orders.column("merchant_id"))
    comp, merchant = labels[b_idx][o_big], m_idx[o_big]
    paid = orders.column("paid_s").to_numpy().astype(np.int64)[o_big]
    bix = b_idx[o_big]
    comp_total = np.bincount(comp, minlength=nb)
    order = np.lexsort((bix, paid, merchant, comp))
    comp, merchant, paid, bix = comp[order], merchant[order], paid[order], bix[order]
    window = int(params["window_hours"] * 3600)
    out = []
    cuts = np.flatnonzero((np.diff(comp) != 0) | (merchant[1:] != merchant[:-1])) + 1
    for seg in np.split(np.arange(len(comp)), cuts):
        if len(np.unique(bix[seg])) < params["min_buyers"]:
            continue
        c = int(comp[seg[0]])
        share = len(seg) / comp_total[c]
        if share < params["min_merchant_share"]:
            continue
        t, b = paid[seg], bix[seg]
        chosen: set[int] = set()
        start_t, end_t = None, None
        began: set[int] = set()  # the UTC weeks (from Monday) windows began in
        j = 0
        for i in range(len(seg)):
            while j < len(seg) and t[j] - t[i] <= window:
                j += 1
            in_window = set(b[i:j].tolist())
            if len(in_window) >= params["min_buyers"]:
                chosen |= in_window
                began.add((int(t[i]) // 86400 + 3) // 7)
                start_t = t[i] if start_t is None else start_t
                end_t = t[j - 1] if end_t is None else max(end_t, t[j - 1])
        if not chosen:
            continue
        in_span = (t >= start_t) & (t <= end_t) & np.isin(b, list(chosen))
        out.append(
            linked.LinkedGroup(
                component=c,
                merchant=str(merchant_ids[merchant[seg[0]]]),
                buyers=sorted(str(x) for x in buyer_ids[sorted(chosen)]),
                n_orders=int(in_span.sum()),
                window_start=int(start_t),
                window_end=int(end_t),
                component_size=int(size[c]),
                merchant_share=round(float(share), 4),
                weeks=max((len(run) for run in _runs(sorted(began))), default=0),
            )
        )
    return out


def _runs(weeks: list[int]) -> list[list[int]]:
    """``weeks`` (ascending) cut into runs of consecutive numbers."""
    runs: list[list[int]] = []
    for w in weeks:
        if runs and runs[-1][-1] == w - 1:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


def _orders(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = 3000
    buyers = rng.integers(0, 400, n)
    # phones and addresses shared within clusters of two to four buyers (and some missing);
    # buyers 300-399 share with nobody
    cluster = np.where(buyers < 300, buyers // (2 + seed % 3), -1 - buyers)
    device = [
        None if rng.random() < 0.1 else (f"DC{c}" if rng.random() < 0.7 else f"DO{b}")
        for b, c in zip(buyers, cluster, strict=True)
    ]
    address = [
        None if rng.random() < 0.2 else (f"AC{c}" if rng.random() < 0.5 else f"AO{b}")
        for b, c in zip(buyers, cluster, strict=True)
    ]
    return pa.table(
        {
            "buyer_id": [f"B{b:04d}" for b in buyers],
            "merchant_id": [f"M{m:02d}" for m in rng.integers(0, 6, n)],
            # whole hours over a month: many orders exactly 24 or 48 hours apart
            "paid_s": (1_700_000_000 + 3600 * rng.integers(0, 24 * 30, n)).astype(np.int64),
            "device": pa.array(device, pa.string()),
            "address": pa.array(address, pa.string()),
        }
    )


@pytest.mark.parametrize("seed", range(10))
def test_linked_groups_on_arrays_equal_segment_by_segment(seed):
    rng = np.random.default_rng(100 + seed)
    params = {
        "min_buyers": int(rng.integers(2, 5)),
        "window_hours": float(rng.choice([24.0, 48.0, 100.0])),
        "min_merchant_share": float(rng.choice([0.0, 0.1, 0.2])),
    }
    orders = _orders(seed)
    want = _segment_by_segment(orders, params)
    assert linked.linked_groups(orders, params) == want
    if seed in (1, 2):
        assert want
    # rows in another order, in several chunks: the same groups
    perm = pa.array(np.random.default_rng(seed).permutation(orders.num_rows))
    shuffled = orders.take(perm)
    chunked = pa.Table.from_batches(shuffled.to_batches(max_chunksize=700))
    assert linked.linked_groups(chunked, params) == want


@pytest.mark.parametrize("seed", range(6))
def test_components_from_distinct_links_and_only_the_large_components_orders(seed):
    """BRUSH002's engine path: components from the distinct (buyer, device, address) rows, then
    only the orders of buyers in components of min_buyers or more: the same groups."""
    import pyarrow.compute as pc

    params = {"min_buyers": 2 + seed % 3, "window_hours": 48.0, "min_merchant_share": 0.1}
    orders = _orders(seed)
    links = orders.group_by(["buyer_id", "device", "address"]).aggregate([])
    comps, _ = linked.buyer_components(links)
    wanted = comps.in_components_of(params["min_buyers"])
    assert 0 < len(wanted) < len(comps.buyer_ids)
    some = orders.filter(pc.is_in(orders.column("buyer_id"), value_set=wanted))
    got = linked.linked_groups(some.select(["buyer_id", "merchant_id", "paid_s"]), params, comps)
    assert got == linked.linked_groups(orders, params) == _segment_by_segment(orders, params)
    with pytest.raises(ValueError, match="did not name"):
        other = pa.table({"buyer_id": ["nobody"], "merchant_id": ["M00"], "paid_s": [0]})
        linked.linked_groups(other, params, comps)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_walks_are_the_python_walks(seed, monkeypatch):
    """The segments' distinct buyers and window walks compiled (``graph._linked_jit``) give the
    groups the Python loops give, on orders full of ties (whole hours, exactly a window apart)."""
    pytest.importorskip("promoguard.graph._linked_jit", reason="numba is not installed")
    params = {
        "min_buyers": 2 + seed % 3,
        "window_hours": [24.0, 48.0, 0.0][seed % 3],
        "min_merchant_share": 0.0,
    }
    orders = _orders(seed)
    assert linked._walks(int(params["window_hours"] * 3600), params["min_buyers"]) is not (
        linked._PyWalks
    )
    # (the weeks the windows began in, counted in a local time: Beijing, New York, UTC)
    offset = [8 * 3600, -5 * 3600, 0][seed % 3]
    got = linked.linked_groups(orders, params, offset=offset)
    monkeypatch.setattr(linked, "_walks", lambda window, min_buyers: linked._PyWalks)
    assert linked.linked_groups(orders, params, offset=offset) == got
    if params["window_hours"]:
        assert got
    # parameters outside what the compiled walk assumes take the Python loops
    monkeypatch.undo()
    assert linked._walks(-3600, 3) is linked._PyWalks
    assert linked._walks(3600, 0.5) is linked._PyWalks
