"""Buyers linked by shared devices or addresses who crowd one shop in a short window (BRUSH002)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from promoguard.graph import components


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
    orders = orders.sort_by(
        [("buyer_id", "ascending"), ("paid_s", "ascending"), ("order_id", "ascending")]
    )
    buyer = np.asarray(orders.column("buyer_id").to_pylist(), dtype=object)
    if not len(buyer):
        return []
    buyer_ids, b_idx = np.unique(buyer, return_inverse=True)
    nb = len(buyer_ids)
    src_parts, dst_parts, offset = [], [], nb
    for col in ("device", "address"):
        vals = orders.column(col).to_pylist()
        has = np.array([v is not None for v in vals], dtype=bool)
        if not has.any():
            continue
        keys = np.asarray([v for v in vals if v is not None], dtype=object)
        uniq, k_idx = np.unique(keys, return_inverse=True)
        src_parts.append(b_idx[has])
        dst_parts.append(offset + k_idx)
        offset += len(uniq)
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, np.int64)
    dst = np.concatenate(dst_parts) if dst_parts else np.zeros(0, np.int64)
    labels = components.component_labels(offset, src, dst)[:nb]
    size = np.bincount(labels, minlength=nb)
    big = size[labels] >= params["min_buyers"]
    o_big = big[b_idx]
    if not o_big.any():
        return []
    comp = labels[b_idx][o_big]
    merchant = np.asarray(orders.column("merchant_id").to_pylist(), dtype=object)[o_big]
    paid = orders.column("paid_s").to_numpy().astype(np.int64)[o_big]
    bix = b_idx[o_big]
    comp_total = np.bincount(comp, minlength=nb)
    order = np.lexsort((paid, merchant.astype(str), comp))
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
                merchant=str(merchant[seg[0]]),
                buyers=sorted(str(x) for x in buyer_ids[sorted(chosen)]),
                n_orders=int(in_span.sum()),
                window_start=int(start_t),
                window_end=int(end_t),
                component_size=int(size[c]),
                merchant_share=round(float(share), 4),
            )
        )
    return out
