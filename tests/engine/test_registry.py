"""One rule, one file: every built-in rule is found from its code alone."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from promoguard.engine import registry
from promoguard.engine.base import Check

TESTS = Path(__file__).resolve().parents[1]


def test_every_built_in_rule_is_alone_in_a_file_named_after_its_code():
    by_module: dict[str, list[str]] = {}
    for check in registry.all_checks():
        module = type(check).__module__
        if not module.startswith(registry.RULES_PACKAGE + "."):
            continue  # a plugin's rule lives in its own package
        by_module.setdefault(module, []).append(check.code)
        path = Path(inspect.getfile(type(check)))
        assert path.stem.startswith(check.code.lower() + "_"), (check.code, path)
        assert path.parent.parent.name == "rules", path  # rules/<family>/<code>_<name>.py
        assert (TESTS / "rules" / "snapshots" / f"{check.code}.json").is_file(), check.code
    assert sorted(by_module) == registry.rule_modules()  # no rule module without its rule
    # and the registry's modules are every rule file on disk: one it never imports is a rule
    # no code finds (the comparison above reads the registry on both sides)
    rules = Path(inspect.getfile(importlib.import_module(registry.RULES_PACKAGE))).parent
    files = sorted(
        ".".join([registry.RULES_PACKAGE, *p.relative_to(rules).with_suffix("").parts])
        for p in rules.rglob("*.py")
        if not p.name.startswith("_")
    )
    assert files == registry.rule_modules()
    for module, codes in by_module.items():
        assert len(codes) == 1, (module, codes)
        defined = [
            c
            for c in vars(importlib.import_module(module)).values()
            if inspect.isclass(c) and issubclass(c, Check) and c.__module__ == module
        ]
        assert len(defined) == 1, (module, defined)
