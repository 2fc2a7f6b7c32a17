"""The guidance notice (行政指导意见书): bilingual HTML from a Jinja2 template, PDF by WeasyPrint.

Everything that comes from data (names, finding values, legal basis) is escaped by the template
engine's autoescape; the PDF uses the Noto CJK fonts the setup script installs (fonts-noto-cjk).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from promoguard.cases.errors import CaseError

DEFAULT_BUREAU = "市场监督管理局 Market Supervision Administration"

#: What the platform must report back, per family (shown under each finding group).
REPORT_BACK = {
    "PRICE": (
        "更正或撤下不实的划线价、折扣标示，说明原价依据",
        "correct or remove the false reference price or discount and state the basis of the prior price",
    ),
    "SHIP": (
        "说明发货与物流记录，纠正虚假发货并对商家处理",
        "explain the dispatch and tracking records, correct false shipping and say how the merchant was dealt with",
    ),
    "PARCEL": (
        "核查空包订单并退款，对商家处理",
        "investigate the empty-parcel orders, refund buyers and say how the merchant was dealt with",
    ),
    "LIC": (
        "核验商家许可证，无证经营商品下架",
        "verify the merchant's licence and take down licensed goods sold without one",
    ),
    "BRUSH": (
        "清理刷单销量与评价，对涉事商家处理",
        "remove faked sales and ratings and say how the merchant was dealt with",
    ),
    "REVIEW": (
        "删除虚假评价，停止好评返现",
        "remove the fake reviews and stop rewards for good reviews",
    ),
    "TEXT": ("修改或删除违法宣传内容", "amend or remove the unlawful advertising text"),
    "COUPON": (
        "更正优惠券规则展示并补偿受影响消费者",
        "correct how coupon terms are shown and compensate affected buyers",
    ),
    "PRIZE": (
        "补充有奖销售信息公示，纠正违规奖项设置",
        "publish the mandatory prize information and correct non-compliant prizes",
    ),
}


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("promoguard.cases", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _values(text: str) -> list[tuple[str, str]]:
    try:
        obj = json.loads(text or "{}")
    except ValueError:
        return [("", text)]
    if not isinstance(obj, dict):
        return [("", str(obj))]
    return [
        (str(k), json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
        for k, v in obj.items()
    ]


def _evidence_summary(document: str | None, limit: int = 3) -> str:
    """A short human summary of an evidence document: its tables and row counts."""
    if not document:
        return ""
    try:
        obj = json.loads(document)
    except ValueError:
        return ""
    if isinstance(obj, dict):
        parts = []
        for k, v in obj.items():
            if isinstance(v, list):
                parts.append(f"{k}: {len(v)} rows")
            elif not isinstance(v, dict):
                parts.append(f"{k}: {v}")
            if len(parts) >= limit + 3:
                break
        return "; ".join(parts)
    return ""


def render_html(
    case: Any,
    findings: Sequence[Any],
    documents: dict[str, str],
    *,
    deadline: dt.date,
    bureau: str | None = None,
    issued_on: dt.date | None = None,
) -> str:
    """The notice for ``case`` as one self-contained HTML page (Chinese and English)."""
    bureau = bureau or os.environ.get("PROMOGUARD_BUREAU") or DEFAULT_BUREAU
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(f.family, []).append(
            {
                "check_code": f.check_code,
                "entity_type": f.entity_type,
                "entity_id": f.entity_id,
                "severity": f.severity,
                "legal_basis": f.legal_basis,
                "observed": _values(f.observed),
                "expected": _values(f.expected),
                "evidence_sha256": f.evidence_sha256,
                "evidence_summary": _evidence_summary(documents.get(f.evidence_sha256)),
            }
        )
    families = [
        {
            "family": fam,
            "findings": items,
            "report_back": REPORT_BACK.get(fam, ("说明整改情况", "report what was done")),
        }
        for fam, items in sorted(groups.items())
    ]
    return (
        _env()
        .get_template("notice.html.j2")
        .render(
            bureau=bureau,
            case=case,
            families=families,
            total=len(findings),
            deadline=deadline,
            issued_on=issued_on or dt.datetime.now(dt.UTC).date(),
        )
    )


def write(html: str, out: Path) -> Path:
    """Write the notice as ``.html`` or as ``.pdf`` (WeasyPrint, CJK fonts)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".html":
        out.write_text(html, encoding="utf-8")
        return out
    if suffix == ".pdf":
        try:
            from weasyprint import HTML
        except (ImportError, OSError) as exc:  # OSError: pango missing
            raise CaseError(
                f"cannot write PDF (WeasyPrint or its pango libraries missing): {exc}"
            ) from exc
        HTML(string=html).write_pdf(str(out))
        return out
    raise CaseError(f"a notice is written as .html or .pdf, not {suffix or '(none)'}")
