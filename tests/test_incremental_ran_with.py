"""``scan --since`` carries a check's findings only from a scan that ran it as this one does.

A saved scan records, per check, what it ran with (its coverage entry's ``ran_with``: the pack,
severity, legal basis, time zone, parameters and the pack's settings). An increment whose pack
makes a check's findings otherwise (another pack, a bureau's own copy of one with a severity or
a parameter changed) runs that check on the whole store and says so (``info["changed"]``); a
check run as before keeps the fast path; a scan saved before the record was kept has every
check run whole, once. Hand-built stores (the pricing season of test_incremental_scopes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from tests.support import listing, make_store, write_rows
from tests.test_incremental_scopes import COLUMNS, _obs, _price_season, _sale

from promoguard import engine, incremental, store
from promoguard.engine import registry
from promoguard.engine import run as eng
from promoguard.engine.packs import load_pack

CHECKS = "PRICE001,PRICE002"
#: day 2: a sale of l2 inside its look-back, sent late: PRICE001/002 re-check m2 only, and
#: carry l1's findings (m1's) from the scan since
DAY2 = {"orders": [_sale("late", "l2", -2, "60")]}


def _rows(result):
    """The findings as compared with a full re-scan's: with what the pack writes in each."""
    f = result.findings.sort_values(["check_code", "finding_id"])
    return [tuple(r) for r in f[[*COLUMNS, "legal_basis", "pack"]].itertuples(index=False)]


@pytest.fixture(autouse=True)
def _tiny(monkeypatch):
    # a tiny store: scoped whatever share of it the new rows reach
    monkeypatch.setattr(incremental, "SCOPE_SHARE", 1.0)


def _own_cn(tmp_path: Path, name: str, *, timezone: str | None = None, rules: str = "") -> Path:
    """A bureau's own copy of cn (a copy of its folder: the same name) with ``rules`` (a family
    file's ``checks:`` body, read after cn's) and, optionally, another time zone."""
    from promoguard.engine.packs import BUILTIN_DIR

    folder = tmp_path / name
    shutil.copytree(BUILTIN_DIR / "cn", folder)
    if timezone:
        meta = folder / "pack.yaml"
        text = meta.read_text(encoding="utf-8").replace("Asia/Shanghai", timezone)
        meta.write_text(text, encoding="utf-8")
    (folder / "zz_ours.yaml").write_text("checks:\n" + rules, encoding="utf-8")
    return folder


def _increment(tmp_path, base_pack, pack, *, since="last", edit=None):
    """The pricing season scanned (saved) with ``base_pack``, day 2 appended (``edit(con,
    scan_id)`` may change the store before), then a full re-scan and an increment with
    ``pack``: (full, increment, info)."""
    path = tmp_path / "s.duckdb"
    make_store(path, _price_season()).close()
    first = engine.scan(path, base_pack, checks=CHECKS)
    con = store.connect(path)
    write_rows(con, DAY2)
    if edit is not None:
        edit(con, first.scan_id)
    con.close()
    full_path = tmp_path / "full.duckdb"
    shutil.copy(path, full_path)
    full = engine.scan(full_path, pack, checks=CHECKS, save=False)
    since = first.scan_id if since == "id" else since
    inc, info = incremental.scan_since(path, pack, since, checks=CHECKS, save=False)
    return full, inc, info


def test_a_saved_scan_records_what_each_check_ran_with(tmp_path):
    path = tmp_path / "s.duckdb"
    make_store(path, _price_season()).close()
    result = engine.scan(path, "cn", checks=CHECKS)
    con = store.connect(path, read_only=True)
    try:
        saved = json.loads(
            con.execute(
                "SELECT coverage FROM scans WHERE scan_id = ?", [result.scan_id]
            ).fetchone()[0]
        )
    finally:
        con.close()
    cn = load_pack("cn")
    for code in CHECKS.split(","):
        assert saved[code]["ran_with"] == eng.ran_with(cn, registry.get(code))
        assert saved[code]["status"] == "ran"  # beside what the coverage said already
    assert saved["PRICE001"]["ran_with"]["severity"] == "high"
    assert saved["PRICE001"]["ran_with"]["timezone"] == "Asia/Shanghai"
    # the result itself holds the coverage as before: the record is the saved scan's
    assert "ran_with" not in result.coverage["PRICE001"]


