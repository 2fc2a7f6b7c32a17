"""Hand-made stores for the logistics and licensing checks: a few rows each, real DuckDB."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
from tests.support import run_check

from promoguard import store

T0 = dt.datetime(2026, 11, 11, 0, 0, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    """An instant ``hours`` after 2026-11-11 00:00 UTC."""
    return T0 + dt.timedelta(hours=hours)


MERCHANTS = [("m1", "P1", "Shop One"), ("m2", "P2", "Shop Two")]
LISTINGS = [
    ("l_food", "m1", "P1", "蜂蜜", "food"),
    ("l_cos", "m1", "P1", "面霜", "cosmetics"),
    ("l_app", "m2", "P2", "卫衣", "apparel"),
    ("l_alc", "m2", "P2", "白酒", "alcohol"),
    ("l_med", "m2", "P2", "血压计", "medical_device"),
]


def order(
    order_id: str,
    *,
    listing: str = "l_app",
    merchant: str | None = None,
    paid: float = 0,
    promised: float | None = None,
    declared: float | None = None,
    status: str = "shipped",
    city: str | None = "上海",
    buyer: str = "b1",
) -> dict[str, Any]:
    merchant = merchant or next(m for lid, m, *_ in LISTINGS if lid == listing)
    return {
        "order_id": order_id,
        "listing_id": listing,
        "merchant_id": merchant,
        "buyer_id": buyer,
        "quantity": 1,
        "unit_price": "99.00",
        "paid_at": at(paid),
        "promised_dispatch_by": None if promised is None else at(promised),
        "declared_shipped_at": None if declared is None else at(declared),
        "status": status,
        "ship_to_city": city,
    }


def build(
    path: Path,
    orders: list[dict[str, Any]] = (),
    shipments: list[tuple] = (),
    events: list[tuple] = (),
    licences: list[tuple] = (),
) -> duckdb.DuckDBPyConnection:
    """A store with the two merchants, five listings and the given rows.

    shipments: (order_id, carrier, tracking_no, weight_grams);
    events: (carrier, tracking_no, hours after T0, event_type, city);
    licences: (licence_id, merchant_id, type, valid_from hours, valid_to hours or None, scope).
    """
    con = store.connect(path)
    con.executemany("INSERT INTO platforms VALUES (?, ?)", [("P1", "Mall"), ("P2", "Market")])
    con.executemany("INSERT INTO merchants VALUES (?, ?, ?, NULL)", MERCHANTS)
    con.executemany(
        "INSERT INTO listings (listing_id, merchant_id, platform_id, title, category, currency) "
        "VALUES (?, ?, ?, ?, ?, 'CNY')",
        LISTINGS,
    )
    for o in orders:
        cols = ", ".join(o)
        con.execute(
            f"INSERT INTO orders ({cols}) VALUES ({', '.join('?' * len(o))})",  # noqa: S608
            list(o.values()),
        )
    if shipments:
        con.executemany("INSERT INTO shipments VALUES (?, ?, ?, ?)", list(shipments))
    if events:
        con.executemany(
            "INSERT INTO tracking_events VALUES (?, ?, ?, ?, ?)",
            [(c, t, at(h), kind, city) for c, t, h, kind, city in events],
        )
    if licences:
        con.executemany(
            "INSERT INTO licences VALUES (?, ?, ?, ?, ?, ?)",
            [
                (i, m, kind, at(a), None if b is None else at(b), scope)
                for i, m, kind, a, b, scope in licences
            ],
        )
    return con


def run(con: duckdb.DuckDBPyConnection, code: str, pack: str = "cn", **overrides: Any):
    """Run one check of a pack (parameters overridden if given) on DuckDB: the ScanResult."""
    return run_check(con, code, pack, {code: overrides} if overrides else None, detected_at=T0)


def found(con: duckdb.DuckDBPyConnection, code: str, pack: str = "cn", **overrides: Any):
    """entity_id -> observed JSON (as a dict) of one check's findings."""
    result = run(con, code, pack, **overrides)
    f = result.findings
    return {e: json.loads(o) for e, o in zip(f.entity_id, f.observed, strict=True)}
