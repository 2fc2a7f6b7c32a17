"""JSON Lines columns: the keys of every line, not of a sample; a key spelled two ways is refused.

The law over source lines holds here as for CSV: rows read = rows stored + rows quarantined, and
every line of the file is a row, stored or quarantined with its reason.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promoguard import store
from promoguard.errors import IngestError
from promoguard.ingest import ingest_dir, recover

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


@pytest.mark.parametrize("lf_reader", [False, True], ids=["duckdb lines", "lf lines"])
def test_a_key_given_twice_on_one_line_quarantines_that_line_only(ingest, con, lf_reader):
    # JSON Lines records are independent: a line holding one column's key twice (JSON readers
    # disagree on which value wins) is quarantined with its reason; the other lines are read.
    # It refused the whole file. The lone CR on line 1 sends the file through the LF reader.
    text = (
        '{"platform_id": "P1",%s "name": "a"}\n'
        '{"platform_id": "P2", "name": "b", "name": "c"}\n'
        '{"platform_id": "P3", "name": "d", "note": 1, "note": 2}\n'
        '{"platform_id": "P4", "platform_id": "P4", "name": "e", "name": "e"}\n'
        '{"platform_id": "P5", "name": "f"}'
    ) % ("\r" if lf_reader else "")
    report = ingest({"platforms.jsonl": text})
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (5, 3, 2)
    rows = con.execute(
        "SELECT line_number, column_name, reason, raw FROM quarantine ORDER BY 1"
    ).fetchall()
    lines = text.split("\n")
    assert rows == [
        (2, "name", 'key "name" appears twice', lines[1]),
        (4, "platform_id", 'key "platform_id" appears twice', lines[3]),
    ]
    # a key the model does not know, given twice (line 3), is only an extra column
    assert con.execute("SELECT platform_id FROM platforms ORDER BY 1").fetchall() == [
        ("P1",),
        ("P3",),
        ("P5",),
    ]
    assert report.files[0].extra_columns == ["note"]


def test_the_reason_for_a_key_given_twice_is_one_line_whatever_the_key_holds(ingest, con):
    # "name\n" is the name column (names are trimmed); the reason shows the key as JSON does.
    text = _lines(
        '{"platform_id": "P1", "name\\n": "a"}', '{"platform_id": "P2", "name\\n": 1, "name\\n": 2}'
    )
    report = ingest({"platforms.jsonl": text})
    assert report.tables["platforms"].quarantined == 1
    assert [q[1:] for q in quarantine(con)] == [(2, "name", 'key "name\\n" appears twice')]


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


# -- line ends: LF only --------------------------------------------------------------------------


def test_a_lone_carriage_return_does_not_end_a_line(ingest, con):
    # JSON Lines are LF-separated. DuckDB's line reader also ends a line at a lone CR: line 2
    # (a CR between tokens: valid JSON) became two refused lines, and every later line number
    # was off by one. Line 3 holds a raw CR inside a string (not valid JSON): one line refused.
    base = '"listing_id": "L1", "price": "10.00", "observed_at": '
    text = (
        f'{{{base}"2026-11-11T00:00:00Z"}}\n'
        f'{{{base}\r"2026-11-12T00:00:00Z"}}\r\n'
        f'{{{base}"2026-11-13T00:00:00Z", "reference_label": "was\rbefore"}}\n'
        f'{{"listing_id": "L1", "price": "-1", "observed_at": "2026-11-14T00:00:00Z"}}\r\n'
        "\n"
        f'{{{base}"2026-11-15T00:00:00Z"}}'  # no LF after the last line
    )
    report = ingest({"price_observations.jsonl": text})
    counts = report.tables["price_observations"]
    assert (counts.read, counts.stored, counts.quarantined) == (6, 3, 3)
    assert [q[1:] for q in quarantine(con)] == [
        (3, None, "not a JSON object"),
        (4, "price", "price: negative amount"),
        (5, None, "empty line"),
    ]
    assert one(con, "SELECT raw FROM quarantine WHERE line_number = 3") == text.split("\n")[2]
    assert con.execute(
        "SELECT CAST(observed_at AS DATE)::VARCHAR FROM price_observations ORDER BY 1"
    ).fetchall() == [("2026-11-11",), ("2026-11-12",), ("2026-11-15",)]


@pytest.mark.parametrize("read_bytes", [1, 7, 64, 8 * 1024 * 1024])
def test_a_file_with_a_lone_cr_keeps_bad_bytes_and_over_long_lines_to_their_own_line(
    ingest, con, monkeypatch, read_bytes
):
    from promoguard.ingest import recover

    # The line-size limit and the text kept of a longer line made small; the file split in
    # pieces of every size, so a line (and a CRLF, and a byte-order mark) is cut between pieces.
    monkeypatch.setattr(recover, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(recover, "OVERSIZE_RAW", 60)
    monkeypatch.setattr(recover, "LF_READ_BYTES", read_bytes)
    good = '{"platform_id": "P%d",\r"name": "n"}\r\n'
    long = b'{"platform_id": "P3", "name": "' + b"x" * 300 + b'"}'
    data = (
        b"\xef\xbb\xbf"
        + (good % 1).encode()
        + b'{"platform_id": "P2", "name": "\xff"}\n'
        + long
        + b"\r\n"
        + (good % 4).encode()
        + long[:101]  # one byte over the limit, and the last line: no LF after it
    )
    report = ingest({"platforms.jsonl": data})
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (5, 2, 3)
    rows = con.execute("SELECT line_number, reason, raw FROM quarantine ORDER BY 1").fetchall()
    over = "unreadable line: line size over maximum (100 bytes)"
    assert rows == [
        (
            2,
            "unreadable line: invalid encoding (bytes that are not UTF-8)",
            '{"platform_id": "P2", "name": "\\xff"}',
        ),
        (3, over, long[:60].decode()),
        (5, over, long[:60].decode()),
    ]
    assert con.execute("SELECT platform_id FROM platforms ORDER BY 1").fetchall() == [
        ("P1",),
        ("P4",),
    ]


def test_crlf_after_a_first_line_ended_by_lf_is_one_line_end(ingest, con):
    # In a file whose first line ends in LF, DuckDB's line reader ended each later CRLF line at
    # the CR and then read an empty line: read 4 for 3 lines, a phantom "empty line" quarantined.
    text = '{"platform_id": "P1", "name": "a"}\n{"platform_id": "P2", "name": "b"}\r\n{"x": 1}\r\n'
    report = ingest({"platforms.jsonl": text})
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 2, 1)
    assert [q[1:] for q in quarantine(con)] == [
        (3, "platform_id", "platform_id: required value is empty; name: required value is empty")
    ]
    # the CR belongs to the line end, not to the line: a CR left in the line is JSON whitespace
    # (the rows come out the same), so only the refused line's text shows it
    assert one(con, "SELECT raw FROM quarantine") == '{"x": 1}'


def test_a_gzip_file_with_a_lone_cr_is_read_by_lf(ingest, con):
    import gzip

    text = '{"platform_id": "P1",\r"name": "a"}\n{"platform_id": "P2", "name": "b"}\n'
    report = ingest({"platforms.jsonl.gz": gzip.compress(text.encode())})
    assert report.tables["platforms"].stored == 2


_kinds = st.sampled_from(["object", "cr in a string", "blank", "cr alone", "broken"])
_spaces = st.sampled_from(["", " ", "\r", "\r\r", "\t\r "])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_kinds, _spaces, st.sampled_from(["\n", "\r\n"])), max_size=12),
    st.sampled_from([1, 5, 64, 8 * 1024 * 1024]),
)
def test_every_lf_line_is_one_row(tmp_path_factory, lines, read_bytes):
    # An oracle that knows nothing of the readers: the file's lines are its LF-separated pieces
    # (the CR of a CRLF belongs to the line end); each is exactly one row, stored when it is an
    # object, else quarantined at its own line number with its own text.
    pieces = {
        "object": '{{"platform_id":{space}"P{n}", "name": "n"}}',
        "cr in a string": '{{"platform_id": "P{n}", "name": "a\rb{space}"}}',
        "blank": "",
        "cr alone": "\r",
        "broken": '{{"platform_id": "P{n}"{space}',
    }
    data = "".join(
        pieces[kind].format(n=n, space=space) + end
        for n, (kind, space, end) in enumerate(lines, start=1)
    )
    bodies = [ln.removesuffix("\r") for ln in data.split("\n")[:-1]]
    stored = sorted(f"P{n}" for n, (kind, _s, _e) in enumerate(lines, start=1) if kind == "object")
    refused = {n: b for n, b in enumerate(bodies, start=1) if f"P{n}" not in stored}
    folder = tmp_path_factory.mktemp("jsonl")
    (folder / "platforms.jsonl").write_bytes(data.encode())
    c = store.connect(":memory:")
    try:
        with pytest.MonkeyPatch.context() as patch:  # lines cut between the pieces read
            patch.setattr(recover, "LF_READ_BYTES", read_bytes)
            report = ingest_dir(folder, c)
        counts = report.tables["platforms"]
        assert (counts.read, counts.quarantined) == (len(lines), len(refused))
        ids = c.execute("SELECT platform_id FROM platforms ORDER BY 1").fetchall()
        assert [i[0] for i in ids] == stored
        assert dict(c.execute("SELECT line_number, raw FROM quarantine").fetchall()) == refused
    finally:
        c.close()


@pytest.mark.parametrize("chunk", [1, 2, 3, 1024 * 1024])
@pytest.mark.parametrize(
    ("data", "needed"),
    [
        (b"a\nb\n", False),  # LF only: DuckDB reads it right
        (b"a\r\nb\r\n", False),  # CRLF only: so it does
        (b"a\nb\r", False),  # a CR that ends the file splits nothing
        (b"", False),
        (b"a\rb\n", True),  # a lone CR
        (b"a\nb\r\n", True),  # LF, then CRLF
        (b"a\r\nb\n", True),  # CRLF, then LF
        (b"a\r\r\nb\r\n", True),  # a CR before a CRLF
    ],
)
def test_which_files_the_lf_reader_takes(tmp_path, monkeypatch, chunk, data, needed):
    from promoguard.ingest import readers

    monkeypatch.setattr(readers, "CHUNK_BYTES", chunk)  # a CRLF cut between two chunks, too
    (tmp_path / "f.jsonl").write_bytes(data)
    assert readers.needs_lf_reader(tmp_path / "f.jsonl") is needed


# -- extra columns -------------------------------------------------------------------------------


def test_a_file_with_many_unknown_keys_lists_the_first_50_and_counts_the_rest(tmp_path):
    # One unknown key per line (a map written as an object, say): the report listed all of
    # them, so --json and the command line printed one name per line of the file.
    from typer.testing import CliRunner

    from .test_cli import app

    lines = [{"platform_id": f"P{i}", "name": "n", f"attr_{i:04d}": 1} for i in range(1200)]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "platforms.jsonl").write_text(_lines(*lines))
    report = ingest_dir(tmp_path / "in", tmp_path / "s.duckdb", progress=False)
    (file,) = report.files
    assert file.extra_columns == [f"attr_{i:04d}" for i in range(50)]
    assert file.extra_columns_more == 1150
    assert report.to_dict()["files"][0]["extra_columns_more"] == 1150
    result = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "t.duckdb")]
    )
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())  # the terminal wraps the line
    assert "extra columns ignored: attr_0000, attr_0001," in shown
    assert "attr_0048, attr_0049, and 1150 more" in shown and "attr_0050" not in shown


def test_a_full_disk_in_the_key_pass_is_the_stores_problem():
    # The key pass may spill to DuckDB's temp folder: a write that fails there is the store's
    # disk, not the file's fault, and goes up as DuckDB said it (ingest_dir makes it a
    # StoreError: test_lake's full-disk tests; watch keeps such a batch claimed). Any other
    # error of the pass is the file's.
    from pathlib import Path
    from types import SimpleNamespace

    from promoguard.ingest import readers

    class Failing:  # a connection whose queries fail as DuckDB's would
        def __init__(self, exc):
            self.exc = exc

        def execute(self, *args, **kwargs):
            raise self.exc

    source = SimpleNamespace(lines="_pg_lines", path=Path("reviews.jsonl"), readable=None)
    full = duckdb.IOException('Could not write file "/tmp/t/duckdb_temp_1.tmp": No space left')
    with pytest.raises(duckdb.IOException, match="Could not write file"):
        readers._jsonl_keys(Failing(full), source)
    bad = duckdb.InvalidInputException("Malformed JSON at byte 3 of line 1")
    with pytest.raises(IngestError, match="reviews.jsonl: cannot be read: Malformed JSON"):
        readers._jsonl_keys(Failing(bad), source)


def test_only_an_input_output_error_is_taken_for_a_full_disk():
    # a sender's text quoted in an error (a value it could not convert) is the batch's fault
    from promoguard.ingest.readers import disk_failed

    assert disk_failed(duckdb.IOException('Could not write file "/t/x.tmp": No space left'))
    assert disk_failed(duckdb.TransactionException("Failed to commit: No space left on device"))
    assert not disk_failed(
        duckdb.ConversionException("Could not convert string 'No space left on device' to INT32")
    )
    assert not disk_failed(duckdb.InvalidInputException("Malformed JSON: Could not write file"))
