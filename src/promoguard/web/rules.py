"""What the pages say about a rule: its title, family, explanation and legal basis, per pack.

Read from the check registry and the rule packs (the same source as ``promoguard explain``), once,
and cached: the registry does not change while the server runs.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any


def _module(*names: str) -> Any:
    """The first of ``names`` that imports (the registry moved from checks/ to engine/)."""
    last: Exception | None = None
    for name in names:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            last = exc
    raise last or ModuleNotFoundError(names[0])


@functools.cache
def rule_pages() -> dict[str, dict[str, Any]]:
    """``{code: {code, title, family, severity, what, why, example, basis: {pack: text}}}``."""
    registry = _module("promoguard.engine.registry", "promoguard.checks.registry")
    packs_mod = _module("promoguard.engine.packs", "promoguard.checks.packs")
    packs = []
    for name in packs_mod.available_packs():
        try:
            packs.append(packs_mod.load_pack(name))
        except Exception:  # noqa: BLE001 - a broken pack file must not take the web pages down
            continue
    pages: dict[str, dict[str, Any]] = {}
    for check in registry.all_checks():
        basis = {}
        for pack in packs:
            try:
                text = pack.legal_basis_for(check)
            except Exception:  # noqa: BLE001 - a pack without this rule
                text = ""
            if text:
                basis[pack.name] = text
        doc = getattr(check, "doc", None)
        pages[check.code] = {
            "code": check.code,
            "title": check.title,
            "family": check.family,
            "severity": check.severity,
            "what": getattr(doc, "what", ""),
            "why": getattr(doc, "why", ""),
            "example": getattr(doc, "example", ""),
            "basis": basis,
        }
    return pages


def rule_page(code: str) -> dict[str, Any] | None:
    return rule_pages().get(code)


def family_of(code: str) -> str:
    page = rule_pages().get(code)
    if page:
        return page["family"]
    return "".join(ch for ch in code if ch.isalpha()).lower() or "other"
