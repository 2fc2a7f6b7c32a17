"""The report in a real browser: headless Chromium (Debian's, never a downloaded one) takes it at
1400 and 420 px wide, in English and Chinese, and prints it to PDF.

Set PROMOGUARD_UPDATE_SCREENSHOTS=1 to copy the images and the PDF into docs/img/ (docs/report.md
links them); otherwise they stay in the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import duckdb
import pytest

from promoguard.report import build_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (scripts/setup.sh installs it)"
    ),
]


def _chromium(tmp: Path, *args: str) -> None:
    subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--no-first-run", "--mute-audio", f"--user-data-dir={tmp / 'profile'}", *args,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def _pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    return data.count(b"/Type /Page") - data.count(b"/Type /Pages")


def _merchant(store: Path, scan_id: str) -> str:
    """The merchant whose findings span the most rules (its report shows every part)."""
    con = duckdb.connect(str(store), read_only=True)
    row = con.execute(
        "SELECT merchant_id FROM findings WHERE scan_id = ? AND merchant_id IS NOT NULL "
        "GROUP BY 1 ORDER BY count(DISTINCT check_code) DESC, count(*), 1 LIMIT 1",
        [scan_id],
    ).fetchone()
    con.close()
    return row[0]


def test_report_at_1400_and_420_px_and_printed(scanned_season, tmp_path):
    store, scan_id = scanned_season
    merchant = _merchant(store, scan_id)
    pages = {
        "report-en": build_report(store, tmp_path / "report-en.html"),
        "merchant-en": build_report(store, tmp_path / "merchant-en.html", merchant=merchant),
        "merchant-zh": build_report(
            store, tmp_path / "merchant-zh.html", merchant=merchant, lang="zh"
        ),
    }
    shots = {
        "report-en-1400.png": ("report-en", 1400, 2000),
        "report-en-420.png": ("report-en", 420, 2400),
        "merchant-en-1400.png": ("merchant-en", 1400, 4200),
        "merchant-zh-1400.png": ("merchant-zh", 1400, 4200),
        "merchant-zh-420.png": ("merchant-zh", 420, 5200),
    }
    made = []
    for name, (page, width, height) in shots.items():
        out = tmp_path / name
        _chromium(
            tmp_path,
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            pages[page].resolve().as_uri(),
        )
        assert _png_size(out) == (width, height)
        assert out.stat().st_size > 30_000, f"{name} looks blank"
        made.append(out)
    pdfs = {}
    for page in ("merchant-en", "merchant-zh", "report-en"):
        pdf = tmp_path / f"{page}.pdf"
        _chromium(
            tmp_path,
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            pages[page].resolve().as_uri(),
        )
        pdfs[page] = _pdf_pages(pdf)
        made.append(pdf)
    # the folded cases stay folded on paper: the printed report grows with the rules and the
    # top cases of each, not with every finding of the scan
    assert 1 <= pdfs["merchant-en"] <= 30, pdfs
    assert 1 <= pdfs["merchant-zh"] <= 30, pdfs
    assert pdfs["report-en"] <= 80, pdfs
    if os.environ.get("PROMOGUARD_UPDATE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        for path in made:
            shutil.copy(path, DOCS_IMG / path.name)
