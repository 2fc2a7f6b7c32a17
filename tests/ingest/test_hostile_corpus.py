"""The hostile-input corpus: files built to break ingest, each held to the conservation law.

Every case either ingests, and then for every table rows read = rows stored + rows quarantined,
every non-blank physical data line of a CSV is accounted for (as one row, stored or quarantined),
and a line refused whole keeps its full text; or it fails with one line naming the file, and the
store is exactly as it was. Nothing crashes, nothing hangs. (Issue #17; the classes the probe
found, and more.)
"""

from __future__ import annotations

import gzip

import pytest

from promoguard import store
from promoguard.errors import IngestError
from promoguard.ingest import ingest_dir

P = "platform_id,name\n"
PRICES = (
    "listing_id,observed_at,price,reference_price,reference_label,claimed_discount_pct,channel\n"
)


def _rows(n: int, start: int = 0) -> str:
    return "".join(f"P{i},name {i}\n" for i in range(start, start + n))


#: name -> (files, whether every record is one physical line, error text or None)
CASES: dict[str, tuple[dict[str, bytes], bool, str | None]] = {
    "unclosed quote early": (
        {"platforms.csv": (P + _rows(5) + 'P5,"never\n' + _rows(1994, 6)).encode()},
        True,
        None,
    ),
    "unclosed quote on the last line": (
        {"platforms.csv": (P + _rows(50) + 'PX,"open').encode()},
        True,
        None,
    ),
    "two quotes that would join lines of the wrong width": (
        {"platforms.csv": (P + _rows(3) + 'PA,"a\n' + _rows(3, 10) + 'PB,b",c\n').encode()},
        True,
        None,
    ),
    "quote inside an unquoted field": (
        {"platforms.csv": (P + 'P1,5" screen\nP2,ok\n').encode()},
        True,
        None,
    ),
    "text after a closing quote": (
        {"platforms.csv": (P + 'P1,"a"b\nP2,ok\n').encode()},
        True,
        None,
    ),
    "a million quotes": (
        {"platforms.csv": (P + "P1," + '"' * 1_000_001 + "\nP2,x\n").encode()},
        True,
        None,
    ),
    "lone carriage returns": ({"platforms.csv": (P + "P1,a\rP2,b\rP3\n").encode()}, True, None),
    "mixed line ends": ({"platforms.csv": (P + "P1,a\r\nP2,b\nP3,c\r\n").encode()}, True, None),
    "NUL bytes": ({"platforms.csv": (P + "P1,a\x00b\nP\x002,c\n").encode()}, True, None),
    "invalid UTF-8": (
        {"platforms.csv": P.encode() + b"P1,\xff\xfe\nP2,\xc3\x28\nP3,ok\n"},
        True,
        None,
    ),
    "BOM and spaced header": (
        {"platforms.csv": "\ufeff Platform_ID , NAME \nP1,a\n".encode()},
        True,
        None,
    ),
    "ragged rows": ({"platforms.csv": (P + "P1\nP2,a,b,c\n,\n,,\nP3,ok\n").encode()}, True, None),
    "ten thousand fields": (
        {"platforms.csv": (P + "P1," + ",".join(["x"] * 10_000) + "\nP2,a\n").encode()},
        True,
        None,
    ),
    "header only": ({"platforms.csv": P.encode()}, True, None),
    "blank lines only": ({"platforms.csv": (P + "\n\n\r\n\n").encode()}, True, None),
    "ANSI escapes and bidi controls in values": (
        {"platforms.csv": (P + "P1,\x1b[2J\x1b[1;1Hingest OK\nP2,abc\u202etxt.exe\n").encode()},
        True,
        None,
    ),
    "formulas in values": (
        {"platforms.csv": (P + "P1,=cmd|' /C calc'!A0\nP2,@SUM(A1)\n").encode()},
        True,
        None,
    ),
    "SQL in values and header": (
        {
            "platforms.csv": (
                b'platform_id,name,"x"");DROP TABLE platforms;--"\n'
                b"P1,'); DROP TABLE platforms; --,y\n"
            )
        },
        True,
        None,
    ),
    "hostile timestamps": (
        {
            "price_observations.csv": (
                PRICES
                + "".join(
                    f"L{i},{v},1,,,,app\n"
                    for i, v in enumerate(
                        [
                            "2026-11-11T00:00:00+99:99",
                            "2026-11-11T00:00:00+00:60",
                            "2026-11-11T00:00:00+24:00",
                            "0000-01-01",
                            "9999-12-31T23:00:00-14:00",
                            "2026-11-11T00:00:00.123456789Z",
                            "2039-01-19T03:14:08Z",
                            "1e308",
                            "2026-13-45",
                            "2026-11-11T00:00:00+08:00",
                            "１７６２７９０４００",
                            "2026-11-11T25:61:61",
                        ]
                    )
                )
            ).encode()
        },
        True,
        None,
    ),
    "hostile numbers": (
        {
            "price_observations.csv": (
                PRICES
                + "".join(
                    f"L{i},2026-11-11,{v},,,,app\n"
                    for i, v in enumerate(
                        [
                            "NaN",
                            "Infinity",
                            "-0",
                            "1e400",
                            "9" * 400,
                            "0x10",
                            "1_000",
                            "١٢٣",
                            "12.3.4",
                            "\u00a0",
                        ]
                    )
                )
            ).encode()
        },
        True,
        None,
    ),
    "duplicate keys and a re-stated key": (
        {"platforms.csv": (P + "P1,a\nP1,a\nP1,b\n P1 ,c\n").encode()},
        True,
        None,
    ),
    "JSON Lines garbage": (
        {
            "platforms.jsonl": (
                '{"platform_id": "P0", "name": "ok"}\n{"platform_id": \n[1,2]\nnull\n\n'
                '{"platform_id": "P1", "name": {"nested": [1]}}\n{"platform_id": 1e999, "name": NaN}\n'
                '{"platform_id": "P2", "name": "\\u0000\\ud800"}\n'
                # bytes that are not UTF-8 (\udcff encodes as the byte ff under surrogateescape;
                # \xff would be the character ÿ, valid UTF-8): a line the reader refuses
                "\udcff\udcfe\n"
            ).encode("utf-8", "surrogateescape")
        },
        False,
        None,
    ),
    "GBK with bad bytes": (
        {"platforms.csv": (P + "P1,天猫\nP2,京东\n").encode("gbk") + b"P3,\x81\x20bad\nP4,ok\n"},
        True,
        None,
    ),
    # Refused whole, with one line; nothing stored.
    "not gzip": ({"platforms.csv.gz": (P + _rows(3)).encode()}, True, "not a gzip file"),
    "truncated gzip": (
        {"platforms.csv.gz": gzip.compress((P + _rows(50_000)).encode())[:3000]},
        True,
        "gzip",
    ),
    "UTF-16 without BOM": ({"platforms.csv": (P + _rows(3)).encode("utf-16-le")}, True, "UTF-16"),
    "a column twice": (
        {"platforms.csv": b"platform_id,name,NAME\nP1,a,b\n"},
        True,
        "appears twice",
    ),
    "missing required column": (
        {"platforms.csv": b"platform_id\nP1\n"},
        True,
        "missing required column",
    ),
    "empty file": ({"platforms.csv": b""}, True, "missing required column"),
    "not Parquet": ({"platforms.parquet": b"PAR1 this is not parquet"}, True, "Parquet"),
}


