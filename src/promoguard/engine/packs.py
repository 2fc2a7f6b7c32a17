"""Jurisdiction rule packs: which checks run, with which parameters, on which legal basis.

A pack is a folder of YAML files. ``pack.yaml`` says what the pack is (name, jurisdiction, time
zone, currency, and optionally ``extends: base`` to start from another pack); every other ``*.yaml``
file holds the rules of one family under a ``checks:`` mapping::

    checks:
      PRICE001:
        severity: critical
        legal_basis:
          - law: 明码标价和禁止价格欺诈规定
            law_en: Provisions on Clearly Marked Prices and the Prohibition of Price Fraud
            article: Art. 16
            version: "2022-04-14"
            jurisdiction: CN
        parameters:
          lookback_days: {value: 30, basis: law, source: Directive 98/6/EC Art. 6a(2)}
          tolerance: {basis: policy, why: rounding of displayed prices}

A pack states only what differs from what it inherits: from the pack it extends, else from the
check's code (``enabled: true``, the check's severity, each parameter's default). A parameter
setting without ``value`` annotates the inherited value: it says where the law fixes it
(``source``) or why the policy chose it (``why``). The built-in ``cn``, ``eu``, ``uk`` and ``us``
extend ``base`` (abstract: not a pack to scan with), which holds what all four share; each adds
its jurisdiction's citations and its own values. ``tests/engine/test_packs.py`` flags a setting
equal to what it inherits.

Built-in packs live in ``promoguard/packs/<name>/``; ``--pack`` also takes a path to a folder laid
out the same way, so a bureau can keep its own pack beside the built-in ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from promoguard.engine.base import SEVERITIES, Check
from promoguard.errors import CheckError

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "packs"


@dataclass(frozen=True)
class Citation:
    law: str
    article: str
    version: str = ""
    jurisdiction: str = ""
    law_en: str = ""
    text: str = ""
    url: str = ""

    def short(self) -> str:
        version = f" ({self.version})" if self.version else ""
        where = f" [{self.jurisdiction}]" if self.jurisdiction else ""
        return f"{self.law}{version} {self.article}{where}".strip()


class _Unset:
    """No value: the setting only annotates the inherited one (its basis, source, why)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
#: the keys of a setting that annotates a value without changing it
ANNOTATION_KEYS = frozenset({"basis", "source", "why"})


@dataclass(frozen=True)
class ParameterSetting:
    value: Any = UNSET  # UNSET: the inherited value (the parent pack's, or the check's default)
    basis: str = ""  # law | policy; empty: as the check declares
    source: str = ""  # where the law fixes it
    why: str = ""  # for a policy value: why this default

    @property
    def has_value(self) -> bool:
        return self.value is not UNSET


@dataclass
class Rule:
    """One check's configuration inside a pack."""

    code: str
    enabled: bool = True
    severity: str | None = None
    legal_basis: list[Citation] = field(default_factory=list)
    parameters: dict[str, ParameterSetting] = field(default_factory=dict)
    source_file: str = ""
    #: what the pack says about the rule in words: for a disabled rule, why it is off there
    notes: str = ""

    def legal_basis_text(self) -> str:
        return "; ".join(c.short() for c in self.legal_basis)


@dataclass
class Pack:
    name: str
    title: str
    jurisdiction: str
    timezone: str
    currency: str
    description: str
    path: Path
    rules: dict[str, Rule] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def enabled_codes(self) -> list[str]:
        return sorted(c for c, r in self.rules.items() if r.enabled)

    def rule(self, code: str) -> Rule:
        try:
            return self.rules[code]
        except KeyError:
            raise CheckError(f"{code} is not part of pack {self.name!r}") from None

    def parameters_for(self, check: Check) -> dict[str, Any]:
        """The check's defaults overlaid with this pack's values; unknown names are an error."""
        params = check.parameter_defaults()
        rule = self.rules.get(check.code)
        if rule is None:
            return params
        for name, setting in rule.parameters.items():
            if name in params and not setting.has_value:
                continue  # annotates the default
            if name not in params:
                raise CheckError(
                    f"pack {self.name!r} sets unknown parameter {name!r} of {check.code} "
                    f"(in {rule.source_file}); it has: {', '.join(params) or 'none'}"
                )
            _check_type(self.name, check.code, rule.source_file, name, params[name], setting.value)
            params[name] = setting.value
        return params

    def severity_for(self, check: Check) -> str:
        rule = self.rules.get(check.code)
        return (rule.severity if rule and rule.severity else None) or check.severity

    def legal_basis_for(self, check: Check) -> str:
        rule = self.rules.get(check.code)
        text = rule.legal_basis_text() if rule else ""
        return text or f"no legal basis recorded in pack {self.name!r}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _check_type(pack: str, code: str, source: str, name: str, default: Any, value: Any) -> None:
    """A pack value must have the kind of the parameter's default: a pack from elsewhere that sets
    a threshold to ``abc`` or a list gets one line naming it, not a crash deep inside a rule."""
    if default is None or value is None:
        ok = not isinstance(value, dict | list | tuple | bool)  # a path, a date, a number
    elif isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and isinstance(default, int) and isinstance(value, float):
            ok = value.is_integer()
        if ok and isinstance(value, float):
            ok = math.isfinite(value)
    elif isinstance(default, list | tuple):
        ok = isinstance(value, list | tuple | str)  # one item may be written alone (a path)
    else:
        ok = _kind(value) == _kind(default)
    if not ok:
        want = "text or null" if default is None else _kind(default)
        if isinstance(default, int) and not isinstance(default, bool):
            want = "a whole number"
        raise CheckError(
            f"pack {pack!r}: {code} parameter {name!r} (in {source}) must be {want}, "
            f"not {value!r:.60}"
        )


