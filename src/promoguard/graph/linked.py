"""Buyers linked by shared devices or addresses who crowd one shop in a short window (BRUSH002)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.graph import components
from promoguard.graph.rings import sorted_codes, sorted_dictionary


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
    #: the longest run of consecutive local weeks (from Monday) in each of which a window of
    #: ``min_buyers`` of them began
    weeks: int = 1


@dataclass(frozen=True)
class Components:
    """Buyers linked through shared devices or addresses, numbered in id order."""

    buyer_ids: pa.Array  # sorted distinct buyer ids
    labels: np.ndarray  # per buyer: its component's smallest buyer number
    size: np.ndarray  # per buyer number: how many buyers the component it labels has

    def codes(self, column: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Each row's buyer number (every row's buyer must be among ``buyer_ids``)."""
        found = pc.index_in(pc.fill_null(column, ""), value_set=self.buyer_ids)
        if found.null_count:
            raise ValueError("orders of buyers the links did not name")
        return found.to_numpy(zero_copy_only=False).astype(np.int64)

    def in_components_of(self, min_buyers: int) -> pa.Array:
        """The ids of the buyers in components of at least ``min_buyers``."""
        big = self.size[self.labels] >= min_buyers
        return self.buyer_ids.filter(pa.array(big))


def buyer_components(links: pa.Table) -> tuple[Components, np.ndarray]:
    """Components over ``links`` (buyer_id, device, address; one row per order, or only their
    distinct rows: the same components), and each row's buyer number."""
    buyer_ids, b_idx = sorted_dictionary(links.column("buyer_id"))
    nb = len(buyer_ids)
    src_parts, dst_parts, offset = [], [], nb
    for col in ("device", "address"):
        column = links.column(col)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        has = pc.is_valid(column).to_numpy(zero_copy_only=False)
        if not has.any():
            continue
        # a device's or address's number only names its node: any numbering links the same
        # buyers, and a component's label is its smallest buyer (buyers are numbered first)
        k_idx = pc.dictionary_encode(column).indices.to_numpy(zero_copy_only=False)
        src_parts.append(b_idx[has])
        dst_parts.append(offset + k_idx[has].astype(np.int64))
        offset += int(k_idx[has].max()) + 1
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, np.int64)
    dst = np.concatenate(dst_parts) if dst_parts else np.zeros(0, np.int64)
    labels = components.component_labels(offset, src, dst)[:nb]
    return Components(buyer_ids, labels, np.bincount(labels, minlength=nb)), b_idx


def linked_groups(
    orders: pa.Table, params: dict[str, Any], comps: Components | None = None, offset: int = 0
) -> list[LinkedGroup]:
    """Components of buyers linked by devices or addresses that crowd one merchant in a window.

    ``orders`` has buyer_id, merchant_id, paid_s (epoch seconds) and, unless ``comps`` (from
    :func:`buyer_components`) is given, device and address. With ``comps``, ``orders`` need only
    hold every order of the buyers in components of at least min_buyers (the engine can leave
    the rest out: the other 90% at city scale). ``offset``: seconds east of UTC of the local
    time its weeks are counted in.
    """
    if not orders.num_rows:
        return []
    # numbering in Arrow (no Python strings per row); everything below is set-based, so the
    # result does not depend on the order the engine returned the rows in
    if comps is None:
        comps, b_idx = buyer_components(orders)
    else:
        b_idx = comps.codes(orders.column("buyer_id"))
    buyer_ids, labels, size = comps.buyer_ids, comps.labels, comps.size
    nb = len(buyer_ids)
    big = size[labels] >= params["min_buyers"]
    o_big = big[b_idx]
    if not o_big.any():
        return []
    merchant_ids, m_idx = sorted_codes(orders.column("merchant_id").filter(pa.array(o_big)))
    comp = labels[b_idx[o_big]]
    merchant = m_idx
    paid = orders.column("paid_s").to_numpy().astype(np.int64)[o_big]
    bix = b_idx[o_big]
    comp_total = np.bincount(comp, minlength=nb)
    order = np.lexsort((bix, paid, merchant, comp))
    comp, merchant, paid, bix = comp[order], merchant[order], paid[order], bix[order]
    # segments of one (component, shop); judged on arrays first: enough distinct buyers and a
    # large enough share of the component's orders (a household spreads its shopping)
    n = len(comp)
    new_seg = np.concatenate([[True], (comp[1:] != comp[:-1]) | (merchant[1:] != merchant[:-1])])
    seg_start = np.flatnonzero(new_seg)
    seg_end = np.append(seg_start[1:], n)
    window = int(params["window_hours"] * 3600)
    walks = _walks(window, float(params["min_buyers"]))
    n_distinct = walks.segment_distinct(seg_start, seg_end, bix, nb)
    share = (seg_end - seg_start) / comp_total[comp[seg_start]]
    live = np.flatnonzero(
        (n_distinct >= params["min_buyers"]) & (share >= params["min_merchant_share"])
    )
    # then each live segment walked in time order: the buyers met in windows of window_hours
    # that hold min_buyers of them
    found, start_t, end_t, n_orders, ptr, chosen, weeks = walks.segment_windows(
        live, seg_start, seg_end, paid, bix, nb, window, float(params["min_buyers"]), int(offset)
    )
    # every group's buyer ids in one take (not one per group)
    ids = buyer_ids.take(pa.array(chosen, pa.int64())).to_pylist()
    out: list[LinkedGroup] = []
    for q in np.flatnonzero(found).tolist():
        k, lo = int(live[q]), int(seg_start[live[q]])
        c = int(comp[lo])
        out.append(
            LinkedGroup(
                component=c,
                merchant=str(merchant_ids[merchant[lo]]),
                buyers=sorted(ids[ptr[q] : ptr[q + 1]]),
                n_orders=int(n_orders[q]),
                window_start=int(start_t[q]),
                window_end=int(end_t[q]),
                component_size=int(size[c]),
                merchant_share=round(float(share[k]), 4),
                weeks=int(weeks[q]),
            )
        )
    return out


