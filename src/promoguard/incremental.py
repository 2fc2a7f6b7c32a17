"""Incremental scans: re-check only what the data added since the last scan can change.

Each check declares what its findings depend on (``depends_on``), the narrowest it can prove:

- ``"merchant"``: a finding depends only on rows of its entity's merchant (its listings and their
  prices, reviews and texts, its orders with their parcels and scans, its licences) and on the
  platform-wide tables (platforms, promotions). (No rule of the packs is scoped this wide now:
  the ones that were declare ``merchant_delta``.)
- ``"merchant_delta"``: as ``merchant`` (the tables it reads that are not a merchant's, such as
  coupons, kept whole), and of the new rows only those the rule's ``touched_merchants(season,
  new, params)`` names can change its findings: it returns Ibis tables of ``merchant_id`` from the
  whole season and the added rows (or None: any finding may change). The scoped run is on
  those merchants, and is empty when they are none; its copy also holds, as context, the rows of
  the merchants their orders and listings link to (``linked_merchants``: an order on another
  shop's listing, a listing sold by several shops), whose own findings it drops and carries.
  What each rule reads, and so names:
  PRICE001-003 read only rows inside a promotion's windows, all of which close by the latest
  promotion end (the look-back, the baseline, the price in force when the look-back opens, the
  announced reductions of a progressive campaign begun before the look-back, the last sale
  before the promotion, the claims and the evidence's price series): an observation or order
  stamped at or after it changes nothing (cn's offered-price fallback asks whether a listing
  sold before the promotion, not whether it ever sold;
  ``rules/pricing/_shared.touched_by_windows``). PRICE005: a listing with an MSRP and a new
  observation with a reference, and the shops of a title on at most 50 listings of the platform
  that a new MSRP label or a new listing reaches (another shop's label counts there). LIC001: a
  merchant's unlicensed sales (a new order that is none changes nothing), licences and merchant
  rows. COUPON003: a listing's 到手价 observations; COUPON004: an order's redemptions, and the
  shops of its buyer's orders of the same capped platform coupon placed at or after it (its
  per-buyer cap is counted at every shop); both: any finding on new coupons or terms (None).
  All: new listing rows (and, where a finding is an order's, that listing's orders' merchants).
  A rule whose findings read single orders of other shops declares ``context_orders(season,
  merchants)`` (Ibis, ``order_id``): the scope copies those orders and their listings' rows
  besides its merchants' (COUPON004: the buyers' uses of a capped platform coupon at other
  shops; whole merchants would be most of a city's). A rule whose findings read other shops'
  listings that no order of its merchants links declares ``context_listings(season, merchants,
  params)`` (Ibis, ``listing_id``, or None): the scope copies those listings and their prices,
  not their shops, as context (PRICE005: the other shops' listings of the same title on the
  platform, whose MSRP labels and count its findings read; a generic title is on hundreds of
  shops).
- ``"listing_delta"``: a finding on a listing depends only on that listing's row and its rows of
  price_observations and reviews (and on whole tables it reads otherwise), and of the new rows
  only those the rule's ``touched_listings(season, new, params)`` names (Ibis tables of
  ``listing_id``, or None: any finding may change) can change its findings. The scoped run is on
  those listings' rows. PRICE004: a listing's observations within ``max_gap_minutes`` of one
  of its search/home sightings with a detail price above it that close, and new listing rows.

- ``"order"``: a finding on an order depends only on that order's row, its shipments, its
  parcels' scans (and the merchants, listings tables as a whole). SHIP004, SHIP005.
- ``"order_horizon"``: as ``order``, and on the data horizon (the season's latest scan, payment
  or declared shipment) only while none of the order's parcels has a pickup scan. SHIP001, SHIP003.
  When new rows move the horizon, the orders each rule's ``horizon_orders(tables, params,
  before, now)`` names are re-checked (those whose finding the move can change: SHIP001's
  deadlines between the two horizons, SHIP003's late undispatched orders, whose hours_late
  quotes it); a rule that declares none has every order without a pickup scan re-checked.
- ``"order_parcels"``: as ``order``, and on every order sharing one of its parcels (and those
  orders' rows). SHIP002: the orders sharing a parcel with a touched order are re-checked.
- ``"order_statistic"``: as ``order``, and on a season statistic the rule computes with
  ``season_statistic(tables, params)`` from the tables in its ``statistic_reads``. The statistic
  is computed over the rows the previous scan saw and over the whole season: the check is
  re-checked by order with the order checks while they are equal (the scoped run is handed the
  kept relations the statistic is computed from, ``statistic_relations``, or keeps the tables it
  reads whole), on the whole store when not. PARCEL001 (the carriers that weigh at least
  ``weighed_share_min`` of their parcels).
- ``"text"``: a finding on a text or a review depends only on that row, its listing and its
  merchant. TEXT001-006, REVIEW002.
- ``"season"``: on anything in the season; re-run on everything. What stays here and why:
  BRUSH001-003 (the buyer-merchant graph: a new order can merge two blocks, and the peel's
  result is not known to be local to a neighbourhood), REVIEW001 (near-duplicates across all
  reviews: the bands of the new reviews would scope it), REVIEW003 (a review's score reads its
  buyer's history and its listing's burst and mean rating: a day's reviews reach most
  listings), PRIZE001 (a prize's terms against every award).

A scoped copy (merchant_delta, listing_delta) holds only the columns its checks read when each
of them that reads a table says which (``Check.reads_columns``, table -> columns; a test holds it
complete), and NULL in the others: the unread columns were most of a copy's cost.

Whatever its scope, a check none of whose tables (``reads``, which a test holds complete) got a
row since SCAN finds what it found: its findings are carried whole (COUPON001/002, PRIZE002/003
on a day of orders).

``scan --since SCAN`` finds, per group of scopes (merchant; merchant_delta; order, order_horizon,
order_parcels and order_statistic together; text), the keys the rows added after SCAN reach; runs
the group's checks
on those keys' rows only (and the rows they read of others: a shared parcel's orders, the
merchants an order's listing links to), in a private in-memory database; keeps their findings
on those keys and
carries SCAN's findings of those checks on every other key; and runs every other check on the
whole store in one part. The result is the full set of findings a full re-scan gives
(tests/test_incremental.py on a season, tests/test_incremental_scopes.py on hand-built cases that
a narrower scope gets wrong), saved as a scan like any other, so ``monitor.delta`` reads new,
still and resolved findings from it. A group whose new rows cannot be traced to its keys, or that
reaches more than SCOPE_SHARE of them, runs on the whole store.

A season-wide check's relations may be *kept* (``engine.cache.shared`` with a ``fold``;
docs/kept.md): the whole-store part of ``scan --since`` on a DuckDB file folds the new rows
(``rowid`` past the marks below) into the copies the scan since saved, instead of computing them
on the whole season, and a saved scan keeps its own for the next day. Scoped groups (private
databases that hold only their keys' rows), lakes and Spark build them; except an
``order_statistic`` check's relations (``statistic_folds``), which the order plan folds on the
whole season, compares the statistic on, and hands to the scoped run, which keeps them when saved;
and the order plan's own (``SHARED_NUMBER_HASHES``: the hashes two shipment rows share, for the
parcel neighbours), which it folds with the day's shipments and a saved scan keeps (after a full
scan it folds SHIP002's copy of the same hashes instead).

A check's findings are carried (whole or on the keys the new rows do not reach) only from a
scan that ran it as this one does (``engine.run.ran_with``: the pack, severity, legal basis, time
zone, parameters and pack settings, which a saved scan records in each check's coverage entry):
one the scan since ran otherwise, did not run, or ran without the record (saved before it was
kept) runs on the whole store, and ``info["changed"]`` names it with what differs.

Which rows are new: on a lake, the files of the ingest batches its manifest lists after SCAN; on
a DuckDB file, the rows past the row counts SCAN recorded per table (``scan_marks``: the canonical
tables only grow, so rows ``rowid >= mark`` are the ones added since). When that cannot be told
(a scan made before marks were kept, rows removed) the scan falls back to a full one and says so.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from promoguard import lake, sqlbuild
from promoguard.hugepages import no_hugepage_stalls

DEPENDS_ON = (
    "merchant",
    "order",
    "order_horizon",
    "order_parcels",
    "order_statistic",
    "merchant_delta",
    "listing_delta",
    "text",
    "season",
)

#: the scope groups whose keys are merchants (the scoped tables: those merchants' rows whole)
_BY_MERCHANT = ("merchant", "merchant_delta")
#: the rows reached from the affected merchants: table -> FROM clause over the full lake (alias t)
_MERCHANT_ROWS = {
    "merchants": "_all_merchants t SEMI JOIN _pg_affected a USING (merchant_id)",
    "licences": "_all_licences t SEMI JOIN _pg_affected a USING (merchant_id)",
    "listings": "_all_listings t SEMI JOIN _pg_affected a USING (merchant_id)",
    "texts": "_all_texts t SEMI JOIN _pg_affected a USING (merchant_id)",
    "orders": "_all_orders t SEMI JOIN _pg_affected a USING (merchant_id)",
    "price_observations": "_all_price_observations t SEMI JOIN listings l USING (listing_id)",
    "reviews": "_all_reviews t SEMI JOIN listings l USING (listing_id)",
    "shipments": "_all_shipments t SEMI JOIN orders o USING (order_id)",
    "tracking_events": "_all_tracking_events t SEMI JOIN shipments s USING (carrier, tracking_no)",
}
#: a merchant scope with context orders (``_pg_context_orders``): those orders besides the
#: merchants', and their listings' rows; the prices and reviews of the merchants' listings only.
#: Every check of the scoped group sees these rows, not only the one that asked for them, and
#: may find something on a context shop from them alone (LIC001 reads a context order as an
#: unlicensed sale of a shop whose licences were not copied): ``_Plan.keep`` drops every finding
#: whose merchant_id is not a scoped merchant, and the previous scan's findings on that shop are
#: carried. That holds only while each finding carries its own shop's merchant_id (the entity's,
#: never the scoped merchant whose rows led to it).
_CONTEXT_ROWS = {
    "listings": (
        "(SELECT * FROM _all_listings WHERE merchant_id IN (SELECT merchant_id FROM _pg_affected) "
        "OR listing_id IN (SELECT listing_id FROM _all_orders "
        "SEMI JOIN _pg_context_orders USING (order_id))) t"
    ),
    "orders": (
        "(SELECT * FROM _all_orders WHERE merchant_id IN (SELECT merchant_id FROM _pg_affected) "
        "OR order_id IN (SELECT order_id FROM _pg_context_orders)) t"
    ),
    "price_observations": (
        "_all_price_observations t SEMI JOIN "
        "(SELECT listing_id FROM _all_listings SEMI JOIN _pg_affected USING (merchant_id)) l "
        "USING (listing_id)"
    ),
    "reviews": (
        "_all_reviews t SEMI JOIN "
        "(SELECT listing_id FROM _all_listings SEMI JOIN _pg_affected USING (merchant_id)) l "
        "USING (listing_id)"
    ),
}


#: a merchant scope with context listings (``_pg_context_listings``): those listings besides the
#: merchants' (and, with context orders, besides those orders' listings), with their prices;
#: the reviews of the merchants' listings only. A finding on a context listing is its shop's,
#: dropped by ``_Plan.keep`` as a context order's is
_CONTEXT_LISTING_ROWS = {
    "listings": (
        "(SELECT * FROM _all_listings WHERE merchant_id IN (SELECT merchant_id FROM _pg_affected) "
        "OR listing_id IN (SELECT listing_id FROM _pg_context_listings)) t"
    ),
    "price_observations": (
        "_all_price_observations t SEMI JOIN "
        "(SELECT listing_id FROM _all_listings SEMI JOIN _pg_affected USING (merchant_id) "
        "UNION ALL SELECT listing_id FROM _pg_context_listings) l USING (listing_id)"
    ),
    "reviews": _CONTEXT_ROWS["reviews"],
}
#: ... and with context orders too: their listings besides
_CONTEXT_LISTING_AND_ORDER_ROWS = {
    **_CONTEXT_LISTING_ROWS,
    "listings": (
        "(SELECT * FROM _all_listings WHERE merchant_id IN (SELECT merchant_id FROM _pg_affected) "
        "OR listing_id IN (SELECT listing_id FROM _pg_context_listings) "
        "OR listing_id IN (SELECT listing_id FROM _all_orders "
        "SEMI JOIN _pg_context_orders USING (order_id))) t"
    ),
}


#: how new rows of each table name their merchant (through the full lake views, prefix _all_)
_MERCHANT_OF = {
    "merchants": "SELECT merchant_id FROM {new}",
    "licences": "SELECT merchant_id FROM {new}",
    "listings": "SELECT merchant_id FROM {new}",
    "texts": "SELECT merchant_id FROM {new}",
    "orders": "SELECT merchant_id FROM {new}",
    "price_observations": "SELECT l.merchant_id FROM {new} n JOIN _all_listings l USING (listing_id)",
    "reviews": "SELECT l.merchant_id FROM {new} n JOIN _all_listings l USING (listing_id)",
    "shipments": "SELECT o.merchant_id FROM {new} n JOIN _all_orders o USING (order_id)",
    "tracking_events": (
        "SELECT o.merchant_id FROM {new} n JOIN _all_shipments s USING (carrier, tracking_no) "
        "JOIN _all_orders o USING (order_id)"
    ),
}
#: the table a merchant's rows of another are reached through (its alias in _MERCHANT_ROWS)
_THROUGH = {
    "price_observations": "listings",
    "reviews": "listings",
    "shipments": "orders",
    "tracking_events": "shipments",
}
#: new rows here can change any finding: the scan falls back to a full one
_SEASON_WIDE = ("platforms", "promotions")
#: above this share of the merchants touched, the merchant checks run on the whole store
SCOPE_SHARE = 0.5
#: the database name a DuckDB file store is attached under in the scoped connection
_SRC = "_pg_src"


def depends_on(check: Any) -> str:
    """What the rule declares (``Check.depends_on``; the module's docstring says what each kind
    promises and which checks stay season-wide, and why)."""
    scope = getattr(check, "depends_on", "season")
    if scope not in DEPENDS_ON:
        raise ValueError(f"{check.code}: depends_on {scope!r} is not one of {DEPENDS_ON}")
    return scope


def batches_since(manifest: lake.Manifest, scan_id: str) -> list[str] | None:
    """Ingest batches published after the scan ``scan_id``; None when the lake does not have it."""
    for i, b in enumerate(manifest.batches):
        if b.get("kind") == "scan" and b.get("scan_id") == scan_id:
            return [x["batch"] for x in manifest.batches[i + 1 :] if x.get("kind") == "ingest"]
    return None


def new_files(manifest: lake.Manifest, batches: list[str]) -> dict[str, list[str]]:
    """Per canonical table, the files those batches published (a file's name carries its batch)."""
    marks = [re.compile(rf"/part-{re.escape(b)}-\d+\.parquet$") for b in batches]
    out: dict[str, list[str]] = {}
    for table in lake.TABLE_NAMES:
        files = ["/" + f for f in manifest.tables.get(table, [])]
        hit = [f[1:] for f in files if any(m.search(f) for m in marks)]
        if hit:
            out[table] = hit
    return out


def affected_merchants(
    con: duckdb.DuckDBPyConnection, new: dict[str, str], local_reads: set[str]
) -> pd.DataFrame | None:
    """The merchants whose rows ``new`` (table -> SQL relation of the added rows) adds to; None
    when every finding may change. ``con`` has the whole season as ``_all_<table>`` views.

    New rows of a table no merchant-local check reads (coupons, prizes) change no such finding:
    only the season checks read them, and those are re-run on everything anyway."""
    parts = []
    for table, rel in new.items():
        if table in _SEASON_WIDE:
            return None
        if table in _MERCHANT_OF:
            parts.append(_MERCHANT_OF[table].format(new=rel))
        elif table in local_reads:  # read by a merchant check, but not traced to a merchant
            return None
    if not parts:
        return pd.DataFrame({"merchant_id": pd.Series([], dtype=object)})
    query = sqlbuild.sql(
        "SELECT DISTINCT merchant_id FROM ({u}) WHERE merchant_id IS NOT NULL", u=_union(parts)
    )
    return con.execute(query).df()


def linked_merchants(
    con: duckdb.DuckDBPyConnection, merchants: pd.DataFrame, reads: set[str]
) -> pd.DataFrame:
    """``merchants`` (a frame of ``merchant_id``) and the merchants whose rows their findings
    read besides their own, in one query over the whole season (``con``'s ``_all_<table>``
    views): what a merchant scope copies for the findings of ``merchants``, by checks reading
    the tables ``reads``, to be a full scan's.

    An order names its merchant and its listing, and the listing may be another shop's. A
    finding of a merchant reads its orders' listings (LIC001 an order's category, COUPON004 its
    listing's platform) and its listings' orders, whichever shops' they are (PRICE001/002: a
    listing's sales). A scope of the touched merchants' own rows lacked those rows, and found
    otherwise than a full scan. So the linked merchants are the merchants themselves; those with
    a listings row of a listing they have a row of or an order on (order -> listing -> merchant);
    and those with an order on a listing they have a row of (listing -> order -> merchant). The
    scope copies each merchant's listings and orders whole, and the listings' prices and reviews:
    it then holds every row of those listings and every order on the merchants' own. (Two rows
    of one listing under two merchants, which ingest never writes as ``listing_id`` is the
    listings' key, link those merchants the same way.)

    One step, not a closure: the merchants it adds are context, whose own findings read rows
    the scope need not hold; they are dropped from the scoped run and carried from the scan
    since (``_Plan.keep``, ``_Plan.carried``), which is right as the rules did not name them.
    With no listings read nothing links: every other table a merchant check reads is one
    merchant's own rows (reached through its listings or orders) or is kept whole. Two passes
    over the orders' two key columns (one pass with either condition was slower): ~0.15 s, 0.3
    CPU s for a city day's 21,509 merchants of 5.6M orders."""
    if "listings" not in reads or merchants.empty:
        return merchants
    own = "SELECT listing_id FROM _all_listings SEMI JOIN _pg_linked_keys USING (merchant_id)"
    listed, linked = [own], ["SELECT merchant_id FROM _pg_linked_keys"]
    if "orders" in reads:  # the orders link listings to merchants only to checks reading them
        listed.append(
            "SELECT listing_id FROM _all_orders SEMI JOIN _pg_linked_keys USING (merchant_id)"
        )
        linked.append("SELECT merchant_id FROM _all_orders SEMI JOIN _pg_own USING (listing_id)")
    linked.append("SELECT merchant_id FROM _all_listings SEMI JOIN _pg_listed USING (listing_id)")
    query = sqlbuild.sql(
        "WITH _pg_own AS ({own}), _pg_listed AS ({listed}) "
        "SELECT DISTINCT merchant_id FROM ({linked}) WHERE merchant_id IS NOT NULL",
        own=sqlbuild.Sql(own),
        listed=_union(listed),
        linked=_union(linked),
    )
    con.register("_pg_linked_keys", merchants[["merchant_id"]])
    try:
        got = con.execute(str(query)).df()
    finally:
        con.unregister("_pg_linked_keys")
    return got.astype({"merchant_id": object})


def scope_to(
    con: duckdb.DuckDBPyConnection,
    merchants: pd.DataFrame,
    local_reads: set[str],
    checks: list | None = None,
    orders: pd.DataFrame | None = None,
    listings: pd.DataFrame | None = None,
) -> duckdb.DuckDBPyConnection:
    """Make ``con``'s canonical tables hold only the rows reached from ``merchants`` (tables
    over its ``_all_<table>`` views); a table no local check reads is left empty. With
    ``checks``, only the columns they read (``_copied_columns``) hold values. ``orders`` (a
    frame of ``order_id``): more orders the checks' findings read (``_context_orders``), copied
    with their listings' rows (not those listings' prices and reviews) as context. ``listings``
    (a frame of ``listing_id``): more listings they read (``_context_listings``), copied with
    their prices as context.

    ``con`` is a private in-memory database, so these are ordinary tables of it, not temporary
    ones: every cursor of the database sees them, and the scan runs its checks on two threads
    (``engine.run.scan_threads``) as a full scan does; temporary tables held it to one."""
    con.register("_pg_affected_df", merchants)
    con.execute("CREATE TABLE _pg_affected AS SELECT merchant_id FROM _pg_affected_df")
    con.unregister("_pg_affected_df")
    need = _reached_through(local_reads)
    sources = dict(_MERCHANT_ROWS)
    if orders is not None and len(orders):
        con.register("_pg_context_df", orders[["order_id"]])
        con.execute("CREATE TABLE _pg_context_orders AS SELECT order_id FROM _pg_context_df")
        con.unregister("_pg_context_df")
        sources.update(_CONTEXT_ROWS)
    if listings is not None and len(listings):
        con.register("_pg_context_df", listings[["listing_id"]])
        con.execute("CREATE TABLE _pg_context_listings AS SELECT listing_id FROM _pg_context_df")
        con.unregister("_pg_context_df")
        with_orders = orders is not None and len(orders)
        sources.update(_CONTEXT_LISTING_AND_ORDER_ROWS if with_orders else _CONTEXT_LISTING_ROWS)
    for table in lake.TABLE_NAMES:  # in reference order: a table after those it is reached by
        source = sources.get(table, f'"_all_{table}" t')
        # a table no local check reads, nor reaches another through, stays empty: the merchants'
        # scans and shipments were copied for checks that read neither (4.7 s of a city day)
        where = "" if table in need else " WHERE false"
        columns = _copied_columns(con, table, checks) if checks is not None else "t.*"
        # materialised: the checks read each table many times
        con.execute(
            sqlbuild.sql(
                "CREATE TABLE {table} AS SELECT {columns} FROM {source}{where}",
                table=table,
                columns=sqlbuild.Sql(columns),
                source=sqlbuild.Sql(source),
                where=sqlbuild.Sql(where),
            )
        )
    return con


#: columns a scoped copy always fills: the keys its rows are reached through and carried by
_KEY_COLUMNS = ("merchant_id", "listing_id", "order_id", "carrier", "tracking_no")


def _copied_columns(con: duckdb.DuckDBPyConnection, table: str, checks: list) -> str:
    """The select list (alias t, over ``_all_<table>``) of a scoped copy of ``table`` for
    ``checks``: every column when one of them that reads the table does not say which columns
    it reads (``reads_columns``), else those (and ``_KEY_COLUMNS``), the others NULL of their
    type, so the copy keeps the table's schema. The columns no check reads were most of a
    scoped copy's cost: the 2,514 merchants of a city day's LIC001, all 17 columns of their
    orders, 2.9 s; the 4 it reads, 0.6 s."""
    keep: set[str] = set(_KEY_COLUMNS)
    for c in checks:
        if table not in c.reads:
            continue
        declared = getattr(c, "reads_columns", None)
        if declared is None or table not in declared:
            return "t.*"
        keep.update(declared[table])
    rel = con.sql(str(sqlbuild.sql("SELECT * FROM {a} LIMIT 0", a="_all_" + table)))
    return str(
        sqlbuild.join(
            ", ",
            (
                sqlbuild.column("t", name)
                if name in keep
                else sqlbuild.sql("CAST(NULL AS {t}) AS {c}", t=sqlbuild.Sql(str(kind)), c=name)
                for name, kind in zip(rel.columns, rel.types, strict=True)
            ),
        )
    )


def _reached_through(reads: set[str]) -> set[str]:
    """``reads`` and the tables their scoped rows are reached through (scans through shipments,
    shipments through orders): what a merchant scope must copy."""
    need = set(reads)
    for table in reversed(lake.TABLE_NAMES):  # a table before those it is reached by
        if table in need and table in _THROUGH:
            need.add(_THROUGH[table])
    return need


class _LakeSeason:
    """A Parquet lake: new rows are the files of the ingest batches published after a scan."""

    engine_label = "lake"

    def __init__(self, root: Any, memory_limit: str | None) -> None:
        self.root = lake.Path(root)
        self.memory_limit = memory_limit
        self.manifest = lake.read_manifest(self.root)
        self._old: dict[str, str] = {}

    def connect(self) -> duckdb.DuckDBPyConnection:
        return lake.connect(self.root, memory_limit=self.memory_limit)

    def all_views(self) -> duckdb.DuckDBPyConnection:
        from promoguard import store as store_mod

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        store_mod.set_memory_limit(con, self.memory_limit)
        lake.attach_views(con, self.root, self.manifest, lake.TABLE_NAMES, prefix="_all_")
        return con

    def new_rows(self, con: Any, since: str) -> tuple[dict[str, str] | None, int, str | None]:
        from promoguard.errors import CheckError

        batches = batches_since(self.manifest, since)
        if batches is None:
            raise CheckError(f"--since {since}: the scan is not in the lake's manifest")
        base = str(self.root.resolve())
        added = new_files(self.manifest, batches)
        new = {
            table: "read_parquet([{}], hive_partitioning = false)".format(
                ", ".join(lake._sql_str(f"{base}/{r}") for r in rels)
            )
            for table, rels in added.items()
        }
        self._old = {}
        for table, rels in added.items():
            kept = [f for f in self.manifest.tables.get(table, []) if f not in set(rels)]
            self._old[table] = (
                "read_parquet([{}], hive_partitioning = false)".format(
                    ", ".join(lake._sql_str(f"{base}/{r}") for r in kept)
                )
                if kept
                else sqlbuild.sql("(SELECT * FROM {a} WHERE false)", a="_all_" + table)
            )
        return new, len(batches), None

    def old_rows(self, table: str) -> str:
        """The rows of ``table`` the scan since saw (a relation over the ``_all_`` views)."""
        return self._old.get(table, sqlbuild.ident("_all_" + table))

    def marks(self, con: Any) -> dict[str, int] | None:
        return None

    def spark(self, con: Any, master: str | None):
        return lake.spark_tables(self.root, master)

    def kept_from(self, con: Any, since: str, new: Any) -> Any:
        """A lake keeps no relations (yet): kept relations are built on the whole season."""
        return None

    def kept_state(self, kept_from: Any, save: bool) -> Any:
        return None

    def save(self, result: Any, pack: Any, started: Any) -> None:
        lake.save_scan(self.root, result, pack, started)


class _FileSeason:
    """A DuckDB file: new rows are those past the row counts the scan recorded (``scan_marks``)."""

    engine_label = "file"

    def __init__(self, path: Any, memory_limit: str | None) -> None:
        self.path = lake.Path(path)
        self.memory_limit = memory_limit
        self._before: dict[str, int] = {}

    def connect(self) -> duckdb.DuckDBPyConnection:
        from promoguard import store as store_mod

        con = store_mod.connect(self.path, read_only=True)
        store_mod.set_memory_limit(con, self.memory_limit)
        return con

    def all_views(self) -> duckdb.DuckDBPyConnection:
        """An in-memory connection with the file attached read-only, its tables as ``_all_*``
        views (the scoped tables take the canonical names, so the file's must not)."""
        from promoguard import store as store_mod

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        store_mod.set_memory_limit(con, self.memory_limit)
        con.execute(f"ATTACH {lake._sql_str(str(self.path))} AS {_SRC} (READ_ONLY)")
        have = self._tables(con)
        for table in lake.TABLE_NAMES:
            if table in have:
                con.execute(
                    sqlbuild.sql(
                        "CREATE VIEW {view} AS SELECT * FROM {src}.main.{table}",
                        view="_all_" + table,
                        src=_SRC,
                        table=table,
                    )
                )
            else:  # a store made before the table existed: it reads as empty
                # the schema only here: reading it builds a store in memory (~1 s on first use)
                schema = store_mod.table_schema()
                cols = ", ".join(f'"{c}" {t}' for c, t in schema[table])
                con.execute(f'CREATE TABLE "_all_{table}" ({cols})')
        return con

    @staticmethod
    def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
        return {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "AND schema_name = 'main'",
                [_SRC],
            ).fetchall()
        }

    def new_rows(self, con: Any, since: str) -> tuple[dict[str, str] | None, int, str | None]:
        from promoguard import store as store_mod

        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
        }
        if "scan_marks" not in tables:
            return None, 0, f"the store keeps no row marks; scan {since} is scanned in full"
        marks = dict(
            con.execute(
                "SELECT table_name, row_count FROM scan_marks WHERE scan_id = ?", [since]
            ).fetchall()
        )
        # The batches ingested after that scan: a scan's started_at was cut to the second before
        # scans recorded their exact start (stores still hold such scans), so an ingest just
        # before it, in the same second, looked like one after it (a clean-clone CI on a quiet
        # machine counted 2 batches for 1). Its finished_at is exact, and a DuckDB file has one
        # writer at a time, so an ingest it did not see started after it.
        ended = con.execute(
            "SELECT coalesce(finished_at, started_at) FROM scans WHERE scan_id = ?", [since]
        ).fetchone()
        batches = con.execute(
            "SELECT count(DISTINCT ingest_id) FROM ingest_log WHERE started_at >= ?", [ended[0]]
        ).fetchone()[0]
        if not marks:
            return None, batches, f"scan {since} kept no row marks (made before they were kept)"
        now = store_mod.row_marks(con)
        new: dict[str, str] = {}
        self._before: dict[str, int] = {}
        for table, rows in now.items():
            before = marks.get(table, 0)
            # rowids are positions: 0..n-1 as long as no row was ever removed, which is what
            # makes "rowid >= mark" the rows added since; anything else and we cannot tell
            top = con.execute(
                sqlbuild.sql("SELECT coalesce(max(rowid), -1) FROM {t}", t=table)
            ).fetchone()[0]
            if top != rows - 1 or rows < before:
                return None, batches, f"rows of {table} were removed since scan {since}"
            self._before[table] = int(before)
            if rows > before:
                new[table] = sqlbuild.sql(
                    "(SELECT * FROM {src}.main.{table} WHERE rowid >= {before})",
                    src=_SRC,
                    table=table,
                    before=int(before),
                )
        return new, batches, None

    def old_rows(self, table: str) -> str:
        """The rows of ``table`` the scan since saw (a relation for the scoped connection)."""
        if table not in self._before:
            return sqlbuild.ident("_all_" + table)
        return sqlbuild.sql(
            "(SELECT * FROM {src}.main.{table} WHERE rowid < {before})",
            src=_SRC,
            table=table,
            before=self._before[table],
        )

    def marks(self, con: Any) -> dict[str, int] | None:
        from promoguard import store as store_mod

        return store_mod.row_marks(con)

    def spark(self, con: Any, master: str | None):
        from promoguard.engine import backends

        return backends.spark_tables(con, master)

    def kept_from(self, con: Any, since: str, new: Any) -> Any:
        """The copies of kept relations scan ``since`` saved, and the row marks past which rows
        are new (none: nothing to fold, when the new rows cannot be told)."""
        from promoguard import store as store_mod

        if new is None:
            return None
        return store_mod.kept_copies(con, since), dict(self._before)

    def kept_state(self, kept_from: Any, save: bool) -> Any:
        from promoguard.engine.cache import KeptState

        previous, marks = kept_from if kept_from is not None else ({}, None)
        return KeptState(previous=previous, new=marks, save=save)

    def save(self, result: Any, pack: Any, started: Any) -> None:
        from promoguard.engine import run as eng

        con = eng._writer(self.path)
        try:
            eng.save_result(con, result, pack, started)
        finally:
            con.close()


