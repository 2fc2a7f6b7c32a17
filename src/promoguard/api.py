"""The Python API: the command line's verbs as functions that return pandas data frames.

>>> import promoguard.api as pg
>>> pg.simulate("season", scale="small", seed=7)            # doctest: +SKIP
>>> pg.ingest("season", "promo.duckdb")                     # doctest: +SKIP
>>> findings = pg.scan("promo.duckdb", pack="cn")            # doctest: +SKIP
>>> pg.evaluate(findings, "season/ground_truth.csv")        # doctest: +SKIP

Each function does what the command of the same name does; see ``promoguard COMMAND --help``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from promoguard import store as store_mod
from promoguard.model import TABLE_NAMES


def simulate(out: str | Path, *, scale: str = "small", seed: int = 0) -> dict:
    """Write a simulated season (every table and ground_truth.csv) into ``out``; its summary."""
    from promoguard.simulate import generate

    return generate(scale, seed, Path(out))


def ingest(src: str | Path, store: str | Path, *, tz: str = "UTC", adapter: str | None = None):
    """Ingest a folder of table files into a store; per-table counts as a data frame."""
    from promoguard import lake
    from promoguard.ingest import ingest_dir

    if lake.is_lake(store):
        report = lake.ingest(src, store, tz=tz, adapter=adapter)
    else:
        report = ingest_dir(Path(src), Path(store), tz=tz, adapter=adapter)
    tables = report.to_dict()["tables"]
    return pd.DataFrame.from_dict(tables, orient="index").rename_axis("table").reset_index()


def scan(
    store: str | Path,
    *,
    pack: str = "cn",
    engine: str = "duckdb",
    checks: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Scan a store with a pack; the findings (also kept in the store)."""
    from promoguard import lake
    from promoguard.checks.engine import scan as run_scan
    from promoguard.integrity import seal_store_scan

    if lake.is_lake(store):  # a lake seals the scan in the batch that publishes it
        return lake.scan(store, pack, engine=engine, checks=checks).findings
    result = run_scan(store, pack, engine=engine, checks=checks)
    seal_store_scan(store, result.scan_id)
    return result.findings


def findings(store: str | Path, *, scan_id: str | None = None) -> pd.DataFrame:
    """The findings of one scan (the latest when ``scan_id`` is None)."""
    with store_mod.open_store(store, read_only=True) as con:
        if scan_id is None:
            row = con.execute(
                "SELECT scan_id FROM scans ORDER BY started_at DESC, scan_id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return con.execute("SELECT * FROM findings LIMIT 0").df()
            scan_id = row[0]
        return con.execute(
            "SELECT * FROM findings WHERE scan_id = ? ORDER BY check_code, entity_id", [scan_id]
        ).df()


def table(store: str | Path, name: str) -> pd.DataFrame:
    """One canonical table (or quarantine, ingest_log, scans, findings) as a data frame."""
    allowed = (*TABLE_NAMES, "quarantine", "ingest_log", "scans", "findings", "evidence")
    if name not in allowed:
        raise KeyError(f"no table {name!r}; choose one of {', '.join(allowed)}")
    with store_mod.open_store(store, read_only=True) as con:
        return con.execute(f'SELECT * FROM "{name}"').df()  # noqa: S608 (name is from the list)


def evaluate(found: pd.DataFrame | str | Path, truth: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Precision, recall and F1 per check code, and the total (``ALL``)."""
    from promoguard.evaluate import evaluate as run_evaluate
    from promoguard.evaluate import read_table

    f = found if isinstance(found, pd.DataFrame) else read_table(Path(found))
    t = truth if isinstance(truth, pd.DataFrame) else read_table(Path(truth))
    return run_evaluate(f, t)


def report(store: str | Path, out: str | Path, *, scan_id: str | None = None) -> Path:
    """Write the self-contained HTML report; its path."""
    from promoguard.report import build_report

    return build_report(Path(store), Path(out), scan_id=scan_id)


def checks() -> pd.DataFrame:
    """The registered checks: code, name, family, entity type, severity, title."""
    from promoguard.checks.registry import all_checks

    return pd.DataFrame(
        [
            {
                "code": c.code,
                "name": c.name,
                "family": c.family,
                "entity_type": c.entity_type,
                "severity": c.severity,
                "title": c.title,
            }
            for c in all_checks()
        ]
    )