class _PyWalks:
    """The segment walks as Python loops: what ``_linked_jit`` must equal, and what runs where
    numba is not installed (or PROMOGUARD_NO_JIT=1), or the parameters are outside what the
    compiled walk assumes (a negative window or fewer than one buyer)."""

    @staticmethod
    def segment_distinct(
        seg_start: np.ndarray, seg_end: np.ndarray, bix: np.ndarray, nb: int
    ) -> np.ndarray:
        seg_of = np.repeat(np.arange(len(seg_start), dtype=np.int64), seg_end - seg_start)
        pair = np.unique(seg_of * np.int64(nb) + bix)
        return np.bincount(pair // nb, minlength=len(seg_start))

    @staticmethod
    def segment_windows(
        live: np.ndarray,
        seg_start: np.ndarray,
        seg_end: np.ndarray,
        paid: np.ndarray,
        bix: np.ndarray,
        nb: int,
        window: int,
        min_buyers: float,
        offset: int = 0,
    ) -> tuple[np.ndarray, ...]:
        found = np.zeros(len(live), dtype=bool)
        weeks = np.zeros(len(live), dtype=np.int64)
        start_t = np.zeros(len(live), dtype=np.int64)
        end_t = np.zeros(len(live), dtype=np.int64)
        n_orders = np.zeros(len(live), dtype=np.int64)
        ptr = np.zeros(len(live) + 1, dtype=np.int64)
        buyers: list[int] = []
        for q, k in enumerate(live.tolist()):
            lo, hi = int(seg_start[k]), int(seg_end[k])
            t, b = paid[lo:hi], bix[lo:hi]
            chosen: set[int] = set()
            first, last = None, None
            began: set[int] = set()  # the local weeks (from Monday) windows began in
            j = 0
            for i in range(hi - lo):
                while j < hi - lo and t[j] - t[i] <= window:
                    j += 1
                in_window = set(b[i:j].tolist())
                if len(in_window) >= min_buyers:
                    chosen |= in_window
                    began.add(((int(t[i]) + offset) // 86400 + 3) // 7)
                    first = t[i] if first is None else first
                    last = t[j - 1] if last is None else max(last, t[j - 1])
            if chosen:
                in_span = (t >= first) & (t <= last) & np.isin(b, list(chosen))
                found[q] = True
                start_t[q], end_t[q], n_orders[q] = first, last, int(in_span.sum())
                weeks[q] = _longest_run(began)
                buyers.extend(sorted(chosen))
            ptr[q + 1] = len(buyers)
        return (
            found,
            start_t,
            end_t,
            n_orders,
            ptr,
            np.asarray(buyers, dtype=np.int64),
            weeks,
        )


def _longest_run(weeks: set[int]) -> int:
    """The longest run of consecutive numbers in ``weeks``."""
    best = 0
    for w in weeks:
        if w - 1 not in weeks:  # a run starts here
            n = 1
            while w + n in weeks:
                n += 1
            best = max(best, n)
    return best


def warm(params: dict[str, Any]) -> None:
    """:func:`linked_groups` on three buyers of one device at one shop in one hour: loads the
    compiled walks (numba's cache, once per process) with the argument types a scan's orders
    give them (numbered and cast alike for any orders)."""
    n = max(int(params["min_buyers"]), 1)
    linked_groups(
        pa.table(
            {
                "buyer_id": [f"b{i}" for i in range(n)],
                "merchant_id": ["m"] * n,
                "paid_s": pa.array(range(n), pa.int64()),
                "device": ["d"] * n,
                "address": pa.array([None] * n, pa.string()),
            }
        ),
        params,
    )


def _walks(window: int, min_buyers: float) -> Any:
    """The compiled walks when numba is there, else the Python ones (imported on first use: a
    scan without BRUSH002 pays nothing)."""
    if os.environ.get("PROMOGUARD_NO_JIT") == "1" or window < 0 or not min_buyers >= 1:
        return _PyWalks
    try:
        from promoguard.graph import _linked_jit
    except ImportError:  # pragma: no cover - numba is a dependency; an old venv may lack it
        return _PyWalks
    return _linked_jit
