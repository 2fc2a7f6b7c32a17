"""The report's own words in English and Chinese (``promoguard report --lang zh|en``).

The frame (headings, labels, methodology, disclaimer) is keyed by name in ``STRINGS``; the
sections' and rules' own sentences by their English text in ``PHRASES_ZH``; rule titles and what a
finding's keys and coded values mean in ``RULE_TITLES_ZH`` and ``WORDS_ZH``. Legal citations are
shown as the packs hold them (the law's own name), and data (titles, names, texts) as the store
holds it; the pack's parameter rationales are quoted in the pack's language, marked so.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

LANGS = ("en", "zh")

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "PromoGuard findings report", "zh": "PromoGuard 促销合规检查报告"},
    "merchant_title": {"en": "Findings for merchant", "zh": "商家检查结果："},
    "scan": {"en": "Scan", "zh": "扫描"},
    "pack": {"en": "Rule pack", "zh": "规则包"},
    "engine": {"en": "engine", "zh": "引擎"},
    "started": {"en": "started", "zh": "开始于"},
    "findings": {"en": "findings", "zh": "条发现"},
    "generated": {"en": "generated", "zh": "生成于"},
    "complete": {"en": "complete scan", "zh": "完整扫描"},
    "partial": {"en": "partial scan", "zh": "部分扫描"},
    "partial_banner": {
        "en": "This is a partial scan: it ran {ran} of the pack's {total} checks. Not run: "
        "{missing}. No finding of those checks means they were not checked, not that nothing "
        "was wrong.",
        "zh": "这是一次部分扫描：只运行了规则包 {total} 项检查中的 {ran} 项。未运行：{missing}。"
        "这些检查没有发现，表示未检查，而不是没有问题。",
    },
    "summary": {"en": "Summary", "zh": "概览"},
    "register": {"en": "Findings and evidence", "zh": "违法线索与证据"},
    "register_intro": {
        "en": "Every finding of the scan, by rule: its id, the legal basis, what was observed "
        "against what the rule expects, when it was detected (local time, {tz}) and the SHA-256 "
        "of its frozen evidence (`promoguard findings show ID` prints the evidence rows and "
        "verifies the hash). The most severe cases of each rule are shown first; the rest are "
        "folded below them.",
        "zh": "本次扫描的全部发现，按规则排列：编号、法律依据、观察值与规则要求的对比、发现时间"
        "（当地时间，{tz}）以及固定证据的 SHA-256 值（`promoguard findings show 编号` 可列出证据"
        "行并校验哈希）。每条规则先列出最严重的案例，其余折叠于下方。",
    },
    "rule": {"en": "Rule", "zh": "规则"},
    "legal_basis": {"en": "Legal basis", "zh": "法律依据"},
    "law": {"en": "law", "zh": "法律法规"},
    "article": {"en": "article", "zh": "条款"},
    "version": {"en": "version", "zh": "版本"},
    "finding": {"en": "finding", "zh": "编号"},
    "severity": {"en": "severity", "zh": "严重程度"},
    "merchant": {"en": "merchant", "zh": "商家"},
    "platform": {"en": "platform", "zh": "平台"},
    "entity": {"en": "entity", "zh": "对象"},
    "observed": {"en": "observed", "zh": "观察到"},
    "expected": {"en": "expected", "zh": "规则要求"},
    "detected": {"en": "detected", "zh": "发现时间"},
    "evidence": {"en": "evidence SHA-256", "zh": "证据 SHA-256"},
    "top_cases": {"en": "top {n} of {total}", "zh": "前 {n} 条，共 {total} 条"},
    "more_cases": {"en": "the other {n} findings", "zh": "其余 {n} 条"},
    "capped": {
        "en": "{n} more are not listed here; `promoguard findings list --check {code}` lists all.",
        "zh": "另有 {n} 条未在此列出；`promoguard findings list --check {code}` 可列出全部。",
    },
    "merchants": {"en": "Merchant index", "zh": "商家索引"},
    "merchants_intro": {
        "en": "Every merchant with a finding, most findings first. `promoguard report --merchant "
        "ID` writes one merchant's part of the report.",
        "zh": "所有有发现的商家，按发现数量排序。`promoguard report --merchant 编号` 可单独生成"
        "某一商家的报告。",
    },
    "name": {"en": "name", "zh": "名称"},
    "checks": {"en": "rules", "zh": "规则"},
    "worst": {"en": "most severe", "zh": "最高严重程度"},
    "methodology": {"en": "Methodology", "zh": "方法说明"},
    "method_pack": {"en": "Rule pack and jurisdiction", "zh": "规则包与法域"},
    "method_params": {"en": "Parameters and their basis", "zh": "参数及其依据"},
    "method_coverage": {"en": "Data coverage per rule", "zh": "各规则的数据覆盖"},
    "method_ids": {"en": "Scan, store and software", "zh": "扫描、数据库与软件"},
    "parameter": {"en": "parameter", "zh": "参数"},
    "value": {"en": "value", "zh": "取值"},
    "basis": {"en": "basis", "zh": "依据"},
    "source": {"en": "source or reason", "zh": "出处或理由"},
    "law_basis": {"en": "law", "zh": "法定"},
    "policy_basis": {"en": "policy", "zh": "政策选择"},
    "coverage_rows": {"en": "input rows", "zh": "输入行数"},
    "coverage_status": {"en": "status", "zh": "状态"},
    "not_run": {"en": "not run in this scan", "zh": "本次未运行"},
    "ran": {"en": "ran", "zh": "已运行"},
    "no_coverage": {
        "en": "The scan did not record per-rule coverage; the rows of each table it reads are "
        "counted now from the store.",
        "zh": "本次扫描未记录各规则的数据覆盖；以下为当前数据库中各规则所读数据表的行数。",
    },
    "scan_id": {"en": "scan id", "zh": "扫描编号"},
    "params_quoted": {
        "en": "Values and their sources or reasons are quoted from the pack as it is written.",
        "zh": "参数取值及其出处或理由按规则包原文引用（原文语言）。",
    },
    "not_checked": {"en": "not checked ({reason})", "zh": "未检查（{reason}）"},
    "rows_n": {"en": "{n} rows", "zh": "{n} 行"},
    "n_more": {
        "en": "… and {n} more (the pack file lists all)",
        "zh": "……另 {n} 项（规则包文件列出全部）",
    },
    "no_table": {"en": "no {table}", "zh": "无 {table} 数据"},
    "store": {"en": "store", "zh": "数据库"},
    "store_id": {"en": "store id (ingest runs)", "zh": "数据库编号（导入批次）"},
    "software": {"en": "software", "zh": "软件"},
    "timezone": {"en": "local time zone", "zh": "当地时区"},
    "currency": {"en": "currency", "zh": "币种"},
    "disclaimer_h": {"en": "Disclaimer", "zh": "免责声明"},
    "disclaimer": {
        "en": "The findings are leads produced by automated rules on the data in the store. Each "
        "must be reviewed by an officer against its evidence before any administrative measure; "
        "a finding is not a legal determination. The legal citations are the pack's reading of "
        "the law at the versions shown. Evidence documents are frozen under SHA-256: a document "
        "whose bytes no longer hash to the value shown has been altered.",
        "zh": "本报告所列发现是自动规则对数据库中数据的检查线索，在采取任何行政措施前须由执法人员"
        "对照证据逐条复核；发现不构成法律认定。法律依据为规则包对所示版本法律的理解。证据文件以 "
        "SHA-256 固定：若文件内容的哈希值与所示不符，说明其已被改动。",
    },
    "footer": {
        "en": "PromoGuard {version} · scan {scan} · generated {generated} · page printed from a "
        "self-contained file (no scripts, no network)",
        "zh": "PromoGuard {version} · 扫描 {scan} · 生成于 {generated} · 本报告为独立文件"
        "（无脚本、无网络请求）",
    },
    "contents": {"en": "Contents", "zh": "目录"},
    "nothing": {"en": "This scan found nothing to report.", "zh": "本次扫描没有发现。"},
    "by_rule": {"en": "Findings by rule", "zh": "各规则发现数量"},
    "by_severity": {"en": "By severity", "zh": "按严重程度"},
    "rules_section": {"en": "Analyses by area", "zh": "分领域分析"},
    "critical": {"en": "critical", "zh": "严重"},
    "high": {"en": "high", "zh": "高"},
    "medium": {"en": "medium", "zh": "中"},
    "low": {"en": "low", "zh": "低"},
    "merchant_filter": {
        "en": "Only the findings of merchant {m} are shown ({n} of the scan's {total}).",
        "zh": "仅显示商家 {m} 的发现（共 {total} 条中的 {n} 条）。",
    },
}


def translator(lang: str):
    """``t(key, **fmt)`` in ``lang`` (English when a string has no translation)."""
    if lang not in LANGS:
        raise ValueError(f"--lang takes {', '.join(LANGS)}, not {lang!r}")

    def t(key: str, **fmt: object) -> str:
        entry = STRINGS.get(key)
        text = (entry.get(lang) or entry["en"]) if entry else key
        return text.format(**fmt) if fmt else text

    return t


# -- the current report's language --------------------------------------------------------------
# Sections and the rules' report hooks are called as ``render(con, findings)``; rather than thread
# a translator through every hook (some live in plugins), the report sets its language for the
# duration of one rendering and they ask :func:`tr`, :func:`rule_title` and :func:`word`.

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("promoguard_report_lang", default="en")


def current() -> str:
    return _LANG.get()


@contextlib.contextmanager
def language(lang: str) -> Iterator[None]:
    """Render in ``lang`` inside the block (English outside it)."""
    translator(lang)  # refuses an unknown language
    token = _LANG.set(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


#: The sections' and rule hooks' sentences, keyed by their English text (the way they read in code).
PHRASES_ZH: dict[str, str] = {
    ".": "。",
    # section titles
    "Overview": "总览",
    "Pricing": "价格",
    "Coupons and prize promotions": "优惠券与有奖销售",
    "Content: false publicity, lures, personal data": "内容：虚假宣传、诱导与个人信息",
    "Logistics and licences": "物流与许可",
    "Brushing rings and review fraud": "刷单团伙与评价作弊",
    # overview
    "This scan found no violations.": "本次扫描未发现违法线索。",
    "Findings by check": "各检查项的发现数量",
    "By severity": "按严重程度",
    "By platform": "按平台",
    "Merchants with the most findings (top {n})": "发现最多的商家（前 {n} 名）",
    "Worst listings (top {n})": "问题最严重的商品（前 {n} 个）",
    # pricing
    "{n} price findings, the most severe first": "{n} 条价格发现，按严重程度排列",
    " (the first {n} here; all are in the register)": "（此处列出前 {n} 条；全部见证据登记表）",
    "the other {n} price findings": "其余 {n} 条价格发现",
    "Price series": "价格走势",
    "Charts for the {n} most severe of {total} findings.": "共 {total} 条发现，图示最严重的 {n} 条。",
    "Charts for all {n} findings.": "图示全部 {n} 条发现。",
    "Shaded: the promotion window. Dots: observed prices by channel; the line steps through the "
    "detail-page price.": "阴影：促销期间。圆点：各渠道观察到的价格；折线为商品详情页价格。",
    "promotion": "促销",
    "reference": "划线价",
    "legal prior price": "法定前价",
    "base implied by the claim": "宣称折扣所隐含的原价",
    "raised level": "提高后的价格水平",
    "ordinary level": "平常价格水平",
    "(unchanged)": "（未变）",
    "does not stack": "不可叠加",
    # coupons
    "what it flags": "检查内容",
    "(platform)": "（平台）",
    "{code}: terms over time ({n} coupons; the first {shown} shown)": "{code}：优惠券条款随时间的变化（共 {n} 张，列出前 {shown} 张）",
    "from": "起始时间",
    "shown to buyers": "向消费者展示的",
    "how shown": "展示方式",
    "applied at checkout": "结算时实际适用的",
    "{code}: 到手价 claimed vs the cheapest reachable basket": "{code}：宣称的到手价与可达到的最低价",
    "{amount} off": "减 {amount}",
    "{pct}% off": "{pct}% 折扣",
    " (max {cap})": "（最高 {cap}）",
    "threshold {amount}": "门槛 {amount}",
    "no threshold": "无门槛",
    "only {scope}": "仅限 {scope}",
    "{n} per buyer": "每人限 {n} 张",
    "until {at}": "有效期至 {at}",
    "到手价 claimed": "宣称的到手价",
    "cheapest reachable per unit": "可达到的最低单价",
    # content
    "Most frequent matches per check (top {n})": "各检查项最常见的匹配词（前 {n} 个）",
    "Personal data ({codes}) is shown by kind only: the report never repeats it.": "个人信息（{codes}）仅按类别统计，报告不重复其内容。",
    "Examples": "示例",
    "matched": "匹配词",
    "texts": "文本数",
    "seen at": "观察时间",
    "licence needed": "所需许可证",
    "unlicensed orders": "无许可订单数",
    "of its orders": "占其订单比例",
    "first such sale": "首次此类销售",
    "units": "件数",
    "cheapest basket": "最低购物篮总价",
    "per unit": "单价",
    "first sale": "首次销售",
    "share of orders": "占订单比例",
    "text": "文本",
    "excerpt": "摘录",
    # logistics
    "Share of all {n} orders flagged, by check": "各检查项标记的订单占全部 {n} 笔订单的比例",
    "Merchants with the highest share of flagged orders (top {n})": "被标记订单比例最高的商家（前 {n} 名）",
    "Each cell: orders flagged by the check, and that count as a share of the merchant's orders.": "每格：该检查项标记的订单数，及其占该商家订单总数的比例。",
    "any": "任一",
    "orders": "订单数",
    "{n} logistics and licensing findings in this scan.": "本次扫描共 {n} 条物流与许可发现。",
    "Example orders (top {n} of {total})": "示例订单（共 {total} 笔，前 {n} 笔）",
    "the other {n} flagged orders": "其余 {n} 笔被标记的订单",
    "order": "订单",
    "evidence SHA-256": "证据 SHA-256",
    "{n} more are not listed here; `promoguard findings list --check {code}` lists all.": "另有 {n} 条未在此列出；`promoguard findings list --check {code}` 可列出全部。",
    "promised": "承诺时间",
    "actual": "实际时间",
    "Merchants selling licensed categories without a valid licence": "无有效许可证销售许可类目的商家",
    # brushing and reviews
    "Buyer rings ({n})": "刷单团伙（{n} 个）",
    "{code}: {buyers} buyers, {shops} shop(s), {orders} orders": "{code}：{buyers} 名买家，{shops} 家店铺，{orders} 笔订单",
    "{n} more rings are in the findings.": "另有 {n} 个团伙见发现列表。",
    "Order velocity ({n} shops)": "下单速度异常（{n} 家店铺）",
    "shop": "店铺",
    "rapid share": "高频下单占比",
    "instant share": "秒确认占比",
    "odd-hour ratio": "深夜下单倍数",
    "signals": "信号",
    "Near-duplicate reviews ({n} reviews, {clusters} clusters)": "近似重复评价（{n} 条评价，{clusters} 个簇）",
    "cluster": "簇",
    "reviews": "评价数",
    "buyers": "买家数",
    "first review's text": "首条评价内容",
    "Review spam scores ({n} above threshold)": "评价作弊评分（{n} 条超过阈值）",
    "review": "评价",
    "score": "得分",
    # shared table headers
    "check": "检查项",
    "title": "名称",
    "findings": "发现数",
    "severity": "严重程度",
    "platform": "平台",
    "name": "名称",
    "merchant": "商家",
    "checks": "检查项",
    "listing": "商品",
    "category": "类目",
    "observed": "观察到",
    "expected": "规则要求",
    "entity": "对象",
    "This section failed: {error}": "本节生成失败：{error}",
    "Integrity": "完整性",
    "Each flagged coupon's terms over time": "各被标记优惠券的条款变化",
}

#: Rule titles in Chinese (the registry's titles are English; a plugin's rule keeps its own).
RULE_TITLES_ZH: dict[str, str] = {
    "BRUSH001": "同一批买家反复向同一批商家下单的密集团块",
    "BRUSH002": "共用设备或地址的买家在短时间内向同一商家下单",
    "BRUSH003": "下单速度异常：每人每小时多次下单、秒确认、深夜下单",
    "COUPON001": "结算时适用的优惠券条件未展示或展示不显著",
    "COUPON002": "优惠券条款公布后向不利于消费者的方向变更",
    "COUPON003": "宣称的到手价低于任何单次购买可达到的价格",
    "COUPON004": "优惠券未兑现：条件已满足，未减或少减",
    "LIC001": "在销售日无有效许可证销售许可类目商品",
    "PARCEL001": "空包：重量缺失或象征性重量，或长途运输无中转扫描",
    "PRICE001": "划线价（原价）高于法定的前价",
    "PRICE002": "宣称的折扣率并非以法定前价计算",
    "PRICE003": "促销前先提价，再以提高后的价格“打折”",
    "PRICE004": "同一时间搜索页或首页价格低于商品详情页",
    "PRICE005": "与厂商建议零售价比较而未标明",
    "PRIZE001": "最高奖或单人累计奖金额超过法定上限",
    "PRIZE002": "有奖销售未公示法定必须公示的信息",
    "PRIZE003": "有奖销售开始后变更规则，且不利于消费者",
    "REVIEW001": "不同买家发布的近似重复评价",
    "REVIEW002": "以好评为条件给予奖励（好评返现）",
    "REVIEW003": "行为特征评分为作弊的评价",
    "SHIP001": "已标记发货，但在规定时间内无揽收记录",
    "SHIP002": "一个运单号用于多笔订单",
    "SHIP003": "超过承诺的发货时间才发货",
    "SHIP004": "不可能的物流：付款或发货前即有扫描、城市不符或速度过快",
    "SHIP005": "超过承诺的送达时间才送达",
    "TEXT001": "使用绝对化用语（最佳、国家级、No.1）",
    "TEXT002": "商品不得宣称的医疗或功效用语",
    "TEXT003": "发布禁售商品（枪支、管制刀具、毒品、窃听设备）",
    "TEXT004": "诱导脱离平台联系或付款",
    "TEXT005": "文本中泄露个人信息（身份证、银行卡、手机号、邮箱）",
    "TEXT006": "直播比价无比较基准，或制造紧迫感",
}

#: What a finding's observed/expected keys and coded values read as in Chinese.
WORDS_ZH: dict[str, str] = {
    "actual_discount_pct": "实际折扣率 %",
    "announced_at": "公布时间",
    "applied_scope": "实际适用范围",
    "applied_since": "实际适用起始",
    "applied_threshold": "实际门槛",
    "applied_valid_to": "实际有效期至",
    "basket": "购物篮",
    "basket_qty": "购物篮数量",
    "buyers_sharing": "共用的买家",
    "cap": "上限",
    "cap_currency": "上限币种",
    "currency": "币种",
    "floor_rate": "保守折算汇率",
    "carrier": "承运商",
    "categories": "类目",
    "change_favours_buyer": "变更有利于消费者",
    "changed_at": "变更时间",
    "changes": "变更",
    "channel": "渠道",
    "cheapest_per_unit": "最低单价",
    "cheapest_total": "最低总价",
    "claim_total": "宣称总价",
    "claimed_discount_pct": "宣称折扣率 %",
    "clock_tolerance_minutes": "时钟容差（分钟）",
    "cluster_buyers": "簇内买家数",
    "cluster_id": "簇编号",
    "cluster_size": "簇大小",
    "component_size": "连通块大小",
    "conditions": "条件",
    "coupon_id": "优惠券",
    "coupons_valid": "有效优惠券",
    "deadline_source": "时限来源",
    "declared_shipped_at": "声明发货时间",
    "delivered_at": "送达时间",
    "delivered_city": "送达城市",
    "density": "密度",
    "detail_price": "详情页价格",
    "direct_km": "无中转扫描的距离（公里）",
    "disclosed_items": "已公示事项",
    "disclosure": "展示方式",
    "discount_applied": "实际优惠",
    "discount_due": "应得优惠",
    "dispatch_deadline": "发货时限",
    "early": "过早评价",
    "extremity": "极端评分",
    "face_value_after": "变更后面额",
    "face_value_before": "变更前面额",
    "final_price_claim": "宣称到手价",
    "first_order_at": "首笔订单时间",
    "first_pickup_at": "首次揽收时间",
    "first_sale_at": "首次销售时间",
    "first_scan_at": "首次扫描时间",
    "grace_minutes": "宽限（分钟）",
    "hours_late": "迟延（小时）",
    "hours_to_pickup": "至揽收（小时）",
    "instant_confirms": "秒确认订单数",
    "heavy_buyer_hours": "单小时十单以上的买家时段数",
    "instant_share": "秒确认占比",
    "largest_award": "最大单项奖",
    "largest_winner_total": "单人最高累计奖",
    "largest_same_moment_total": "单人同一时刻最高累计奖",
    "same_moment_winner": "同一时刻累计最高的中奖者",
    "last_order_at": "末笔订单时间",
    "last_sale_at": "末次销售时间",
    "legal_prior_price": "法定前价",
    "licence_types_required": "所需许可证",
    "listing_burst": "商品评价突增",
    "match_count": "匹配次数",
    "matched": "匹配词",
    "max_speed_kmh": "最高速度（公里/小时）",
    "max_speed_kmh_allowed": "合理最高速度（公里/小时）",
    "merchant_share": "商家占比",
    "merchants": "商家",
    "merchants_sharing": "共用的商家",
    "min_buyers": "最少买家数",
    "min_density": "最低密度",
    "min_instant_share": "秒确认占比下限",
    "min_merchant_share": "商家占比下限",
    "min_odd_ratio": "深夜倍数下限",
    "min_orders_per_edge": "每对最少订单",
    "min_rapid_share": "高频占比下限",
    "min_weight_grams": "合理最低重量（克）",
    "missing_items": "缺少的事项",
    "missing_weight": "缺少重量",
    "moment": "时刻",
    "msrp": "厂商建议零售价",
    "msrp_listing_id": "标注建议零售价的商品",
    "msrp_source": "建议零售价来源",
    "n_buyers": "买家数",
    "n_merchants": "商家数",
    "n_orders": "订单数",
    "no_transit": "无中转扫描",
    "observed_at": "观察时间",
    "odd_orders": "深夜订单数",
    "odd_ratio": "深夜倍数",
    "orders_per_buyer_hour": "每人每小时订单数",
    "orders_per_parcel": "每包裹订单数",
    "orders_sharing": "共用的订单",
    "ordinary_level": "平常价格水平",
    "paid_at": "付款时间",
    "payment_tolerance_minutes": "付款容差（分钟）",
    "pickup_within_hours": "揽收时限（小时）",
    "placed_at": "下单时间",
    "price": "价格",
    "prior_price": "本商品前价",
    "prior_price_source": "前价来源",
    "prominent_price": "显著展示的价格",
    "promised_delivery_by": "承诺送达时间",
    "promised_dispatch_by": "承诺发货时间",
    "promotion_id": "促销活动",
    "promotion_price": "促销价",
    "raised_level": "提高后的价格水平",
    "rapid_buyer_hours": "高频下单的买家小时数",
    "rapid_days": "高频下单天数",
    "rapid_share": "高频下单占比",
    "rating_deviation": "评分偏离",
    "reasons": "原因",
    "reference_label": "划线价标签",
    "reference_price": "划线价（原价）",
    "required_count": "应公示事项数",
    "reviewer_burst": "评价者突发",
    "rise": "促销前涨幅",
    "rule": "规则",
    "rules_changed_at": "规则变更时间",
    "rules_fixed_from": "规则确定时间",
    "score": "得分",
    "severity_reason": "严重程度说明",
    "ship_to_city": "收货城市",
    "shown_scope": "展示的适用范围",
    "shown_since": "展示起始",
    "shown_text": "展示文字",
    "shown_threshold": "展示的门槛",
    "shown_valid_to": "展示的有效期至",
    "signals": "信号",
    "similarity": "相似度",
    "span_hours": "持续时间（小时）",
    "text_model": "文本模型",
    "thin_history": "历史记录少",
    "threshold": "阈值",
    "threshold_after": "变更后门槛",
    "threshold_amount": "门槛金额",
    "threshold_before": "变更前门槛",
    "token_weight": "象征性重量",
    "top_prize_value": "最高奖金额",
    "tracking_no": "运单号",
    "unlicensed_orders": "无许可订单数",
    "weeks_in_a_row": "连续周数",
    "weight_grams": "重量（克）",
    "window_end": "时段结束",
    "window_hours": "时段（小时）",
    "window_start": "时段开始",
    "winner": "中奖者",
    "discount_total": "优惠总额",
    "first_reduction_at": "首次降价时间",
    "value": "值",
    # coded values
    "transactions": "成交价",
    "last_transaction": "最后一笔成交",
    "listing_msrp": "商品资料中的建议零售价",
    "shop_label": "商家自己标注的建议零售价",
    "other_shop_label": "同平台其他商家在同名商品上标注的建议零售价",
    "offered": "标价",
    "offered_before_first_reduction": "首次降价前的标价",
    "established_offered": "持续标价",
    "offered_not_established": "未持续的标价",
    "fine_print": "小字",
    "prominent": "显著",
    "none": "未展示",
    "search": "搜索页",
    "home": "首页",
    # a pack's category ``home`` (PARCEL001's minimums), not the home page
    "category_home": "家居",
    "small_appliance": "小家电",
    "detail": "详情页",
    "live": "直播",
    "was": "原价",
    "all": "全部",
    "apparel": "服装",
    "alcohol": "酒类",
    "alcohol_retail": "酒类零售许可",
    "cosmetics": "化妆品",
    "electronics": "电子产品",
    "food": "食品",
    "food_business": "食品经营许可",
    "health_food": "保健食品",
    "medical_device": "医疗器械",
    "toys": "玩具",
    "drug": "药品",
    "bank_card": "银行卡号",
    "email": "电子邮箱",
    "mobile": "手机号",
    "resident_id": "身份证号",
    "passport": "护照号",
    "delivered_to_other_city": "送达城市与收货城市不符",
    "faster_than_possible": "运输速度不可能",
    "scan_before_placement": "下单前即有扫描",
    "scan_before_payment": "付款前即有扫描",
    "shipped_before_payment": "付款前即发货",
    "velocity": "高频下单",
    "instant_confirm": "秒确认",
    "velocity_one_day": "单日高频下单",
    "heavy_velocity": "每小时十单以上",
    "odd_hours": "深夜下单",
    "promised_dispatch_by_default": "默认发货时限",
    "yes": "是",
    "critical": "严重",
    "high": "高",
    "medium": "中",
    "low": "低",
    "no": "否",
    "and {n} more": "等另 {n} 项",
    "contact and payment stay on the platform": "联系与付款应在平台内进行",
    "goods whose trade the law prohibits may not be offered": "法律禁止交易的商品不得发布",
    "no reward conditioned on a positive review": "不得以好评为条件给予奖励",
    "personal information is not disclosed": "不得公开个人信息",
    "no absolute terms such as 国家级, 最高级, 最佳 in advertising": "广告不得使用“国家级”“最高级”“最佳”等用语",
    "only drugs and medical devices may refer to treating disease; no guaranteed efficacy": "只有药品、医疗器械可以涉及疾病治疗功能；不得保证功效",
    "a price comparison states its base; scarcity claims are true": "价格比较须标明基准；稀缺性宣传须真实",
}


def tr(text: str, **fmt: object) -> str:
    """``text`` (a sentence as written in English) in the current report language."""
    if current() == "zh":
        text = (
            PHRASES_ZH.get(text)
            or WORDS_ZH.get(text)
            or WORDS_ZH.get(text.replace(" ", "_"))  # a header naming a finding key
            or text
        )
    return text.format(**fmt) if fmt else text


def rule_title(code: str, title: str) -> str:
    """A rule's title in the current language (its own title when there is no translation)."""
    if current() == "zh":
        return RULE_TITLES_ZH.get(code, title)
    return title


