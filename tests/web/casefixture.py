"""A small case database for the web tests, built by hand (not by the simulator).

A scan store is written row by row (two platforms, a few merchants, listings and findings with
their evidence), then the real case service opens cases from it, so the pages read exactly what
``promoguard cases open`` would produce. Names and ids carry hostile strings (markup, quotes,
script) so that every page is tested for escaping on data it really shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from promoguard import store as store_mod

HOSTILE = '<script>alert("pg")</script>'
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'

PASSWORDS = {
    "admin": "admin-password-1",
    "analyst": "analyst-password-1",
    "alpha": "alpha-password-1",  # platform officer of P1
    "beta": "beta-password-1",  # platform officer of P2
    "auditor": "auditor-password-1",
    "locked": "locked-password-1",  # for the lockout test only
}
ROLES = {
    "admin": ("admin", None),
    "analyst": ("analyst", None),
    "alpha": ("platform", "P1"),
    "beta": ("platform", "P2"),
    "auditor": ("auditor", None),
    "locked": ("analyst", None),
}


@dataclass
class CaseFixture:
    db_url: str
    store: Path
    #: object ids by platform: {"P1": {"case_id": [...], "finding_id": [...], ...}, "P2": ...}
    ids: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _finding(scan: str, code: str, etype: str, eid: str, merchant: str, platform: str, sev: str):
    evidence = {
        "check_code": code,
        "entity_id": eid,
        "rows": {
            "price_observations": [
                {"observed_at": f"2026-11-0{d}T10:00:00Z", "price": str(100 + 10 * d)}
                for d in range(1, 6)
            ],
            "note": [{"text": f"{HOSTILE} for {eid}"}],
        },
    }
    # canonical JSON, as the engine writes a document (its hash is of these bytes)
    doc = json.dumps(evidence, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    sha = hashlib.sha256(doc.encode()).hexdigest()
    fid = hashlib.sha256(f"{scan}|{code}|{etype}|{eid}".encode()).hexdigest()[:24]
    row = {
        "finding_id": fid,
        "scan_id": scan,
        "check_code": code,
        "pack": "cn",
        "entity_type": etype,
        "entity_id": eid,
        "merchant_id": merchant,
        "platform_id": platform,
        "severity": sev,
        "observed": json.dumps({"reference_price": "129.00", "label": HOSTILE}),
        "expected": json.dumps({"legal_prior_price": "79.00"}),
        "legal_basis": "明码标价和禁止价格欺诈规定 Art. 16",
        "evidence_sha256": sha,
        "detected_at": dt.datetime(2026, 11, 12, 1, 0, tzinfo=dt.UTC),
    }
    return row, (sha, doc)


def build(tmp: Path, db_url: str | None = None) -> CaseFixture:
    """Write the store, open the cases, add the users; returns the URLs and the ids per platform.

    The case database is ``db_url`` (an empty one, e.g. on PostgreSQL), else a SQLite file in ``tmp``.
    """
    from promoguard.cases.service import CaseService
    from promoguard.web.security import hash_password

    store_path = tmp / "store.duckdb"
    scan = "S-WEBTEST-1"
    merchants = {
        "P1": [("M1", "Alpha Tea 茶叶店"), ("M2", HOSTILE), ("M3", "Alpha Shoes")],
        "P2": [("M7", "Beta Phones"), ("M8", f"Beta {HOSTILE_ATTR}"), ("M9", "Beta Toys")],
    }
    checks = [
        ("PRICE001", "listing", "high"),
        ("SHIP001", "order", "medium"),
        ("TEXT001", "text", "low"),
        ("BRUSH003", "merchant", "critical"),
    ]
    findings, evidence = [], []
    for platform, ms in merchants.items():
        for m_index, (mid, _) in enumerate(ms):
            for c_index, (code, etype, sev) in enumerate(checks[: 2 + m_index]):
                eid = mid if etype == "merchant" else f"{etype[0].upper()}-{mid}-{c_index}"
                if mid == "M2" and code == "TEXT001":
                    eid = f"T-{HOSTILE_ATTR}"
                row, ev = _finding(scan, code, etype, eid, mid, platform, sev)
                findings.append(row)
                evidence.append(ev)
    con = store_mod.connect(store_path)
    try:
        con.executemany(
            "INSERT INTO platforms (platform_id, name) VALUES (?, ?)",
            [("P1", "Alpha Mall 阿尔法商城"), ("P2", f"Beta {HOSTILE}")],
        )
        con.executemany(
            "INSERT INTO merchants (merchant_id, platform_id, name) VALUES (?, ?, ?)",
            [(mid, p, name) for p, ms in merchants.items() for mid, name in ms],
        )
        con.executemany(
            "INSERT INTO listings (listing_id, merchant_id, platform_id, title, category, currency)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (f"LST-{p}-{i}", ms[i % len(ms)][0], p, f"item {i}", "tea", "CNY")
                for p, ms in merchants.items()
                for i in range(40 if p == "P1" else 25)
            ],
        )
        con.execute(
            "INSERT INTO scans (scan_id, pack, engine, checks, parameters, started_at, finished_at,"
            " findings) VALUES (?, 'cn', 'duckdb', ?, '{}', ?, ?, ?)",
            [
                scan,
                ",".join(c for c, _, _ in checks),
                dt.datetime(2026, 11, 12, 1, 0, tzinfo=dt.UTC),
                dt.datetime(2026, 11, 12, 1, 5, tzinfo=dt.UTC),
                len(findings),
            ],
        )
        cols = list(findings[0])
        con.executemany(
            f"INSERT INTO findings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [[f[c] for c in cols] for f in findings],
        )
        con.executemany("INSERT INTO evidence (evidence_sha256, document) VALUES (?, ?)", evidence)
    finally:
        con.close()

    db_url = db_url or f"sqlite:///{tmp / 'cases.db'}"
    svc = CaseService(db_url, actor="setup")
    svc.open_from_scan(store_path)
    for name, (role, platform) in ROLES.items():
        svc.add_user(name, role, platform_id=platform, password_hash=hash_password(PASSWORDS[name]))

    fx = CaseFixture(db_url=db_url, store=store_path)
    cases = svc.list_cases()
    for c in cases:
        ids = fx.ids.setdefault(c["platform_id"], {"case_id": [], "finding_id": []})
        ids["case_id"].append(c["case_id"])
    for f in findings:
        ids = fx.ids[f["platform_id"]]
        ids["finding_id"].append(f["finding_id"])
        ids.setdefault("merchant_id", [])
        if f["merchant_id"] not in ids["merchant_id"]:
            ids["merchant_id"].append(f["merchant_id"])
        ids.setdefault("evidence_sha256", []).append(f["evidence_sha256"])
    # one case per platform with guidance issued and a rectification with an attachment, so that
    # notices and attachments exist to be attacked across tenants
    deadline = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=14)
    for platform in ("P1", "P2"):
        case_id = fx.ids[platform]["case_id"][-1]
        svc.assign(case_id, "analyst")
        svc.guide(case_id, deadline)
        CaseService(svc.db, actor="alpha" if platform == "P1" else "beta").rectify(
            case_id, f"removed the listing {HOSTILE}", attachments=[("proof.txt", b"done")]
        )
        fx.ids[platform]["guided_case"] = [case_id]
    for platform in ("P1", "P2"):
        case_id = fx.ids[platform]["case_id"][0]
        svc.assign(case_id, "analyst")
        svc.guide(case_id, deadline)
        fx.ids[platform]["awaiting_rectification"] = [case_id]
    for platform in ("P1", "P2"):  # the middle case of each platform is left open
        fx.ids[platform]["open_case"] = [fx.ids[platform]["case_id"][1]]
    fx.ids["P1"]["attachment"] = _attachment_ids(svc, fx.ids["P1"]["guided_case"][0])
    fx.ids["P2"]["attachment"] = _attachment_ids(svc, fx.ids["P2"]["guided_case"][0])
    svc.db.dispose()
    return fx


def _attachment_ids(svc, case_id: str) -> list[str]:
    from sqlalchemy import select

    from promoguard.cases.models import Attachment, Case, Rectification

    with svc.db.session() as s:
        return [
            str(a)
            for (a,) in s.execute(
                select(Attachment.id)
                .join(Rectification, Rectification.id == Attachment.rectification_id)
                .join(Case, Case.id == Rectification.case_pk)
                .where(Case.case_id == case_id)
            )
        ]
