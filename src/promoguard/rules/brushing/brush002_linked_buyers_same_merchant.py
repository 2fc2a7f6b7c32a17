"""BRUSH002 linked-buyers-same-merchant: Buyers sharing devices or addresses ordering from the same merchant in a short window."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.engine import backends
from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.cache import Appended, shared
from promoguard.engine.registry import register
from promoguard.graph import linked
from promoguard.rules._relations import added_rows, union_all, utc_offset_hours
from promoguard.rules.brushing._shared import (
    BUYER_SEP,
    _group_orders_evidence,
    _iso,
    _merchant_platforms,
    _table,
    group_members,
)


@register
class LinkedBuyersSameMerchant(Check):
    code = "BRUSH002"
    name = "linked-buyers-same-merchant"
    title = "Buyers sharing devices or addresses ordering from the same merchant in a short window"
    family = "brushing"
    entity_type = "buyer_group"
    severity = "high"
    #: 2: a buyer id holding a comma is one buyer (group_members split at "," too)
    evidence_version = "2"
    parameters = (
        Parameter("min_buyers", 3, "fewest linked buyers ordering in the window", unit="buyers"),
        Parameter("window_hours", 48.0, "the short window", unit="hours"),
        Parameter(
            "min_merchant_share",
            0.3,
            "share of the linked group's orders going to this merchant (households spread theirs)",
        ),
        Parameter(
            "max_value_buyers",
            20,
            "most buyers one device or address links: one held by more is a place many people "
            "use (a pickup point, a campus, an office, an internet café's PC); it joins no group, "
            "and the groups it alone links are judged apart at lowered_severity",
            unit="buyers",
        ),
        Parameter(
            "min_habit_weeks",
            4,
            "a group with a window in each of this many weeks in a row crowds the shop by habit "
            "(a household's weekly groceries, an office's afternoon tea 拼单), week after week, "
            "not in bursts: reported at lowered_severity",
            unit="weeks",
        ),
        Parameter(
            "lowered_severity",
            "low",
            "severity of a group linked only through a place, or crowding the shop by habit: "
            "lowered, not dropped",
        ),
    )
    doc = CheckDoc(
        what=(
            "Links buyers that used the same device or delivery address (connected components "
            "over buyer-device and buyer-address links) and reports, per merchant, the linked "
            "buyers who all ordered there within a short window, when that merchant takes a large "
            "share of the group's orders (a household shopping everywhere is not a ring). A device "
            "or address held by more than max_value_buyers buyers is a place many people use (a "
            "campus pickup point, an office, an internet café's PC): it joins nobody into a "
            "group, so a ring on one phone among a pickup point's customers is judged on its "
            "own; the buyers it alone links are judged as a group of their own and reported at "
            "lowered_severity with the reason. A group with a window in each of min_habit_weeks "
            "weeks in a row crowds the shop by habit (weekly groceries, an office's afternoon "
            "tea 拼单) and is reported at lowered_severity with the reason too. A value "
            "an export writes where it withholds the device or the address links nobody: a "
            "placeholder ('unknown', 'N/A', '-', 未知), an identifier of zeros (the all-zero "
            "advertising id of a phone that refused tracking, Android's 02:00:00:00:00:00) or a "
            "masked value (138****1234, an address masked to its district)."
        ),
        why=(
            "Accounts run from one phone or shipping to one drop address that pile into one shop "
            "are the usual trace of organised fake orders (刷单): false transactions that inflate "
            "sales and reviews."
        ),
        example=(
            "Five accounts on two phones, shipping to one address, order the same listing within "
            "six hours; the group has no other orders."
        ),
    )
    observed_columns = (
        "n_buyers",
        "component_size",
        "n_orders",
        "window_start",
        "window_end",
        "merchant_share",
        "merchants",
        "weeks_in_a_row",
    )
    expected_columns = ("min_buyers", "window_hours", "min_merchant_share")
    reads = ("orders", "merchants")

    def warm(self, params: dict[str, Any]) -> None:
        linked.warm(params)

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        # the groups through a place after the others: a group of the same buyers found both
        # ways is reported once, at the pack's severity (the engine keeps an entity's first)
        offset = utc_offset_hours(ctx.timezone) * 3600
        linked_groups = buyer_groups(tables, params, offset).to_pylist()
        place_groups = shared_place_groups(tables, params, offset).to_pylist()
        groups = linked_groups + place_groups
        platforms = _merchant_platforms(tables)
        rows = [
            {
                "entity_id": g["buyers"],
                "merchant_id": g["merchant"],
                "platform_id": platforms.get(g["merchant"]),
                "n_buyers": g["n_buyers"],
                "component_size": g["component_size"],
                "n_orders": g["n_orders"],
                "window_start": _iso(g["window_start"]),
                "window_end": _iso(g["window_end"]),
                "merchant_share": g["merchant_share"],
                "merchants": g["merchant"],
                "weeks_in_a_row": g["weeks"],
                "min_buyers": params["min_buyers"],
                "window_hours": float(params["window_hours"]),
                "min_merchant_share": float(params["min_merchant_share"]),
            }
            for g in groups
        ]
        lowered = str(params["lowered_severity"])
        habit = int(params["min_habit_weeks"])
        reasons = []
        for k, g in enumerate(groups):
            why = []
            if k >= len(linked_groups):
                why.append(
                    "linked only through a device or an address more than "
                    f"{int(params['max_value_buyers'])} buyers share: a place many people use "
                    "(a pickup point, a campus, an office, an internet café)"
                )
            if g["weeks"] >= habit:
                why.append(
                    f"crowded this shop in each of {g['weeks']} weeks in a row: a habit (a "
                    "household's weekly shopping, an office's afternoon tea 拼单), not a "
                    "ring's bursts"
                )
            reasons.append(
                "; ".join(why) + "; lowered, not dropped: to be checked" if why else None
            )
        return (
            _table(rows, self)
            .append_column(
                "severity", pa.array([lowered if r else None for r in reasons], pa.string())
            )
            .append_column("severity_reason", pa.array(reasons, pa.string()))
        )

    def evidence(self, tables, found, params, ctx):
        return {"orders": _group_orders_evidence(tables, found)}

    def evidence_touched(
        self, tables: Tables, new: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> ir.Table:
        """Kept evidence: the found groups whose evidence rows the new rows can change.

        A group's evidence (``_group_orders_evidence``) is the orders, of any status, of its
        buyers (its ``entity_id``) at its shop (``merchants``, a column of the found row, which
        the engine compares apart), the first ones by payment time and order id: orders are only
        ever added, so only a group one of whose buyers placed a new order (cancelled too) can
        quote other rows."""
        n = added_rows(tables, new, "orders")
        buyers = n.select("buyer_id").distinct()
        members = group_members(found)
        return members.semi_join(buyers, "buyer_id").select("entity_id").distinct()


def _orders(tables: Tables) -> ir.Table:
    return _orders_of(tables.orders)


def _orders_of(o: ir.Table) -> ir.Table:
    return o.filter(o.status != "cancelled")


#: what an export writes where it has no identifier (compared trimmed and in lower case): the
#: words of a blank field, and Android's fixed MAC address since Android 6 (02:00:00:00:00:00)
PLACEHOLDER_VALUES = (
    "unknown",
    "null",
    "none",
    "nil",
    "n/a",
    "na",
    "undefined",
    "-",
    "--",
    "未知",
    "无",
    "暂无",
    "02:00:00:00:00:00",
)


def linking(value: ir.StringValue) -> ir.StringValue:
    """``value`` where it can name one device or address, else null: a placeholder
    (:data:`PLACEHOLDER_VALUES`; only zeros and separators: the all-zero advertising id that
    iOS and Android report when the user refuses tracking, 00000000-0000-0000-0000-000000000000,
    an IMEI of zeros) or a masked value (three asterisks in a row: 86*********1234, an address
    masked to its district 广东省深圳市南山区******) is what an export writes where it withholds
    the identifier. Strangers share it by the thousand; it links nobody (no data is no link)."""
    t = value.strip().lower()
    blank = t.isin(PLACEHOLDER_VALUES) | t.re_search(r"^[-0:. ]*$") | t.contains("***")
    return ibis.ifelse(blank, ibis.null("string"), value)


#: the traditional forms of characters addresses are written with, and their simplified ones
_TRADITIONAL = "號樓區單棟門層縣鎮鄉莊園廣東華興龍陽灣貴寧蘇遼黃濟"
_SIMPLIFIED = "号楼区单栋门层县镇乡庄园广东华兴龙阳湾贵宁苏辽黄济"
#: full-width forms (！ to ～, as a Chinese input method types digits and letters) and the
#: ideographic space, read as ASCII; the traditional forms read as simplified: 幸福路１２號 is
#: 幸福路12号
_ADDRESS_FROM = "".join(map(chr, range(0xFF01, 0xFF5F))) + "\u3000" + _TRADITIONAL
_ADDRESS_TO = "".join(map(chr, range(0x21, 0x7F))) + " " + _SIMPLIFIED
#: an address holding one of them (the characters themselves: the same pattern to DuckDB's
#: RE2 and Spark's Java regular expressions)
_ADDRESS_ODD = "[\uff01-\uff5e\u3000" + _TRADITIONAL + "]"


def device_key(value: ir.StringValue) -> ir.StringValue:
    """A device id as it links buyers: trimmed, in lower case (exports write a phone's
    advertising id and a MAC address in either case)."""
    return value.strip().lower()


def address_key(value: ir.StringValue) -> ir.StringValue:
    """An address as it links buyers: full-width characters and traditional forms read as
    their ASCII and simplified ones (:data:`_ADDRESS_FROM`), in lower case, without spaces
    (one address written by two exports, or by a buyer on two phones). Only an address holding
    such a character is translated: a translation by a table this long costs 2.8 s over the
    city's 1.25M links, finding the few that need it 0.05 s."""
    read = ibis.ifelse(
        value.re_search(_ADDRESS_ODD), value.translate(_ADDRESS_FROM, _ADDRESS_TO), value
    )
    return read.lower().re_replace(r"\s+", "")


