"""One registry of checks, filled by the family modules and by plugins.

A family module (``promoguard.checks.pricing`` ...) registers its checks with ``@register`` at import.
Plugins add checks through the ``promoguard.checks`` entry-point group: each entry point names a
module (or a callable returning checks) that is imported when the registry is first read.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from collections.abc import Iterable

from promoguard.checks.base import SEVERITIES, Check
from promoguard.errors import CheckError
from promoguard.model import ENTITY_TYPES

#: The built-in families, imported on first use. A module not written yet is skipped.
FAMILY_MODULES: tuple[str, ...] = (
    "promoguard.checks.pricing",
    "promoguard.checks.coupons",
    "promoguard.checks.logistics",
    "promoguard.checks.licensing",
    "promoguard.checks.brushing",
    "promoguard.checks.reviews",
    "promoguard.checks.content",
)

_CHECKS: dict[str, Check] = {}
_loaded = False
CODE_PATTERN = re.compile(r"^[A-Z]+[0-9]{3}$")


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: validate a check's shape and add one instance of it to the registry."""
    check = cls()
    code = getattr(cls, "code", "")
    if not CODE_PATTERN.match(code):
        raise CheckError(f"{cls.__name__}: code {code!r} is not like PRICE001")
    for attr in ("name", "title", "family", "entity_type", "doc"):
        if not getattr(cls, attr, None):
            raise CheckError(f"{code}: missing {attr}")
    if cls.entity_type not in ENTITY_TYPES:
        raise CheckError(f"{code}: entity_type {cls.entity_type!r} not in {ENTITY_TYPES}")
    if cls.severity not in SEVERITIES:
        raise CheckError(f"{code}: severity {cls.severity!r} not in {SEVERITIES}")
    if code in _CHECKS and type(_CHECKS[code]) is not cls:
        raise CheckError(
            f"{code} is registered twice ({type(_CHECKS[code]).__name__}, {cls.__name__})"
        )
    _CHECKS[code] = check
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in FAMILY_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but something it imports does not
                raise
    for ep in importlib.metadata.entry_points(group="promoguard.checks"):
        obj = ep.load()
        if callable(obj) and not isinstance(obj, type):
            for cls in obj() or ():
                register(cls)


def all_checks() -> list[Check]:
    """Every registered check, sorted by code."""
    _load()
    return [_CHECKS[c] for c in sorted(_CHECKS)]


def get(code: str) -> Check:
    _load()
    try:
        return _CHECKS[code.strip().upper()]
    except KeyError:
        raise CheckError(f"unknown check {code!r}; `promoguard checks` lists them") from None


def select(codes: Iterable[str] | str | None) -> list[Check]:
    """Checks named by codes (``"PRICE001,SHIP"``: a prefix selects a family's codes), or all."""
    if codes is None:
        return all_checks()
    if isinstance(codes, str):
        codes = [c for c in re.split(r"[,\s]+", codes) if c]
    chosen: dict[str, Check] = {}
    for code in codes:
        code = code.strip().upper()
        if CODE_PATTERN.match(code):
            chosen[code] = get(code)
            continue
        matches = [c for c in all_checks() if c.code.startswith(code)]
        if not matches:
            raise CheckError(f"no check matches {code!r}; `promoguard checks` lists them")
        chosen.update({c.code: c for c in matches})
    return [chosen[c] for c in sorted(chosen)]
