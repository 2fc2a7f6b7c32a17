"""What tests of rules share: run rules on a store connection the way a scan does.

Import it as ``from tests.support import run_check``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from promoguard.engine import registry
from promoguard.engine.backends import duckdb_tables
from promoguard.engine.packs import ParameterSetting, load_pack
from promoguard.engine.run import ScanResult, run_checks

#: the detection time every test finding carries (ids do not depend on it)
DETECTED_AT = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


def run_check(
    con: duckdb.DuckDBPyConnection,
    codes: str,
    pack: str = "cn",
    overrides: dict[str, dict[str, Any]] | None = None,
    detected_at: dt.datetime = DETECTED_AT,
) -> ScanResult:
    """Run the rules named by ``codes`` (``"SHIP001"``, ``"BRUSH"``, ``"SHIP001,LIC001"``) of a
    pack on DuckDB; ``overrides`` sets parameters: ``{"SHIP001": {"pickup_within_hours": 2}}``."""
    the_pack = load_pack(pack)
    for code, values in (overrides or {}).items():
        rule = the_pack.rules[code]
        for name, value in values.items():
            rule.parameters[name] = ParameterSetting(value)
    with duckdb_tables(con) as tables:
        return run_checks(
            tables,
            registry.select(codes),
            the_pack,
            engine="duckdb",
            scan_id="t",
            detected_at=detected_at,
        )
