"""`promoguard cases|audit|evidence` at the command line: the spec's names, JSON and exit codes."""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from promoguard.cli import app


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, f"promoguard {' '.join(args)}: {result.output}"
    return result


def js(*args: str) -> dict:
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMOGUARD_DB", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("PROMOGUARD_ACTOR", "cli-tester")
    return tmp_path


def test_cases_audit_evidence_at_the_prompt(env, scanned_store):
    tmp = env
    opened = js("cases", "open", "--store", str(scanned_store))
    assert opened["opened"] > 0 and opened["scan_id"].startswith("scan-")
    listing = js("cases", "list")
    assert listing["count"] == opened["opened"] == len(listing["items"])
    first = listing["items"][0]
    assert {"case_id", "platform_id", "merchant_id", "status", "priority"} <= set(first)
    cid = first["case_id"]
    assert js("cases", "list", "--status", "open")["count"] == opened["opened"]

    assert js("cases", "assign", cid, "--to", "alice")["status"] == "under_review"
    # now the filter has cases to leave out (every case was open above)
    assert [c["case_id"] for c in js("cases", "list", "--status", "under_review")["items"]] == [cid]
    assert js("cases", "list", "--status", "open")["count"] == opened["opened"] - 1
    res = run("cases", "assign", cid, "--to", "bob", "--version", "1", code=1)
    assert "changed by someone else" in res.stderr and len(res.stderr.strip().splitlines()) == 1

    notice = tmp / "notice.html"
    guided = js("cases", "guide", cid, "--deadline", "2099-06-30", "--out", str(notice))
    assert guided["status"] == "guidance_issued" and guided["deadline"] == "2099-06-30"
    assert "行政指导意见书" in notice.read_text(encoding="utf-8")

    proof = tmp / "proof.txt"
    proof.write_text("下架记录 listing removed", encoding="utf-8")
    finding = js("cases", "show", cid)["findings_detail"][0]
    rect = js(
        "cases", "rectify", cid, "--note", "已整改", "--attach", str(proof),
        "--action", f"{finding['check_code']} {finding['entity_id']}=listing removed",
    )  # fmt: skip
    assert rect["status"] == "rectification_reported"
    shown = js("cases", "show", cid)
    assert shown["rectifications"][0]["attachments"][0]["filename"] == "proof.txt"
    assert shown["findings_detail"][0]["action_taken"] == "listing removed"

    verified = js("cases", "verify", cid, "--store", str(scanned_store))
    assert verified["outcome"] == "not_rectified" and verified["still_present"] == first["findings"]

    # audit: verifies, head exported and checked, then a tampered event is named
    assert js("audit", "verify")["ok"] is True
    head = tmp / "head.json"
    run("audit", "head", "--out", str(head))
    run("audit", "verify", "--head", str(head))

    # evidence: keygen, export, verify; an altered copy is refused with the file named
    keys = tmp / "keys"
    js("evidence", "keygen", "--out", str(keys))
    bundle = tmp / "bundle.zip"
    js("evidence", "export", cid, "--out", str(bundle), "--key", str(keys / "bureau.key"))
    assert js("evidence", "verify", str(bundle), "--pubkey", str(keys / "bureau.pub"))["ok"] is True
    altered = tmp / "altered.zip"
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(altered, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, data + b" " if name == "case.json" else data)
    res = run("evidence", "verify", str(altered), "--pubkey", str(keys / "bureau.pub"), code=1)
    assert "case.json was altered" in res.stderr

    import sqlite3

    con = sqlite3.connect(tmp / "env.db")
    con.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    con.commit()
    con.close()
    res = run("audit", "verify", code=1)
    assert "event #2" in res.stderr and "changed" in res.stderr
    res = run("audit", "verify", "--json", code=1)
    assert json.loads(res.stdout)["bad_seq"] == 2

    assert (
        js("cases", "close", cid, "--escalate", "--reason", "逾期未整改")["status"] == "escalated"
    )


def test_clear_one_line_errors(env):
    for args in (
        ("cases", "show", "C-NOPE"),
        ("cases", "assign", "C-NOPE", "--to", "x"),
        ("cases", "list", "--status", "bogus"),
        ("cases", "open", "--store", str(env / "missing.duckdb")),
        ("cases", "list", "--db", "mysql://u@h/x"),
        ("evidence", "export", "C-NOPE", "--out", str(env / "b.zip"), "--key", str(env / "nokey")),
        ("evidence", "verify", str(env / "none.zip")),
    ):
        res = run(*args, code=1)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("promoguard: error:"), (args, res.stderr)


SUBCOMMANDS = [
    ("cases", c)
    for c in (
        "open",
        "list",
        "show",
        "assign",
        "comment",
        "guide",
        "notice",
        "rectify",
        "verify",
        "close",
        "dismiss",
    )
] + [
    ("audit", "verify"),
    ("audit", "head"),
    ("evidence", "keygen"),
    ("evidence", "export"),
    ("evidence", "verify"),
]


@pytest.mark.parametrize("group,command", SUBCOMMANDS)
def test_every_subcommand_has_help_and_db_where_it_reads_the_case_database(group, command):
    out = run(group, command, "--help").output
    assert "Usage" in out
    if (group, command) not in (("evidence", "keygen"), ("evidence", "verify")):
        assert "--db" in out


def test_cases_open_prints_on_stdout_the_cases_it_opened_or_updated(env, scanned_store):
    """It printed on stderr, and the top ten of the whole queue instead of its own cases: a
    second `cases open` of the same scan (nothing opened) listed ten cases as if it had."""
    first = run("cases", "open", "--store", str(scanned_store))
    assert "cases opened" in first.stdout and first.stderr == ""
    opened = js("cases", "list")["items"]
    lines = [ln for ln in first.stdout.splitlines() if ln.startswith("C-")]
    assert len(lines) == min(len(opened), 20)
    assert {ln.split()[0] for ln in lines} <= {c["case_id"] for c in opened}
    again = run("cases", "open", "--store", str(scanned_store))
    assert "0 cases opened, 0 updated" in again.stdout
    assert not [ln for ln in again.stdout.splitlines() if ln.startswith("C-")]
    listed = run("cases", "list")
    assert opened[0]["case_id"] in listed.stdout  # the table is the answer: stdout too


def test_a_mistyped_db_is_an_error_not_a_new_empty_database(env):
    """`audit verify --db sqlite:///…/typo.db` made the folders and an empty database and
    reported the chain intact (0 events, exit 0); `cases list` on it listed no cases."""
    typo = env / "no" / "such" / "typo.db"
    url = f"sqlite:///{typo}"
    for args in (
        ("audit", "verify", "--db", url),
        ("audit", "head", "--db", url),
        ("cases", "list", "--db", url),
        ("cases", "show", "C-1", "--db", url),
        ("cases", "assign", "C-1", "--to", "a", "--db", url),
        ("users", "list", "--db", url),
    ):
        res = run(*args, code=1)
        assert f"no case database at {typo}" in res.stderr, (args, res.stderr)
    assert not (env / "no").exists()
    made = CliRunner().invoke(  # adding a user (the first step of a new bureau) makes one
        app,
        ["users", "add", "ana", "--role", "analyst", "--db", url, "--password-stdin"],
        input="a-long-password-1\n",
    )
    assert made.exit_code == 0, made.output
    assert typo.exists() and js("users", "list", "--db", url)["items"][0]["name"] == "ana"
