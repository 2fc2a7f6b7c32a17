"""The canonical data model: every table's columns, types, keys, nullability and references.

This module is the one place the model is written down. Ingest, the store, the checks, the
simulator and the generated docs all read it from here; nothing restates it. The contract it
implements is ``shared/spec/data-model.md``: columns may be added here, never renamed or dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """The logical kind of a column; each maps to one DuckDB type and one parsing rule."""

    ID = "id"  # identifier: a trimmed, non-empty string
    TEXT = "text"  # free text, kept as given (it is untrusted data)
    TIMESTAMP = "timestamp"  # ISO 8601; naive values read in the ingest time zone; stored UTC
    MONEY = "money"  # exact decimal in the listing's currency; never negative
    PERCENT = "percent"  # a percentage such as 30 or 33.33; 0..100
    COUNT = "count"  # a whole number, never negative
    RATING = "rating"  # review stars, 1..5
    WEIGHT = "weight"  # grams, a whole number, never negative
    CURRENCY = "currency"  # ISO 4217 code, three upper-case letters
    ENUM = "enum"  # one of a closed set of values
    FLAG = "flag"  # yes or no: true/false, 1/0, yes/no, 是/否


#: The physical DuckDB type of each kind. Money is DECIMAL so ``0.10 + 0.20 = 0.30`` exactly.
DUCKDB_TYPES: dict[Kind, str] = {
    Kind.ID: "VARCHAR",
    Kind.TEXT: "VARCHAR",
    Kind.TIMESTAMP: "TIMESTAMPTZ",
    Kind.MONEY: "DECIMAL(18,2)",
    Kind.PERCENT: "DECIMAL(7,2)",
    Kind.COUNT: "BIGINT",
    Kind.RATING: "SMALLINT",
    Kind.WEIGHT: "BIGINT",
    Kind.CURRENCY: "VARCHAR",
    Kind.ENUM: "VARCHAR",
    Kind.FLAG: "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False
    doc: str = ""
    values: tuple[str, ...] = ()  # the closed set, for Kind.ENUM
    #: a deadline (Kind.TIMESTAMP): a bare date means the end of that day, not its first instant
    #: (a promise "dispatch by 14 Nov" holds until the day is over)
    deadline: bool = False
    #: a carrier's name (Kind.ID): a known spelling is stored as its carrier's code
    #: (``promoguard.carriers``), so an export's ``顺丰速运`` meets a feed's ``SF``
    carrier: bool = False
    #: other spellings of an ENUM's values that exports and feeds use, (spelling, value) pairs,
    #: compared in lower case after trimming (a carrier feed's 已签收 is ``delivered``)
    aliases: tuple[tuple[str, str], ...] = ()

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]


@dataclass(frozen=True)
class Reference:
    """A column (or columns) that should point at a row of another table.

    A row whose reference does not resolve is still stored (platform exports are often cut
    independently) and counted as an orphan in the ingest summary.
    """

    columns: tuple[str, ...]
    table: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Columns a source file must have (the non-nullable ones)."""
        return [c.name for c in self.columns if not c.nullable]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def create_sql(self, name: str | None = None) -> str:
        """``CREATE TABLE`` for this table in DuckDB (no constraints: ingest enforces them)."""
        cols = ",\n  ".join(
            f'"{c.name}" {c.duckdb_type}{"" if c.nullable else " NOT NULL"}' for c in self.columns
        )
        return f'CREATE TABLE IF NOT EXISTS "{name or self.name}" (\n  {cols}\n)'


def _c(
    name: str,
    kind: Kind,
    doc: str = "",
    *,
    null: bool = False,
    values=(),
    deadline: bool = False,
    carrier: bool = False,
    aliases: dict[str, str] | None = None,
) -> Column:
    pairs = tuple(sorted((aliases or {}).items()))
    return Column(name, kind, null, doc, tuple(values), deadline, carrier, pairs)