def _links_of(o: ir.Table) -> ir.Table:
    """Each buyer's distinct (device, address) combinations among the orders ``o``, as they
    link (:func:`device_key`, :func:`address_key`: the orders' distinct combinations first,
    1.2M of 5.5M at city scale, then their keys). A value that names no device or address
    (:func:`linking`) links nobody: :func:`_holders` leaves it out, judging only the values
    two buyers hold."""
    raw = o.select("buyer_id", d=o.buyer_device_id, a=o.buyer_address_id).distinct()
    return raw.select("buyer_id", device=device_key(raw.d), address=address_key(raw.a)).distinct()


def buyer_links(tables: Tables) -> ir.Table:
    """``buyer_id, device, address``: who is linked to whom, from each buyer's distinct (device,
    address) combinations over the non-cancelled orders (1.2M rows at city scale, not 5.5M
    orders). Kept from scan to scan: the new orders' combinations not among the previous ones
    are added (one probe of the previous copy), appended to it (``Appended``: the scan reads a
    view over the store's copy, a saved scan inserts the few rows, instead of copying 1.25M)."""

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> Appended:
        n = _links_of(_orders_of(added_rows(tables, new, "orders")))
        fresh = n.anti_join(
            previous,
            [
                n.buyer_id == previous.buyer_id,
                n.device.identical_to(previous.device),  # a missing device is one value
                n.address.identical_to(previous.address),
            ],
        )
        return Appended(added=fresh.select(*_LINK_COLUMNS))

    # v2: the values as they link (device_key, address_key)
    return shared(tables, ("brush002_links", "v2"), lambda: _links_of(_orders(tables)), fold=fold)


