"""The report shows a flagged coupon's terms over time (shown beside applied) and a 到手价 claim
beside the cheapest basket; untrusted wording is escaped."""

from __future__ import annotations

from tests.rules.coupons.builder import Book, at

from promoguard import engine
from promoguard.report.build import build_report


def test_timeline_and_claim_blocks(tmp_path):
    b = Book(tmp_path / "s.duckdb")
    b.coupon("RED", "M1", kind="red_envelope")
    b.terms("RED", "displayed", at(-10), face=100, text="<script>x</script>¥100红包")
    b.terms("RED", "applied", at(-10), face=100, threshold=999)
    b.terms("RED", "applied", at(-1), face=100, threshold=1299)
    b.listing("L1", "M2")
    b.coupon("FULL", "M2")
    b.both("FULL", at(-10), face=50, threshold=300)
    b.observe("L1", at(0, 2), 200, claim=150)
    b.con.close()
    engine.scan(b.path, "cn", checks="COUPON001,COUPON003")
    html = build_report(b.path, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Coupons and prize promotions" in html
    assert "COUPON001: terms over time" in html
    # both checkout versions appear, beside what the page showed
    assert "threshold 999.00" in html and "threshold 1299.00" in html
    assert "&lt;script&gt;x&lt;/script&gt;¥100红包" in html and "<script>x</script>" not in html
    assert "到手价 claimed vs the cheapest reachable basket" in html
    assert ">150.00<" in html or ">150.0<" in html or ">150<" in html