ORDER_STATUSES = ("paid", "shipped", "delivered", "confirmed", "refunded", "cancelled")
EVENT_TYPES = ("pickup", "transit", "out_for_delivery", "delivered", "exception")
#: The words Chinese platform exports and carrier feeds (淘宝/天猫, 京东, 菜鸟, 快递100) and
#: English ones (AfterShip's tags) use for an order's status and a scan's type. Left out on
#: purpose: 交易关闭 (closed: refunded or cancelled, the export does not say which), AfterShip's
#: ``AvailableForPickup`` (the buyer may collect it at a locker: no carrier pickup) and
#: ``InfoReceived`` (a label was printed: no scan), 等待买家付款 (not paid: no order of the model).
#: (Ingest folds full-width punctuation first: 买家已付款，等待卖家发货 is written with ",".)
ORDER_STATUS_ALIASES = {
    "已付款": "paid",
    "已支付": "paid",
    "买家已付款": "paid",
    "买家已付款,等待卖家发货": "paid",
    "等待卖家发货": "paid",
    "待发货": "paid",
    "等待出库": "paid",
    "已发货": "shipped",
    "卖家已发货": "shipped",
    "卖家已发货,等待买家确认": "shipped",
    "等待买家确认收货": "shipped",
    "等待确认收货": "shipped",
    "待收货": "shipped",
    "已签收": "delivered",
    "已送达": "delivered",
    "交易成功": "confirmed",
    "已完成": "confirmed",
    "完成": "confirmed",
    "已确认收货": "confirmed",
    "退款成功": "refunded",
    "已退款": "refunded",
    "已取消": "cancelled",
    "订单取消": "cancelled",
    "canceled": "cancelled",
    # 拼多多's wording, and Taobao's API codes (TRADE_CLOSED is refunded or cancelled: left out)
    "已发货,待签收": "shipped",
    "待签收": "shipped",
    "未发货,退款成功": "refunded",
    "wait_seller_send_goods": "paid",
    "wait_buyer_confirm_goods": "shipped",
    "trade_buyer_signed": "delivered",
    "trade_finished": "confirmed",
}
EVENT_TYPE_ALIASES = {
    "揽收": "pickup",
    "已揽收": "pickup",
    "揽件": "pickup",
    "已揽件": "pickup",
    "收件": "pickup",
    "已收件": "pickup",
    "picked up": "pickup",
    "picked_up": "pickup",
    "在途": "transit",
    "运输中": "transit",
    "运送中": "transit",
    "转运中": "transit",
    "中转": "transit",
    "发件": "transit",  # a hub's dispatch (中通, 申通: 收件 -> 发件 -> 到件 -> 派件 -> 签收)
    "到件": "transit",
    "到达": "transit",
    "转投": "transit",
    "清关": "transit",  # (清关异常 is refused: not guessed)
    "待清关": "transit",
    "清关中": "transit",
    "已清关": "transit",
    "在途中": "transit",
    "转寄": "transit",
    "in transit": "transit",
    "in_transit": "transit",
    "intransit": "transit",
    "派件": "out_for_delivery",
    "派件中": "out_for_delivery",
    "派送中": "out_for_delivery",
    "正在派件": "out_for_delivery",
    "配送中": "out_for_delivery",
    "out for delivery": "out_for_delivery",
    "outfordelivery": "out_for_delivery",
    "签收": "delivered",
    "已签收": "delivered",
    "妥投": "delivered",
    "已妥投": "delivered",
    "代签": "delivered",
    "代签收": "delivered",
    "疑难": "exception",
    "疑难件": "exception",
    "问题件": "exception",
    "拒收": "exception",
    "拒签": "exception",
    "退签": "exception",
    "退回": "exception",
    "派件异常": "exception",
    "派送失败": "exception",
    "投递失败": "exception",
    "attemptfail": "exception",
    "failed attempt": "exception",
}
TEXT_KINDS = ("listing_title", "listing_description", "livestream", "chat", "ad", "review")
COUPON_KINDS = ("threshold", "red_envelope", "percent", "cash")
TERM_SOURCES = ("displayed", "applied")
DISCLOSURES = ("prominent", "fine_print", "none")
PRIZE_KINDS = ("lottery", "instant_win", "red_envelope_game", "team_bonus")
#: The 16 items a prize promotion must publish (规范促销行为暂行规定 Art. 13), as the spec names them.
PRIZE_DISCLOSURE_ITEMS = (
    "prize_kinds",
    "conditions",
    "method",
    "draw_time",
    "draw_method",
    "amount",
    "prize_name",
    "prize_type",
    "number_or_probability",
    "redemption_time",
    "redemption_conditions",
    "redemption_method",
    "delivery",
    "forfeit_conditions",
    "organiser",
    "contact",
)

