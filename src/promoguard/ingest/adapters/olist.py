"""Olist (Brazilian e-commerce public data set) -> canonical table files.

Olist publishes one CSV per table (orders, items, payments, customers, sellers, products). This
adapter maps them onto the canonical model; docs/olist.md is the mapping table and says what each
choice means for the checks. In short:

- platform ``olist``; seller -> merchant; product -> listing (``product_id``, or
  ``product_id@seller_id`` when several sellers sell the product) with its English category;
  customer_unique_id -> buyer (customer_id when the customer row is absent); currency BRL.
- one canonical order per Olist order, from its first item (``order_item_id`` 1): listing,
  merchant and unit price; quantity = how many items of that product the order holds.
  ``order_purchase_timestamp`` -> ``placed_at``, ``order_approved_at`` (payment approval) ->
  ``paid_at``; the earliest item ``shipping_limit_date`` -> ``promised_dispatch_by``;
  ``order_estimated_delivery_date`` (the delivery date the buyer was promised) -> the end of that
  day (23:59:59) in ``promised_delivery_by``; customer city -> ``ship_to_city``.
- an order whose items are not in the export (the public subsets were cut table by table) keeps
  ``listing_id``/``merchant_id`` = ``unknown`` (stored, counted as orphans by ingest), its
  payments' total as ``unit_price`` (``0.00`` when payments are absent too: unknown, not free).
- a parcel per order with a carrier handover or a delivery: carrier ``olist``, tracking number =
  the order id (Olist publishes none), weight unknown; the handover
  (``order_delivered_carrier_date``) -> a ``pickup`` scan in the seller's city, the customer
  delivery -> a ``delivered`` scan in the customer's city (cities only where the row is present).
- Olist has no seller "marked shipped" time and no buyer confirmation: ``declared_shipped_at`` and
  ``confirmed_at`` stay empty. An order without ``order_approved_at`` was never paid: its row is
  written with an empty ``paid_at`` so ingest quarantines it with a reason (nothing is dropped).

Timestamps are Brazilian local time without an offset: ingest with ``--tz America/Sao_Paulo``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from promoguard.errors import IngestError
from promoguard.ingest.adapters import register_adapter

PLATFORM_ID = "olist"
CARRIER = "olist"
UNKNOWN = "unknown"
CURRENCY = "BRL"

FILES = {
    "orders": "olist_orders_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
    "products": "olist_products_dataset.csv",
    "categories": "product_category_name_translation.csv",
}
#: Olist order_status -> canonical status (Olist spells cancelled "canceled")
STATUS = {
    "delivered": "delivered",
    "shipped": "shipped",
    "canceled": "cancelled",
    "unavailable": "cancelled",
    "invoiced": "paid",
    "processing": "paid",
    "approved": "paid",
    "created": "paid",
}


def _read(src: Path, key: str, required: bool = False) -> pd.DataFrame | None:
    path = src / FILES[key]
    if not path.is_file():
        if required:
            raise IngestError(f"olist: {path} is missing (the orders table is required)")
        return None
    # every column as text: identifiers keep their leading zeros, money its exact digits
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _blank(series: pd.Series) -> pd.Series:
    return series.where(series.str.strip() != "", None)


def _end_of_day(values: pd.Series) -> pd.Series:
    """A promised date (Olist writes ``2017-10-18 00:00:00``) as the last second of that day: a
    parcel delivered on the promised day is on time, so the promise ends when the day does."""

    def one(v):
        if v is None or pd.isna(v):
            return None
        text = str(v).strip()
        if len(text) == 10 or text.endswith(" 00:00:00") or text.endswith("T00:00:00"):
            return text[:10] + " 23:59:59"
        return text

    return values.map(one)


def _money(values: pd.Series) -> pd.Series:
    return values.map(lambda v: None if v is None or pd.isna(v) else f"{float(v):.2f}")


def _listings(items: pd.DataFrame, products: pd.DataFrame | None, cats: pd.DataFrame | None):
    """One listing per (product, seller) with its id, merchant and English category."""
    pairs = items[["product_id", "seller_id"]].drop_duplicates()
    sellers_per_product = pairs.groupby("product_id")["seller_id"].transform("nunique")
    pairs = pairs.assign(
        listing_id=pairs.product_id.where(
            sellers_per_product == 1, pairs.product_id + "@" + pairs.seller_id
        )
    )
    category = pd.Series(dtype=object)
    if products is not None:
        names = products.set_index("product_id")["product_category_name"]
        names = names[~names.index.duplicated()]
        if cats is not None:
            english = cats.set_index("product_category_name")["product_category_name_english"]
            names = names.map(lambda n: english.get(n, n))
        category = names
    pairs["category"] = pairs.product_id.map(category).fillna("").replace("", UNKNOWN)
    return pairs


def convert_frames(src: Path) -> dict[str, pd.DataFrame]:
    """The canonical tables built from an Olist folder, as data frames of text."""
    orders = _read(src, "orders", required=True)
    items = _read(src, "items")
    payments = _read(src, "payments")
    customers = _read(src, "customers")
    sellers = _read(src, "sellers")
    products = _read(src, "products")
    cats = _read(src, "categories")
    if items is None:
        items = pd.DataFrame(
            columns=["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date"]
            + ["price"]
        )

    listings = _listings(items, products, cats)
    lid = listings.set_index(["product_id", "seller_id"])["listing_id"]
    items = items.assign(
        listing_id=[
            lid.get((p, s)) for p, s in zip(items.product_id, items.seller_id, strict=True)
        ],
        _n=pd.to_numeric(items.order_item_id, errors="coerce"),
    )
    first = items.sort_values(["order_id", "_n"]).drop_duplicates("order_id")
    same_product = items.merge(first[["order_id", "product_id"]], on=["order_id", "product_id"])
    qty = same_product.groupby("order_id").size()
    promise = _blank(items.shipping_limit_date).groupby(items.order_id).min()

    o = orders.copy()
    f = first.set_index("order_id")
    o["listing_id"] = o.order_id.map(f.listing_id).fillna(UNKNOWN)
    o["merchant_id"] = o.order_id.map(f.seller_id).fillna(UNKNOWN)
    o["quantity"] = o.order_id.map(qty).fillna(1).astype(int)
    price = o.order_id.map(f.price)
    if payments is not None:
        paid_total = (
            pd.to_numeric(payments.payment_value, errors="coerce").groupby(payments.order_id).sum()
        )
        price = price.fillna(_money(o.order_id.map(paid_total)))
    o["unit_price"] = price.fillna("0.00")

    cust = customers.set_index("customer_id") if customers is not None else None
    if cust is not None:
        cust = cust[~cust.index.duplicated()]
        o["buyer_id"] = o.customer_id.map(_blank(cust.customer_unique_id)).fillna(o.customer_id)
        o["ship_to_city"] = o.customer_id.map(_blank(cust.customer_city))
    else:
        o["buyer_id"], o["ship_to_city"] = o.customer_id, None

    canonical_orders = pd.DataFrame(
        {
            "order_id": o.order_id,
            "listing_id": o.listing_id,
            "merchant_id": o.merchant_id,
            "buyer_id": o.buyer_id,
            "quantity": o.quantity,
            "unit_price": o.unit_price,
            "paid_at": _blank(o.order_approved_at),
            "promised_dispatch_by": o.order_id.map(promise),
            "declared_shipped_at": None,
            "confirmed_at": None,
            "status": o.order_status.map(STATUS).fillna(o.order_status),
            "ship_to_city": o.ship_to_city,
            "promised_delivery_by": _end_of_day(_blank(o["order_estimated_delivery_date"]))
            if "order_estimated_delivery_date" in o
            else None,
            # the buyer placed the order at purchase; paid_at is the (often much later) approval
            "placed_at": _blank(o["order_purchase_timestamp"])
            if "order_purchase_timestamp" in o
            else None,
        }
    )

    # parcels and scans: the carrier handover is the pickup, the customer delivery the delivery
    handover, delivered = (
        _blank(o.order_delivered_carrier_date),
        _blank(o.order_delivered_customer_date),
    )
    has_parcel = handover.notna() | delivered.notna()
    shipments = pd.DataFrame(
        {
            "order_id": o.order_id[has_parcel],
            "carrier": CARRIER,
            "tracking_no": o.order_id[has_parcel],
            "weight_grams": None,
        }
    )
    seller_city = (
        sellers.set_index("seller_id")["seller_city"] if sellers is not None else pd.Series()
    )
    seller_city = seller_city[~seller_city.index.duplicated()]
    pickups = pd.DataFrame(
        {
            "carrier": CARRIER,
            "tracking_no": o.order_id,
            "event_at": handover,
            "event_type": "pickup",
            "city": o.merchant_id.map(_blank(seller_city)),
        }
    )[handover.notna()]
    deliveries = pd.DataFrame(
        {
            "carrier": CARRIER,
            "tracking_no": o.order_id,
            "event_at": delivered,
            "event_type": "delivered",
            "city": o.ship_to_city,
        }
    )[delivered.notna()]
    events = pd.concat([pickups, deliveries], ignore_index=True)

    used = set(canonical_orders.merchant_id) - {UNKNOWN}
    merchant_ids = sorted(used | set(listings.seller_id))
    merchants = pd.DataFrame(
        {
            "merchant_id": merchant_ids,
            "platform_id": PLATFORM_ID,
            "name": [f"Olist seller {m[:8]}" for m in merchant_ids],
            "registered_at": None,
        }
    )
    canonical_listings = pd.DataFrame(
        {
            "listing_id": listings.listing_id,
            "merchant_id": listings.seller_id,
            "platform_id": PLATFORM_ID,
            "title": "Olist product " + listings.product_id.str[:8],
            "category": listings.category,
            "currency": CURRENCY,
        }
    )
    return {
        "platforms": pd.DataFrame({"platform_id": [PLATFORM_ID], "name": ["Olist"]}),
        "merchants": merchants,
        "listings": canonical_listings,
        "orders": canonical_orders,
        "shipments": shipments,
        "tracking_events": events,
    }


@register_adapter("olist")
def convert(src: Path, out: Path) -> None:
    """Write the canonical CSV files for the Olist export in ``src`` into ``out``."""
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise IngestError(f"olist: {src} is not a folder of Olist CSV files")
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in convert_frames(src).items():
        frame.to_csv(out / f"{name}.csv", index=False)
