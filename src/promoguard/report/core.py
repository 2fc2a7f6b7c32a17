"""The parts of the report that make it evidence: the findings register (every finding with its
id, rule, legal basis, observed vs expected in words, local time and evidence hash), the merchant
index and the methodology (pack, parameters and their basis, data coverage, ids, version).

These are data for the template; every value is escaped there (Jinja autoescape).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
from markupsafe import Markup

from promoguard import present
from promoguard.report.i18n import pack_title, rule_title
from promoguard.sqlbuild import sql

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
#: findings of one rule shown open; the rest are folded in a <details>
TOP = 10
#: findings of one rule listed at all (a city-scale scan has 100k+); the rest are counted
CAP = 400


def _registry():
    from promoguard.engine import registry

    return registry


def _load_pack(name: str):
    from promoguard.engine.packs import load_pack

    try:
        return load_pack(name)
    except Exception:  # noqa: BLE001 - a pack folder gone since the scan: report without it
        return None


@dataclass
class Row:
    finding_id: str
    severity: str
    merchant_id: str
    platform_id: str
    entity: str
    entity_kind: str
    observed: str
    expected: str
    detected: str
    sha256: str


@dataclass
class RuleGroup:
    code: str
    title: str
    severity: str
    total: int
    citations: list[dict[str, str]]
    legal_basis: str
    top: list[Row] = field(default_factory=list)
    rest: list[Row] = field(default_factory=list)
    not_listed: int = 0


def _citations(pack, code: str) -> list[dict[str, str]]:
    if pack is None or code not in pack.rules:
        return []
    return [
        {
            "law": c.law,
            "law_en": c.law_en if c.law_en and c.law_en != c.law else "",
            "article": c.article,
            "version": c.version,
            "jurisdiction": c.jurisdiction,
        }
        for c in pack.rules[code].legal_basis
    ]


def _entity(eid: str) -> str:
    if "|" in eid and len(eid) > 40:
        parts = eid.split("|")
        return f"{parts[0]} … (+{len(parts) - 1})"
    return eid


#: entity types in words (the report's language)
ENTITY_WORDS = {
    "listing": ("listing", "商品"),
    "order": ("order", "订单"),
    "merchant": ("merchant", "商家"),
    "review": ("review", "评价"),
    "text": ("text", "文本"),
    "buyer_group": ("buyer group", "买家团伙"),
    "coupon": ("coupon", "优惠券"),
    "prize_promotion": ("prize promotion", "有奖销售"),
    "shipment": ("shipment", "包裹"),
}


def entity_kind(etype: str) -> str:
    from promoguard.report.i18n import current

    en, zh = ENTITY_WORDS.get(etype, (etype.replace("_", " "), etype))
    return zh if current() == "zh" else en


def register(findings: pd.DataFrame, pack_name: str) -> list[RuleGroup]:
    """One group per rule, most severe findings first (then by entity, for a stable order)."""
    if findings.empty:
        return []
    pack = _load_pack(pack_name)
    tz, currency = present.pack_locale(pack_name)
    titles: dict[str, str] = {}
    with contextlib.suppress(Exception):  # a broken plugin must not lose the register
        titles = {c.code: c.title for c in _registry().all_checks()}
    f = findings.assign(_rank=findings.severity.map(SEVERITY_RANK).fillna(0))
    groups = []
    for code, g in f.groupby("check_code", sort=True):
        g = g.sort_values(["_rank", "entity_id"], ascending=[False, True])
        listed = g.head(CAP)
        rows = [
            Row(
                finding_id=r.finding_id,
                severity=r.severity,
                merchant_id=r.merchant_id if isinstance(r.merchant_id, str) else "",
                platform_id=r.platform_id if isinstance(r.platform_id, str) else "",
                entity=_entity(str(r.entity_id)),
                entity_kind=entity_kind(r.entity_type),
                observed=Markup(
                    present.sentence_html(present.loads(r.observed), tz=tz, currency=currency)
                ),
                expected=Markup(
                    present.sentence_html(present.loads(r.expected), tz=tz, currency=currency)
                ),
                detected=present.local_time(r.detected_at, tz),
                sha256=r.evidence_sha256,
            )
            for r in listed.itertuples()
        ]
        worst = max(g.severity, key=lambda s: SEVERITY_RANK.get(s, 0))
        groups.append(
            RuleGroup(
                code=str(code),
                title=rule_title(str(code), titles.get(str(code), "")),
                severity=worst,
                total=len(g),
                citations=_citations(pack, str(code)),
                legal_basis=str(g.legal_basis.iloc[0]),
                top=rows[:TOP],
                rest=rows[TOP:],
                not_listed=max(0, len(g) - CAP),
            )
        )
    groups.sort(key=lambda gr: (-SEVERITY_RANK.get(gr.severity, 0), gr.code))
    return groups


def merchant_index(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Every merchant with a finding: name, platform, findings, rules, most severe."""
    f = findings[findings.merchant_id.notna()]
    if f.empty:
        return []
    names = dict(con.execute("SELECT merchant_id, name FROM merchants").fetchall())
    out = []
    for m, g in f.groupby("merchant_id"):
        worst = max(g.severity, key=lambda s: SEVERITY_RANK.get(s, 0))
        out.append(
            {
                "merchant_id": m,
                "name": names.get(m, ""),
                "platform_id": ", ".join(sorted(set(g.platform_id.dropna()))),
                "findings": len(g),
                "checks": ", ".join(sorted(set(g.check_code))),
                "worst": worst,
                "rank": SEVERITY_RANK.get(worst, 0),
            }
        )
    out.sort(key=lambda r: (-r["findings"], -r["rank"], r["merchant_id"]))
    return out