_LINK_COLUMNS = ("buyer_id", "device", "address")


def _holders(links: ir.Table, column: str) -> ir.Table:
    """``buyer_id, v``: each buyer holding a value of ``links[column]`` (a device or an
    address) that two or more distinct buyers hold and that names one (:func:`linking`: not a
    placeholder or a masked value, judged on these values alone: a few per cent of the
    links'), once per buyer and value."""
    h = links.filter(links[column].notnull()).select("buyer_id", v=links[column]).distinct()
    many = h.group_by("v").aggregate(k=h.count())
    many = many.filter(many.k >= 2)
    return h.semi_join(many.filter(linking(many.v).notnull()), "v")


def _shared_values_of(links: ir.Table) -> ir.Table:
    """:func:`shared_values`'s rows from ``links`` (every link whose values are to be counted:
    all of them, or all rows holding the values to count)."""
    return union_all(*_value_rows(_holders(links, "device"), _holders(links, "address")))


def _value_rows(d: ir.Table, a: ir.Table) -> tuple[ir.Table, ir.Table]:
    """:func:`shared_values`' rows of the device holders ``d`` and the address holders ``a``
    (:func:`_holders`' ``buyer_id, v``): one value per row, the other null."""
    none = ibis.null("string")
    return (
        d.select("buyer_id", device=d.v, address=none),
        a.select("buyer_id", device=none, address=a.v),
    )


