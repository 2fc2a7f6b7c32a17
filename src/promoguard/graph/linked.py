"""Buyers linked by shared devices or addresses who crowd one shop in a short window (BRUSH002)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.graph import components
from promoguard.graph.rings import sorted_codes


@dataclass(frozen=True)
class LinkedGroup:
    component: int
    merchant: str
    buyers: list[str]
    n_orders: int
    window_start: int
    window_end: int
    component_size: int
    merchant_share: float


def linked_groups(orders: pa.Table, params: dict[str, Any]) -> list[LinkedGroup]:
    """Components of buyers linked by devices or addresses that crowd one merchant in a window.

    ``orders`` has buyer_id, merchant_id, paid_s (epoch seconds), order_id, device, address.
    """
    if not orders.num_rows:
        return []
    # numbering in Arrow (no Python strings per row); everything below is set-based, so the
    # result does not depend on the order the engine returned the rows in
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
    big = size[labels] >= params["min_buyers"]
    o_big = big[b_idx]
    if not o_big.any():
        return []
    merchant_ids, m_idx = sorted_codes(orders.column("merchant_id"))
    comp = labels[b_idx][o_big]
    merchant = m_idx[o_big]
    paid = orders.column("paid_s").to_numpy().astype(np.int64)[o_big]
    bix = b_idx[o_big]
    comp_total = np.bincount(comp, minlength=nb)
    order = np.lexsort((bix, paid, merchant, comp))
    comp, merchant, paid, bix = comp[order], merchant[order], paid[order], bix[order]
    window = int(params["window_hours"] * 3600)
    out: list[LinkedGroup] = []
    cuts = np.flatnonzero((np.diff(comp) != 0) | (merchant[1:] != merchant[:-1])) + 1
    for seg in np.split(np.arange(len(comp)), cuts):
        if len(np.unique(bix[seg])) < params["min_buyers"]:
            continue
        c = int(comp[seg[0]])
        share = len(seg) / comp_total[c]
        if share < params["min_merchant_share"]:
            continue  # a household spreading its shopping over many shops
        t, b = paid[seg], bix[seg]
        chosen: set[int] = set()
        start_t, end_t = None, None
        j = 0
        for i in range(len(seg)):
            while j < len(seg) and t[j] - t[i] <= window:
                j += 1
            in_window = set(b[i:j].tolist())
            if len(in_window) >= params["min_buyers"]:
                chosen |= in_window
                start_t = t[i] if start_t is None else start_t
                end_t = t[j - 1] if end_t is None else max(end_t, t[j - 1])
        if not chosen:
            continue
        in_span = (t >= start_t) & (t <= end_t) & np.isin(b, list(chosen))
        out.append(
            LinkedGroup(
                component=c,
                merchant=str(merchant_ids[merchant[seg[0]]]),
                buyers=sorted(str(x) for x in buyer_ids[sorted(chosen)]),
                n_orders=int(in_span.sum()),
                window_start=int(start_t),
                window_end=int(end_t),
                component_size=int(size[c]),
                merchant_share=round(float(share), 4),
            )
        )
    return out
