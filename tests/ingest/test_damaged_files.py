"""Damaged files and wrong options: one line that says what, never a traceback, nothing stored."""

from __future__ import annotations

import gzip

import pytest

from promoguard.errors import IngestError

from ._helpers import one

PLATFORMS = "platform_id,name\nP1,Tmall\nP2,JD\n"


@pytest.mark.parametrize("name", ["base64", "rot13", "zlib_codec", "hex_codec", "bz2_codec"])
def test_a_transform_codec_is_not_an_encoding(ingest, name):
    with pytest.raises(IngestError, match="is not a text encoding"):
        ingest({"platforms.csv": PLATFORMS}, encoding=name)


def test_utf16_without_a_bom_asks_for_the_byte_order(ingest, con):
    data = PLATFORMS.encode("utf-16-le")
    with pytest.raises(IngestError, match="UTF-16 without a byte-order mark"):
        ingest({"platforms.csv": data})
    with pytest.raises(IngestError, match="cannot be decoded.*BOM"):
        ingest({"platforms.csv": data}, encoding="utf-16")
    report = ingest({"platforms.csv": data}, encoding="utf-16-le")
    assert report.tables["platforms"].stored == 2


def test_a_csv_gz_that_is_not_gzip(ingest, con):
    with pytest.raises(IngestError, match="platforms.csv.gz: not a gzip file"):
        ingest({"platforms.csv.gz": PLATFORMS})
    assert one(con, "SELECT count(*) FROM platforms") == 0


@pytest.mark.parametrize("keep", [200, 20_000, 300_000])
def test_a_truncated_gzip_refuses_the_file(ingest, con, keep):
    # Cut short early (the header read fails), midway, and late (DuckDB's reader fails).
    rows = "".join(f"P{i},name {i * 7919 % 100003}\n" for i in range(200_000))
    data = gzip.compress(("platform_id,name\n" + rows).encode())[:keep]
    with pytest.raises(IngestError, match="(gzip|GZIP)"):
        ingest({"platforms.csv.gz": data})
    assert one(con, "SELECT count(*) FROM platforms") == 0


def test_a_truncated_gzip_of_a_damaged_csv_is_refused_too(ingest, con):
    rows = "".join(f"P{i},name {i * 7919 % 100003}\n" for i in range(200_000))
    data = gzip.compress(('platform_id,name\nP0,"open\n' + rows).encode())
    with pytest.raises(IngestError, match="(gzip|GZIP)"):
        ingest({"platforms.csv.gz": data[: len(data) // 2]})