def shared_values(tables: Tables) -> ir.Table:
    """``buyer_id, device, address``: the links that join buyers, one value per row (the other
    null): each buyer with each device, and each address, that another buyer holds too.

    The components over these are the components over :func:`buyer_links` but for the buyers
    alone in theirs (a value only one buyer holds links nobody): the same buyers, the same
    smallest buyer of each, the same sizes, for every component of two or more buyers. At city
    scale some 217,000 rows instead of 1.25M, so the fold's walk from the day's buyers probes a
    sixth of the rows.

    Kept from scan to scan: a value's holders are the buyers of its non-cancelled orders, which
    only grow, so only the values of the new non-cancelled orders can gain holders (a value one
    buyer held may now be held by two: both its holders' rows appear). Their rows are counted
    again over every link holding them (a probe of :func:`buyer_links` with the day's values);
    the rows of every other value are the previous ones."""

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        links = buyer_links(tables)
        n = _orders_of(added_rows(tables, new, "orders"))
        nd = n.filter(n.buyer_device_id.notnull()).select(v=device_key(n.buyer_device_id))
        na = n.filter(n.buyer_address_id.notnull()).select(v=address_key(n.buyer_address_id))
        nd, na = nd.distinct(), na.distinct()
        # (a row of the other kind has a null here: an anti join keeps it, as it should)
        kept = previous.anti_join(nd, previous.device == nd.v)
        kept = kept.anti_join(na, kept.address == na.v)
        d = _holders(links.semi_join(nd, links.device == nd.v), "device")
        a = _holders(links.semi_join(na, links.address == na.v), "address")
        return union_all(kept.select(*_LINK_COLUMNS), *_value_rows(d, a))

    return shared(
        tables,
        ("brush002_shared_values", "v3"),
        lambda: _shared_values_of(buyer_links(tables)),
        fold=fold,
    )


