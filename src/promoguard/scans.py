"""The scans kept in a store: which ran every check of their pack, which did not, what changed.

A scan is **complete** when it ran every check its pack enables (``promoguard scan --pack cn``
with no ``--checks``); a scan of some checks only (``--checks PRICE``) is **partial**, and says
so wherever it is shown. ``report``, ``evaluate`` and the API take the latest complete scan when
no scan is named, and tell which one they took.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from promoguard import store
from promoguard.errors import PromoGuardError
from promoguard.sqlbuild import idents, sql

KEY = ("check_code", "entity_type", "entity_id")


@dataclass
class ScanInfo:
    scan_id: str
    pack: str
    engine: str
    checks: list[str]
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    findings: int
    #: True: every check the pack enables ran; False: some did not; None: the pack is unknown here
    complete: bool | None
    missing: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    #: per check, what data it had ("not checked (no price_observations)"), when the scan kept it
    coverage: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """``complete``, ``partial (3 of 23 checks)`` or ``pack unknown``."""
        if self.complete is None:
            return "completeness unknown (pack not found)"
        if self.complete:
            return "complete"
        ran = len(self.checks)
        return f"partial ({ran} of {ran + len(self.missing)} checks)"

    def to_dict(self, *, parameters: bool = False) -> dict[str, Any]:
        d = asdict(self)
        if not parameters:
            d.pop("parameters")
        d["partial"] = self.complete is False
        d["label"] = self.label
        for k in ("started_at", "finished_at"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        return d


def not_checked(scan: ScanInfo, wanted: list[str] | tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The checks (codes or prefixes in ``wanted``; every check when empty) this scan did not
    check, each with why: skipped for want of data ("not checked (no coupons)"), left out of a
    partial scan, or not a check of the scan's pack. No finding of such a check means nothing was
    looked at, not that nothing was wrong."""
    wanted = [w.upper() for w in wanted]

    def asked(code: str) -> bool:
        return not wanted or any(code.startswith(w) for w in wanted)

    out: dict[str, str] = {}
    for code, entry in sorted((scan.coverage or {}).items()):
        if isinstance(entry, dict) and entry.get("status") == "skipped" and asked(code):
            reason = entry.get("reason") or ""
            out[code] = f"not checked ({reason})" if reason else "not checked"
    for code in scan.missing:
        if asked(code):
            out.setdefault(code, f"not run in this scan ({scan.label})")
    known = set(scan.checks) | set(scan.missing)
    for w in wanted:
        if not any(code.startswith(w) for code in known):
            out.setdefault(w, f"not a check of pack {scan.pack}")
    return [{"check_code": c, "reason": r} for c, r in sorted(out.items())]


@functools.lru_cache(maxsize=32)
def _enabled(pack: str) -> frozenset[str] | None:
    from promoguard.engine import registry
    from promoguard.engine.packs import load_pack

    try:
        the_pack = load_pack(pack)
        known = {c.code for c in registry.all_checks()}
    except Exception:  # noqa: BLE001 - a pack folder that moved away: completeness unknown
        return None
    return frozenset(set(the_pack.enabled_codes()) & known)


def _columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("DESCRIBE scans").fetchall()]


def _info(row: dict[str, Any]) -> ScanInfo:
    checks = [c for c in str(row["checks"] or "").split(",") if c]
    enabled = _enabled(row["pack"])
    missing = sorted(enabled - set(checks)) if enabled is not None else []
    coverage = row.get("coverage")
    if isinstance(coverage, str):
        try:
            coverage = json.loads(coverage)
        except ValueError:
            coverage = {"note": coverage}
    try:
        parameters = json.loads(row.get("parameters") or "{}")
    except ValueError:
        parameters = {}
    return ScanInfo(
        scan_id=row["scan_id"],
        pack=row["pack"],
        engine=row["engine"],
        checks=checks,
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        findings=int(row["findings"] or 0),
        complete=None if enabled is None else not missing,
        missing=missing,
        parameters=parameters,
        coverage=coverage or None,
    )


def list_scans(con: duckdb.DuckDBPyConnection) -> list[ScanInfo]:
    """Every scan of the store, newest first."""
    cols = _columns(con)
    rows = con.execute(
        sql("SELECT {cols} FROM scans ORDER BY started_at DESC, scan_id DESC", cols=idents(cols))
    ).fetchall()
    return [_info(dict(zip(cols, r, strict=True))) for r in rows]


def get_scan(con: duckdb.DuckDBPyConnection, scan_id: str) -> ScanInfo:
    """One scan by id (or ``latest``); a unique prefix of an id is enough."""
    scans = list_scans(con)
    if scan_id == "latest":
        if not scans:
            raise PromoGuardError("the store has no scan yet; run `promoguard scan` first")
        return scans[0]
    exact = [s for s in scans if s.scan_id == scan_id]
    if exact:
        return exact[0]
    prefixed = [s for s in scans if s.scan_id.startswith(scan_id)]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        raise PromoGuardError(f"{scan_id!r} names {len(prefixed)} scans; give more of the id")
    raise PromoGuardError(f"no scan {scan_id!r} in the store; `promoguard scans list` shows them")