def test_the_same_settings_keep_the_fast_path(tmp_path):
    # a bureau's copy of cn that only annotates a value: the findings are made alike
    own = _own_cn(tmp_path, "same", rules="  PRICE001:\n    notes: our copy\n")
    full, inc, info = _increment(tmp_path, "cn", own)
    assert info["changed"] == {}
    assert info["rechecked_local"] == ["PRICE001", "PRICE002"] and info["rerun_season"] == []
    assert info["scopes"]["merchant_delta"]["keys"] == 1 and info["carried"] > 0
    assert _rows(inc) == _rows(full)


@pytest.mark.parametrize(
    ("rules", "timezone", "differs"),
    [
        # a severity: every finding of the check carries it (l1's, carried, held the old one)
        ("  PRICE001:\n    severity: critical\n", None, ["severity"]),
        # the legal basis each finding quotes
        (
            "  PRICE001:\n    legal_basis:\n      - law: Our own rule\n        article: Art. 1\n",
            None,
            ["legal_basis"],
        ),
        # a parameter: the finding ids and the prior price
        ("  PRICE001:\n    parameters:\n      lookback_days: 3\n", None, ["parameters"]),
        # the time zone the look-back's calendar days are cut in
        ("", "Europe/Berlin", ["timezone"]),
    ],
)
def test_a_check_run_otherwise_runs_whole(tmp_path, rules, timezone, differs):
    own = _own_cn(tmp_path, "own", timezone=timezone, rules=rules)
    full, inc, info = _increment(tmp_path, "cn", own)
    if timezone is None:  # PRICE002 runs as before: scoped, and its findings on m1 carried
        assert info["changed"] == {"PRICE001": differs}
        assert info["rechecked_local"] == ["PRICE002"] and info["rerun_season"] == ["PRICE001"]
    else:  # the time zone is every check's
        assert info["changed"] == {"PRICE001": differs, "PRICE002": differs}
        assert info["rechecked_local"] == [] and info["rerun_season"] == ["PRICE001", "PRICE002"]
    assert "PRICE001" in set(full.findings.check_code)
    assert _rows(inc) == _rows(full)


def test_a_severity_carried_from_a_scan_that_ran_it_otherwise_would_differ(tmp_path, monkeypatch):
    """Not vacuous: the carried finding of l1 holds the severity the scan since wrote."""
    own = _own_cn(tmp_path, "own", rules="  PRICE001:\n    severity: critical\n")
    monkeypatch.setattr(incremental, "_ran_otherwise", lambda *a: {})
    full, inc, info = _increment(tmp_path, "cn", own)
    assert info["rechecked_local"] == ["PRICE001", "PRICE002"]
    assert set(full.findings[full.findings.check_code == "PRICE001"].severity) == {"critical"}
    assert _rows(inc) != _rows(full)


def test_since_a_scan_of_another_pack_runs_every_check_whole(tmp_path):
    full, inc, info = _increment(tmp_path, "eu", "cn", since="id")
    assert set(info["changed"]) == {"PRICE001", "PRICE002"}
    assert "pack" in info["changed"]["PRICE001"] and "timezone" in info["changed"]["PRICE001"]
    assert info["rechecked_local"] == [] and info["carried"] == 0
    assert _rows(inc) == _rows(full)


def _forget_ran_with(con: duckdb.DuckDBPyConnection, scan_id: str) -> None:
    """Make ``scan_id`` a scan saved before scans recorded what their checks ran with."""
    saved = json.loads(
        con.execute("SELECT coverage FROM scans WHERE scan_id = ?", [scan_id]).fetchone()[0]
    )
    old = {code: {k: v for k, v in e.items() if k != "ran_with"} for code, e in saved.items()}
    con.execute("UPDATE scans SET coverage = ? WHERE scan_id = ?", [json.dumps(old), scan_id])


