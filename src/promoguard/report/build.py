"""Assemble the report from the store's latest (or a chosen) scan and the discovered sections."""

from __future__ import annotations

import datetime as dt
import html
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from promoguard import __version__
from promoguard import store as store_mod
from promoguard.errors import PromoGuardError


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    order: int
    module: ModuleType


def discover_sections() -> list[Section]:
    """Every module of ``promoguard.report.sections`` with TITLE, ORDER and render, by ORDER."""
    from promoguard.report import sections as pkg

    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        if not all(hasattr(module, a) for a in ("TITLE", "ORDER", "render")):
            continue
        found.append(Section(info.name, str(module.TITLE), int(module.ORDER), module))
    return sorted(found, key=lambda s: (s.order, s.name))


def _scan_row(con: duckdb.DuckDBPyConnection, scan_id: str | None) -> dict:
    """The named scan, else the latest complete one (see :mod:`promoguard.scans`)."""
    from promoguard.scans import choose_scan

    choice = choose_scan(con, scan_id)
    s = choice.scan
    return {
        "scan_id": s.scan_id,
        "pack": s.pack,
        "engine": s.engine,
        "checks": ",".join(s.checks),
        "started_at": s.started_at,
        "findings": s.findings,
        "info": s,
        "choice": choice,
    }


def load_findings(con: duckdb.DuckDBPyConnection, scan_id: str) -> pd.DataFrame:
    return con.execute(
        "SELECT * FROM findings WHERE scan_id = ? ORDER BY check_code, entity_id", [scan_id]
    ).df()


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("promoguard", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(con: duckdb.DuckDBPyConnection, scan_id: str | None = None) -> str:
    return _render(con, _scan_row(con, scan_id))


def _render(con: duckdb.DuckDBPyConnection, scan: dict) -> str:
    findings = load_findings(con, scan["scan_id"])
    rendered = []
    for section in discover_sections():
        try:
            fragment = section.module.render(con, findings)
        except Exception as exc:  # one broken section must not lose the whole report
            fragment = (
                f"<p class='error'>This section failed: {html.escape(type(exc).__name__)}: "
                f"{html.escape(str(exc))}</p>"
            )
        if fragment:
            rendered.append({"id": section.name, "title": section.title, "html": Markup(fragment)})
    template = _environment().get_template("report.html")
    return template.render(
        scan=scan,
        total=len(findings),
        sections=rendered,
        version=__version__,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


@dataclass(frozen=True)
class Written:
    path: Path
    #: which scan the report is of, and why that one (named, latest complete, ...)
    choice: object


def write_report(
    store_path: str | Path, out_path: str | Path, scan_id: str | None = None
) -> Written:
    """Write the report of a scan (default: the latest complete one); where, and which scan."""
    if not Path(store_path).exists():
        raise PromoGuardError(f"no store at {store_path}")
    out = Path(out_path)
    if out.resolve() == Path(store_path).resolve():
        raise PromoGuardError(f"--out {out} is the store itself; choose another file")
    con = store_mod.connect(store_path, read_only=True)
    try:
        scan = _scan_row(con, scan_id)
        text = _render(con, scan)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return Written(out, scan["choice"])


def build_report(store_path: str | Path, out_path: str | Path, scan_id: str | None = None) -> Path:
    """Write the report of a scan (default: the latest complete one) to ``out_path``; the path."""
    return write_report(store_path, out_path, scan_id).path
