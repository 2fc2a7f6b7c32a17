"""The fast path for already-canonical values never changes what ingest stores or says.

Ingest types most values straight from the raw text when it is already canonical
(``normalise.fast_path``) and sends only the rest through cleaning and the full rules. Each
example here is ingested twice, with and without the fast path, and both stores must hold the
same rows and the same quarantine (line, column, reason): the fast path is an optimisation only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promoguard import store
from promoguard.ingest import ingest_dir, normalise

from ._helpers import PRICE_HEADER, write

HEADER = "order_id,buyer_id,merchant_id,listing_id,quantity,unit_price,paid_at,status"

# Values at and just beside the fast path's edges: canonical, almost canonical, and wrong.
amounts = st.one_of(
    st.sampled_from(
        [
            "0",
            "0.5",
            "12.30",
            "1299.00",
            "12.345",
            "1.",
            ".5",
            "-5.00",
            "+5",
            " 5",
            "5 ",
            "1e3",
            "１２",
            "¥12.00",
            "1,299.00",
            "12,5",
            "9999999999999999.99",
            "99999999999999999",
            "",
        ]
    ),
    st.from_regex(r"[0-9]{1,18}(\.[0-9]{0,3})?", fullmatch=True),
    st.text(alphabet="0123456789.,+- e¥", max_size=8),
)
counts = st.one_of(
    st.sampled_from(["0", "1", "3", "-1", "1,000", "１", " 2", "2.0", "9" * 19, "", "1e2"]),
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
)
instants = st.one_of(
    st.sampled_from(
        [
            "2026-11-11T00:00:00+08:00",
            "2026-11-11 00:00:00",
            "2026-11-11",
            "2026-11-11T00:00:00Z",
            "2026-02-30 00:00:00",
            "2026-11-11 00:00:0 ",
            "2026-11-11T00:00:00 +0800",
            "2026/11/11 08:00",
            "1731254400",
            "２０２６-11-11",
            " 2026-11-11",
            "2026-1-1 1:02",
            "2026-11-11T00:00:00.123456789-05:00",
            "infinity",
            "epoch",
            "",
        ]
    ),
    st.from_regex(
        r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?( ?[Z+-][0-9:]{0,5})?",
        fullmatch=True,
    ),
)
rows = st.lists(st.tuples(counts, amounts, instants), min_size=1, max_size=12)


def _csv(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def _ingest(folder: Path) -> tuple[list[tuple], list[tuple]]:
    con = store.connect(":memory:")
    try:
        ingest_dir(folder, con, tz="Asia/Shanghai")
        stored = con.execute("SELECT * FROM orders ORDER BY order_id").fetchall()
        stored += con.execute("SELECT * FROM price_observations ORDER BY listing_id").fetchall()
        refused = con.execute(
            "SELECT source_file, line_number, column_name, reason FROM quarantine ORDER BY ALL"
        ).fetchall()
        return stored, refused
    finally:
        con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows)
def test_fast_path_changes_nothing(rows, monkeypatch_module):
    orders, prices = [HEADER], [PRICE_HEADER]
    for i, (quantity, amount, instant) in enumerate(rows):
        orders.append(_csv([f"O{i}", "B1", "M1", "L1", quantity, amount, instant, "paid"]))
        # The same amount as a percentage too (another precision, another range).
        prices.append(_csv([f"L{i}", instant, amount, amount, "", amount, "detail"]))
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), "orders.csv", "\n".join(orders) + "\n")
        write(Path(tmp), "price_observations.csv", "\n".join(prices) + "\n")
        fast = _ingest(Path(tmp))
        with monkeypatch_module.context() as patch:
            patch.setattr(normalise, "fast_path", lambda *args: None)
            slow = _ingest(Path(tmp))
    assert fast == slow


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_fast_path_is_taken_for_canonical_values():
    """Not vacuous: the canonical forms really do have a fast path (and text has none)."""
    from promoguard.model import TABLES_BY_NAME

    orders = {c.name: c for c in TABLES_BY_NAME["orders"].columns}
    for name in ("quantity", "unit_price", "paid_at"):
        assert normalise.fast_path('"x"', orders[name]) is not None
    assert normalise.fast_path('"x"', orders["order_id"]) is None