def _physical_data_lines(data: bytes) -> list[bytes]:
    """Non-blank physical lines after the header, split on LF, CRLF and a lone CR."""
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    lines = [ln for ln in lines if ln.strip(b"\xef\xbb\xbf")]
    return lines[1:]


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file(case, tmp_path):
    files, one_line_records, error = CASES[case]
    folder = tmp_path / "in"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    con = store.connect(":memory:")
    try:
        before = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        if error is not None:
            with pytest.raises(IngestError, match=error) as info:
                ingest_dir(folder, con)
            assert "\n" not in str(info.value)
            assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == before
            assert con.execute("SELECT count(*) FROM platforms").fetchone()[0] == 0
            return
        report = ingest_dir(folder, con)
        for name, counts in report.tables.items():
            assert counts.read == counts.stored + counts.quarantined, name
            stored = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            assert stored == counts.stored - counts.unchanged, name
        total = report.totals
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == total.quarantined
        for name, data in files.items():
            if name.endswith(".csv") and one_line_records and "GBK" not in case:
                lines = _physical_data_lines(data)
                table = name.removesuffix(".csv")
                assert report.tables.get(table, type(total)()).read == len(lines), case
                # A line refused whole keeps its text: it is one of the source lines, uncut.
                raws = con.execute(
                    "SELECT raw FROM quarantine WHERE reason LIKE 'unreadable line:%'"
                ).fetchall()
                shown = {ln.decode("utf-8", "backslashreplace") for ln in lines}
                assert all(r[0] in shown for r in raws), case
    finally:
        con.close()
