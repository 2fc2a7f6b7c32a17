"""One registry of checks, filled by the built-in rules and by plugins through the same hook.

Every module under ``promoguard.rules`` (one rule per file, ``rules/<family>/<code>_<name>.py``;
files starting with ``_`` hold what a family's rules share) registers its rule with ``@register``
when imported. Plugins add rules through the ``promoguard.rules`` entry-point group: each entry
point names a module (or a callable returning check classes) that is imported when the registry
is first read.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import re
from collections.abc import Iterable

from promoguard.engine.base import SEVERITIES, Check
from promoguard.errors import CheckError
from promoguard.model import ENTITY_TYPES

#: The package whose modules are the built-in rules.
RULES_PACKAGE = "promoguard.rules"
#: The entry-point group through which other installed packages add rules.
ENTRY_POINT_GROUP = "promoguard.rules"

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
    for module in rule_modules():
        importlib.import_module(module)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        if callable(obj) and not isinstance(obj, type):
            for cls in obj() or ():
                register(cls)


def rule_modules() -> list[str]:
    """The built-in rule modules: every module under ``promoguard.rules`` not named ``_*``."""
    package = importlib.import_module(RULES_PACKAGE)
    out = []
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{RULES_PACKAGE}."):
        if not info.ispkg and not info.name.rsplit(".", 1)[1].startswith("_"):
            out.append(info.name)
    return sorted(out)


def all_checks() -> list[Check]:
    """Every registered check, sorted by code."""
    _load()
    return [_CHECKS[c] for c in sorted(_CHECKS)]


def for_section(section: str) -> list[Check]:
    """The checks whose findings a report section shows, sorted by code."""
    return [c for c in all_checks() if c.section == section]


def find(code: str) -> Check | None:
    """The check registered under ``code``, or None (a finding of a rule no longer installed)."""
    _load()
    return _CHECKS.get(str(code).strip().upper())


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
