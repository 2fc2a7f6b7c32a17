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
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from promoguard import __version__
from promoguard import store as store_mod
from promoguard.errors import PromoGuardError
from promoguard.safety import bidi_safe, private_file


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


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("promoguard", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _integrity_fragment(con: duckdb.DuckDBPyConnection, scan_id: str) -> str | None:
    """A red warning when the scan does not verify (a finding or document changed since)."""
    from promoguard import integrity

    check = integrity.verify(con, scan_id, limit=20)
    if check.ok:
        return None
    items = "".join(f"<li>{html.escape(str(p))}</li>" for p in check.problems[:20])
    return (
        "<div class='error' style='border:3px solid #b00020;color:#b00020;padding:1em'>"
        "<strong>This scan does not verify: what follows may have been altered after the scan."
        "</strong> Run <code>promoguard verify</code> on the store.<ul>"
        f"{items}</ul></div>"
    )


def render_report(con: duckdb.DuckDBPyConnection, scan_id: str | None = None) -> str:
    scan = store_mod.scan_record(con, scan_id)
    findings = store_mod.load_findings(con, scan["scan_id"])
    rendered = []
    warning = _integrity_fragment(con, scan["scan_id"])
    if warning:
        rendered.append({"id": "integrity", "title": "Integrity", "html": Markup(warning)})
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


def build_report(store_path: str | Path, out_path: str | Path, scan_id: str | None = None) -> Path:
    """Write the report of a scan (default: the latest) to ``out_path``; return the path."""
    if not Path(store_path).exists():
        raise PromoGuardError(f"no store at {store_path}")
    con = store_mod.connect(store_path, read_only=True)
    try:
        text = render_report(con, scan_id)
    finally:
        con.close()
    out = Path(out_path)
    # Bidi controls in a merchant's name could reorder what the page shows; the report holds
    # personal data, so it is owner-only.
    with private_file(out) as fh:
        fh.write(bidi_safe(text))
    return out
