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

from promoguard import __version__, present
from promoguard import store as store_mod
from promoguard.errors import PromoGuardError, interrupted
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


def render_report(
    con: duckdb.DuckDBPyConnection,
    scan_id: str | None = None,
    *,
    merchant: str | None = None,
    lang: str = "en",
    store_name: str = "",
) -> str:
    return _render(
        con, _scan_row(con, scan_id), merchant=merchant, lang=lang, store_name=store_name
    )


def _render(
    con: duckdb.DuckDBPyConnection,
    scan: dict,
    *,
    merchant: str | None = None,
    lang: str = "en",
    store_name: str = "",
) -> str:
    from promoguard.report.i18n import language

    with language(lang):
        return _render_in(con, scan, merchant=merchant, lang=lang, store_name=store_name)


def _render_in(
    con: duckdb.DuckDBPyConnection,
    scan: dict,
    *,
    merchant: str | None,
    lang: str,
    store_name: str,
) -> str:
    from promoguard.report import core
    from promoguard.report.i18n import tr, translator

    t = translator(lang)
    all_findings = load_findings(con, scan["scan_id"])
    findings = all_findings
    if merchant is not None:
        findings = all_findings[all_findings.merchant_id == merchant].reset_index(drop=True)
        if findings.empty:
            known = all_findings.merchant_id.dropna().unique()
            raise PromoGuardError(
                f"merchant {merchant!r} has no finding in scan {scan['scan_id']}"
                + ("" if len(known) else " (the scan found nothing)")
            )
    rendered = []
    warning = _integrity_fragment(con, scan["scan_id"])
    if warning:
        rendered.append({"id": "integrity", "title": tr("Integrity"), "html": Markup(warning)})
    for section in discover_sections():
        try:
            fragment = section.module.render(con, findings)
        except Exception as exc:  # one broken section must not lose the whole report
            if interrupted(exc):  # but Ctrl-C stops it, not a report written short of a section
                raise
            error = f"{type(exc).__name__}: {exc}"
            fragment = f"<p class='error'>{html.escape(tr('This section failed: {error}', error=error))}</p>"
        if fragment:
            rendered.append(
                {"id": section.name, "title": tr(section.title), "html": Markup(fragment)}
            )
    info = scan["info"]
    tz, currency = present.pack_locale(info.pack)
    merchant_name = None
    if merchant is not None:
        row = con.execute("SELECT name FROM merchants WHERE merchant_id = ?", [merchant]).fetchone()
        merchant_name = row[0] if row else ""
    generated = dt.datetime.now(dt.UTC)
    template = _environment().get_template("report.html")
    return template.render(
        t=t,
        lang=lang,
        scan=scan,
        info=info,
        total=len(findings),
        scan_total=len(all_findings),
        sections=rendered,
        register=core.register(findings, info.pack),
        merchants=core.merchant_index(con, findings) if merchant is None else [],
        method=core.methodology(
            con,
            info,
            store_name,
            t,
            parameters_of=set(findings.check_code) if merchant is not None else None,
        ),
        merchant=merchant,
        merchant_name=merchant_name,
        by_severity=_by_severity(findings),
        started_local=present.local_time(info.started_at, tz) if info.started_at else "",
        tz=tz,
        currency=currency,
        version=__version__,
        generated_at=generated.strftime("%Y-%m-%d %H:%M UTC"),
    )


def _by_severity(findings: pd.DataFrame) -> list[tuple[str, int]]:
    from promoguard.report.core import SEVERITY_RANK

    counts = findings.groupby("severity").size() if not findings.empty else {}
    return sorted(
        ((str(k), int(v)) for k, v in dict(counts).items()),
        key=lambda kv: -SEVERITY_RANK.get(kv[0], 0),
    )


@dataclass(frozen=True)
class Written:
    path: Path
    #: which scan the report is of, and why that one (named, latest complete, ...)
    choice: object


def write_report(
    store_path: str | Path,
    out_path: str | Path,
    scan_id: str | None = None,
    *,
    merchant: str | None = None,
    lang: str = "en",
) -> Written:
    """Write the report of a scan (default: the latest complete one); where, and which scan."""
    if not Path(store_path).exists():
        raise PromoGuardError(f"no store at {store_path}")
    out = Path(out_path)
    if out.exists() and out.resolve() == Path(store_path).resolve():
        raise PromoGuardError(f"--out {out} is the store itself; choose another file")
    con = store_mod.connect(store_path, read_only=True)
    try:
        scan = _scan_row(con, scan_id)
        text = _render(con, scan, merchant=merchant, lang=lang, store_name=Path(store_path).name)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    # Bidi controls in a merchant's name could reorder what the page shows; the report holds
    # personal data, so it is owner-only.
    with private_file(out) as fh:
        fh.write(bidi_safe(text))
    return Written(out, scan["choice"])


def build_report(
    store_path: str | Path,
    out_path: str | Path,
    scan_id: str | None = None,
    *,
    merchant: str | None = None,
    lang: str = "en",
) -> Path:
    """Write the report of a scan (default: the latest complete one) to ``out_path``; the path."""
    return write_report(store_path, out_path, scan_id, merchant=merchant, lang=lang).path
