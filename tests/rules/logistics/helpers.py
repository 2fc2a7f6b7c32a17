"""Hand-made rows for the logistics and licensing checks: a few each, for ``tiny_store``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from tests.support import listing

from promoguard.engine.run import ScanResult

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


def tables(
    orders: list[dict[str, Any]] = (),
    shipments: list[tuple] = (),
    events: list[tuple] = (),
    licences: list[tuple] = (),
) -> dict[str, list[dict[str, Any]]]:
    """The two merchants, five listings and the given rows, per table (for ``tiny_store``).

    shipments: (order_id, carrier, tracking_no, weight_grams);
    events: (carrier, tracking_no, hours after T0, event_type, city);
    licences: (licence_id, merchant_id, type, valid_from hours, valid_to hours or None, scope).
    """
    return {
        "platforms": [
            {"platform_id": "P1", "name": "Mall"},
            {"platform_id": "P2", "name": "Market"},
        ],
        "merchants": [{"merchant_id": m, "platform_id": p, "name": n} for m, p, n in MERCHANTS],
        "listings": [
            listing(lid, m, p, category, title) for lid, m, p, title, category in LISTINGS
        ],
        "orders": list(orders),
        "shipments": [
            {"order_id": o, "carrier": c, "tracking_no": t, "weight_grams": w}
            for o, c, t, w in shipments
        ],
        "tracking_events": [
            {"carrier": c, "tracking_no": t, "event_at": at(h), "event_type": kind, "city": city}
            for c, t, h, kind, city in events
        ],
        "licences": [
            {
                "licence_id": i,
                "merchant_id": m,
                "licence_type": kind,
                "valid_from": at(a),
                "valid_to": None if b is None else at(b),
                "scope": scope,
            }
            for i, m, kind, a, b, scope in licences
        ],
    }


def found(result: ScanResult) -> dict[str, dict[str, Any]]:
    """entity_id -> observed JSON (as a dict) of a run's findings."""
    f = result.findings
    return {e: json.loads(o) for e, o in zip(f.entity_id, f.observed, strict=True)}


#: the shop, its platform and its listing an export of orders needs (CSV, as a platform sends it)
EXPORT_BASE = {
    "platforms.csv": "platform_id,name\nP1,山海\n",
    "merchants.csv": "merchant_id,platform_id,name\nM1,P1,店\n",
    "listings.csv": "listing_id,merchant_id,platform_id,title,category,currency\n"
    "L1,M1,P1,卫衣,apparel,CNY\n",
}


def ingest_export(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Any]:
    """``files`` (orders, shipments, scans as CSV text) beside EXPORT_BASE, in ``tmp_path/export``,
    through the real ingest (Asia/Shanghai) into ``tmp_path/s.duckdb``: (the store, the report)."""
    from promoguard.ingest import ingest_dir

    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in {**EXPORT_BASE, **files}.items():
        (folder / name).write_text(text, encoding="utf-8")
    store = tmp_path / "s.duckdb"
    return store, ingest_dir(folder, store, tz="Asia/Shanghai")