def _table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    present_tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    out = {}
    for name in present_tables:
        try:
            out[name] = con.execute(sql("SELECT count(*) FROM {t}", t=name)).fetchone()[0]
        except duckdb.Error:
            continue
    return out


def coverage_words(entry: Any, t) -> str:
    """A scan's coverage entry for one rule in words ("not checked (no price_observations)")."""
    if isinstance(entry, dict):
        # what it ran with (digests, for scan --since) is no reader's business here
        entry = {k: v for k, v in entry.items() if k != "ran_with"}
        if not entry:
            return ""
        status = entry.get("status", "")
        if status == "skipped":
            reason = str(entry.get("reason", ""))
            if reason.startswith("no "):
                reason = t("no_table", table=reason[3:])
            return t("not_checked", reason=reason).replace(" ()", "").replace("（）", "")
        if status == "ran":
            rows = entry.get("rows")
            n = f" ({t('rows_n', n=f'{rows:,}')})" if isinstance(rows, int) else ""
            return f"{t('ran')}{n}"
        return ", ".join(f"{k} {v}" for k, v in entry.items())
    return str(entry)


#: a parameter's list longer than this is shown by its first items in the methodology (the
#: cn PARCEL001 category words are 41 nouns and 44 exceptions: a printed page of words; the
#: scan's record and the pack file hold them all)
BRIEF_ITEMS = 8

#: parameters keyed by a pack's product categories: ``home`` there is household goods, not the
#: home page (the channel the same word names elsewhere)
CATEGORY_KEYED = ("min_weight_grams", "category_words")


def _brief_value(name: str, value: Any, t) -> str:
    """A parameter's value as the methodology shows it: a list (or a mapping's list) of more
    than :data:`BRIEF_ITEMS` items by its first ones and how many more."""
    from promoguard.report.i18n import word

    def brief(items: list) -> str:
        shown = present.value_words(name, items[:BRIEF_ITEMS])
        rest = len(items) - BRIEF_ITEMS
        return f"{shown} {t('n_more', n=rest)}" if rest > 0 else shown

    def key(k: str) -> str:
        if name in CATEGORY_KEYED:
            return word(f"category_{k}", "") or present.key_words(k)
        return present.key_words(k)

    if isinstance(value, list):
        return brief(value)
    if isinstance(value, dict):
        return "; ".join(
            f"{key(k)} " + (brief(v) if isinstance(v, list) else present.value_words(k, v))
            for k, v in value.items()
        )
    return present.value_words(name, value)


def methodology(
    con: duckdb.DuckDBPyConnection,
    scan,
    store_name: str,
    t,
    parameters_of: set[str] | None = None,
) -> dict[str, Any]:
    """What the scan ran, with what parameters and on what data.

    ``parameters_of``: the rules whose parameters are listed (a merchant's report lists those of
    the rules that found something of that merchant); None lists every rule the scan ran.
    """
    pack = _load_pack(scan.pack)
    registry = _registry()
    counts = _table_rows(con)
    rules = []
    for code in sorted(set(scan.checks) | set(scan.missing)):
        try:
            check = registry.get(code)
        except Exception:  # noqa: BLE001
            check = None
        ran = code in scan.checks
        params = []
        if check is not None and (parameters_of is None or code in parameters_of):
            rule = pack.rules.get(code) if pack is not None else None
            used = (scan.parameters or {}).get(code, {})
            for p in check.parameters:
                setting = rule.parameters.get(p.name) if rule is not None else None
                basis = (setting.basis if setting and setting.basis else p.basis) or "policy"
                source = ""
                if setting is not None:
                    source = " ".join((setting.source or setting.why or "").split())
                params.append(
                    {
                        "name": p.name,
                        "value": _brief_value(p.name, used.get(p.name, p.default), t),
                        "basis": t("law_basis") if basis == "law" else t("policy_basis"),
                        "source": source or " ".join(p.doc.split()),
                    }
                )
        cover = (scan.coverage or {}).get(code)
        tables = list(getattr(check, "reads", ()) or ()) if check is not None else []
        rules.append(
            {
                "code": code,
                "title": rule_title(code, check.title) if check is not None else "",
                "ran": ran,
                "coverage": coverage_words(cover, t) if cover is not None else "",
                "tables": [(name, counts.get(name)) for name in tables],
                "parameters": params,
            }
        )
    ingests = []
    if "ingest_log" in counts:
        ingests = [
            r[0]
            for r in con.execute(
                "SELECT ingest_id FROM ingest_log GROUP BY ingest_id ORDER BY min(started_at)"
            ).fetchall()
        ]
    return {
        "pack": {
            "name": scan.pack,
            "title": pack_title(scan.pack, getattr(pack, "title", "")),
            "jurisdiction": getattr(pack, "jurisdiction", ""),
            "timezone": getattr(pack, "timezone", "UTC"),
            "currency": getattr(pack, "currency", ""),
            "description": " ".join(str(getattr(pack, "description", "")).split()),
        },
        "rules": rules,
        "recorded_coverage": bool(scan.coverage),
        "store": store_name,
        "ingests": ingests,
    }