TABLES: tuple[Table, ...] = (
    Table(
        "platforms",
        "An online marketplace that hosts merchants (the party with the platform's duties).",
        (
            _c("platform_id", Kind.ID),
            _c("name", Kind.TEXT),
        ),
        key=("platform_id",),
    ),
    Table(
        "merchants",
        "A seller on a platform.",
        (
            _c("merchant_id", Kind.ID),
            _c("platform_id", Kind.ID),
            _c("name", Kind.TEXT),
            _c("registered_at", Kind.TIMESTAMP, "when the merchant joined the platform", null=True),
        ),
        key=("merchant_id",),
        references=(Reference(("platform_id",), "platforms", ("platform_id",)),),
    ),
    Table(
        "licences",
        "A business licence or permit held by a merchant (food business licence, ...).",
        (
            _c("licence_id", Kind.ID),
            _c("merchant_id", Kind.ID),
            _c("licence_type", Kind.ID, "a type named in the rule pack's category-to-licence map"),
            _c("valid_from", Kind.TIMESTAMP),
            _c("valid_to", Kind.TIMESTAMP, "open-ended when empty", null=True),
            _c(
                "scope",
                Kind.TEXT,
                "categories covered, separated by ';' (also ',', '、' or spaces; all when empty, "
                "or when it names no category: a licence's own wording such as 酒类零售)",
                null=True,
            ),
        ),
        key=("licence_id",),
        references=(Reference(("merchant_id",), "merchants", ("merchant_id",)),),
    ),
    Table(
        "listings",
        "A product offered by a merchant.",
        (
            _c("listing_id", Kind.ID),
            _c("merchant_id", Kind.ID),
            _c("platform_id", Kind.ID),
            _c("title", Kind.TEXT),
            _c("category", Kind.ID, "e.g. food, health_food, cosmetics, electronics"),
            _c("currency", Kind.CURRENCY),
            _c("msrp", Kind.MONEY, "manufacturer's suggested retail price, if known", null=True),
        ),
        key=("listing_id",),
        references=(
            Reference(("merchant_id",), "merchants", ("merchant_id",)),
            Reference(("platform_id",), "platforms", ("platform_id",)),
        ),
    ),
    Table(
        "price_observations",
        "A price offered for a listing as displayed at a moment, on a channel.",
        (
            _c("listing_id", Kind.ID),
            _c("observed_at", Kind.TIMESTAMP),
            _c("price", Kind.MONEY, "the price offered"),
            _c("reference_price", Kind.MONEY, "struck-through 'was' price (划线价)", null=True),
            _c("reference_label", Kind.TEXT, "its wording: 原价, was, MSRP, ...", null=True),
            _c("claimed_discount_pct", Kind.PERCENT, "advertised discount, 0..100", null=True),
            _c("channel", Kind.ID, "search, home, detail, live, ...", null=True),
            _c(
                "final_price_claim",
                Kind.MONEY,
                "a displayed 到手价 / 'price after coupons' beside the price",
                null=True,
            ),
            _c(
                "final_price_qty",
                Kind.COUNT,
                "units the 到手价 (per unit) needs bought together; empty = one unit",
                null=True,
            ),
        ),
        key=("listing_id", "observed_at", "channel"),
        references=(Reference(("listing_id",), "listings", ("listing_id",)),),
    ),
    Table(
        "promotions",
        "A platform-wide promotion event (Double 11, Black Friday, ...).",
        (
            _c("promotion_id", Kind.ID),
            _c("platform_id", Kind.ID),
            _c("name", Kind.TEXT),
            _c("starts_at", Kind.TIMESTAMP),
            _c("ends_at", Kind.TIMESTAMP),
            _c("announced_at", Kind.TIMESTAMP, null=True),
        ),
        key=("promotion_id",),
        references=(Reference(("platform_id",), "platforms", ("platform_id",)),),
    ),
    Table(
        "orders",
        "A paid order line: one listing, bought by one buyer.",
        (
            _c("order_id", Kind.ID),
            _c("listing_id", Kind.ID),
            _c("merchant_id", Kind.ID),
            _c("buyer_id", Kind.ID),
            _c("quantity", Kind.COUNT),
            _c("unit_price", Kind.MONEY, "the transacted price per unit"),
            _c("paid_at", Kind.TIMESTAMP),
            _c(
                "promised_dispatch_by",
                Kind.TIMESTAMP,
                "latest dispatch promised (a bare date: by the end of that day)",
                null=True,
                deadline=True,
            ),
            _c(
                "declared_shipped_at",
                Kind.TIMESTAMP,
                "when the merchant marked it shipped",
                null=True,
            ),
            _c("confirmed_at", Kind.TIMESTAMP, "buyer confirmed receipt", null=True),
            _c(
                "status",
                Kind.ENUM,
                "an export's own words are read too (交易成功 is confirmed: docs/ingest.md)",
                values=ORDER_STATUSES,
                aliases=ORDER_STATUS_ALIASES,
            ),
            _c("buyer_device_id", Kind.ID, null=True),
            _c("buyer_address_id", Kind.ID, null=True),
            _c("ship_to_city", Kind.TEXT, null=True),
            _c(
                "promised_delivery_by",
                Kind.TIMESTAMP,
                "latest delivery the merchant or platform promised the buyer (a bare date: by "
                "the end of that day)",
                null=True,
                deadline=True,
            ),
            # Appended after the original columns (not beside paid_at) so that positional
            # INSERTs written against the first model keep meaning the same columns.
            _c(
                "placed_at",
                Kind.TIMESTAMP,
                "when the buyer placed the order (paid_at: when payment was approved)",
                null=True,
            ),
            _c(
                "discount_total",
                Kind.MONEY,
                "coupons and reductions applied to the whole order line",
                null=True,
            ),
        ),
        key=("order_id",),
        references=(
            Reference(("listing_id",), "listings", ("listing_id",)),
            Reference(("merchant_id",), "merchants", ("merchant_id",)),
        ),
    ),
    Table(
        "shipments",
        "A parcel handed to a carrier for an order.",
        (
            _c("order_id", Kind.ID),
            _c(
                "carrier",
                Kind.ID,
                "the carrier (a known spelling, 顺丰速运 or shunfeng, is stored as its code, SF)",
                carrier=True,
            ),
            _c("tracking_no", Kind.ID),
            _c("weight_grams", Kind.WEIGHT, null=True),
        ),
        key=("order_id", "tracking_no"),
        references=(Reference(("order_id",), "orders", ("order_id",)),),
    ),
    Table(
        "tracking_events",
        "A carrier scan of a parcel.",
        (
            _c(
                "carrier",
                Kind.ID,
                "the carrier (a known spelling, 顺丰速运 or shunfeng, is stored as its code, SF)",
                carrier=True,
            ),
            _c("tracking_no", Kind.ID),
            _c("event_at", Kind.TIMESTAMP),
            _c(
                "event_type",
                Kind.ENUM,
                "a feed's own words are read too (已签收 is delivered: docs/ingest.md)",
                values=EVENT_TYPES,
                aliases=EVENT_TYPE_ALIASES,
            ),
            _c("city", Kind.TEXT, null=True),
        ),
        key=("carrier", "tracking_no", "event_at", "event_type"),
        references=(
            Reference(("carrier", "tracking_no"), "shipments", ("carrier", "tracking_no")),
        ),
    ),
    Table(
        "reviews",
        "A buyer's review of a listing.",
        (
            _c("review_id", Kind.ID),
            _c("listing_id", Kind.ID),
            _c("buyer_id", Kind.ID),
            _c("order_id", Kind.ID, null=True),
            _c("rating", Kind.RATING),
            _c("created_at", Kind.TIMESTAMP),
            _c("text", Kind.TEXT, null=True),
        ),
        key=("review_id",),
        references=(
            Reference(("listing_id",), "listings", ("listing_id",)),
            Reference(("order_id",), "orders", ("order_id",)),
        ),
    ),
    Table(
        "texts",
        "Text published by a merchant: titles, descriptions, live-stream transcripts, chats, ads.",
        (
            _c("text_id", Kind.ID),
            _c("kind", Kind.ENUM, values=TEXT_KINDS),
            _c("merchant_id", Kind.ID),
            _c("listing_id", Kind.ID, null=True),
            _c("created_at", Kind.TIMESTAMP),
            _c("lang", Kind.ID, "zh, en, ...", null=True),
            _c("content", Kind.TEXT),
        ),
        key=("text_id",),
        references=(
            Reference(("merchant_id",), "merchants", ("merchant_id",)),
            Reference(("listing_id",), "listings", ("listing_id",)),
        ),
    ),
    Table(
        "coupons",
        "A coupon, red envelope (红包) or 满减 offer of a platform or a merchant.",
        (
            _c("coupon_id", Kind.ID),
            _c("platform_id", Kind.ID),
            _c("merchant_id", Kind.ID, "the issuing merchant; empty = platform-wide", null=True),
            _c(
                "kind",
                Kind.ENUM,
                "threshold = 满减, red_envelope = 红包",
                values=COUPON_KINDS,
            ),
            _c("announced_at", Kind.TIMESTAMP, "when it was first shown to buyers", null=True),
            _c("valid_from", Kind.TIMESTAMP),
            _c("valid_to", Kind.TIMESTAMP),
        ),
        key=("coupon_id",),
        references=(
            Reference(("platform_id",), "platforms", ("platform_id",)),
            Reference(("merchant_id",), "merchants", ("merchant_id",)),
        ),
    ),
    Table(
        "coupon_terms",
        "One version of a coupon's terms, from effective_at on: as displayed to the buyer, or as "
        "checkout applied them.",
        (
            _c("coupon_id", Kind.ID),
            _c("effective_at", Kind.TIMESTAMP, "from when this version holds"),
            _c(
                "source",
                Kind.ENUM,
                "displayed = what the buyer was shown; applied = what checkout enforced",
                values=TERM_SOURCES,
            ),
            _c("face_value", Kind.MONEY, "amount off (减50: 50.00)", null=True),
            _c("percent_off", Kind.PERCENT, "percentage off, 0..100", null=True),
            _c(
                "threshold_amount",
                Kind.MONEY,
                "minimum spend the coupon needs (满300: 300.00); empty = none",
                null=True,
            ),
            _c("max_discount", Kind.MONEY, "cap on a percentage coupon's discount", null=True),
            _c("scope", Kind.ID, "a listing category, or all", null=True),
            _c("stackable", Kind.FLAG, "whether it combines with other coupons", null=True),
            _c("per_buyer_cap", Kind.COUNT, "how many times one buyer may use it", null=True),
            _c("valid_to", Kind.TIMESTAMP, "end of validity under this version", null=True),
            _c(
                "disclosure",
                Kind.ENUM,
                "how the displayed terms were shown",
                null=True,
                values=DISCLOSURES,
            ),
            _c("shown_text", Kind.TEXT, "the displayed wording", null=True),
        ),
        key=("coupon_id", "effective_at", "source"),
        references=(Reference(("coupon_id",), "coupons", ("coupon_id",)),),
    ),
    Table(
        "coupon_redemptions",
        "A coupon applied to an order (what checkout took off for it).",
        (
            _c("order_id", Kind.ID),
            _c("coupon_id", Kind.ID),
            _c("discount_amount", Kind.MONEY, "the amount this coupon took off the order"),
        ),
        key=("order_id", "coupon_id"),
        references=(
            Reference(("order_id",), "orders", ("order_id",)),
            Reference(("coupon_id",), "coupons", ("coupon_id",)),
        ),
    ),
    Table(
        "prize_promotions",
        "A prize promotion (有奖销售): lottery, instant win, red-envelope game, team bonus.",
        (
            _c("prize_promotion_id", Kind.ID),
            _c("platform_id", Kind.ID),
            _c("merchant_id", Kind.ID, "the organising merchant; empty = the platform", null=True),
            _c("name", Kind.TEXT),
            _c(
                "kind",
                Kind.ENUM,
                "red_envelope_game = 抽红包/试手气, team_bonus = 组队分奖金",
                values=PRIZE_KINDS,
            ),
            _c("announced_at", Kind.TIMESTAMP, null=True),
            _c("starts_at", Kind.TIMESTAMP),
            _c("ends_at", Kind.TIMESTAMP),
            _c("currency", Kind.CURRENCY),
            _c("top_prize_value", Kind.MONEY, "value of the single highest prize"),
            _c(
                "disclosed_items",
                Kind.TEXT,
                "published items among the 16 of 规范促销行为暂行规定 Art. 13, separated by ';'",
                null=True,
            ),
            _c(
                "rules_changed_at", Kind.TIMESTAMP, "when the rules changed after launch", null=True
            ),
            _c(
                "change_favours_buyer",
                Kind.FLAG,
                "whether that change was in the consumers' favour",
                null=True,
            ),
        ),
        key=("prize_promotion_id",),
        references=(
            Reference(("platform_id",), "platforms", ("platform_id",)),
            Reference(("merchant_id",), "merchants", ("merchant_id",)),
        ),
    ),
    Table(
        "prize_awards",
        "A prize given to a buyer in a prize promotion.",
        (
            _c("award_id", Kind.ID),
            _c("prize_promotion_id", Kind.ID),
            _c("buyer_id", Kind.ID),
            _c("prize_value", Kind.MONEY, "the prize's value, in the promotion's currency"),
            _c("awarded_at", Kind.TIMESTAMP),
        ),
        key=("award_id",),
        references=(
            Reference(("prize_promotion_id",), "prize_promotions", ("prize_promotion_id",)),
        ),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)


def table(name: str) -> Table:
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"no canonical table {name!r}; known: {', '.join(TABLE_NAMES)}") from None


#: Columns of a finding, as the spec lists them (a scan writes these, in this order).
FINDING_COLUMNS: tuple[Column, ...] = (
    _c("finding_id", Kind.ID),
    _c("scan_id", Kind.ID),
    _c("check_code", Kind.ID),
    _c("pack", Kind.ID),
    _c("entity_type", Kind.ID),
    _c("entity_id", Kind.ID),
    _c("merchant_id", Kind.ID, null=True),
    _c("platform_id", Kind.ID, null=True),
    _c("severity", Kind.ID),
    _c("observed", Kind.TEXT, "JSON"),
    _c("expected", Kind.TEXT, "JSON"),
    _c("legal_basis", Kind.TEXT),
    _c("evidence_sha256", Kind.ID),
    _c("detected_at", Kind.TIMESTAMP),
)

ENTITY_TYPES = (
    "listing",
    "order",
    "merchant",
    "buyer_group",
    "review",
    "text",
    "coupon",
    "prize_promotion",
)

#: Ground truth written by the simulator (spec: check_code, entity_type, entity_id; pack added).
GROUND_TRUTH_COLUMNS = ("check_code", "entity_type", "entity_id", "pack")
