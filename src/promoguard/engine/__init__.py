"""The engine: runs rules on DuckDB or Spark and turns what they find into findings.

- :mod:`~promoguard.engine.base`: the ``Check`` contract (code, name, family, parameters, docs);
- :mod:`~promoguard.engine.registry`: the rules, built-in (``promoguard.rules``) and plugins;
- :mod:`~promoguard.engine.packs`: jurisdiction packs (which rules, which parameters, which law);
- :mod:`~promoguard.engine.run`: a scan (finders, evidence, findings) and its progress callback;
- :mod:`~promoguard.engine.evidence`: canonical JSON and SHA-256 of evidence documents;
- :mod:`~promoguard.engine.exact`: integer-exact arithmetic every engine agrees on;
- :mod:`~promoguard.engine.backends`: the one place that knows DuckDB from Spark;
- :mod:`~promoguard.engine.cache`: what one scan shares between its rules;
- :mod:`~promoguard.engine.docs`: rule pages for ``explain`` and ``docs/checks.md``.

``promoguard.engine.scan(...)`` and friends are reachable from here without importing the heavy
modules until they are used.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "scan": "promoguard.engine.run",
    "run_checks": "promoguard.engine.run",
    "ScanResult": "promoguard.engine.run",
    "finding_id": "promoguard.engine.run",
    "write_findings": "promoguard.engine.run",
    "save_result": "promoguard.engine.run",
    "coverage_text": "promoguard.engine.run",
    "duckdb_tables": "promoguard.engine.backends",
    "spark_tables": "promoguard.engine.backends",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'promoguard.engine' has no attribute {name!r}")


__all__ = sorted(_LAZY)
