"""JSON Lines columns: the keys of every line, not of a sample; a key spelled two ways is refused.

The law over source lines holds here as for CSV: rows read = rows stored + rows quarantined, and
every line of the file is a row, stored or quarantined with its reason.
"""

from __future__ import annotations

import json

import pytest

from promoguard.errors import IngestError

from ._helpers import one, quarantine


def _lines(*objects: object) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects)


def test_a_model_column_first_seen_on_a_later_line_is_read(ingest, con):
    # The first line has no channel; line 3 has one. Columns taken from the first line (or from
    # a sample of lines) dropped it silently: stored NULL, nothing said.
    base = {"listing_id": "L1", "observed_at": "2026-11-11T00:00:00Z", "price": "10.00"}
    report = ingest(
        {
            "price_observations.jsonl": _lines(
                base,
                {**base, "observed_at": "2026-11-12T00:00:00Z"},
                {**base, "observed_at": "2026-11-13T00:00:00Z", "channel": "live"},
            )
        }
    )
    counts = report.tables["price_observations"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 3, 0)
    assert con.execute(
        "SELECT channel FROM price_observations ORDER BY observed_at"
    ).fetchall() == [(None,), (None,), ("live",)]


def test_a_key_the_model_does_not_know_is_reported_wherever_it_first_appears(ingest):
    report = ingest(
        {
            "platforms.jsonl": _lines(
                {"platform_id": "P1", "name": "a", "note": "x"},
                {"platform_id": "P2", "name": "b"},
                {"platform_id": "P3", "name": "c", "url": "u", "Zone": "z"},
            )
        }
    )
    assert report.tables["platforms"].stored == 3
    # the first line's keys in its order, then the others by name
    assert report.files[0].extra_columns == ["note", "Zone", "url"]


def test_a_first_line_without_a_required_key_costs_that_line_only(ingest, con):
    report = ingest(
        {
            "platforms.jsonl": _lines(
                {"platform_id": "P1"}, "{broken", {"platform_id": "P2", "name": "b"}
            )
        }
    )
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 1, 2)
    assert quarantine(con) == [
        ("platforms.jsonl", 1, "name", "name: required value is empty"),
        ("platforms.jsonl", 2, None, "not a JSON object"),
    ]
    assert one(con, "SELECT name FROM platforms") == "b"


def test_a_required_key_on_no_line_still_refuses_the_file(ingest, con):
    with pytest.raises(IngestError, match="missing required column name"):
        ingest({"platforms.jsonl": _lines({"platform_id": "P1"}, {"platform_id": "P2"})})
    assert one(con, "SELECT count(*) FROM quarantine") == 0


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        # two lines, two spellings: which one holds the name?
        (_lines({"platform_id": "P1", "name": "a"}, {"platform_id": "P2", "Name": "b"}), "Name"),
        # one line, two spellings (as a CSV header "name,NAME" is refused)
        (_lines({"platform_id": "P1", "name": "a", " NAME": "b"}), " NAME"),
        # one line, the same key twice: JSON readers disagree on which value wins
        ('{"platform_id": "P1", "name": "a", "name": "b"}\n', "name"),
    ],
)
def test_a_column_given_twice_refuses_the_file_in_one_line(ingest, con, text, spelled):
    with pytest.raises(IngestError) as info:
        ingest({"platforms.jsonl": text})
    message = str(info.value)
    assert message.startswith("platforms.jsonl: column 'name' appears twice")
    assert repr(spelled) in message and "\n" not in message
    assert one(con, "SELECT count(*) FROM platforms") == 0
    assert one(con, "SELECT count(*) FROM quarantine") == 0


def test_a_key_spelled_two_ways_that_the_model_does_not_know_is_only_extra(ingest):
    report = ingest({"platforms.jsonl": _lines({"platform_id": "P1", "name": "a", "x": 1, "X": 2})})
    assert report.tables["platforms"].stored == 1
    assert report.files[0].extra_columns == ["x", "X"]


# -- a file with no key on any line --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reasons", "note"),
    [
        (b"", [], "empty file: no lines, nothing read"),
        (b"\n\n", ["empty line", "empty line"], "no line holds a JSON object with keys"),
        (
            b'{broken\n[1, 2]\n\nnull\n{"platform_id": \n{}\n',
            [
                "not a JSON object",
                "not a JSON object",
                "empty line",
                "not a JSON object",
                "not a JSON object",
                "platform_id: required value is empty; name: required value is empty",
            ],
            "no line holds a JSON object with keys",
        ),
    ],
    ids=["0 bytes", "blank lines", "broken lines"],
)
def test_a_file_without_a_key_quarantines_each_line(ingest, con, data, reasons, note):
    # There is no header to refuse: each line is quarantined with its reason, the other files of
    # the folder are read as ever, and the report says what happened.
    report = ingest({"platforms.jsonl": data, "merchants.csv": "merchant_id,platform_id,name\n"})
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (len(reasons), 0, len(reasons))
    assert [q[1:] for q in quarantine(con)] == [
        (i, "platform_id" if r.startswith("platform_id") else None, r)
        for i, r in enumerate(reasons, start=1)
    ]
    (file,) = [f for f in report.files if f.file == "platforms.jsonl"]
    assert len(file.notes) == 1 and file.notes[0].startswith(note)
    files = {f["file"]: f for f in report.to_dict()["files"]}  # what --json prints
    assert files["platforms.jsonl"]["notes"] == file.notes
    assert files["merchants.csv"]["notes"] == []
    assert one(con, "SELECT rows_read FROM ingest_log WHERE source_file = 'platforms.jsonl'") == (
        len(reasons)
    )


def test_the_command_line_prints_the_note_of_an_empty_file(tmp_path):
    from typer.testing import CliRunner

    from .test_cli import app

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "platforms.jsonl").write_bytes(b"")
    result = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s.duckdb")]
    )
    assert result.exit_code == 0, result.output
    assert "platforms.jsonl: empty file: no lines, nothing read" in result.stdout
