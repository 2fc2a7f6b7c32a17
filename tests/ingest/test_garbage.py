"""The conservation law under garbage: read == stored + quarantined, and nothing crashes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promoguard import store
from promoguard.ingest import ingest_dir

from ._helpers import PRICE_HEADER, one, write

# Cells that look like what exports hold, and cells that break CSV.
cells = st.one_of(
    st.sampled_from(
        [
            "L1",
            "",
            " ",
            "1299.00",
            '"¥1,299.00"',
            "１２９９",
            "2026-11-11 00:00:00",
            "2026-11-11T00:00:00Z",
            "-5",
            "12.345",
            '"',
            '""',
            '"a,b"',
            '"x\ny"',
            "\r",
            "\t",
            "\ufeff",
            "NULL",
            "原价",
            "1e9",
        ]
    ),
    st.text(max_size=12),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=9), max_size=12)
junk = st.lists(st.binary(max_size=40), max_size=8)


def _check(folder: Path) -> None:
    con = store.connect(":memory:")
    try:
        report = ingest_dir(folder, con)
        for counts in report.tables.values():
            assert counts.read == counts.stored + counts.quarantined
        total = report.totals
        assert one(con, "SELECT count(*) FROM price_observations") == total.stored - total.unchanged
        assert one(con, "SELECT count(*) FROM quarantine") == total.quarantined
    finally:
        con.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, eol=st.sampled_from(["\n", "\r\n"]))
def test_random_rows_are_conserved(rows, eol):
    text = eol.join([PRICE_HEADER, *(",".join(r) for r in rows)]) + eol
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), "price_observations.csv", text)
        _check(Path(tmp))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=junk)
def test_random_bytes_are_conserved(lines):
    content = PRICE_HEADER.encode() + b"\n" + b"\n".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), "price_observations.csv", content)
        _check(Path(tmp))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.one_of(
            st.text(max_size=30).map(str.encode),
            st.sampled_from([b'{"listing_id": "L1"}', b"{}", b"[]", b"null"]),
            # bytes that are not UTF-8: lines the reader itself refuses (its own count); no NUL,
            # which in number makes the file look like UTF-16 and refuses it whole
            st.binary(max_size=20).map(lambda b: b.replace(b"\0", b"") + b"\xff"),
        ),
        max_size=10,
    )
)
def test_random_json_lines_are_conserved(lines):
    first = b'{"listing_id": "L0", "observed_at": "2026-11-11", "price": "1"}'
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), "price_observations.jsonl", b"\n".join([first, *lines]) + b"\n")
        _check(Path(tmp))
