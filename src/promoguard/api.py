"""The Python API: the command line's verbs as functions that return pandas data frames.

>>> import promoguard.api as pg
>>> pg.simulate("season", scale="small", seed=7)            # doctest: +SKIP
>>> pg.ingest("season", "promo.duckdb")                     # doctest: +SKIP
>>> findings = pg.scan("promo.duckdb", pack="cn")            # doctest: +SKIP
>>> pg.evaluate(findings, "season/ground_truth.csv")        # doctest: +SKIP

Each function does what the command of the same name does; see ``promoguard COMMAND --help``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from promoguard import store as store_mod
from promoguard.model import TABLE_NAMES
from promoguard.sqlbuild import sql


def simulate(out: str | Path, *, scale: str = "small", seed: int = 0) -> dict:
    """Write a simulated season (every table and ground_truth.csv) into ``out``; its summary."""
    from promoguard.simulate import generate

    return generate(scale, seed, Path(out))


def ingest(src: str | Path, store: str | Path, *, tz: str = "UTC", adapter: str | None = None):
    """Ingest a folder of table files into a store; per-table counts as a data frame."""
    from promoguard import lake
    from promoguard.ingest import ingest_dir

    if lake.is_lake(store):
        report = lake.ingest(src, store, tz=tz, adapter=adapter)
    else:
        report = ingest_dir(Path(src), Path(store), tz=tz, adapter=adapter)
    tables = report.to_dict()["tables"]
    return pd.DataFrame.from_dict(tables, orient="index").rename_axis("table").reset_index()


def scan(
    store: str | Path,
    *,
    pack: str = "cn",
    engine: str = "duckdb",
    checks: str | Sequence[str] | None = None,
    spark_master: str | None = None,
) -> pd.DataFrame:
    """Scan a store with a pack; the findings (also kept in the store). With ``engine="spark"``,
    ``spark_master`` is the master to run on (None: the Spark session this process already
    has, else local[*])."""
    from promoguard import lake
    from promoguard.engine.run import scan as run_scan

    runner = (
        lake.scan if lake.is_lake(store) else run_scan
    )  # a lake seals in the batch it publishes
    found = runner(store, pack, engine=engine, checks=checks, spark_master=spark_master).findings
    return found  # sealed as it is saved


def findings(store: str | Path, *, scan_id: str | None = None) -> pd.DataFrame:
    """The findings of one scan (the latest *complete* scan when ``scan_id`` is None).

    Which scan, and why, is in ``df.attrs["scan"]`` (id, pack, complete or partial) and
    ``df.attrs["chosen_because"]``; a store with no scan gives an empty frame.
    """
    from promoguard.scans import choose_scan, list_scans

    with store_mod.open_store(store, read_only=True) as con:
        if scan_id is None and not list_scans(con):
            return con.execute("SELECT * FROM findings LIMIT 0").df()
        choice = choose_scan(con, scan_id)
        df = con.execute(
            "SELECT * FROM findings WHERE scan_id = ? ORDER BY check_code, entity_id",
            [choice.scan.scan_id],
        ).df()
    df.attrs["scan"] = choice.scan.to_dict()
    df.attrs["chosen_because"] = choice.reason
    return df


def scans(store: str | Path) -> pd.DataFrame:
    """Every scan of the store, newest first, with ``complete`` and ``label`` (partial or not)."""
    from promoguard.scans import list_scans

    with store_mod.open_store(store, read_only=True) as con:
        rows = [s.to_dict() for s in list_scans(con)]
    return pd.DataFrame(rows)


def table(store: str | Path, name: str) -> pd.DataFrame:
    """One canonical table (or quarantine, ingest_log, scans, findings) as a data frame."""
    allowed = (*TABLE_NAMES, "quarantine", "ingest_log", "scans", "findings", "evidence")
    if name not in allowed:
        raise KeyError(f"no table {name!r}; choose one of {', '.join(allowed)}")
    with store_mod.open_store(store, read_only=True) as con:
        return con.execute(sql("SELECT * FROM {t}", t=name)).df()


def evaluate(
    found: pd.DataFrame | str | Path,
    truth: pd.DataFrame | str | Path,
    *,
    pack: str | None = None,
) -> pd.DataFrame:
    """Precision, recall and F1 per check code, and the total (``ALL``).

    The findings are scored against the truth of their own pack (``df.attrs["pack"]``); a truth
    that does not label that pack raises PromoGuardError with the reason.
    """
    from promoguard.evaluate import evaluate as run_evaluate
    from promoguard.evaluate import match_pack, read_table, truth_for

    f = found if isinstance(found, pd.DataFrame) else read_table(Path(found))
    if isinstance(truth, pd.DataFrame):
        t, chosen = truth, match_pack(f, truth, pack)
    else:  # a simulator's ground_truth.csv: its ground_truth_<pack>.csv sibling when needed
        t, chosen, _used = truth_for(f, Path(truth), pack)
    result = run_evaluate(f, t, pack=chosen)
    result.attrs["pack"] = chosen
    return result


def report(store: str | Path, out: str | Path, *, scan_id: str | None = None) -> Path:
    """Write the self-contained HTML report of a scan (default: the latest complete); its path."""
    from promoguard.report import build_report

    return build_report(Path(store), Path(out), scan_id=scan_id)


def review_scores(
    store: str | Path, *, params: dict | None = None, timezone: str = "UTC"
) -> pd.DataFrame:
    """Every review's REVIEW003 spam score and its signals (NaN: not available, the data lacks
    its inputs; a NaN score: too few signals to judge), read from a store; its days are
    ``timezone``'s (a pack's: ``Asia/Shanghai`` for cn)."""
    from promoguard.rules.reviews.review003_spam_behaviour_score import review_scores as scores

    with store_mod.open_store(store, read_only=True) as con:
        return scores(con, params, timezone)


def checks() -> pd.DataFrame:
    """The registered checks: code, name, family, entity type, severity, title."""
    from promoguard.engine.registry import all_checks

    return pd.DataFrame(
        [
            {
                "code": c.code,
                "name": c.name,
                "family": c.family,
                "entity_type": c.entity_type,
                "severity": c.severity,
                "title": c.title,
            }
            for c in all_checks()
        ]
    )


# --------------------------------------------------------------------------- cases
# The same verbs as `promoguard cases|audit|evidence`; ``db`` is a URL (default $PROMOGUARD_DB,
# else sqlite:///promoguard.db), ``actor`` who acts (for the audit trail).


def case_service(db: str | None = None, *, actor: str | None = None):
    """The case service itself (every verb, users, events): see ``promoguard.cases``."""
    from promoguard.cases import CaseService

    return CaseService(db, actor=actor)


def cases_open(
    store: str | Path,
    *,
    db: str | None = None,
    scan_id: str | None = None,
    group: str = "merchant",
    actor: str | None = None,
) -> dict:
    """Open cases from a scan (the latest by default); counts and the case ids."""
    return (
        case_service(db, actor=actor).open_from_scan(store, scan_id=scan_id, group=group).to_dict()
    )


def cases_list(
    *, db: str | None = None, status: str | None = None, overdue: bool = False
) -> pd.DataFrame:
    """The cases, most urgent first."""
    return pd.DataFrame(case_service(db).list_cases(status=status, overdue=overdue))


def cases_show(case_id: str, *, db: str | None = None) -> dict:
    """One case with its findings, notices, rectifications, verifications and events."""
    return case_service(db).get_case(case_id)


def cases_assign(case_id: str, to: str, *, db: str | None = None, actor: str | None = None) -> dict:
    return case_service(db, actor=actor).assign(case_id, to)


def cases_guide(
    case_id: str,
    deadline: str,
    *,
    out: str | Path | None = None,
    db: str | None = None,
    actor: str | None = None,
) -> dict:
    """Issue the guidance notice (and write it to ``out``, .html or .pdf)."""
    return case_service(db, actor=actor).guide(case_id, deadline, out=out)


def cases_rectify(
    case_id: str,
    note: str,
    *,
    attach: Sequence[str | Path] = (),
    db: str | None = None,
    actor: str | None = None,
) -> dict:
    return case_service(db, actor=actor).rectify(case_id, note, attachments=attach)


def cases_verify(
    case_id: str,
    store: str | Path,
    *,
    scan_id: str | None = None,
    db: str | None = None,
    actor: str | None = None,
) -> dict:
    """Verify by re-scan: verified_rectified, or not_rectified when a finding is still present."""
    return case_service(db, actor=actor).verify(case_id, store, scan_id=scan_id)


def cases_close(
    case_id: str,
    *,
    escalate: bool = False,
    reason: str | None = None,
    db: str | None = None,
    actor: str | None = None,
) -> dict:
    return case_service(db, actor=actor).close(case_id, escalate=escalate, reason=reason)


def audit_verify(*, db: str | None = None, head: dict | None = None) -> dict:
    """The audit chain's verdict: ``ok``, and the first bad event when not."""
    return case_service(db).audit_verify(head).to_dict()


def evidence_keygen(out: str | Path) -> tuple[Path, Path]:
    """Write bureau.key (owner-only) and bureau.pub into ``out``."""
    from promoguard.cases.bundle import keygen

    return keygen(out)


def evidence_export(
    case_id: str,
    out: str | Path,
    *,
    key: str | Path,
    db: str | None = None,
    actor: str | None = None,
) -> dict:
    return case_service(db, actor=actor).export_bundle(case_id, out, key)


def evidence_verify(bundle: str | Path, *, pubkey: str | Path | None = None) -> dict:
    """Check a bundle offline: ``ok``, the signature and every problem found."""
    from promoguard.cases.bundle import verify

    return verify(bundle, pubkey).to_dict()
