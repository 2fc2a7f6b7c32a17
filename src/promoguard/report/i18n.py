"""The report's own words in English and Chinese (``promoguard report --lang zh|en``).

Only the frame of the report is translated here (headings, labels, the methodology and the
disclaimer); rule titles, legal citations and data are shown as the packs and the store hold them.
"""

from __future__ import annotations

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