def _component_links(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """What the components are taken from: :func:`shared_values` when a group needs two or
    more buyers (a buyer alone in its component is in none then), else every link; without
    the places (:func:`_places`: values more than max_value_buyers buyers hold), which link
    nobody."""
    if int(params["min_buyers"]) >= 2:
        links = shared_values(tables)
    else:  # every link: its values judged here (shared_values' are judged already)
        links = buyer_links(tables)
        links = links.mutate(device=linking(links.device), address=linking(links.address))
    devices, addresses = _places(tables, params)
    return links.mutate(
        device=_unless(links.device, devices), address=_unless(links.address, addresses)
    )


def _unless(value: ir.StringValue, values: list[str]) -> ir.StringValue:
    """``value``, null where it is one of ``values``."""
    if not values:
        return value
    return ibis.ifelse(_among(value, values), ibis.null("string"), value)


def _places(tables: Tables, params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(devices, addresses) more than max_value_buyers buyers hold: places many people use,
    read from :func:`shared_values` (every value two or more hold; a handful at most are
    places, so they are named in the queries that leave them out)."""
    most = int(params["max_value_buyers"])

    def build() -> ir.Table:
        v = shared_values(tables)
        # one row per value and its kind (a shared value row holds one of the two)
        k = v.group_by("device", "address").aggregate(k=v.count())
        return k.filter(k.k > most).select("device", "address")

    got = tables.to_arrow(shared(tables, ("brush002_places", "v2", most), build))
    devices = pc.drop_null(got.column("device")).to_pylist()
    addresses = pc.drop_null(got.column("address")).to_pylist()
    return sorted(map(str, devices)), sorted(map(str, addresses))


def shared_place_groups(tables: Tables, params: dict[str, Any], offset: int = 0) -> pa.Table:
    """The groups (:data:`GROUP_SCHEMA`) the places alone link: the components over the links
    to devices and addresses more than max_value_buyers buyers hold (:func:`_places`), grouped
    as the others are. Empty when the season has no such place (a handful at most when it has:
    computed whole on every scan, not kept)."""
    devices, addresses = _places(tables, params)
    if not devices and not addresses:
        return GROUP_SCHEMA.empty_table()
    v = shared_values(tables)
    none = ibis.null("string")
    # (each row holds a device or an address: the one that is not a place becomes null)
    rows = v.select(
        "buyer_id",
        device=ibis.ifelse(_among(v.device, devices), v.device, none),
        address=ibis.ifelse(_among(v.address, addresses), v.address, none),
    )
    return _groups_of(
        tables, rows.filter(rows.device.notnull() | rows.address.notnull()), params, offset
    )


def _among(value: ir.StringValue, values: list[str]) -> ir.BooleanValue:
    """Whether ``value`` is one of ``values`` (false for none)."""
    return value.isin(values) if values else ibis.literal(False)


#: BRUSH002's groups as kept: one row per group, with its component's smallest buyer id
GROUP_SCHEMA = pa.schema(
    [
        ("comp_min", pa.string()),
        ("merchant", pa.string()),
        ("buyers", pa.string()),
        ("n_buyers", pa.int64()),
        ("n_orders", pa.int64()),
        ("window_start", pa.int64()),
        ("window_end", pa.int64()),
        ("component_size", pa.int64()),
        ("merchant_share", pa.float64()),
        ("weeks", pa.int64()),
    ]
)


def _groups_of(
    tables: Tables, links: ir.Table, params: dict[str, Any], offset: int = 0
) -> pa.Table:
    """The linked groups (:data:`GROUP_SCHEMA`) of the components the ``links`` form: every
    link of each buyer among them (a whole component's, or the components are cut).

    The orders of the buyers in components of at least min_buyers only are pulled (in buyer
    order: the engine sorts them beside the other thread, and the buyers' numbering is then a
    pass over the rows instead of an Arrow dictionary and its sort)."""
    comps, _ = linked.buyer_components(tables.to_arrow(links.order_by("buyer_id")))
    wanted = comps.in_components_of(int(params["min_buyers"]))
    o = _orders(tables)
    pulled = tables.to_arrow(
        o.semi_join(ibis.memtable(pa.table({"buyer_id": wanted})), "buyer_id").select(
            "buyer_id", "merchant_id", paid_s=epoch_seconds(o.paid_at)
        )
    )
    groups = linked.linked_groups(pulled, params, comps, offset)
    first = comps.buyer_ids.take(pa.array([g.component for g in groups], pa.int64()))
    return pa.table(
        [
            first,
            pa.array([g.merchant for g in groups], pa.string()),
            pa.array([BUYER_SEP.join(g.buyers) for g in groups], pa.string()),
            pa.array([len(g.buyers) for g in groups], pa.int64()),
            pa.array([g.n_orders for g in groups], pa.int64()),
            pa.array([g.window_start for g in groups], pa.int64()),
            pa.array([g.window_end for g in groups], pa.int64()),
            pa.array([g.component_size for g in groups], pa.int64()),
            pa.array([g.merchant_share for g in groups], pa.float64()),
            pa.array([g.weeks for g in groups], pa.int64()),
        ],
        schema=GROUP_SCHEMA,
    )


def buyer_groups(tables: Tables, params: dict[str, Any], offset: int = 0) -> pa.Table:
    """BRUSH002's groups (:data:`GROUP_SCHEMA`): per component of buyers linked by devices or
    addresses, the shops it crowds in a window (``graph.linked.linked_groups``).

    Kept from scan to scan: a component's groups depend on its own buyers' orders only, so a
    component none of whose buyers has a new order is what it was, links and all (a new link
    is a new order's). The new orders' buyers' components now are found by a walk over the
    links (buyer -> its devices and addresses -> their buyers, until no buyer is added; the
    city's components hold at most a few buyers), and only theirs are grouped again: the
    previous groups whose component's smallest buyer the walk reached are dropped. The links
    walked and grouped are :func:`shared_values` (the values two buyers hold), which form the
    same components of two or more buyers, when min_buyers is two or more.

    The groups come in component, then shop order (``_groups_of``'s), whether built or folded:
    one ring crowding two shops is two groups of the same buyers, and the engine keeps the first
    of two findings on one entity, so the order decides which shop's finding a scan keeps. A
    fold's anti join and union, or a copy read back from the store, promise no order.
    """
    if backends.is_spark(tables.backend):  # nothing kept there: the groups as they are
        return _groups_of(tables, _component_links(tables, params), params, offset)
    # v3: the places (max_value_buyers) link nobody; v4: the longest run of weeks in a row the
    # windows began in (local weeks, ``offset`` seconds east of UTC); v5: the values as they
    # link (device_key, address_key)
    key = (
        "brush002_groups",
        "v5",
        int(params["min_buyers"]),
        float(params["window_hours"]),
        float(params["min_merchant_share"]),
        int(params["max_value_buyers"]),
        int(offset),
    )

    def build() -> ir.Table:
        return ibis.memtable(_groups_of(tables, _component_links(tables, params), params, offset))

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        links = _component_links(tables, params)
        n = _orders_of(added_rows(tables, new, "orders"))
        # the day's buyers, and every holder of a value the day's orders hold: a value that
        # became a place today (more holders than max_value_buyers) no longer joins its
        # holders, so a component it held together may have split without a new order of the
        # buyer its groups are kept under
        every = shared_values(tables)
        dv = n.select(v=linking(device_key(n.buyer_device_id)))
        dv = dv.filter(dv.v.notnull()).distinct()
        av = n.select(v=linking(address_key(n.buyer_address_id)))
        av = av.filter(av.v.notnull()).distinct()
        seeds = union_all(
            n.select("buyer_id"),
            every.semi_join(dv, every.device == dv.v).select("buyer_id"),
            every.semi_join(av, every.address == av.v).select("buyer_id"),
        ).distinct()
        reached = _reached(tables, links, seeds)
        if not reached.num_rows:  # no new order: no component changed
            return previous.select(*GROUP_SCHEMA.names)
        reached = ibis.memtable(reached)
        again = ibis.memtable(
            _groups_of(tables, links.semi_join(reached, "buyer_id"), params, offset)
        )
        kept = previous.anti_join(reached, previous.comp_min == reached.buyer_id)
        return union_all(kept.select(*GROUP_SCHEMA.names), again)

    groups = tables.to_arrow(shared(tables, key, build, fold=fold))
    return groups.sort_by([("comp_min", "ascending"), ("merchant", "ascending")])


def _reached(tables: Tables, links: ir.Table, seeds: ir.Table) -> pa.Table:
    """``buyer_id``: every buyer linked to one of ``seeds`` through any chain of shared devices
    or addresses (the seeds' whole components).

    A walk from the seeds, a step per hop: the devices and addresses of the buyers the last hop
    added (the seeds first) that no earlier hop followed, then every buyer holding one of them.
    A value's holders are all added when it is first followed, so once the newest buyers hold no
    value not followed yet no buyer can be added: the walk stops there, without probing the
    links for holders again (at city scale the day's components close after one hop, and the
    last hop is then one probe of the links instead of three)."""
    with backends.Scratch(tables.backend, "_brush002") as scratch:
        buyers = frontier = scratch.keep(seeds)
        followed: tuple[ir.Table, ir.Table] | None = None
        while True:
            mine = links.semi_join(frontier, "buyer_id")
            devices = mine.filter(mine.device.notnull()).select("device").distinct()
            addresses = mine.filter(mine.address.notnull()).select("address").distinct()
            if followed is not None:
                devices = devices.anti_join(followed[0], "device")
                addresses = addresses.anti_join(followed[1], "address")
            devices, addresses = scratch.keep(devices), scratch.keep(addresses)
            if not _count(scratch, devices) and not _count(scratch, addresses):
                return scratch.to_arrow(buyers)
            holders = union_all(
                links.semi_join(devices, "device").select("buyer_id"),
                links.semi_join(addresses, "address").select("buyer_id"),
            ).distinct()
            frontier = scratch.keep(holders.anti_join(buyers, "buyer_id"))
            buyers = scratch.keep(union_all(buyers, frontier))
            followed = (
                (devices, addresses)
                if followed is None
                else (
                    scratch.keep(union_all(followed[0], devices)),
                    scratch.keep(union_all(followed[1], addresses)),
                )
            )


def _count(scratch: backends.Scratch, t: ir.Table) -> int:
    return int(scratch.to_arrow(t.count().as_table()).column(0)[0].as_py())