@no_hugepage_stalls
def scan_since(
    store: Any,
    pack: Any,
    since: str,
    *,
    checks: Any = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    save: bool = True,
    progress: Any = None,
    memory_limit: str | None = None,
):
    """A scan of the store (a lake or a DuckDB file) equal to a full re-scan, computed from the
    scan ``since`` and the rows added after it (``since`` may be ``last``: the latest scan of the
    pack). Returns the result and what was re-checked (``info``).

    The chosen checks fall in parts: each scoped group (merchant, order, text) is re-run on the
    rows its keys reach, in a private in-memory database of its own, and the previous scan's
    findings of the group's checks on every other key are carried; what cannot be scoped (a
    season-wide check, a group whose keys cannot be told or cover most of the store) runs on
    the whole store in one part, whose shared relations its checks share."""

    from promoguard.engine import backends
    from promoguard.engine import run as eng
    from promoguard.engine.packs import load_pack
    from promoguard.errors import CheckError

    if engine not in eng.ENGINES:
        raise CheckError(f"unknown engine {engine!r}; choose one of {', '.join(eng.ENGINES)}")
    if lake.is_lake(store):
        if not (lake.Path(store) / lake.MANIFEST).exists():
            raise CheckError(f"no lake at {store}; run `promoguard ingest` first")
        season: Any = _LakeSeason(store, memory_limit)
    else:
        if not lake.Path(store).exists():
            raise CheckError(f"no store at {store}; run `promoguard ingest` first")
        season = _FileSeason(store, memory_limit)
    the_pack = load_pack(pack)
    chosen = eng.choose_checks(the_pack, checks)
    con = season.connect()
    scoped_cons: list[duckdb.DuckDBPyConnection] = []
    early_part: _Background | None = None
    clock = _Clock()
    entered = time.perf_counter()
    try:
        since = _resolve(con, since, the_pack.name)
        prev = con.execute("SELECT checks FROM scans WHERE scan_id = ?", [since]).fetchone()
        if prev is None:
            raise CheckError(f"--since {since}: no such scan in the store")
        new, batches, fallback = season.new_rows(con, since)
        marks = season.marks(con)  # what this scan reads (a DuckDB file)
        before = _previous_coverage(con, since)
        # a check's findings are carried only from a scan that ran it as this one does: another
        # pack, severity, legal basis, time zone, parameters or pack settings make other
        # findings of the same rows. Any other check runs on the whole store, once (the scan
        # saved records how it ran it)
        ran = {c for c in str(prev[0] or "").split(",") if c}
        changed = _ran_otherwise(before, ran, chosen, the_pack, since)
        same = [c for c in chosen if c.code not in changed]
        # a check none of whose tables got a row (a day with no new coupons: COUPON001/002)
        # finds what it found: its findings are carried whole, whatever its scope
        unchanged = [c for c in same if new is not None and c.reads and not set(c.reads) & set(new)]
        candidates = [c for c in same if depends_on(c) != "season" and c not in unchanged]
        groups: dict[str, list] = {}
        for c in candidates:
            groups.setdefault(_GROUP[depends_on(c)], []).append(c)
        started, detected_at, scan_id = eng.scan_clock()
        kw = {
            "engine": engine,
            "scan_id": scan_id,
            "detected_at": detected_at,
            "findings_spill_bytes": PART_FINDINGS_HELD_BYTES,
        }
        progress = _serialised(progress)
        # What runs on the whole store whatever the new rows reach (season-wide checks, changed
        # parameters) starts now, on a cursor of its own in a thread of its own: the planning,
        # scoped copies and scoped checks below run beside it instead of after it (they left the
        # second core idle for ~20 s of a city day). On Spark, or when every check runs whole
        # (the new rows cannot be told), one whole part runs as before.
        early = [c for c in chosen if c not in candidates and c not in unchanged]
        if new is None or engine != "duckdb":
            early = []
        # the whole-store parts fold kept relations from the copies the scan since saved (a
        # DuckDB file) and, when saved, keep theirs for the next: _kept() gives each its state
        kept_from = season.kept_from(con, since, new) if engine == "duckdb" else None
        kept_parts: list[Any] = []

        def kept_state() -> Any:
            state = season.kept_state(kept_from, save) if engine == "duckdb" else None
            if state is not None:
                kept_parts.append(state)
            return state

        early_part = (
            _Background(con, early, the_pack, progress, kw, kept_state()) if early else None
        )
        with clock("warm the season checks"):
            _warm(early, the_pack)
        plans: list[_Plan] = []
        scopes: dict[str, dict[str, Any]] = {}
        affected_count = None
        merchant_fallback = None
        # merchant_delta checks whose rules name no merchant the new rows change: carried whole
        untouched: list = []
        if new is not None:
            for group, members in groups.items():
                scoped = season.all_views()
                scoped_cons.append(scoped)
                with clock("plan " + group):
                    plan = _plan(
                        scoped,
                        group,
                        members,
                        new,
                        season,
                        the_pack,
                        engine,
                        kept=kept_from[0] if kept_from is not None else None,
                        save=save,
                    )
                scopes[group] = {
                    "checks": [c.code for c in members],
                    "keys": plan.count,
                    "full_because": plan.why_not,
                }
                if plan.whole_because is not None and plan.keys is not None:
                    scopes[group]["whole_because"] = plan.whole_because
                if group in _BY_MERCHANT and plan.keys is not None:
                    # merchants whose rows the scope copies for their links to the keys' only
                    scopes[group]["context"] = plan.context
                    if plan.context_listings:  # ... and other shops' listings (their titles)
                        scopes[group]["context_listings"] = plan.context_listings
                if group == "merchant_delta":
                    scopes[group]["untouched"] = [c.code for c in plan.untouched]
                    scopes[group]["whole"] = [c.code for c in plan.whole]
                    if plan.keys is not None:  # scoped: why some of its checks run whole
                        scopes[group]["full_because"] = None
                        scopes[group]["whole_because"] = plan.why_not
                    untouched += plan.untouched
                if group in _BY_MERCHANT and (group == "merchant" or affected_count is None):
                    affected_count, merchant_fallback = plan.count, plan.why_not
                if plan.keys is None:
                    scoped.close()
                    scoped_cons.remove(scoped)
                else:
                    plans.append(plan)
        local = [c for p in plans for c in p.checks]
        season_checks = [
            c for c in chosen if c not in local and c not in unchanged and c not in untouched
        ]
        late = [c for c in season_checks if c not in early]  # groups that fell back to whole
        parts = []
        coverage: dict[str, dict[str, Any]] = {}
        with backends.duckdb_tables(con) as tables:
            # whether a scoped check runs is decided on the whole store, as a full scan does
            # (the row counts of a DuckDB file's tables are its marks, counted above already)
            counts: dict[str, int | None] = dict(marks or {})
            with clock("coverage"):
                for c in local + untouched:
                    coverage[c.code] = eng.check_coverage(tables, c, counts)
                # an unchanged check's coverage is the previous scan's (the same rows; it may
                # hold what the finder noted, such as REVIEW003's reviews not scored), without
                # what it ran with: that is written when a scan is saved, as a full scan's is
                for c in unchanged:
                    coverage[c.code] = _without_ran_with(before.get(c.code)) or eng.check_coverage(
                        tables, c, counts
                    )
            if late and engine == "duckdb":
                with clock("whole-store checks"):
                    parts.append(
                        eng.run_checks(
                            tables, late, the_pack, progress=progress, kept=kept_state(), **kw
                        )
                    )
        if late and engine != "duckdb":
            with season.spark(con, spark_master) as tables:
                parts.append(eng.run_checks(tables, late, the_pack, progress=progress, **kw))
        carried_parts: list[pa.Table] = []
        kept: dict[int, pa.Table] = {}  # a scoped part's findings on its keys
        for plan in plans:
            with clock("copy " + plan.group):
                plan.scope()
            cm = (
                backends.duckdb_tables(plan.con)
                if engine == "duckdb"
                else backends.spark_tables(plan.con, spark_master)
            )
            with clock("checks " + plan.group), cm as tables:
                part = eng.run_checks(
                    tables,
                    plan.checks,
                    the_pack,
                    progress=progress,
                    coverage_of=coverage,
                    kept=plan.given,
                    **kw,
                )
            if plan.given is not None:
                # a scoped run keeps only what it was handed (the season's relations, unchanged):
                # a kept relation it built would hold its keys' rows alone
                for copies in part.kept:
                    copies.tables = {
                        k: f for k, f in copies.tables.items() if k in plan.given.previous
                    }
            with clock("carry"):
                kept[id(part)] = plan.keep(part.findings_arrow())
                parts.append(part)
                carried_parts.append(plan.carried(con, since, (scan_id, detected_at)))
            # the group's scoped tables go now, not at the end: each group's database has its
            # own memory cap, and held together they added up (7.1 GB on one platform's day)
            plan.con.close()
            scoped_cons.remove(plan.con)
        with clock("carry"):
            if unchanged or untouched:
                carried_parts.append(
                    _carried_whole(con, since, unchanged + untouched, (scan_id, detected_at))
                )
        if early_part is not None:
            with clock("waiting for the season checks"):
                parts.insert(0, early_part.result())
            # (not steps of this thread: when the season thread began, and how long it ran)
            clock.seconds["season thread began at"] = early_part.began - entered
            clock.seconds["season thread"] = early_part.ended - early_part.began
    finally:
        if early_part is not None:
            early_part.join()  # never close the connection under it
        con.close()
        for c in scoped_cons:
            c.close()
    with clock("combine"):
        found = [kept[id(p)] if id(p) in kept else p.findings_arrow() for p in parts]
        result = _combine(
            parts, found + carried_parts, chosen, the_pack.name, scan_id, engine, coverage
        )
    result.marks = marks
    result.kept = [k for p in parts for k in p.kept]
    if save:
        with clock("save"):
            season.save(result, the_pack, started)
    merchant_plan = next((p for p in plans if p.group in _BY_MERCHANT), None)
    return result, {
        "since": since,
        "store": season.engine_label,
        "batches": batches,
        "affected_merchants": merchant_plan.count if merchant_plan else affected_count,
        "full_because": None
        if merchant_plan
        else (fallback or merchant_fallback or _why_full(candidates, new)),
        "rechecked_local": [c.code for c in local],
        "rerun_season": [c.code for c in season_checks],
        "unchanged": [c.code for c in unchanged],
        # the checks the scan since ran otherwise (or not at all, or kept no record of how),
        # each with what differs: none of their findings is carried, they run on the whole store
        "changed": changed,
        "untouched": [c.code for c in untouched],
        "carried": sum(t.num_rows for t in carried_parts),
        "scopes": scopes,
        # kept relations (engine.cache.shared with a fold): folded from the scan since's copies,
        # or built (no copy under the key, nothing to fold from, or not a DuckDB file)
        "kept": {
            "folded": sorted({k for s in kept_parts for k in s.folded}),
            "built": sorted({k for s in kept_parts for k in s.built}),
        },
        # wall seconds of the steps outside the season-wide checks' own part (which runs beside
        # them: "waiting for the season checks" is what is left of it when they are done)
        "phases": {k: round(v, 2) for k, v in clock.seconds.items()},
    }


