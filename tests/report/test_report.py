"""The report: one self-contained HTML file, sections discovered, every value from data escaped."""

from __future__ import annotations

import json
import re

import pytest
import typer
from tests.rules.pricing.pricing_fixtures import Season, day
from typer.testing import CliRunner

from promoguard import engine
from promoguard.commands import report_cmd, scan_cmd
from promoguard.report import build_report, discover_sections

EVIL = "<script>alert(1)</script>"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("scan")(scan_cmd.scan)
    app.command("report")(report_cmd.report)
    return app


@pytest.fixture
def scanned(tmp_path):
    path = tmp_path / "s.duckdb"
    s = Season(path)
    s.listing("L1", title=EVIL)
    s.prices("L1", -40, -1, "100.00")
    s.order("L1", day(-2), "79.00")
    s.obs("L1", day(0, 2), "59.00", ref="129.00", label="原价<b>", pct="54")
    s.listing("L2", title="plain")
    s.prices("L2", -40, -1, "50.00")
    s.close()
    return path


def test_sections_are_discovered_in_order():
    names = [s.name for s in discover_sections()]
    assert names[:2] == ["overview", "pricing"] or names.index("overview") < names.index("pricing")


def test_report_is_self_contained_and_escapes_data(scanned, tmp_path):
    result = CliRunner().invoke(
        _app(), ["scan", "--store", str(scanned), "--pack", "cn", "--checks", "PRICE", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by_check"]["PRICE001"] == 1
    out = build_report(scanned, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    # nothing is fetched: the only URL is the SVG namespace
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert "<link" not in html and "@import" not in html
    # the price chart marks the reference, the legal prior price and the promotion window
    assert "<svg" in html
    assert "legal prior price 79" in html and "reference 129" in html and "Double 11" in html


def test_report_command_fails_in_one_line_without_a_scan(tmp_path):
    s = Season(tmp_path / "empty.duckdb")
    s.close()
    result = CliRunner().invoke(
        _app(),
        ["report", "--store", str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "r.html")],
    )
    assert result.exit_code == 1
    assert "no scan yet" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_report_of_a_named_scan(scanned, tmp_path):
    first = engine.scan(scanned, "cn", checks="PRICE001")
    engine.scan(scanned, "cn", checks="PRICE005")
    html = build_report(scanned, tmp_path / "r.html", scan_id=first.scan_id).read_text("utf-8")
    assert first.scan_id in html and "PRICE001" in html


def test_ctrl_c_in_a_section_stops_the_report_instead_of_writing_it_short(
    scanned, tmp_path, monkeypatch
):
    """A broken section is shown as failed and the report goes on; Ctrl-C during a section's
    query (DuckDB's RuntimeError "Query interrupted") had been taken for a broken section too,
    and a report missing that section was written as if nothing had happened."""
    from promoguard.report import build as build_mod

    engine.scan(scanned, "cn", checks="PRICE001")
    pricing = next(s for s in discover_sections() if s.name == "pricing")

    def stopped(con, findings):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(pricing.module, "render", stopped)
    monkeypatch.setattr(build_mod, "discover_sections", lambda: [pricing])
    out = tmp_path / "r.html"
    with pytest.raises(RuntimeError, match="Query interrupted"):
        build_report(scanned, out)
    assert not out.exists()

    def broken(con, findings):
        raise ValueError("a plugin's bug")

    monkeypatch.setattr(pricing.module, "render", broken)
    html = build_report(scanned, out).read_text(encoding="utf-8")
    assert "This section failed: ValueError: a plugin&#x27;s bug" in html
