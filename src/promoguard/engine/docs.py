"""Rule pages generated from the registry and the packs: one source for `explain` and docs/checks.md.

A rule page follows ruff's shape — What it does / Why it is unlawful / Example — and adds what only
the packs know: the legal basis per jurisdiction and each parameter's value per pack, with whether
the law fixes it or it is a policy choice (and why).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from promoguard.engine import registry
from promoguard.engine.base import Check
from promoguard.engine.packs import Pack, available_packs, load_pack

STALE_HINT = "run `promoguard checks --markdown > docs/checks.md`"


@dataclass(frozen=True)
class PackView:
    """What one pack says about one check."""

    pack: str
    jurisdiction: str
    enabled: bool
    severity: str
    citations: list[dict[str, str]]
    parameters: dict[str, dict[str, Any]]  # name -> value, basis, source, why
    notes: str = ""


def _packs(names: list[str] | None = None) -> list[Pack]:
    return [load_pack(n) for n in (names or available_packs())]


def pack_views(check: Check, packs: list[Pack]) -> list[PackView]:
    views = []
    for pack in packs:
        rule = pack.rules.get(check.code)
        if rule is None:
            continue
        values = pack.parameters_for(check)
        params = {}
        for p in check.parameters:
            setting = rule.parameters.get(p.name)
            params[p.name] = {
                "value": values[p.name],
                "basis": (setting.basis if setting and setting.basis else p.basis),
                "source": setting.source if setting else "",
                "why": setting.why if setting else "",
                "set_by_pack": setting is not None,
            }
        views.append(
            PackView(
                pack=pack.name,
                jurisdiction=pack.jurisdiction,
                enabled=rule.enabled,
                severity=pack.severity_for(check),
                citations=[{k: v for k, v in vars(c).items() if v} for c in rule.legal_basis],
                parameters=params,
                notes=rule.notes,
            )
        )
    return views


def check_record(check: Check, packs: list[Pack] | None = None) -> dict[str, Any]:
    """Everything about one check as plain data (``explain --json``)."""
    views = pack_views(check, packs if packs is not None else _packs())
    return {
        "code": check.code,
        "name": check.name,
        "title": check.title,
        "family": check.family,
        "entity_type": check.entity_type,
        "severity": check.severity,
        "what": check.doc.what,
        "why": check.doc.why,
        "example": check.doc.example,
        "parameters": [
            {"name": p.name, "default": p.default, "doc": p.doc, "basis": p.basis, "unit": p.unit}
            for p in check.parameters
        ],
        "packs": [vars(v) for v in views],
    }


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


def _cell(text: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render_check_markdown(check: Check, packs: list[Pack], level: int = 2) -> str:
    h = "#" * level
    views = pack_views(check, packs)
    out = [f"{h} {check.code} {check.name}", "", f"**{check.title}** ", ""]
    out.append(
        f"Family: {check.family} · entity: {check.entity_type} · default severity: "
        f"{check.severity} · finder: {'relational (Ibis)' if check.is_relational else 'local'}"
    )
    out += ["", f"{h}# What it does", "", check.doc.what, ""]
    out += [f"{h}# Why it is unlawful", "", check.doc.why, ""]
    out += [f"{h}# Legal basis", ""]
    if not views:
        out += ["No pack configures this check.", ""]
    for v in views:
        state = "" if v.enabled else " — disabled"
        out.append(f"- **{v.pack}** ({v.jurisdiction}, severity {v.severity}){state}")
        if v.notes and not v.enabled:
            out.append(f"  - why: {v.notes}")
        for c in v.citations:
            law = c.get("law", "")
            if c.get("law_en") and c.get("law_en") != law:
                law += f" ({c['law_en']})"
            line = f"  - {law}, {c.get('article', '')}"
            if c.get("version"):
                line += f", version {c['version']}"
            out.append(line)
            if c.get("text"):
                out.append(f"    - {' '.join(c['text'].split())}")
    out += ["", f"{h}# Example", "", check.doc.example, ""]
    out += [f"{h}# Parameters", ""]
    if not check.parameters:
        out += ["None.", ""]
    else:
        names = [v.pack for v in views]
        out.append("| parameter | default | " + " | ".join(names) + " | meaning |")
        out.append("|---|---|" + "---|" * len(names) + "---|")
        for p in check.parameters:
            cells = []
            for v in views:
                s = v.parameters[p.name]
                cells.append(_cell(f"{_value(s['value'])} ({s['basis']})"))
            out.append(
                f"| `{p.name}` | {_cell(_value(p.default))} | "
                + " | ".join(cells)
                + f" | {_cell(p.doc)} |"
            )
        out.append("")
        notes = []
        for v in views:
            for name, s in v.parameters.items():
                if s["source"]:
                    notes.append(f"- {v.pack} `{name}`: law — {' '.join(s['source'].split())}")
                elif s["why"]:
                    notes.append(f"- {v.pack} `{name}`: policy — {' '.join(s['why'].split())}")
        if notes:
            out += ["Where each value comes from:", "", *notes, ""]
    return "\n".join(out)


def render_markdown(packs: list[str] | None = None) -> str:
    """docs/checks.md: every registered check with every pack's configuration."""
    loaded = _packs(packs)
    checks = registry.all_checks()
    out = [
        "# Checks",
        "",
        f"<!-- generated from the registry and the packs; {STALE_HINT} -->",
        "",
        "| code | name | family | severity | title |",
        "|---|---|---|---|---|",
    ]
    for c in checks:
        out.append(f"| {c.code} | {c.name} | {c.family} | {c.severity} | {_cell(c.title)} |")
    out.append("")
    for c in checks:
        out.append(render_check_markdown(c, loaded))
    return "\n".join(out).rstrip() + "\n"
