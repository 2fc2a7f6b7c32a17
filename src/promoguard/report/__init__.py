"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).

Sections are modules in ``promoguard.report.sections``; each defines ``TITLE``, ``ORDER`` and
``render(con, findings) -> str | None`` (an HTML fragment with every value from data escaped, or
None when it has nothing to show). They are discovered with pkgutil, so a family adds its section
by adding a module, without touching this one.
"""

from __future__ import annotations

from promoguard.report.build import build_report, discover_sections

__all__ = ["build_report", "discover_sections"]