def test_since_a_scan_without_the_record_every_check_runs_whole_once(tmp_path):
    full, inc, info = _increment(tmp_path, "cn", "cn", edit=_forget_ran_with)
    assert info["changed"] == {c: [incremental.NO_RECORD] for c in ("PRICE001", "PRICE002")}
    assert info["rechecked_local"] == [] and info["carried"] == 0
    assert info["rerun_season"] == ["PRICE001", "PRICE002"]
    assert _rows(inc) == _rows(full)
    # an older store still: no coverage at all
    full, inc, info = _increment(
        tmp_path / "none",
        "cn",
        "cn",
        edit=lambda con, sid: con.execute(
            "UPDATE scans SET coverage = NULL WHERE scan_id = ?", [sid]
        ),
    )
    assert set(info["changed"]) == {"PRICE001", "PRICE002"} and info["carried"] == 0
    assert _rows(inc) == _rows(full)


def test_the_next_increment_since_a_saved_one_takes_the_fast_path_again(tmp_path):
    # the whole run saved records what it ran with: the day after is scoped again
    path = tmp_path / "s.duckdb"
    make_store(path, _price_season()).close()
    first = engine.scan(path, "cn", checks=CHECKS)
    con = store.connect(path)
    _forget_ran_with(con, first.scan_id)
    write_rows(con, DAY2)
    con.close()
    _, info = incremental.scan_since(path, "cn", "last", checks=CHECKS)
    assert set(info["changed"]) == {"PRICE001", "PRICE002"}
    con = store.connect(path)
    write_rows(con, {"price_observations": [_obs("l2", -1, "130", minutes=30)]})
    con.close()
    _, info = incremental.scan_since(path, "cn", "last", checks=CHECKS, save=False)
    assert info["changed"] == {} and info["rechecked_local"] == ["PRICE001", "PRICE002"]


