"""A snapshot per rule, as ruff keeps per rule: what it finds on a small fixture (a shrunken
simulated season, scanned with the cn pack): each finding's id, entity, observed and expected JSON
and evidence hash. A change to a rule, a pack or the simulator that changes any finding shows as a
diff of ``tests/rules/snapshots/<CODE>.json``; when the change is meant, rewrite them with

    .venv/bin/python -m pytest tests/rules/test_snapshots.py --update-snapshots

and review the diff like code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support import run_check

from promoguard.engine import registry

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
PACK = "cn"
KEEP = ["finding_id", "entity_type", "entity_id", "observed", "expected", "evidence_sha256"]


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    from promoguard.ingest import ingest_dir
    from promoguard.simulate import generate

    folder = tmp_path_factory.mktemp("snapshot-season")
    generate("small", 7, folder / "season", shrink=0.2)
    ingest_dir(folder / "season", folder / "s.duckdb")
    return run_check(folder / "s.duckdb", None, PACK).findings


def _snapshot(findings, code: str) -> str:
    mine = findings[findings.check_code == code].sort_values(["entity_type", "entity_id"])
    rows = [
        {**r, "observed": json.loads(r["observed"]), "expected": json.loads(r["expected"])}
        for r in mine[KEEP].to_dict("records")
    ]
    return json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("code", [c.code for c in registry.all_checks()])
def test_each_rule_finds_what_its_snapshot_says(findings, code, request):
    path = SNAPSHOTS / f"{code}.json"
    got = _snapshot(findings, code)
    if request.config.getoption("--update-snapshots"):
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
        return
    assert path.is_file(), f"no snapshot for {code}: run with --update-snapshots and review it"
    want = path.read_text(encoding="utf-8")
    if got != want:
        old = {r["finding_id"]: r for r in json.loads(want)}
        new = {r["finding_id"]: r for r in json.loads(got)}
        gone, added = sorted(old.keys() - new.keys()), sorted(new.keys() - old.keys())
        changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
        pytest.fail(
            f"{code} differs from {path.name}: {len(gone)} gone {gone[:3]}, {len(added)} new "
            f"{added[:3]}, {len(changed)} changed {changed[:3]}; if meant, --update-snapshots"
        )


def test_every_snapshot_belongs_to_a_registered_rule():
    codes = {c.code for c in registry.all_checks()}
    stale = sorted(p.stem for p in SNAPSHOTS.glob("*.json") if p.stem not in codes)
    assert not stale, f"snapshots of rules that no longer exist: {stale}"