@dataclass(frozen=True)
class Choice:
    scan: ScanInfo
    #: why this scan: "named", "latest complete scan", "latest scan (no complete scan)"
    reason: str

    def describe(self) -> str:
        s = self.scan
        return f"scan {s.scan_id} ({self.reason}; pack {s.pack}, {s.label}, {s.findings} findings)"


def choose_scan(con: duckdb.DuckDBPyConnection, scan_id: str | None = None) -> Choice:
    """The named scan, else the latest complete one, else the latest (labelled partial)."""
    if scan_id:
        return Choice(get_scan(con, scan_id), "named")
    scans = list_scans(con)
    if not scans:
        raise PromoGuardError("the store has no scan yet; run `promoguard scan` first")
    for i, s in enumerate(scans):
        if s.complete is not False:
            reason = "latest complete scan"
            if i:
                reason += f"; {i} newer partial scan(s) passed over"
            return Choice(s, reason)
    return Choice(scans[0], "latest scan; the store has no complete scan")


def diff(con: duckdb.DuckDBPyConnection, a: str, b: str) -> dict[str, Any]:
    """What scan ``b`` found that ``a`` did not, and the reverse, by (check, entity)."""
    sa, sb = get_scan(con, a), get_scan(con, b)
    rows = con.execute(
        "SELECT scan_id, check_code, entity_type, entity_id, severity FROM findings "
        "WHERE scan_id IN (?, ?)",
        [sa.scan_id, sb.scan_id],
    ).fetchall()
    found: dict[str, dict[tuple[str, str, str], str]] = {sa.scan_id: {}, sb.scan_id: {}}
    for scan, code, etype, eid, sev in rows:
        found[scan][(code, etype, eid)] = sev
    fa, fb = found[sa.scan_id], found[sb.scan_id]
    codes = sorted({k[0] for k in fa} | {k[0] for k in fb} | set(sa.checks) | set(sb.checks))
    per_check = []
    for code in codes:
        ka = {k for k in fa if k[0] == code}
        kb = {k for k in fb if k[0] == code}
        per_check.append(
            {
                "check_code": code,
                "in_a": len(ka),
                "in_b": len(kb),
                "both": len(ka & kb),
                "only_a": len(ka - kb),
                "only_b": len(kb - ka),
                "ran_in_a": code in sa.checks,
                "ran_in_b": code in sb.checks,
                "severity_changed": sum(1 for k in ka & kb if fa[k] != fb[k]),
            }
        )

    def keys(ks: set[tuple[str, str, str]]) -> list[dict[str, str]]:
        return [dict(zip(KEY, k, strict=True)) for k in sorted(ks)]

    # an entity is "new" or "gone" only for a check both scans ran: a partial scan that did not
    # run SHIP001 says nothing about SHIP001's findings
    ran_both = set(sa.checks) & set(sb.checks)
    ka = {k for k in fa if k[0] in ran_both}
    kb = {k for k in fb if k[0] in ran_both}
    return {
        "a": sa.to_dict(),
        "b": sb.to_dict(),
        "checks": per_check,
        "compared_checks": sorted(ran_both),
        "only_a": keys(ka - kb),
        "only_b": keys(kb - ka),
        "both": len(ka & kb),
    }


def delete(con: duckdb.DuckDBPyConnection, scan_id: str) -> dict[str, Any]:
    """Remove a scan, its findings and the evidence documents no other finding points at."""
    s = get_scan(con, scan_id)
    con.execute("BEGIN TRANSACTION")
    try:
        n = con.execute("SELECT count(*) FROM findings WHERE scan_id = ?", [s.scan_id]).fetchone()[
            0
        ]
        con.execute("DELETE FROM findings WHERE scan_id = ?", [s.scan_id])
        before = con.execute("SELECT count(*) FROM evidence").fetchone()[0]
        con.execute(
            "DELETE FROM evidence WHERE evidence_sha256 NOT IN "
            "(SELECT DISTINCT evidence_sha256 FROM findings)"
        )
        after = con.execute("SELECT count(*) FROM evidence").fetchone()[0]
        con.execute("DELETE FROM scans WHERE scan_id = ?", [s.scan_id])
        # its seals go with it, so `promoguard verify` of the scans that remain stays clean
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        for seals in ("finding_seals", "scan_seals", "scan_marks"):
            if seals in tables:
                con.execute(sql("DELETE FROM {t} WHERE scan_id = ?", t=seals), [s.scan_id])
        store.drop_kept(con, [s.scan_id])  # and the relations it kept for `scan --since`
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {"scan_id": s.scan_id, "findings": int(n), "evidence": int(before - after)}