def test_the_scan_command_says_which_checks_ran_whole_and_why(tmp_path):
    from typer.testing import CliRunner

    from promoguard.cli import app

    path = tmp_path / "s.duckdb"
    make_store(path, _price_season()).close()
    engine.scan(path, "cn", checks=CHECKS)
    con = store.connect(path)
    write_rows(con, DAY2)
    con.close()
    own = _own_cn(tmp_path, "own", rules="  PRICE001:\n    severity: critical\n")
    args = ["scan", "--store", str(path), "--pack", str(own), "--checks", CHECKS, "--since"]
    res = CliRunner().invoke(app, [*args, "last"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.stdout.split())  # (wrapped at 80 columns)
    assert "run on the whole store, not carried from scan-" in said
    assert "PRICE001 (severity)" in said
    res = CliRunner().invoke(app, [*args, "last", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["incremental"]["changed"] == {}  # since the scan just saved


# -- files and code: what a parameter's path and a rule's version do not show ----------------------

LEXICON_HEADER = "term,code,category,lang,severity,allowed_categories,legal_basis,source\n"
TEXT_DAY1 = {
    "platforms": [{"platform_id": "P1", "name": "P1"}],
    "merchants": [
        {"merchant_id": "m1", "platform_id": "P1", "name": "m1"},
        {"merchant_id": "m2", "platform_id": "P1", "name": "m2"},
    ],
    "listings": [listing("l1", "m1", "P1", "apparel"), listing("l2", "m2", "P1", "apparel")],
    "texts": [
        {
            "text_id": "t1",
            "kind": "listing_title",
            "merchant_id": "m1",
            "listing_id": "l1",
            "created_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            "lang": "zh",
            "content": "这件卫衣天下超赞",
        }
    ],
}
TEXT_DAY2 = {
    "texts": [
        {
            "text_id": "t2",
            "kind": "listing_title",
            "merchant_id": "m2",
            "listing_id": "l2",
            "created_at": dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
            "lang": "zh",
            "content": "普通卫衣",
        }
    ]
}


def _lexicon(path: Path, *terms: str) -> None:
    path.write_text(
        LEXICON_HEADER + "".join(f"{t},TEXT001,superlative,zh,medium,,ours,ours\n" for t in terms),
        encoding="utf-8",
    )


def test_a_lexicon_edited_in_place_is_not_carried(tmp_path):
    # A bureau adds a term to its own lexicon (same file, same path) between two days: the
    # parameter reads as before, the findings do not. Day 1's text has the new term.
    pack = _own_cn(
        tmp_path, "ours", rules="  TEXT001:\n    parameters:\n      extra_lexicons: ./ours.csv\n"
    )
    _lexicon(pack / "ours.csv", "宇宙无敌")
    path = tmp_path / "s.duckdb"
    make_store(path, TEXT_DAY1).close()
    first = engine.scan(path, pack, checks="TEXT001")
    assert first.findings.empty  # precondition: not a finding under the old lexicon
    _lexicon(pack / "ours.csv", "宇宙无敌", "天下超赞")
    con = store.connect(path)
    write_rows(con, TEXT_DAY2)
    con.close()
    full_path = tmp_path / "full.duckdb"
    shutil.copy(path, full_path)
    full = engine.scan(full_path, pack, checks="TEXT001", save=False)
    inc, info = incremental.scan_since(path, pack, "last", checks="TEXT001", save=False)
    assert sorted(full.findings.entity_id) == ["t1"]
    assert sorted(inc.findings.finding_id) == sorted(full.findings.finding_id)
    assert info["changed"] == {"TEXT001": ["inputs"]}


def test_ran_with_follows_the_contents_of_files_and_the_rules_code(tmp_path, monkeypatch):
    pack_dir = _own_cn(
        tmp_path, "ours", rules="  TEXT001:\n    parameters:\n      extra_lexicons: ./ours.csv\n"
    )
    _lexicon(pack_dir / "ours.csv", "宇宙无敌")
    check = registry.get("TEXT001")
    before = eng.ran_with(load_pack(pack_dir), check)
    assert eng.ran_with(load_pack(pack_dir), check) == before  # stable
    _lexicon(pack_dir / "ours.csv", "宇宙无敌", "天下超赞")
    after = eng.ran_with(load_pack(pack_dir), check)
    assert {k for k in before if before[k] != after[k]} == {"inputs"}
    # another version of promoguard (or of the rule's files) made the findings: not carried
    monkeypatch.setattr(eng, "__version__", "0.0.0-other")
    assert {k for k in after if after[k] != eng.ran_with(load_pack(pack_dir), check)[k]} == {"code"}


def test_a_lexicon_edited_in_place_is_read_again_by_the_same_process(tmp_path):
    # watch scans again in one process: the cached terms follow the file, not only its path
    from promoguard.text.lexicon import load_terms

    lex = tmp_path / "ours.csv"
    _lexicon(lex, "宇宙无敌")
    assert "天下超赞" not in {t.term for t in load_terms([lex])}
    _lexicon(lex, "宇宙无敌", "天下超赞")
    os.utime(lex, ns=(1, 1))  # a different modification time even on a coarse clock
    assert "天下超赞" in {t.term for t in load_terms([lex])}


def test_a_review_model_retrained_in_place_changes_what_review003_ran_with(tmp_path):
    # REVIEW003 loads its text model from the path a parameter names: the same path, new scores
    model = tmp_path / "model.json"
    pack_dir = _own_cn(
        tmp_path, "ours", rules=f"  REVIEW003:\n    parameters:\n      text_model: {model}\n"
    )
    model.write_text('{"version": 1}', encoding="utf-8")
    check = registry.get("REVIEW003")
    before = eng.ran_with(load_pack(pack_dir), check)
    model.write_text('{"version": 2}', encoding="utf-8")
    after = eng.ran_with(load_pack(pack_dir), check)
    assert {k for k in before if before[k] != after[k]} == {"inputs"}


def test_the_code_digest_reaches_the_helpers_a_rule_calls(tmp_path, monkeypatch):
    # a content rule's findings come from the matcher and the text rules, which its class does
    # not name: an edit there (a deploy from git under the same version) is not carried over
    files = eng._code_files(type(registry.get("TEXT001")))
    names = {Path(f).relative_to(Path(eng.__file__).parent.parent).as_posix() for f in files}
    assert {"text/matcher.py", "text/rules.py", "rules/reviews/_shared.py"} <= names
    check = registry.get("TEXT001")
    before = eng._code_digest(type(check))
    edited = tmp_path / "matcher.py"
    edited.write_text("# edited\n", encoding="utf-8")
    monkeypatch.setattr(
        eng,
        "_package_files",
        lambda: tuple(str(edited) if f.endswith("text/matcher.py") else f for f in files),
    )
    assert eng._code_digest(type(check)) != before