def available_packs() -> list[str]:
    """The built-in packs a scan can use (not ``abstract`` ones such as ``base``)."""
    return sorted(
        p.name
        for p in BUILTIN_DIR.iterdir()
        if (p / "pack.yaml").is_file() and not _read_yaml(p / "pack.yaml").get("abstract")
    )


#: A pack file is a page of settings: anything bigger is not a pack (and would cost memory).
MAX_YAML_BYTES = 1024 * 1024


class _PackLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without anchors and aliases.

    Safe loading already refuses tags that build objects; aliases are refused too, because a few
    hundred bytes of nested aliases ("billion laughs") expand to gigabytes once the settings are
    copied and hashed. No pack needs them: every setting is written where it applies.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in a pack", event.start_mark
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "YAML anchors (&name) are not allowed in a pack", event.start_mark
            )
        return super().compose_node(parent, index)


#: libyaml's parser where PyYAML has it: the same events, ~8x faster than the Python one (a cn
#: pack's 15 files took 0.15 s to read, on every scan and every increment)
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _load_text(text: str) -> Any:
    """The YAML document in ``text``, as ``_PackLoader`` reads it (anchors and aliases refused)."""
    if _FAST_LOADER is None:
        return yaml.load(text, Loader=_PackLoader)  # noqa: S506
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                break
        else:
            return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506
    except yaml.YAMLError:
        pass
    # an anchor, an alias or an error: the Python loader says which, where, as it always has
    return yaml.load(text, Loader=_PackLoader)  # noqa: S506


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CheckError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_YAML_BYTES:
        raise CheckError(f"{path}: {size} bytes; a pack file holds at most {MAX_YAML_BYTES}")
    try:
        data = _load_text(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise CheckError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise CheckError(f"{path}: not valid YAML{where} ({problem})") from None
    if not isinstance(data, dict):
        raise CheckError(f"{path}: expected a mapping at the top level")
    return data


def _parse_setting(raw: Any) -> ParameterSetting:
    """``{value: 7, basis: law, source: ...}``, a bare value, or (no ``value``) an annotation of
    the inherited value: ``{basis: law, source: ...}`` says where the law fixes it."""
    if isinstance(raw, dict) and ("value" in raw or (raw and set(raw) <= ANNOTATION_KEYS)):
        return ParameterSetting(
            value=raw.get("value", UNSET),
            basis=str(raw.get("basis", "")),
            source=str(raw.get("source", "")),
            why=str(raw.get("why", "")),
        )
    return ParameterSetting(value=raw)


def _resolve_paths(value: Any, folder: Path) -> Any:
    """Paths in a pack (lexicons, maps) are relative to the file that names them: ``./x.csv``.

    Lists are resolved item by item; anything else is returned as it is (the same object).
    """
    if isinstance(value, str) and value.startswith("./"):
        return str((folder / value).resolve())
    if isinstance(value, list) and any(isinstance(v, str) and v.startswith("./") for v in value):
        return [_resolve_paths(v, folder) for v in value]
    return value


def _parse_rule(code: str, raw: dict[str, Any], source: Path, base: Rule | None) -> Rule:
    rule = Rule(code=code, source_file=source.name) if base is None else base
    if not isinstance(raw, dict):
        raise CheckError(f"{source}: {code} must be a mapping")
    unknown = set(raw) - {"enabled", "severity", "legal_basis", "parameters", "notes"}
    if unknown:
        raise CheckError(f"{source}: {code} has unknown keys {sorted(unknown)}")
    if "enabled" in raw:
        rule.enabled = bool(raw["enabled"])
    if raw.get("notes") is not None:
        rule.notes = " ".join(str(raw["notes"]).split())
    if raw.get("severity") is not None:
        if raw["severity"] not in SEVERITIES:
            raise CheckError(f"{source}: {code} severity must be one of {SEVERITIES}")
        rule.severity = raw["severity"]
    if "legal_basis" in raw:
        cites = raw["legal_basis"] or []
        try:
            rule.legal_basis = [Citation(**{k: str(v) for k, v in c.items()}) for c in cites]
        except TypeError as exc:
            raise CheckError(f"{source}: {code} legal_basis: {exc}") from None
    for name, value in (raw.get("parameters") or {}).items():
        setting = _parse_setting(value)
        if not setting.has_value and name in rule.parameters:
            # an annotation keeps the inherited value and says where it comes from here
            setting = replace(setting, value=rule.parameters[name].value)
        resolved = _resolve_paths(setting.value, source.parent)
        if resolved is not setting.value:
            setting = ParameterSetting(resolved, setting.basis, setting.source, setting.why)
        rule.parameters[name] = setting
    rule.source_file = source.name
    return rule


def _extended(extends: str, folder: Path) -> Path:
    """The folder ``extends:`` names: a built-in pack (``base``, ``cn``), or a folder inside the
    extending pack's own folder (``./ours``) — never a folder that happens to sit in the current
    directory under a built-in pack's name, and never one elsewhere on the machine (a pack from
    another bureau must not pull in files beside it: ``../../home/x``, ``/etc``)."""
    if "/" in extends or "\\" in extends or extends.startswith("."):
        target = (folder / extends).resolve()
        if target == folder.resolve() or not target.is_relative_to(folder.resolve()):
            raise CheckError(
                f"{folder / 'pack.yaml'}: extends {extends!r} leaves the pack's folder; "
                "name a built-in pack or a folder inside this one"
            )
        return target
    if extends not in [p.name for p in BUILTIN_DIR.iterdir() if (p / "pack.yaml").is_file()]:
        raise CheckError(f"{folder / 'pack.yaml'}: extends {extends!r}: no such built-in pack")
    return BUILTIN_DIR / extends


def load_pack(name_or_path: str | Path, _seen: tuple[str, ...] = ()) -> Pack:
    """Load a built-in pack by name (``cn``) or a pack folder by path."""
    candidate = Path(name_or_path)
    # A built-in pack's name means the built-in pack, even when a folder of that name sits in
    # the current directory (a folder called "cn" must not stand in for the cn pack): a local
    # folder of that name is reached as ./cn.
    builtin = BUILTIN_DIR / str(name_or_path)
    is_builtin_name = (
        isinstance(name_or_path, str)
        and not any(c in name_or_path for c in "/\\.")
        and (builtin / "pack.yaml").is_file()
    )
    folder = builtin if is_builtin_name else (candidate if candidate.is_dir() else builtin)
    meta_file = folder / "pack.yaml"
    if not meta_file.is_file():
        raise CheckError(
            f"unknown pack {str(name_or_path)!r}; built-in packs: {', '.join(available_packs())}"
        )
    meta = _read_yaml(meta_file)
    name = str(meta.get("pack") or folder.name)
    if name in _seen:
        raise CheckError(f"pack {name!r} extends itself through {' -> '.join(_seen)}")
    parent = None
    if meta.get("extends"):
        parent = load_pack(_extended(str(meta["extends"]), folder), _seen + (name,))
        rules = {c: Rule(**vars(r)) for c, r in parent.rules.items()}
        for r in rules.values():
            r.parameters = dict(r.parameters)
        settings = dict(parent.settings)
    else:
        rules, settings = {}, {}
    settings.update(meta.get("settings") or {})
    pack = Pack(
        name=name,
        title=str(meta.get("title", name)),
        jurisdiction=str(meta.get("jurisdiction", "")),
        timezone=str(meta.get("timezone", parent.timezone if parent else "UTC")),
        currency=str(meta.get("currency", parent.currency if parent else "")),
        description=str(meta.get("description", "")),
        path=folder,
        rules=rules,
        settings=settings,
    )
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "pack.yaml":
            continue
        data = _read_yaml(path)
        unknown = set(data) - {"checks", "notes"}
        if unknown:
            raise CheckError(f"{path}: unknown top-level keys {sorted(unknown)}")
        for code, raw in (data.get("checks") or {}).items():
            if (
                code in pack.rules
                and pack.rules[code].source_file != path.name
                and not meta.get("extends")
            ):
                raise CheckError(
                    f"{path}: {code} is also configured in {pack.rules[code].source_file}"
                )
            pack.rules[code] = _parse_rule(code, raw, path, pack.rules.get(code))
    return pack
