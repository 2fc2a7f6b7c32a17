"""The whole loop on the real engine: scan → cases → guidance → rectification → re-scan of
corrected data → verified rectified (and not rectified, and not checked)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from promoguard.api import scan
from promoguard.cases import CaseService


@pytest.fixture(scope="module")
def text_scanned(season_store, tmp_path_factory):
    """The small season scanned with the TEXT checks only (quick, and enough for the loop)."""
    path = tmp_path_factory.mktemp("loop") / "first.duckdb"
    shutil.copy(season_store, path)
    scan(path, pack="cn", checks="TEXT")
    return path


def test_loop_end_to_end(db_url, text_scanned, tmp_path):
    analyst = CaseService(db_url, actor="analyst1")
    platform = CaseService(analyst.db, actor="platform-P1")
    opened = analyst.open_from_scan(text_scanned)
    cases = [c for c in analyst.list_cases() if c["findings"] >= 2]
    fixed, unfixed, partly_gone = cases[0], cases[1], cases[2]
    for c in (fixed, unfixed, partly_gone):
        analyst.assign(c["case_id"], "analyst1")
        analyst.guide(c["case_id"], "2099-12-31")
        platform.rectify(
            c["case_id"],
            "违规文案已修改 texts corrected",
            attachments=[("整改截图.png", b"\x89PNG proof")],
        )

    def texts_of(case_id):
        return [f["entity_id"] for f in analyst.get_case(case_id)["findings_detail"]]

    # the platform really corrects two merchants' texts (and deletes one), not the third's
    corrected = tmp_path / "corrected.duckdb"
    shutil.copy(text_scanned, corrected)
    gone = texts_of(partly_gone["case_id"])[0]
    with duckdb.connect(str(corrected)) as con:
        ids = texts_of(fixed["case_id"]) + texts_of(partly_gone["case_id"])[1:]
        con.execute(
            "UPDATE texts SET content = '商品详情见图片' WHERE text_id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        )
        con.execute("DELETE FROM texts WHERE text_id = ?", [gone])
    second = scan(corrected, pack="cn", checks="TEXT")
    assert len(second) < sum(c["findings"] for c in analyst.list_cases())

    v1 = analyst.verify(fixed["case_id"], corrected)
    assert v1["outcome"] == v1["status"] == "verified_rectified"
    assert v1["no_longer_present"] == fixed["findings"] and v1["still_present"] == 0

    v2 = analyst.verify(unfixed["case_id"], corrected)
    assert v2["outcome"] == "not_rectified"
    assert v2["still_present"] == unfixed["findings"]

    v3 = analyst.verify(partly_gone["case_id"], corrected)
    assert v3["outcome"] == "verified_rectified"
    assert (v3["not_checked"], v3["no_longer_present"]) == (1, partly_gone["findings"] - 1)
    detail = {
        f["entity_id"]: f["verification"]
        for f in analyst.get_case(partly_gone["case_id"])["findings_detail"]
    }
    assert detail[gone] == "not_checked"

    assert analyst.close(fixed["case_id"])["status"] == "closed"
    esc = analyst.close(
        unfixed["case_id"], escalate=True, reason="逾期未整改 not rectified by the deadline"
    )
    assert esc["status"] == "escalated"

    # the story is in the audit trail, in order, and the chain verifies
    actions = [e["action"] for e in analyst.events(unfixed["case_id"])]
    assert actions == ["open", "assign", "guide", "rectify", "verify", "escalate"]
    rect = analyst.get_case(fixed["case_id"])["rectifications"][0]
    assert rect["reported_by"] == "platform-P1"
    assert rect["attachments"][0]["filename"] == "整改截图.png"
    assert analyst.audit_verify().ok
    assert len(opened.opened) == len(analyst.list_cases())
    analyst.db.dispose()


def test_a_scan_that_checked_nothing_of_the_case_decides_nothing(
    sqlite_url, text_scanned, tmp_path
):
    svc = CaseService(sqlite_url, actor="analyst1")
    svc.open_from_scan(text_scanned)
    c = svc.list_cases()[0]
    svc.assign(c["case_id"], "a")
    svc.guide(c["case_id"], "2099-12-31")
    other = tmp_path / "other.duckdb"
    shutil.copy(text_scanned, other)
    scan(other, pack="cn", checks="PRICE001")  # the TEXT checks were not run
    from promoguard.cases import CaseError

    with pytest.raises(CaseError, match="checked none of"):
        svc.verify(c["case_id"], other)
    assert svc.summary(c["case_id"])["status"] == "guidance_issued"


def test_ctrl_c_while_verifying_records_no_verdict(sqlite_url, text_scanned, tmp_path, monkeypatch):
    """Whether a finding's data is still in the store was asked by reading its table and taking
    any error for "the table is absent": Ctrl-C there (DuckDB's "Query interrupted") made every
    finding of the case "not checked" instead of stopping the verification."""
    import contextlib

    from promoguard.cases import source

    svc = CaseService(sqlite_url, actor="analyst1")
    svc.open_from_scan(text_scanned)
    c = svc.list_cases()[0]
    svc.assign(c["case_id"], "a")
    svc.guide(c["case_id"], "2099-12-31")
    opened = source._open

    class Stopping:
        def __init__(self, con):
            self.con = con

        def execute(self, query, *args):
            if 'FROM "texts" WHERE' in query:
                raise RuntimeError("Query interrupted")
            return self.con.execute(query, *args)

    @contextlib.contextmanager
    def stopping(path):
        with opened(path) as con:
            yield Stopping(con)

    monkeypatch.setattr(source, "_open", stopping)
    with pytest.raises(RuntimeError, match="Query interrupted"):
        svc.verify(c["case_id"], text_scanned)
    assert svc.summary(c["case_id"])["status"] == "guidance_issued"
    monkeypatch.setattr(source, "_open", opened)
    assert svc.verify(c["case_id"], text_scanned)["still_present"] >= 1