#: A rule's recorded reason for a severity other than the pack's (``severity_reason``): its
#: English sentence as a pattern, and the Chinese with the same numbers and dates.
REASONS_ZH: list[tuple[str, str]] = [
    (
        r"looks like a recurring buying group \(拼单\): (\d+) of its (\d+) orders at these shops "
        r"were placed within (\d+) min of another member's, in sittings on (\d+) days across "
        r"(\d+) weeks \((\S+) to (\S+)\); lowered, not dropped: a ring's burst lasts days",
        r"看似长期拼单：在这些店铺的 \2 笔订单中有 \1 笔与其他成员的订单相隔不到 \3 分钟，"
        r"分布在 \5 周中的 \4 天（\6 至 \7）；降低严重程度而非剔除：刷单团伙的突发只持续数天",
    ),
    (
        r"a comparative claim over other goods or an endorsement by the state "
        r"\(Advertising Law Art\. (\S+)\)",
        r"与其他商品的比较性宣称，或以国家机关名义推荐（《广告法》第 \1 条）",
    ),
    (
        r"states the product's own attribute or its place in time, not a claim over other goods "
        r"\(SAMR 2023 enforcement guide on absolute terms\): low severity, still reported",
        r"描述商品自身属性或时间上的位置，并非与其他商品比较（市场监管总局 2023 年绝对化用语执法指南）"
        r"：低严重程度，仍予报告",
    ),
    (
        r"one winner's prizes add up past the cap only across separate draws: the law adds up "
        r"the chances of one ticket or purchase \(规范促销行为暂行规定 Art\. 17\), so the tickets "
        r"are to be checked",
        r"同一中奖者的奖金仅在多次抽奖中累计超过上限：法律累计的是同一奖券或一次购买的中奖机会"
        r"（《规范促销行为暂行规定》第十七条），需核查奖券",
    ),
    (
        r"the repeated buyer-hours fall on too few local days to be a habit: a sale day's "
        r"baskets split into several orders to stack per-order coupons \(凑单\) look the same",
        r"同一买家一小时内多次下单出现的自然日太少，不成规律：大促当天为叠加每单优惠券而拆单（凑单）也会如此",
    ),
    (
        r"the instant receipts that carry the shop over the bar are of goods delivered online "
        r"\(top-ups, game cards, e-tickets\), which reach the buyer on payment: confirming "
        r"receipt at once is expected there",
        r"使该店铺达到标准的秒确认订单为在线交付的商品（充值、游戏点卡、电子票），付款即送达买家："
        r"立即确认收货属正常（《电子商务法》第五十一条）",
    ),
    (
        r"the coupon's redemption records its discount in full and only the order's "
        r"discount_total \(0\.00\) shows nothing taken off: either checkout did not take it "
        r"off, or the export does not fill discount_total; the order's charge is to be checked",
        r"该优惠券的核销记录显示已足额抵扣，只有订单的优惠总额（0.00）显示未抵扣：要么结算时未抵扣，"
        r"要么导出数据未填写优惠总额；需核查该订单的实付金额",
    ),
    (
        r"the listing's category reads as goods delivered online \(a top-up, a game card, an "
        r"e-ticket\) and the order names no parcel: such goods need no carrier \(E-Commerce "
        r"Law Art\. 51\); that the goods really are delivered online is to be checked",
        r"该商品类目属于在线交付的商品（充值、游戏点卡、电子票），订单未填写任何包裹：此类商品"
        r"无需承运人（《电子商务法》第五十一条）；需核查该商品是否确为在线交付",
    ),
    (
        r"the order was refunded and its export shows nothing taken off for its coupons: a "
        r"refund can reverse the discount in an export \(the buyer then lost nothing\), so the "
        r"refund is to be checked",
        r"该订单已退款，导出数据显示其优惠券未抵扣任何金额：退款可能在导出数据中冲回优惠"
        r"（买家因此并无损失），需核查该笔退款",
    ),
    (
        r"the urgency word is negated where it is written \(没有倒计时, no last chance\): a "
        r"denial, low severity, still reported",
        r"紧迫性用语在原处被否定（没有倒计时）：属否认，低严重程度，仍予报告",
    ),
    (
        r"a light parcel beside a parcel of real weight on the same order \(an invoice, a "
        r"document or an accessory mailed apart\)",
        r"同一订单另有一个重量正常的包裹，轻包裹与之并行（另寄的发票、单据或配件）",
    ),
    (
        r"light goods \(documents, SIM cards, cards\): a token weight, but every parcel made a "
        r"complete journey \(pickup, transit scans, delivery in another city hours later\)",
        r"轻小件商品（文件、电话卡、卡片）：重量极轻，但每个包裹都有完整轨迹（揽收、中转扫描、"
        r"数小时后在另一城市签收）",
    ),
]


def reason(text: str) -> str:
    """A recorded severity reason in the current language (as recorded when no pattern fits)."""
    if current() == "zh":
        import re

        for pattern, zh in REASONS_ZH:
            if re.fullmatch(pattern, text):
                return re.sub(pattern, zh, text)
    return text


#: The built-in packs' titles in Chinese (a plugin pack keeps its own).
PACK_TITLES_ZH = {
    "cn": "中国（大陆）",
    "eu": "欧盟",
    "uk": "英国",
    "us": "美国（联邦及加利福尼亚州）",
}


def pack_title(name: str, title: str) -> str:
    if current() == "zh":
        return PACK_TITLES_ZH.get(name, title)
    return title


def word(key: str, english: str) -> str:
    """A finding key or coded value in the current language; ``english`` otherwise."""
    if current() == "zh":
        return WORDS_ZH.get(key, english)
    return english