class _Clock:
    """Wall seconds per named step of a scan (summed over the step's repeats)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def _serialised(progress: Any) -> Any:
    """``progress`` called by one thread at a time (two parts of the scan run at once)."""
    if progress is None:
        return None
    lock = threading.Lock()

    def told(step: str, done: int, total: int) -> None:
        with lock:
            progress(step, done, total)

    return told


def _warm(checks: list, pack: Any) -> None:
    """``Check.warm`` of the checks the season thread runs, here, while that thread's first
    check computes in DuckDB: what they load on first use (BRUSH001's compiled peel: ~0.9 s at
    city scale, on the season thread's path, which is the increment's longest) is loaded on the
    planning thread instead, which waits for the season thread at the end. A warm-up that fails
    is left to the check itself, which loads the same code and reports any error."""
    for check in checks:
        # an optimisation only: the finder reports what failed here when it runs
        with suppress(Exception):
            check.warm(pack.parameters_for(check))


class _Background:
    """Checks run on the whole store in a thread of their own, on a cursor of ``con``'s database
    (its own connection: the caller goes on using ``con``), while the caller does the rest."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        checks: list,
        pack: Any,
        progress: Any,
        kw: dict[str, Any],
        kept: Any = None,
    ) -> None:
        from promoguard.engine import run as eng

        # (no time zone set here: duckdb_tables sets the cursor's, UTC, as a full scan runs)
        self._cur: duckdb.DuckDBPyConnection | None = con.cursor()
        self._part: Any = None
        self._error: BaseException | None = None
        #: when the thread began and ended its checks (perf_counter), for the scan's phases
        self.began = self.ended = time.perf_counter()

        def run() -> None:
            from promoguard.engine import backends

            self.began = time.perf_counter()
            try:
                assert self._cur is not None
                with backends.duckdb_tables(self._cur) as tables:
                    self._part = eng.run_checks(
                        tables, checks, pack, progress=progress, kept=kept, **kw
                    )
            except BaseException as exc:  # handed to the caller by result()
                self._error = exc
            finally:
                self.ended = time.perf_counter()

        self._thread = threading.Thread(target=run, name="promoguard-season", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self.join()
        if self._error is not None:
            raise self._error
        return self._part

    def join(self) -> None:
        self._thread.join()
        if self._cur is not None:
            self._cur.close()
            self._cur = None


#: the group whose scoped tables a scope's checks share (one in-memory database per group)
_GROUP = {
    "merchant": "merchant",
    "order": "order",
    "order_horizon": "order",
    "order_parcels": "order",
    # with the order checks (its finding on an order reads that order's rows and the season
    # statistic, which the scoped run is handed), unless the statistic moved: then it runs whole
    "order_statistic": "order",
    # its own group: its merchants are those the rules name from the new rows, not all they reach
    "merchant_delta": "merchant_delta",
    # its own group: its keys are the listings the rules name, its tables those listings' rows
    "listing_delta": "listing_delta",
    "text": "text",
}

#: how new rows of each table name the orders whose rows they add to (alias n: the new rows);
#: a table an order check reads that is not here cannot be traced: that group runs in full
_ORDERS_OF = {
    "orders": "SELECT order_id FROM {new} n",
    "shipments": "SELECT order_id FROM {new} n",
    # (the shipments whose number's hash a new scan's has first: one integer probe of the 5.6M
    # city shipments, then the exact join on the few; 0.47 -> 0.38 CPU s on a city day)
    "tracking_events": (
        "SELECT s.order_id FROM (SELECT order_id, carrier, tracking_no FROM _all_shipments "
        "WHERE hash(tracking_no) IN (SELECT hash(tracking_no) FROM {new} h)) s "
        "SEMI JOIN {new} n USING (carrier, tracking_no)"
    ),
    "merchants": "SELECT o.order_id FROM _all_orders o SEMI JOIN {new} n USING (merchant_id)",
    "listings": "SELECT o.order_id FROM _all_orders o SEMI JOIN {new} n USING (listing_id)",
}
#: how new rows of each table name the texts and reviews they add to: (entity_type, entity_id)
_TEXTS_OF = {
    "texts": "SELECT 'text' AS entity_type, text_id AS entity_id FROM {new} n",
    "reviews": "SELECT 'review' AS entity_type, review_id AS entity_id FROM {new} n",
    "listings": (
        "SELECT 'text' AS entity_type, t.text_id AS entity_id FROM _all_texts t "
        "SEMI JOIN {new} n USING (listing_id) UNION ALL "
        "SELECT 'review', r.review_id FROM _all_reviews r SEMI JOIN {new} n USING (listing_id)"
    ),
    "merchants": (
        "SELECT 'text' AS entity_type, t.text_id AS entity_id FROM _all_texts t "
        "SEMI JOIN {new} n USING (merchant_id)"
    ),
}
#: the shipments that can link two orders: those of a parcel (carrier, tracking_no) with more
#: than one shipment row, found as the rows whose number's hash two rows share (the parcel's rows,
#: and any other whose number shares a hash with one: a superset, joined on the parcel below).
#: The neighbour queries read these few instead of joining all 5.6M city shipments twice each
#: (a hash grouped as an integer, not two strings: 1.5 s of a city day's order plan, 0.5 so).
#: This is the definition; :func:`_multi_parcel_rows` finds the same rows for less
_MULTI_PARCEL_ROWS = (
    "CREATE TABLE _pg_multi AS SELECT order_id, carrier, tracking_no FROM _all_shipments "
    "WHERE hash(tracking_no) IN (SELECT hash(tracking_no) AS h FROM _all_shipments "
    "GROUP BY h HAVING count(*) > 1)"
)
#: the orders one parcel (carrier, tracking_no) links to the orders in {keys}: an order's
#: SHIP002 finding reads every order sharing one of its parcels (from _pg_multi: a parcel two
#: orders share has two shipment rows)
_PARCEL_NEIGHBOURS = (
    "SELECT s2.order_id FROM (SELECT carrier, tracking_no FROM _pg_multi s1 "
    "SEMI JOIN {keys} k USING (order_id)) p JOIN _pg_multi s2 USING (carrier, tracking_no)"
)
#: orders none of whose parcels has a pickup scan: the only ones whose SHIP001/SHIP003 verdict
#: reads the data horizon (an order with a pickup is judged by its pickup time alone)
#: (no DISTINCT inside the anti join: it needs none, and it cost 40% of the query at city scale)
_UNPICKED = (
    "SELECT o.order_id FROM _all_orders o ANTI JOIN (SELECT s.order_id "
    "FROM _all_shipments s SEMI JOIN (SELECT carrier, tracking_no FROM _all_tracking_events "
    "WHERE event_type = 'pickup') e USING (carrier, tracking_no)) p USING (order_id)"
)


#: the findings a part of ``scan --since`` holds in memory before it writes them to Parquet
#: (``run_checks``' ``findings_spill_bytes``): every part's findings are read back into memory
#: as soon as it ends (a scoped part's to keep those on its keys, all of them to combine the
#: scan's), and the result holds them there. Spilled at a full scan's 64 MB, the season part's
#: (REVIEW001's and REVIEW003's 52k each: 121k of a city day) were compressed and written, 0.16
#: CPU s of zstd, and read back at once, to save no memory at the increment's end.
PART_FINDINGS_HELD_BYTES = 2**30


class _Plan:
    """One scoped group of checks: its keys, its in-memory database, what it keeps and carries."""

    def __init__(self, con: duckdb.DuckDBPyConnection, group: str, checks: list) -> None:
        self.con, self.group, self.checks = con, group, checks
        self.reads = {t for c in checks for t in c.reads}
        #: the group's keys (a frame of merchants, or Arrow entity_type/entity_id); None: the
        #: group runs on the whole store
        self.keys: pd.DataFrame | pa.Table | None = None
        self.count: int | None = None
        self.why_not: str | None = None
        self._scope: Any = None
        #: why some checks of the group run on the whole store (an order_statistic check whose
        #: statistic moved), or None
        self.whole_because: str | None = None
        #: season relations the scoped run is handed (a KeptState whose copies are they, with
        #: no rows added since: ``shared`` folds nothing into them), or None
        self.given: Any = None
        self.new: dict[str, str] = {}
        #: merchant_delta: the checks the new rows change no finding of (carried whole), and
        #: those that run on the whole store
        self.untouched: list = []
        self.whole: list = []
        #: a merchant scope: how many merchants its copy holds as context only (their orders
        #: and listings link to the keys': :func:`linked_merchants`), or None
        self.context: int | None = None
        #: ... and how many listings of other shops it copies as context besides
        #: (``_context_listings``: PRICE005's titles)
        self.context_listings = 0

    def scope(self) -> None:
        self._scope()

    def take_keys(self, total: int, of: str) -> bool:
        """Count the keys in ``_pg_keys`` and hold them, unless they reach over SCOPE_SHARE of the
        ``total`` rows named ``of`` (then say so and keep none: the group runs whole)."""
        self.count = self.con.execute("SELECT count(*) FROM _pg_keys").fetchall()[0][0]
        if self.count > SCOPE_SHARE * total:
            self.why_not = f"the new rows reach {self.count:,} of {total:,} {of}"
            return False
        # as Arrow: a pandas frame of a city day's 300k order keys cost ~0.9 s to make (Python
        # strings) and made the carry's anti join over them twice as slow to read
        self.keys = self.con.sql("SELECT * FROM _pg_keys").to_arrow_table()
        return True

    def keep(self, findings: pa.Table) -> pa.Table:
        """The scoped run's findings on the group's keys (rows reached for context only, such as
        the neighbours of a shared parcel or the merchants an order's listing links to, are not
        judged on all their rows: dropped; :meth:`carried` carries theirs), in the order the run
        found them."""
        if not findings.num_rows:
            return findings
        if self.group in _BY_MERCHANT:
            assert isinstance(self.keys, pd.DataFrame)
            merchants = pa.array(self.keys["merchant_id"].tolist(), pa.string())
            hit = pc.is_in(findings.column("merchant_id"), value_set=merchants)
            return findings.filter(hit)  # (one of no merchant is no key's: carried too)
        keys = self.keys  # (Arrow: take_keys' entity_type, entity_id)
        assert isinstance(keys, pa.Table)
        hit = pc.is_in(_entity_key(findings), value_set=_entity_key(keys))
        return findings.filter(hit)

    def carried(self, con: duckdb.DuckDBPyConnection, since: str, scan: Any) -> pa.Table:
        """The previous scan's findings of the group's checks that its keys do not reach (as
        this scan's: ``scan`` gives the scan id and detected_at), as Arrow."""
        codes = pd.DataFrame({"code": [c.code for c in self.checks]})
        con.register("_pg_local", codes)
        con.register("_pg_keys_df", self.keys)
        try:
            if self.group in _BY_MERCHANT:
                where = sqlbuild.Sql(
                    "f.merchant_id IS NULL "
                    "OR f.merchant_id NOT IN (SELECT merchant_id FROM _pg_keys_df)"
                )
            else:
                where = sqlbuild.Sql(
                    "NOT EXISTS (SELECT 1 FROM _pg_keys_df k WHERE k.entity_type = f.entity_type "
                    "AND k.entity_id = f.entity_id)"
                )
            return _previous_findings(con, since, scan, "_pg_local", where)
        finally:
            con.unregister("_pg_local")
            con.unregister("_pg_keys_df")


def _entity_key(table: pa.Table) -> pa.ChunkedArray:
    """``entity_type`` and ``entity_id`` as one string per row (a unit separator between)."""
    return pc.binary_join_element_wise(
        table.column("entity_type"), table.column("entity_id"), "\x1f"
    )


def _previous_findings(
    con: duckdb.DuckDBPyConnection, since: str, scan: Any, codes: str, where: Any
) -> pa.Table:
    """The findings of scan ``since`` of the checks in the relation ``codes`` (column ``code``)
    satisfying ``where`` (alias f), carried into scan ``scan`` (its id and detected_at set in
    the query: no pandas frame of half a million findings to set them in)."""
    from promoguard.engine.run import FINDING_NAMES, FINDINGS_SCHEMA

    scan_id, detected_at = scan
    carry = {
        "scan_id": sqlbuild.literal(scan_id),
        "detected_at": sqlbuild.sql(
            "CAST({t} AS TIMESTAMPTZ)", t=sqlbuild.literal(detected_at.isoformat())
        ),
    }
    columns = sqlbuild.join(
        ", ",
        (
            sqlbuild.sql("{v} AS {c}", v=carry[c], c=c)
            if c in carry
            else sqlbuild.sql("f.{c}", c=c)
            for c in FINDING_NAMES
        ),
    )
    query = sqlbuild.sql(
        "SELECT {columns} FROM findings f WHERE f.scan_id = {since} "
        "AND f.check_code IN (SELECT code FROM {codes}) AND ({where})",
        columns=columns,
        since=sqlbuild.literal(since),
        codes=sqlbuild.ident(codes),
        where=where,
    )
    return con.sql(str(query)).to_arrow_table().cast(FINDINGS_SCHEMA)


def _union(queries: list[str]) -> sqlbuild.Sql:
    """The queries (our own SQL, filled in already) as one ``UNION``."""
    return sqlbuild.join(" UNION ", (sqlbuild.sql("({p})", p=sqlbuild.Sql(q)) for q in queries))


def _plan(
    con: duckdb.DuckDBPyConnection,
    group: str,
    checks: list,
    new: dict[str, str],
    season: Any = None,
    pack: Any = None,
    engine: str = "duckdb",
    *,
    kept: dict[str, str] | None = None,
    save: bool = False,
) -> _Plan:
    """What the new rows reach for ``group``'s checks, on ``con`` (the whole season as
    ``_all_<table>`` views), run on ``engine``; the plan's keys stay None when the group must
    run in full. An order group's ``order_statistic`` checks whose statistic moved leave it
    (``checks`` loses them: they run on the whole store) and ``whole_because`` says why.

    ``kept``: the kept relations the scan since saved (key text -> its table in the store), from
    which the season statistics' relations fold; ``save``: whether this scan is saved (then the
    scoped run keeps the relations it was handed for the next)."""
    whole_because = None
    folded: dict[str, tuple[str, str]] = {}
    if group == "order" and not any(t in _SEASON_WIDE for t in new):
        if engine == "duckdb" and kept:
            folded = _folded_statistics(con, checks, new, kept)
        moved = [
            c
            for c in checks
            if depends_on(c) == "order_statistic"
            and _statistic_changed(con, c, season, pack, folded)
        ]
        if moved:
            whole_because = f"the season statistic of {', '.join(c.code for c in moved)} changed"
            checks[:] = [c for c in checks if c not in moved]
    plan = _Plan(con, group, checks)
    plan.whole_because = whole_because
    if not checks:
        plan.why_not = whole_because
        return plan
    plan.new = new
    if any(t in _SEASON_WIDE for t in new):
        plan.why_not = "the new rows reach platform-wide tables"
        return plan
    if group == "merchant":
        merchants = affected_merchants(con, new, plan.reads)
        if merchants is None:
            plan.why_not = "the new rows reach platform-wide tables"
            return plan
        total = con.execute("SELECT count(*) FROM _all_merchants").fetchall()[0][0]
        plan.count = len(merchants)
        if len(merchants) > SCOPE_SHARE * total:
            # copying most of the season to re-check it costs more than checking it
            plan.why_not = (
                f"the new rows touch {len(merchants):,} of {total:,} merchants: "
                "the merchant checks run on the whole store"
            )
            return plan
        linked = _with_context(plan, merchants, total)
        if linked is None:
            plan.why_not += ": the merchant checks run on the whole store"
            return plan
        plan.keys = merchants
        plan._scope = lambda: scope_to(con, linked, plan.reads)
        return plan
    if group == "merchant_delta":
        return _plan_delta(plan, pack)
    if group == "listing_delta":
        return _plan_listings(plan, pack)
    mapping = _TEXTS_OF if group == "text" else _ORDERS_OF
    parts: dict[str, str] = {}
    for table, rel in new.items():
        if table not in plan.reads:
            continue  # rows no check of the group reads change none of its findings
        if table not in mapping:
            plan.why_not = f"new rows of {table} cannot be traced to {group}s"
            return plan
        parts[table] = mapping[table].format(new=rel)
    if group == "text":
        return _plan_texts(plan, list(parts.values()), season)
    return _plan_orders(plan, parts, season, pack, engine, folded=folded, save=save, kept=kept)


def _plan_delta(plan: _Plan, pack: Any) -> _Plan:
    """Merchants whose ``merchant_delta`` findings the new rows may change, per check: what its
    rule's ``touched_merchants(season, new, params)`` names (Ibis tables with a ``merchant_id``
    column, from the whole season, ``_all_<table>``, and the rows added, ``_pg_new_<table>``).

    A check whose rule names no merchant finds what it found: carried whole (``untouched``). One
    whose rule answers None (new coupon terms: any finding may change), names a merchant it
    cannot tell (NULL: no key would carry its findings) or more than SCOPE_SHARE of them runs
    on the whole store (``whole``). The others are re-checked together on the union of
    the merchants they name, taken fewest first while the union stays under SCOPE_SHARE (a
    check that would take it over runs on the whole store instead)."""

    con = plan.con
    season, new = _season_and_new(plan)
    total = con.execute("SELECT count(*) FROM _all_merchants").fetchall()[0][0]
    named: dict[str, pd.DataFrame] = {}
    why: dict[str, str] = {}
    # rules name the same parts (new listing rows' merchants, the orders of new listings, PRICE001
    # and PRICE002's windows): each distinct one (Ibis compares expressions by structure) is
    # pulled once, all of them in one query (a dozen queries one after another were most of the
    # plan)
    touched_by = {
        c.code: c.touched_merchants(season, new, pack.parameters_for(c)) for c in plan.checks
    }
    parts: dict[Any, Any] = {}  # each distinct part, by its operation, in the order met
    for touched in touched_by.values():
        for part in touched or ():
            parts.setdefault(part.op(), part)
    index = {op: i for i, op in enumerate(parts)}
    pulled: dict[Any, pd.DataFrame] = {}
    if parts:
        import ibis

        tagged = [
            part.select(merchant_id=part.merchant_id.cast("string"))
            .distinct()
            .mutate(_part=ibis.literal(index[op], "int64"))
            for op, part in parts.items()
        ]
        every = season.to_arrow(
            ibis.union(*tagged, distinct=False) if len(tagged) > 1 else tagged[0]
        )
        frame = every.to_pandas().astype({"merchant_id": object})
        for op, i in index.items():
            pulled[op] = frame.loc[frame._part == i, ["merchant_id"]].reset_index(drop=True)

    for check in plan.checks:
        touched = touched_by[check.code]
        if touched is None:
            why[check.code] = "the new rows may change any of its findings"
            continue
        frames = [pulled[part.op()] for part in touched]
        got = (
            pd.concat(frames, ignore_index=True).drop_duplicates(ignore_index=True)
            if frames
            else pd.DataFrame({"merchant_id": pd.Series([], dtype=object)})
        )
        if got.merchant_id.isna().any():
            why[check.code] = "new rows reach rows of no merchant"
        elif len(got) > SCOPE_SHARE * total:
            why[check.code] = (
                f"the new rows may change the findings of {len(got):,} of {total:,} merchants"
            )
        named[check.code] = got
    plan.untouched = [c for c in plan.checks if c.code not in why and not len(named[c.code])]
    # the fewest merchants first, while together they stay under SCOPE_SHARE: one check naming
    # many merchants does not take the others to the whole store with it
    scoped = []
    merchants = pd.DataFrame({"merchant_id": pd.Series([], dtype=object)})
    candidates = [c for c in plan.checks if c.code not in why and c not in plan.untouched]
    for c in sorted(candidates, key=lambda c: len(named[c.code])):
        union = pd.concat([merchants, named[c.code]], ignore_index=True).drop_duplicates(
            ignore_index=True
        )
        if len(union) > SCOPE_SHARE * total:
            why[c.code] = (
                f"with the others the new rows may change the findings of {len(union):,} of "
                f"{total:,} merchants"
            )
            continue
        scoped.append(c)
        merchants = union
    scoped = [c for c in plan.checks if c in scoped]  # in the pack's order
    linked = merchants
    if scoped:
        # the rows the scope copies: the merchants' and those their orders and listings link to
        got = _with_context(plan, merchants, total, {t for c in scoped for t in c.reads})
        if got is None:
            why.update({c.code: plan.why_not for c in scoped})
            scoped = []
        else:
            linked = got
    extra = _context_orders(season, merchants, scoped) if scoped else None
    more = _context_listings(season, merchants, scoped, pack) if scoped else None
    plan.context_listings = 0 if more is None else len(more)
    plan.count = len(merchants)
    plan.whole = [c for c in plan.checks if c.code in why]
    plan.why_not = "; ".join(f"{code}: {w}" for code, w in why.items()) or None
    plan.checks = scoped
    plan.reads = {t for c in scoped for t in c.reads}
    if not scoped:  # how many merchants the new rows reach, all the group's checks together
        every = [f for f in named.values() if not f.merchant_id.isna().any()]
        plan.count = len(pd.concat(every).drop_duplicates()) if every else 0
        return plan
    plan.keys = merchants
    plan._scope = lambda: scope_to(con, linked, plan.reads, plan.checks, extra, more)
    return plan


def _context_orders(season: Any, merchants: pd.DataFrame, checks: list) -> pd.DataFrame | None:
    """The orders besides the scope's merchants' that the findings of ``checks`` on them read:
    what each check's ``context_orders(season, merchants)`` names (an Ibis table of
    ``order_id``; COUPON004: a platform coupon's uses at other shops count against its per-buyer
    cap), or None when none declares it. Whole merchants would be too many: a platform coupon's
    buyers shop all over the platform."""
    # (what the scoped run finds on these orders' shops is dropped by _Plan.keep: see
    # _CONTEXT_ROWS)
    parts = [c.context_orders for c in checks if hasattr(c, "context_orders")]
    return _named_rows(season, merchants, parts, "order_id")


def _context_listings(
    season: Any, merchants: pd.DataFrame, checks: list, pack: Any
) -> pd.DataFrame | None:
    """The listings besides the scope's merchants' that the findings of ``checks`` on them read
    and that their orders do not link: what each check's ``context_listings(season, merchants,
    params)`` names (an Ibis table of ``listing_id``, or None; PRICE005: the other shops'
    listings of the same titles on the platform, whose MSRP labels and count its findings
    read), or None when none names any. The scope copies their rows and prices, not their
    shops (``scope_to``)."""
    parts = [
        partial(c.context_listings, params=pack.parameters_for(c))
        for c in checks
        if hasattr(c, "context_listings")
    ]
    return _named_rows(season, merchants, parts, "listing_id")


def _named_rows(
    season: Any, merchants: pd.DataFrame, parts: list, column: str
) -> pd.DataFrame | None:
    """The distinct ``column`` values the hooks ``parts`` name (each ``part(season, keys)``: an
    Ibis table with ``column``, or None) for the ``merchants`` (``keys``: a table of
    ``merchant_id``), as a frame; None when there is no hook, no merchant or nothing named."""
    if not parts or merchants.empty:
        return None
    import ibis

    # registered for this query and unregistered after it, not an ibis.memtable: a memtable
    # stays on the store's connection as a temporary view, and a connection holding one cannot
    # share its cursors (backends.can_share_cursors): every later part of the scan then ran on
    # one thread
    con = season.backend.con
    con.register(
        "_pg_context_keys", pa.table({"merchant_id": pa.array(merchants.merchant_id, pa.string())})
    )
    try:
        keys = season.backend.table("_pg_context_keys")
        named = [t for part in parts if (t := part(season, keys)) is not None]
        if not named:
            return None
        named = [t.select(**{column: t[column].cast("string")}) for t in named]
        every = ibis.union(*named, distinct=True) if len(named) > 1 else named[0]
        return season.to_arrow(every).to_pandas().astype({column: object})
    finally:
        con.unregister("_pg_context_keys")


def _with_context(
    plan: _Plan, merchants: pd.DataFrame, total: int, reads: set[str] | None = None
) -> pd.DataFrame | None:
    """The merchants a merchant scope of ``merchants`` copies (:func:`linked_merchants`, for
    checks reading ``reads``, else the plan's), counting those added in ``plan.context``; None
    (and ``plan.why_not`` says why) when they are more than SCOPE_SHARE of the ``total``:
    copying most of the season to re-check it costs more than checking it."""
    linked = linked_merchants(plan.con, merchants, plan.reads if reads is None else reads)
    plan.context = len(linked) - len(merchants)
    if len(linked) > SCOPE_SHARE * total:
        plan.why_not = (
            f"the new rows touch {len(merchants):,} merchants, linked by orders and listings "
            f"to {len(linked):,} of {total:,}"
        )
        return None
    return linked


def _season_and_new(plan: _Plan) -> tuple[Any, Any]:
    """Ibis tables of the whole season (``_all_<table>``) and of the rows added since the scan
    (``_pg_new_<table>``, views made here), on the plan's connection: what a rule's
    ``touched_merchants``/``touched_listings`` reads."""
    import ibis

    from promoguard.engine.base import Tables

    con = plan.con
    for table in lake.TABLE_NAMES:
        rel = plan.new.get(table) or sqlbuild.sql(
            "(SELECT * FROM {a} WHERE false)", a="_all_" + table
        )
        con.execute(
            sqlbuild.sql(
                "CREATE VIEW {v} AS SELECT * FROM {r}", v="_pg_new_" + table, r=sqlbuild.Sql(rel)
            )
        )
    backend = ibis.duckdb.from_connection(con)
    season = Tables(backend, {t: "_all_" + t for t in lake.TABLE_NAMES})
    return season, Tables(backend, {t: "_pg_new_" + t for t in lake.TABLE_NAMES})


#: a listing's own rows: the tables a ``listing_delta`` scope holds for its listings only (whole:
#: old rows and new), from the full season (``_all_<table>``, alias t)
_LISTING_ROWS_SQL = {
    "listings": "_all_listings t SEMI JOIN _pg_listing_keys k USING (listing_id)",
    "price_observations": "_all_price_observations t SEMI JOIN _pg_listing_keys k USING (listing_id)",
    "reviews": "_all_reviews t SEMI JOIN _pg_listing_keys k USING (listing_id)",
}


def _plan_listings(plan: _Plan, pack: Any) -> _Plan:
    """Listings whose ``listing_delta`` findings the new rows may change: the union of what
    each check's rule names (``touched_listings``). The scoped tables hold those listings' own
    rows (``_LISTING_ROWS_SQL``); the rest a check reads stays whole. The group runs on the whole
    store when a rule answers None or the listings named are more than SCOPE_SHARE of them."""
    con = plan.con
    season, new = _season_and_new(plan)
    parts = []
    for check in plan.checks:
        touched = check.touched_listings(season, new, pack.parameters_for(check))
        if touched is None:
            plan.why_not = f"{check.code}: the new rows may change any of its findings"
            return plan
        parts += [str(season.backend.compile(t.select("listing_id"))) for t in touched]
    empty = "SELECT NULL::VARCHAR AS listing_id WHERE false"
    con.execute(
        sqlbuild.sql(
            "CREATE TABLE _pg_keys AS SELECT DISTINCT 'listing' AS entity_type, listing_id AS "
            "entity_id FROM ({u}) WHERE listing_id IS NOT NULL",
            u=_union(parts) if parts else sqlbuild.Sql(empty),
        )
    )
    total = con.execute("SELECT count(*) FROM _all_listings").fetchall()[0][0]
    if not plan.take_keys(total, "listings"):
        return plan
    con.execute("CREATE VIEW _pg_listing_keys AS SELECT entity_id AS listing_id FROM _pg_keys")

    def scope() -> None:
        rows = {
            t: sqlbuild.sql(
                "SELECT {c} FROM {q}",
                c=sqlbuild.Sql(_copied_columns(con, t, plan.checks)),
                q=sqlbuild.Sql(q),
            )
            for t, q in _LISTING_ROWS_SQL.items()
            if t in plan.reads
        }
        _make_tables(con, plan.reads, {t: str(q) for t, q in rows.items()})

    plan._scope = scope
    return plan


def _folded_statistics(
    con: duckdb.DuckDBPyConnection, checks: list, new: dict[str, str], kept: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """For each relation an ``order_statistic`` check's season statistic reads
    (``statistic_relations``, with its ``statistic_folds``) that the scan since kept: key text ->
    (a view of that copy: the relation on the rows that scan saw, a table of it folded with the
    rows added since: the relation on the season now). Grouping the 5.6M city shipments for the
    statistic on both and once more for the scoped run cost ~0.25 CPU s; the fold reads only the
    day's shipments."""
    import ibis

    from promoguard.engine.base import Tables
    from promoguard.engine.cache import key_text

    out: dict[str, tuple[str, str]] = {}
    wanted = [
        c
        for c in checks
        if depends_on(c) == "order_statistic"
        and hasattr(c, "statistic_relations")
        and hasattr(c, "statistic_folds")
    ]
    if not wanted:
        return out
    backend = ibis.duckdb.from_connection(con)
    season = Tables(backend, {t: "_all_" + t for t in lake.TABLE_NAMES})
    added: dict[str, str] = {}
    for table in lake.TABLE_NAMES:
        rel = new.get(table) or sqlbuild.sql("(SELECT * FROM {a} WHERE false)", a="_all_" + table)
        added[table] = "_pg_added_" + table
        con.execute(
            sqlbuild.sql(
                "CREATE OR REPLACE VIEW {v} AS SELECT * FROM {r}",
                v=added[table],
                r=sqlbuild.Sql(rel),
            )
        )
    rows = Tables(backend, added)
    for check in wanted:
        for key, fold in check.statistic_folds().items():
            text = key_text(key)
            if text in out or text not in kept:
                continue
            n = len(out)
            con.execute(
                sqlbuild.sql(
                    "CREATE VIEW {v} AS SELECT * FROM {src}.main.{t}",
                    v=f"_pg_kept_{n}",
                    src=_SRC,
                    t=kept[text],
                )
            )
            now = fold(backend.table(f"_pg_kept_{n}"), season, rows)
            con.execute(
                sqlbuild.sql(
                    "CREATE TABLE {t} AS {q}",
                    t=f"_pg_given_{n}",
                    q=sqlbuild.Sql(str(backend.compile(now))),
                )
            )
            out[text] = (f"_pg_kept_{n}", f"_pg_given_{n}")
    return out


def _statistic_changed(
    con: duckdb.DuckDBPyConnection,
    check: Any,
    season: Any,
    pack: Any,
    folded: dict[str, tuple[str, str]] | None = None,
) -> bool:
    """Whether the check's season statistic (``season_statistic``) differs between the rows
    the previous scan saw and the whole season now: from the kept relations it reads when the
    scan since kept every one (``folded``: :func:`_folded_statistics`), else computed on both."""
    import ibis

    from promoguard.engine.base import Tables
    from promoguard.engine.cache import key_text

    params = pack.parameters_for(check)
    if folded and hasattr(check, "statistic_folds"):
        keys = {k: key_text(k) for k in check.statistic_folds()}
        if all(t in folded for t in keys.values()):
            backend = ibis.duckdb.from_connection(con)
            seen = []
            for side in (0, 1):  # the copy the scan since kept, the season now
                given = {k: backend.table(folded[t][side]) for k, t in keys.items()}
                got = backend.to_pyarrow(check.statistic_from(given, params))
                seen.append(sorted(got.to_pylist(), key=repr))
            return seen[0] != seen[1]
    for table in check.reads:
        con.execute(
            sqlbuild.sql(
                "CREATE OR REPLACE VIEW {v} AS SELECT * FROM {old}",
                v="_pg_old_" + table,
                old=sqlbuild.Sql(season.old_rows(table)),
            )
        )
    seen = []
    for prefix in ("_pg_old_", "_all_"):
        tables = Tables(ibis.duckdb.from_connection(con), {t: prefix + t for t in check.reads})
        got = tables.to_arrow(check.season_statistic(tables, params))
        seen.append(sorted(got.to_pylist(), key=repr))
    return seen[0] != seen[1]


def _plan_orders(
    plan: _Plan,
    parts: dict[str, str],
    season: Any = None,
    pack: Any = None,
    engine: str = "duckdb",
    *,
    folded: dict[str, tuple[str, str]] | None = None,
    save: bool = False,
    kept: dict[str, str] | None = None,
) -> _Plan:
    """Orders: those the new rows touch (T); with an ``order_parcels`` check the orders sharing a
    parcel with them; with an ``order_horizon`` check, when the data horizon moved, the orders
    each such rule's ``horizon_orders`` names for the move (every order without a pickup scan
    when one names none: :func:`_horizon_orders`), and always the orders holding the horizon (so
    the scoped tables have the season's horizon). The scoped tables hold these orders (U) whole,
    and with an ``order_parcels`` check their parcels' other orders whole too (what U's findings
    read).

    An ``order_statistic`` check's season statistic (``_statistic_changed`` made sure it is the
    one the previous scan used): on DuckDB, when the rule names the kept relations it is computed
    from (``statistic_relations``), those are built on the season and handed to the scoped run
    (``_given``), whose tables hold only the orders' rows; else (Spark, or a rule naming none)
    the tables it reads (``statistic_reads``) stay whole in the scoped run.

    ``kept`` (a DuckDB file: the kept relations the scan since saved, key text -> its table in
    the store; None elsewhere): with an ``order_parcels`` check, the hashes two shipment rows
    share are folded from that scan's copy when it has one (:data:`SHARED_NUMBER_HASHES`, or
    after a full scan SHIP002's: :func:`_shared_number_copies`), and with ``save`` the scan keeps
    them for the next."""
    con = plan.con
    kinds = {depends_on(c) for c in plan.checks}
    handed = [c for c in plan.checks if engine == "duckdb" and hasattr(c, "statistic_relations")]
    whole = {t for c in plan.checks if c not in handed for t in getattr(c, "statistic_reads", ())}
    copies = _order_copies(season)
    if "order_parcels" in kinds:
        # the multi-parcel rows and, with new scans, the shipments their numbers' hashes reach,
        # in one pass over the shipments (the trace below then reads those few)
        scans = plan.new.get("tracking_events") if "tracking_events" in parts else None
        found = kept if engine == "duckdb" and kept else {}
        hashes = [(found[t], h) for t, h in _shared_number_copies() if t in found]
        before = None
        if hashes:  # (the order plan's own first)
            table, h = hashes[0]
            before = str(
                sqlbuild.sql("(SELECT {h} AS h FROM {src}.main.{t})", h=h, src=_SRC, t=table)
            )
        _multi_parcel_rows(con, scans, before, plan.new.get("shipments"))
        if scans is not None:
            parts = {**parts, "tracking_events": _TRACED.format(new=scans)}
    empty = "SELECT NULL::VARCHAR AS order_id WHERE false"
    touched = _union(list(parts.values())) if parts else sqlbuild.Sql(empty)
    # the order groups trace the same new rows to the same orders (unless their checks read
    # different tables): traced once per scan (a pass over the shipments for the day's scans)
    if touched in copies.touched:
        con.register("_pg_t_got", copies.touched[touched])
        try:
            con.execute("CREATE TABLE _pg_t AS SELECT order_id FROM _pg_t_got")
        finally:
            con.unregister("_pg_t_got")
    else:
        con.execute(
            sqlbuild.sql("CREATE TABLE _pg_t AS SELECT DISTINCT order_id FROM ({u})", u=touched)
        )
        copies.touched[str(touched)] = con.sql("SELECT order_id FROM _pg_t").to_arrow_table()
    key_parts = ["SELECT order_id FROM _pg_t"]
    if "order_parcels" in kinds:
        key_parts.append(_PARCEL_NEIGHBOURS.format(keys="_pg_t"))
    horizon_at = None
    if "order_horizon" in kinds:
        horizon_at = _horizon(con)
        if horizon_at is not None:
            if _horizon_moved(con, plan, horizon_at):
                key_parts += _horizon_orders(plan, season, pack, horizon_at)
            key_parts.append(
                "SELECT order_id FROM _all_orders WHERE paid_at = $h OR declared_shipped_at = $h"
            )
            key_parts.append(
                "SELECT s.order_id FROM _all_shipments s SEMI JOIN (SELECT carrier, tracking_no "
                "FROM _all_tracking_events WHERE event_at = $h) e USING (carrier, tracking_no)"
            )
    union = _union(key_parts)
    con.execute(
        sqlbuild.sql(
            "CREATE TABLE _pg_keys AS SELECT DISTINCT 'order' AS entity_type, order_id AS "
            "entity_id FROM ({u}) WHERE order_id IS NOT NULL",
            u=union,
        ),
        {"h": horizon_at} if horizon_at is not None and "$h" in union else None,
    )
    total = con.execute("SELECT count(*) FROM _all_orders").fetchall()[0][0]
    if not plan.take_keys(total, "orders"):
        return plan
    rows = ["SELECT entity_id AS order_id FROM _pg_keys"]
    if "order_parcels" in kinds:
        rows.append(
            _PARCEL_NEIGHBOURS.replace(
                "{keys} k USING (order_id)", "_pg_keys k ON s1.order_id = k.entity_id"
            )
        )

    # the orders whose rows this group's scoped tables hold: made now, while the plan's tables
    # are at hand (the group's copy, in scope(), fetches these orders' rows from the season)
    con.execute(
        sqlbuild.sql("CREATE TABLE _pg_rows AS SELECT DISTINCT order_id FROM ({u})", u=_union(rows))
    )
    copies.plans.append(plan)

    def scope() -> None:
        # straight from the season into this database (a DuckDB file's rows fetched by row id),
        # not through Arrow: the read shared through Arrow served two order groups, and there
        # is one now (order_statistic plans with the order checks); it cost a conversion both
        # ways and a second copy of every row
        of_rows = "SEMI JOIN _pg_rows r USING (order_id)"
        con.execute(
            sqlbuild.sql(
                "CREATE TEMP TABLE _pg_shipments AS {q}",
                q=sqlbuild.Sql(copies.rows(con, "shipments", of_rows)),
            )
        )
        con.execute(
            "CREATE TEMP TABLE _pg_parcels AS SELECT DISTINCT carrier, tracking_no "
            "FROM _pg_shipments"
        )
        # the scans whose number's hash is one of the parcels' (probing the 29M city scans
        # with one integer, not two strings: 0.75 -> 0.55 CPU s), then those of the parcels
        # exactly (not the same number at another carrier, nor a collision)
        by_hash = copies.rows(
            con,
            "tracking_events",
            "WHERE hash(t.tracking_no) IN (SELECT hash(tracking_no) FROM _pg_parcels)",
        )
        con.execute(
            sqlbuild.sql(
                "CREATE TEMP TABLE _pg_tracking_events AS SELECT h.* FROM ({q}) h "
                "SEMI JOIN _pg_parcels p USING (carrier, tracking_no)",
                q=sqlbuild.Sql(by_hash),
            )
        )
        scans = "SELECT * FROM _pg_tracking_events"
        if horizon_at is not None:
            # the scans that make the horizon, whoever's parcel they are: the scoped tables'
            # horizon is then the season's (those of the parcels above are there already)
            scans += (
                " UNION ALL SELECT t.* FROM _all_tracking_events t ANTI JOIN _pg_parcels p "
                "USING (carrier, tracking_no) "
                "WHERE t.event_at = (SELECT max(event_at) FROM _all_tracking_events)"
            )
        scoped = {
            # only the orders' columns the checks read (the others NULL): most of the copy
            "orders": copies.rows(
                con, "orders", of_rows, _copied_columns(con, "orders", plan.checks)
            ),
            "shipments": "SELECT * FROM _pg_shipments",
            # each parcel's scans together and in time: what SHIP004's streamed pass over the
            # scans in storage order reads cheaply (scans copied in the order a join gives
            # them, a parcel's old ones and a day's new ones apart, sent most parcels to its
            # exact recomputation one by one: 3.7 CPU s of SHIP004's find on a city day, 1.4 so)
            # (by the number's hash, an integer, not by two strings: 0.5 -> 0.3 CPU s of a
            # city day's 850k scans; the same number at two carriers shares a hash and comes
            # out interleaved in time, but the pass recomputes a hash two parcels share anyway)
            "tracking_events": sqlbuild.sql(
                "SELECT * FROM ({s}) ORDER BY hash(tracking_no), event_at",
                s=sqlbuild.Sql(scans),
            ),
        }
        _make_tables(con, plan.reads, {t: q for t, q in scoped.items() if t not in whole})
        for table in ("shipments", "tracking_events", "parcels"):
            con.execute(sqlbuild.sql("DROP TABLE {t}", t="_pg_" + table))
        copies.done(plan)
        if handed:
            plan.given = _given(con, handed, folded, save)
        if save and engine == "duckdb" and kept is not None and "order_parcels" in kinds:
            plan.given = _keep_shared_numbers(con, plan.given)

    plan._scope = scope
    return plan


def _multi_parcel_rows(
    con: duckdb.DuckDBPyConnection,
    scans: str | None = None,
    before: str | None = None,
    added: str | None = None,
) -> None:
    """``_pg_multi``: the rows :data:`_MULTI_PARCEL_ROWS` makes, and ``_pg_twice``: the hashes
    two or more shipment rows share (``h``; what :data:`SHARED_NUMBER_HASHES` keeps).

    Without ``before``, the hashes two rows share are found by sorting them rather than grouping
    them. DuckDB's hash aggregate of the 5.6M city shipments' hashes (nearly all distinct: a
    table of 5.6M groups for ~19k kept) cost 1.0-1.1 CPU s of the order plan; pulling the hashes
    and sorting them with numpy costs ~0.35 (the scan and the transfer) + 0.09 (the sort), and
    the rows are then read in a second pass.

    With ``before`` (a relation of ``h``: those hashes among the rows the scan since saw, its
    kept copy) and ``added`` (a relation: the shipments added since, or None), they are folded
    instead, in that second pass, and no hash of the season is pulled (~0.3 CPU s of a city day).
    Rows are only ever added, so a hash two old rows share is still shared; a hash not among
    them (one old row at most) is shared now only if an added row has it and another row, old or
    added, too. The second pass keeps every row whose hash is one of ``before``'s or an added
    row's, so it holds every row of each such hash, and counts them.

    With ``scans`` (a relation: the new scans), that second pass also keeps the shipments whose
    number's hash one of theirs has, as ``_pg_traced`` (what :data:`_TRACED` joins on the parcel
    exactly): the trace of the day's scans to their orders hashed every number in a pass of its
    own (~0.3-0.5 CPU s of a city day).

    (A null number is a value here as in the definition: its rows share ``hash(NULL)``; the
    neighbour join on the parcel then links none of them.)"""
    import numpy as np

    # the hashes whose rows the second pass keeps
    if before is None:
        hashes = con.execute("SELECT hash(tracking_no) AS h FROM _all_shipments").fetchnumpy()["h"]
        hashes = np.sort(np.asarray(hashes, dtype=np.uint64))
        # a hash two or more rows share sits beside itself once sorted (each once: unique)
        twice = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
        con.register("_pg_twice_got", pa.table({"h": pa.array(twice, pa.uint64())}))
        try:
            con.execute("CREATE TABLE _pg_twice AS SELECT h FROM _pg_twice_got")
        finally:
            con.unregister("_pg_twice_got")
        wanted = ["SELECT h FROM _pg_twice"]
    else:
        rows = (
            sqlbuild.Sql(added)
            if added is not None
            else sqlbuild.Sql("(SELECT NULL::VARCHAR AS tracking_no WHERE false)")
        )
        con.execute(
            sqlbuild.sql(
                "CREATE TEMP TABLE _pg_added AS SELECT DISTINCT hash(tracking_no) AS h FROM {n}",
                n=rows,
            )
        )
        wanted = [
            str(sqlbuild.sql("SELECT h FROM {b}", b=sqlbuild.Sql(before))),
            "SELECT h FROM _pg_added",
        ]
    if scans is not None:
        con.execute(
            sqlbuild.sql(
                "CREATE TEMP TABLE _pg_scanned AS SELECT DISTINCT hash(tracking_no) AS h FROM {n}",
                n=sqlbuild.Sql(scans),
            )
        )
        wanted.append("SELECT h FROM _pg_scanned")
    if before is None and scans is None:
        con.execute(
            "CREATE TABLE _pg_multi AS SELECT order_id, carrier, tracking_no "
            "FROM _all_shipments WHERE hash(tracking_no) IN (SELECT h FROM _pg_twice)"
        )
        return
    con.execute(
        sqlbuild.sql(
            "CREATE TEMP TABLE _pg_hashed AS SELECT hash(tracking_no) AS h, order_id, carrier, "
            "tracking_no FROM _all_shipments WHERE hash(tracking_no) IN ({w})",
            w=sqlbuild.Sql(" UNION ".join(wanted)),
        )
    )
    if before is not None:
        # the copy's hashes, and those of the added rows that two rows (old or added) have now
        con.execute(
            sqlbuild.sql(
                "CREATE TABLE _pg_twice AS SELECT h FROM {b} UNION SELECT h FROM _pg_hashed "
                "SEMI JOIN _pg_added USING (h) GROUP BY h HAVING count(*) > 1",
                b=sqlbuild.Sql(before),
            )
        )
        con.execute("DROP TABLE _pg_added")
    made = [("_pg_multi", "_pg_twice")]
    if scans is not None:
        made.append(("_pg_traced", "_pg_scanned"))
    for table, of in made:
        con.execute(
            sqlbuild.sql(
                "CREATE TABLE {t} AS SELECT order_id, carrier, tracking_no FROM _pg_hashed "
                "SEMI JOIN {of} USING (h)",
                t=table,
                of=of,
            )
        )
    con.execute("DROP TABLE _pg_hashed")
    if scans is not None:
        con.execute("DROP TABLE _pg_scanned")


#: the kept relation of the hashes two or more of the season's shipment rows share (``h``: the
#: hash of their ``tracking_no``), as the order plan's multi-parcel rows find them
#: (:func:`_multi_parcel_rows`). A saved ``scan --since`` with an ``order_parcels`` check keeps
#: it (in its scoped run's KeptState: :func:`_keep_shared_numbers`), and the next folds it with
#: the shipments added since. (A full scan does not make it: the first ``--since`` after one
#: finds the hashes by sorting them all.) Bump the version when the fold or the hash changes.
SHARED_NUMBER_HASHES = ("order_plan_shared_number_hashes", "v1")


def _shared_number_copies() -> tuple[tuple[str, sqlbuild.Sql], ...]:
    """(key text, its hash column as the plan's ``hash``) of the kept relations that hold the
    hashes two shipment rows shared at the scan since, the order plan's own first:
    :data:`SHARED_NUMBER_HASHES`, which a saved increment keeps, then SHIP002's
    (``_relations.shared_number_hashes``: the same hashes, which a saved full scan keeps), read
    back from Ibis's signed form (the bits of DuckDB's unsigned ``hash`` as a BIGINT). Each
    scan's copies are its own, so whichever the scan since wrote is what the season held then."""
    from promoguard.engine.cache import key_text
    from promoguard.rules._relations import SHIPMENT_SHARED_HASHES

    return (
        (key_text(SHARED_NUMBER_HASHES), sqlbuild.Sql("h")),
        (key_text(SHIPMENT_SHARED_HASHES), sqlbuild.Sql("CAST(CAST(h AS BIT) AS UBIGINT)")),
    )


def _keep_shared_numbers(con: duckdb.DuckDBPyConnection, given: Any) -> Any:
    """``given`` (the scoped run's KeptState, or None: one is made) with the hashes two shipment
    rows share now (``_pg_twice``) written for the store, under :data:`SHARED_NUMBER_HASHES`:
    a saved scan keeps them for the next, as a whole-store part keeps what it folded. (Named
    among its ``previous`` too: the scan keeps only what its scoped run was handed.)"""
    from promoguard.engine.cache import KeptFile, KeptState, key_text

    if given is None:
        given = KeptState(previous={}, new={}, save=True)
    text = key_text(SHARED_NUMBER_HASHES)
    path = given.new_file(text)
    con.execute(
        sqlbuild.sql(
            "COPY (SELECT h FROM _pg_twice) TO {path} (FORMAT parquet, COMPRESSION snappy)",
            path=sqlbuild.literal(path),
        )
    ).fetchall()
    given.written[text] = KeptFile(path, [("h", "UBIGINT")])
    given.previous = {**given.previous, text: "_pg_twice"}
    return given


#: how the day's scans name their orders once :func:`_multi_parcel_rows` kept the shipments
#: their numbers' hashes reach (``_pg_traced``): as :data:`_ORDERS_OF`'s, joined on the parcel
#: exactly, without hashing every number of the season again
_TRACED = "SELECT s.order_id FROM _pg_traced s SEMI JOIN {new} n USING (carrier, tracking_no)"


def _given(
    con: duckdb.DuckDBPyConnection,
    checks: list,
    folded: dict[str, tuple[str, str]] | None = None,
    save: bool = False,
) -> Any:
    """The kept relations the ``checks``' season statistics read (``statistic_relations``),
    built on the season (``_all_<table>``) into tables of ``con`` (or, in ``folded``, folded
    from the scan since's copies already: :func:`_folded_statistics`), as the KeptState the
    scoped run is given: ``shared`` finds each under its key and folds into it the rows added
    since, which are none (``new`` marks no table), so the scoped run reads the season's
    relation while its own tables hold only its orders' rows; with ``save`` it writes them for
    the next scan (the season's relations: what a whole-store run would keep). (Tables, not
    temporary ones: every cursor of the scoped run's threads reads them.)"""
    import ibis

    from promoguard.engine.base import Tables
    from promoguard.engine.cache import KeptState, key_text

    backend = ibis.duckdb.from_connection(con)
    tables = Tables(backend, {t: "_all_" + t for t in lake.TABLE_NAMES})
    previous: dict[str, str] = {t: now for t, (_, now) in (folded or {}).items()}
    for check in checks:
        for key, rel in check.statistic_relations(tables).items():
            text = key_text(key)
            if text in previous:
                continue
            name = f"_pg_built_{len(previous)}"
            con.execute(
                sqlbuild.sql(
                    "CREATE TABLE {t} AS {q}", t=name, q=sqlbuild.Sql(str(backend.compile(rel)))
                )
            )
            previous[text] = name
    return KeptState(previous=previous, new={}, save=save)


class _OrderCopies:
    """What the order group's planning and copy share within a scan: whether the season is a
    DuckDB file (its rows are then fetched by row id), and the orders the new rows touch."""

    def __init__(self, season: Any = None) -> None:
        # whether the season is a DuckDB file, not the season itself: _COPIES holds this object
        # under the season as a weak key, and a value that refers to its key keeps it for ever
        self.is_file = isinstance(season, _FileSeason)
        self.plans: list[_Plan] = []
        #: the orders the new rows touch, per query tracing them (``_pg_t``)
        self.touched: dict[str, pa.Table] = {}

    def rows(
        self, con: duckdb.DuckDBPyConnection, table: str, join: str, columns: str = "t.*"
    ) -> str:
        """The season's rows of ``table`` (alias t) that ``join`` keeps, as the select list
        ``columns`` (alias t: ``_copied_columns``). In a DuckDB file the join reads only its
        key columns, for the row ids of the rows it keeps, and the rows are fetched by id: a
        semi join reading every column read all 17 of the 5.5M city orders for the ~160k of a
        day (0.9 s; by id 0.3 s)."""
        if not self.is_file or table not in _FileSeason._tables(con):
            return (
                str(
                    sqlbuild.sql(
                        "SELECT {c} FROM {a} t ", c=sqlbuild.Sql(columns), a="_all_" + table
                    )
                )
                + join
            )
        whole = sqlbuild.sql("{src}.main.{t}", src=_SRC, t=table)
        return str(
            sqlbuild.sql(
                "SELECT {c} FROM {w} t WHERE t.rowid IN (SELECT t.rowid FROM {w} t {j})",
                c=sqlbuild.Sql(columns),
                w=whole,
                j=sqlbuild.Sql(join),
            )
        )

    def done(self, plan: _Plan) -> None:
        """``plan`` has its copy: once every group has, what they shared goes."""
        self.plans = [p for p in self.plans if p is not plan]
        if not self.plans:
            self.touched = {}


#: per season being scanned (its object), the order groups' shared copies
_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _order_copies(season: Any) -> _OrderCopies:
    """The order groups' shared copies of this scan (one per ``season`` object: a scan's)."""
    if season is None:
        return _OrderCopies()
    if season not in _COPIES:
        _COPIES[season] = _OrderCopies(season)
    return _COPIES[season]


def _plan_texts(plan: _Plan, parts: list[str], season: Any = None) -> _Plan:
    """Texts and reviews: the ones added, and those of added listings or merchants rows."""
    con = plan.con
    empty = "SELECT NULL::VARCHAR AS entity_type, NULL::VARCHAR AS entity_id WHERE false"
    touched = _union(parts) if parts else sqlbuild.Sql(empty)
    con.execute(
        sqlbuild.sql(
            "CREATE TABLE _pg_keys AS SELECT DISTINCT entity_type, entity_id FROM ({u}) "
            "WHERE entity_id IS NOT NULL",
            u=touched,
        )
    )
    total = con.execute(
        "SELECT (SELECT count(*) FROM _all_texts) + (SELECT count(*) FROM _all_reviews)"
    ).fetchall()[0][0]
    if not plan.take_keys(total, "texts and reviews"):
        return plan

    def scope() -> None:
        _make_tables(
            con,
            plan.reads,
            {
                "texts": _rows_of_keys(plan, season, "texts", "text_id", "text"),
                "reviews": _rows_of_keys(plan, season, "reviews", "review_id", "review"),
            },
        )

    plan._scope = scope
    return plan


def _rows_of_keys(plan: _Plan, season: Any, table: str, key: str, kind: str) -> str:
    """The rows of ``table`` whose ``key`` is one of the plan's keys of ``kind``: read from the
    rows added and, only when some key has any, from the rows the previous scan saw. The keys
    are mostly the ids of the rows added (a new text or review), whose rows are all new unless
    an id repeats: looking for old ones reads the key column alone, while copying them from the
    whole table read every column, bodies included, of 2.8M texts and reviews (0.3 s a day)."""
    keys = sqlbuild.sql(
        "(SELECT entity_id AS {key} FROM _pg_keys WHERE entity_type = {kind}) k",
        key=key,
        kind=sqlbuild.literal(kind),
    )

    def rows(of: sqlbuild.Sql) -> sqlbuild.Sql:
        return sqlbuild.sql(
            "SELECT t.* FROM {of} t SEMI JOIN {k} USING ({key})", of=of, k=keys, key=key
        )

    new = plan.new.get(table)
    if new is None or season is None:
        return str(rows(sqlbuild.ident("_all_" + table)))
    old = sqlbuild.Sql(season.old_rows(table))
    have_old = plan.con.execute(
        str(
            sqlbuild.sql(
                "SELECT count(*) FROM (SELECT t.{key} FROM {old} t SEMI JOIN {k} USING ({key}) "
                "LIMIT 1)",
                key=key,
                old=old,
                k=keys,
            )
        )
    ).fetchone()[0]
    found = [rows(sqlbuild.Sql(new))] + ([rows(old)] if have_old else [])
    return str(sqlbuild.join(" UNION ALL ", found))


def _make_tables(con: duckdb.DuckDBPyConnection, reads: set[str], scoped: dict[str, str]) -> None:
    """The canonical tables of a scoped group: ``scoped`` ones materialised from their query,
    the others the checks read as views of the whole season, the rest empty."""
    for table in lake.TABLE_NAMES:
        if table in scoped:
            # materialised: the checks read each table many times
            con.execute(
                sqlbuild.sql("CREATE TABLE {t} AS {q}", t=table, q=sqlbuild.Sql(scoped[table]))
            )
        elif table in reads:
            con.execute(
                sqlbuild.sql("CREATE VIEW {t} AS SELECT * FROM {a}", t=table, a="_all_" + table)
            )
        else:
            con.execute(
                sqlbuild.sql(
                    "CREATE TABLE {t} AS SELECT * FROM {a} WHERE false", t=table, a="_all_" + table
                )
            )


def _horizon(con: duckdb.DuckDBPyConnection, season: Any = None, near: Any = None) -> Any:
    """The season's data horizon (``logistics._shared.data_horizon``): the latest scan, payment
    or declared shipment; with ``season``, the one of the rows the previous scan saw
    (``season.old_rows``).

    ``near`` (with ``season``; this scan's horizon, which the previous one is not after): the
    previous horizon is looked for first among the rows within :data:`_HORIZON_WINDOW` of it.
    The engine answers the maximum of a whole table from its row groups' statistics, not that
    of the rows before a mark, which it reads whole (the 29M scans of the city: ~0.25 CPU s); a
    bound on a column lets it skip the row groups wholly before it. When the previous horizon
    is at or after the bound, the column it is a value of has its maximum there, and the
    others theirs at or before it: the greatest of the columns' maxima at or after the bound is
    that horizon. With no value there, every row is read, as without ``near``."""

    def rows(table: str) -> sqlbuild.Sql:
        if season is None:
            return sqlbuild.ident("_all_" + table)
        return sqlbuild.Sql(season.old_rows(table))

    def latest(since: Any = None) -> Any:
        # the greatest of the three columns' maxima, over the rows at or after ``since``
        def top(column: str, table: str) -> sqlbuild.Sql:
            w = sqlbuild.sql(" WHERE {c} >= $b", c=column) if since is not None else sqlbuild.Sql()
            return sqlbuild.sql("(SELECT max({c}) FROM {t}{w})", c=column, t=rows(table), w=w)

        query = sqlbuild.sql(
            "SELECT greatest({e}, {p}, {d})",
            e=top("event_at", "tracking_events"),
            p=top("paid_at", "orders"),
            d=top("declared_shipped_at", "orders"),
        )
        return con.execute(query, {"b": since} if since is not None else None).fetchone()[0]

    if near is not None and season is not None:
        found = latest(near - _HORIZON_WINDOW)
        if found is not None:
            return found
    return latest()


#: how far before this scan's horizon :func:`_horizon` first looks for the previous one (a
#: week: a daily scan's is hours before; an older one is found by reading every row)
_HORIZON_WINDOW = dt.timedelta(days=7)


def _horizon_orders(plan: _Plan, season: Any, pack: Any, horizon_at: Any) -> list[str]:
    """When the data horizon moved (to ``horizon_at``): the orders (queries of ``order_id``)
    whose ``order_horizon`` findings the move may change although none of their rows did.

    Each rule names them for a move from the previous scan's horizon (the one of the rows it
    saw: ``season.old_rows``) to this one (``horizon_orders(season tables, params, before,
    now)``: SHIP001 the orders whose pickup deadline falls between the two, SHIP003 the
    undispatched ones past their deadline, whose lateness quotes the horizon). A rule that names
    none (no ``horizon_orders``), or a previous horizon that cannot be told, and every order
    without a pickup scan is re-checked (``_UNPICKED``: an anti join over every scan)."""
    import ibis

    from promoguard.engine.base import Tables

    checks = [c for c in plan.checks if depends_on(c) == "order_horizon"]
    before = _horizon(plan.con, season, horizon_at) if season is not None else None
    if before is None or pack is None or not all(hasattr(c, "horizon_orders") for c in checks):
        return [_UNPICKED]
    backend = ibis.duckdb.from_connection(plan.con)
    tables = Tables(backend, {t: "_all_" + t for t in lake.TABLE_NAMES})
    return [
        str(backend.compile(c.horizon_orders(tables, pack.parameters_for(c), before, horizon_at)))
        for c in checks
    ]


def _horizon_moved(con: duckdb.DuckDBPyConnection, plan: _Plan, horizon_at: Any) -> bool:
    """Whether the horizon may have moved: some new row reaches it (rows only ever grow the
    season, so the horizon moved only if the rows that make it now are new)."""
    new = plan.new
    parts = []
    if "tracking_events" in new:
        parts.append(
            sqlbuild.sql(
                "SELECT max(event_at) AS t FROM {n}", n=sqlbuild.Sql(new["tracking_events"])
            )
        )
    if "orders" in new:
        parts.append(
            sqlbuild.sql(
                "SELECT greatest(max(paid_at), max(declared_shipped_at)) AS t FROM {n}",
                n=sqlbuild.Sql(new["orders"]),
            )
        )
    if not parts:
        return False
    top = con.execute(
        sqlbuild.sql("SELECT max(t) FROM ({u})", u=sqlbuild.join(" UNION ALL ", parts))
    ).fetchone()[0]
    return top is not None and top >= horizon_at


def _previous_coverage(con: duckdb.DuckDBPyConnection, since: str) -> dict[str, Any]:
    import json

    rows = con.execute("SELECT coverage FROM scans WHERE scan_id = ?", [since]).fetchall()
    try:
        got = json.loads(rows[0][0]) if rows and rows[0][0] else {}
    except ValueError:
        return {}
    return got if isinstance(got, dict) else {}


def _without_ran_with(entry: Any) -> dict[str, Any] | None:
    """A saved coverage entry as a scan's result holds it (without ``ran_with``), or None."""
    if not isinstance(entry, dict):
        return None
    return {k: v for k, v in entry.items() if k != "ran_with"}


#: what :func:`_ran_otherwise` says of a check the scan since ran without recording how (a scan
#: saved before scans recorded it)
NO_RECORD = "no record of what it ran with"


def _ran_otherwise(
    before: dict[str, Any], ran: set[str], chosen: list, pack: Any, since: str
) -> dict[str, list[str]]:
    """The checks of ``chosen`` whose findings in the scan since (which ran the checks ``ran``;
    ``before``: its saved coverage) were not made as ``pack`` makes them now, each with what
    differs: the parts of ``engine.run.ran_with`` ("parameters", "severity", ...), that it was
    not run there, or :data:`NO_RECORD` (its findings may have been made with anything: none
    can be carried)."""
    from promoguard.engine import run as eng

    out: dict[str, list[str]] = {}
    for check in chosen:
        if check.code not in ran:
            out[check.code] = [f"not run in scan {since}"]
            continue
        entry = before.get(check.code)
        was = entry.get("ran_with") if isinstance(entry, dict) else None
        if not isinstance(was, dict):
            out[check.code] = [NO_RECORD]
            continue
        now = eng.ran_with(pack, check)
        differs = sorted(k for k in set(now) | set(was) if now.get(k) != was.get(k))
        if differs:
            out[check.code] = differs
    return out


def _carried_whole(con: duckdb.DuckDBPyConnection, since: str, checks: list, scan: Any) -> pa.Table:
    """Every finding of ``checks`` in the scan ``since``, carried into ``scan``."""
    con.register("_pg_whole", pd.DataFrame({"code": [c.code for c in checks]}))
    try:
        return _previous_findings(con, since, scan, "_pg_whole", sqlbuild.Sql("true"))
    finally:
        con.unregister("_pg_whole")


def _why_full(candidates: list, new: Any) -> str | None:
    if new is not None and not candidates:
        return "no merchant-local check ran as it runs now in the previous scan"
    return None


def _resolve(con: duckdb.DuckDBPyConnection, since: str, pack: str) -> str:
    from promoguard.errors import CheckError

    if since != "last":
        return since
    row = con.execute(
        "SELECT scan_id FROM scans WHERE pack = ? ORDER BY started_at DESC, scan_id DESC LIMIT 1",
        [pack],
    ).fetchone()
    if row is None:
        raise CheckError(f"--since last: the store has no scan of pack {pack!r}")
    return row[0]


#: above this many runs of one check's rows, the findings are sorted row by row instead
_MAX_RUNS = 10_000


def _in_check_order(tables: list[pa.Table], codes: list[str]) -> pa.Table:
    """The rows of ``tables`` ordered by their check's place in ``codes`` and, within a check,
    as they came (tables in order, rows in order): a stable sort by check.

    Each table holds a check's rows in a few runs (a part's findings come in its checks' order,
    carried ones in the previous scan's), so the result is those runs, as zero-copy slices, put
    in order: no copy of half a million findings (a row-by-row ``take`` of them cost 0.2 s of a
    quiet city day's increment, and over a second on a loaded machine)."""
    from promoguard.engine.run import FINDINGS_SCHEMA

    if not tables:
        return FINDINGS_SCHEMA.empty_table()
    value_set = pa.array(codes, pa.string())
    runs: list[tuple[int, int, int, int]] = []  # (check position, table, start, length)
    for i, table in enumerate(tables):
        position = pc.index_in(table.column("check_code"), value_set=value_set)
        position = position.combine_chunks() if position.num_chunks != 1 else position.chunk(0)
        n = len(position)
        if n == 0:
            continue
        changes = pc.indices_nonzero(
            pc.not_equal(position.slice(1), position.slice(0, n - 1)).fill_null(True)
        ).to_numpy()
        starts = [0, *(int(c) + 1 for c in changes)]
        if len(runs) + len(starts) > _MAX_RUNS:  # interleaved: sort row by row
            findings = pa.concat_tables(tables)
            pos = pc.index_in(findings.column("check_code"), value_set=value_set)
            return findings.take(pc.sort_indices(pos))  # stable: ties keep their order
        ends = [*starts[1:], n]
        for start, end in zip(starts, ends, strict=True):
            at = position[start].as_py()
            runs.append((len(codes) if at is None else at, i, start, end - start))
    runs.sort()  # by check, then table, then start: stable within a check
    return pa.concat_tables([tables[i].slice(start, length) for _, i, start, length in runs])


def _combine(
    parts: list,
    found: list[pa.Table],
    chosen: list,
    pack: str,
    scan_id: str,
    engine: str,
    known_coverage: dict[str, dict[str, Any]] | None = None,
):
    """One scan of the parts' runs and evidence, and the findings (the parts' own, then the
    carried ones) in Arrow, ordered by check as a full scan orders them (and within a check as
    they came): never a pandas frame."""
    from promoguard.engine.evidence import FrozenEvidence
    from promoguard.engine.run import FINDINGS_SCHEMA, CheckRun, HeldFindings, ScanResult

    tables = [t.cast(FINDINGS_SCHEMA) for t in found if t.num_rows]
    codes = [c.code for c in chosen]
    findings = _in_check_order(tables, codes)
    counts = {}
    if findings.num_rows:
        counts = {
            str(v["values"]): int(v["counts"])
            for v in pc.value_counts(findings.column("check_code")).to_pylist()
        }
    runs_by_code = {r.code: r for p in parts for r in p.runs}
    none = CheckRun("", 0, 0.0)  # a check carried whole: it ran nowhere
    runs = [
        CheckRun(
            c.code,
            int(counts.get(c.code, 0)),
            runs_by_code.get(c.code, none).seconds,
            None,
            dict(runs_by_code.get(c.code, none).parts),
            runs_by_code.get(c.code, none).carried,
        )
        for c in chosen
    ]
    # the parts' documents stay in Arrow and their spill files (a dict of Python strings would
    # hold a city scan's ~2 GB of documents twice over)
    evidence = FrozenEvidence()
    coverage: dict[str, dict[str, Any]] = dict(known_coverage or {})
    for p in parts:
        evidence.absorb(p.evidence)
        coverage.update(p.coverage)
    held = HeldFindings(spill_bytes=max(HeldFindings.SPILL_BYTES, findings.nbytes + 1))
    held.add(findings)  # held as it is: it is in memory already
    coverage = {c.code: coverage[c.code] for c in chosen if c.code in coverage}
    return ScanResult(scan_id, pack, engine, held, runs, evidence, coverage)
