"""Cases built by hand (no simulator, no scan): a case with findings and their evidence."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import update

from promoguard.cases import audit
from promoguard.cases.models import Case, CaseFinding, EvidenceDocument, utcnow


def make_case(
    svc, case_id: str = "C-TEST000001", *, status: str = "open", findings: int = 2
) -> str:
    """Insert a case for merchant M1 on platform P1 with ``findings`` TEXT001 findings."""
    with svc.db.session() as s:
        c = Case(
            case_id=case_id,
            kind="merchant",
            platform_id="P1",
            platform_name="山海商城 Shanhai Mall",
            merchant_id="M1",
            merchant_name="好物旗舰店 GoodStuff",
            pack="cn",
            status="open",
            risk_score=30.0,
            priority=3,
            score_detail="{}",
            findings_count=findings,
            opened_scan_id="scan-hand",
            last_scan_id="scan-hand",
            opened_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(c)
        s.flush()
        for i in range(findings):
            doc = json.dumps(
                {"texts": [{"text_id": f"T{i}", "content": f"全网最低价 第{i}"}]},
                ensure_ascii=False,
            )
            sha = hashlib.sha256(doc.encode()).hexdigest()
            if s.get(EvidenceDocument, sha) is None:
                s.add(EvidenceDocument(sha256=sha, document=doc))
            s.add(
                CaseFinding(
                    case_pk=c.id,
                    finding_id=f"F{i}",
                    check_code="TEXT001",
                    family="TEXT",
                    entity_type="text",
                    entity_id=f"T{i}",
                    merchant_id="M1",
                    platform_id="P1",
                    severity="medium",
                    observed=json.dumps({"matched": "全网最低价"}, ensure_ascii=False),
                    expected=json.dumps({"rule": "no absolute terms"}),
                    legal_basis="中华人民共和国广告法 (2021-04-29) Art. 9(3) [CN]",
                    evidence_sha256=sha,
                    first_scan_id="scan-hand",
                    last_scan_id="scan-hand",
                    times_seen=1,
                )
            )
        audit.append(s, "setup", "open", {"by": "hand"}, case_id=case_id)
    if status != "open":
        set_status(svc, case_id, status)
    return case_id


def set_status(svc, case_id: str, status: str) -> None:
    """Force a state (test setup only; the service never does this)."""
    with svc.db.session() as s:
        s.execute(
            update(Case)
            .where(Case.case_id == case_id)
            .values(status=status, version=Case.version + 1)
        )
