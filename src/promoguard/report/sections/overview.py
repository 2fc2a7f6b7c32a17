"""Overview: totals by check, severity, platform and merchant, and the worst listings."""

from __future__ import annotations

from html import escape

import duckdb
import pandas as pd

from promoguard.report.i18n import rule_title, tr, word
from promoguard.report.sections._html import SEVERITY_RANK, table
from promoguard.report.svg import bars
from promoguard.text.mask import QUOTES

TITLE = "Overview"
ORDER = 0
TOP = 20


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    if findings.empty:
        return f"<p>{escape(tr('This scan found no violations.'))}</p>"
    f = findings
    out = []
    by_check = f.groupby("check_code").size().sort_index()
    titles = _titles()
    out.append(f"<h3>{escape(tr('Findings by check'))}</h3>")
    out.append(bars([(c, int(n)) for c, n in by_check.items()]))
    out.append(
        table(
            ["check", "title", "findings"],
            [(c, rule_title(c, titles.get(c, "")), int(n)) for c, n in by_check.items()],
            numeric=[2],
        )
    )
    sev = f.groupby("severity").size()
    sev = sorted(sev.items(), key=lambda kv: -SEVERITY_RANK.get(kv[0], 0))
    out.append(f"<h3>{escape(tr('By severity'))}</h3>")
    out.append(table(["severity", "findings"], [(s, int(n)) for s, n in sev], numeric=[1]))
    out.append('<div class="grid"><div>')
    plat = f.groupby(f.platform_id.fillna("(none)")).size().sort_values(ascending=False)
    names = dict(con.execute("SELECT platform_id, name FROM platforms").fetchall())
    out.append(f"<h3>{escape(tr('By platform'))}</h3>")
    out.append(
        table(
            ["platform", "name", "findings"],
            [(p, names.get(p, ""), int(n)) for p, n in plat.items()],
            numeric=[2],
            data=[0, 1],
        )
    )
    out.append("</div><div>")
    merch = (
        f[f.merchant_id.notna()]
        .groupby("merchant_id")
        .agg(
            findings=("finding_id", "size"),
            checks=("check_code", lambda s: ", ".join(sorted(set(s)))),
        )
        .sort_values(["findings"], ascending=False)
        .head(TOP)
    )
    mnames = dict(con.execute("SELECT merchant_id, name FROM merchants").fetchall())
    out.append(f"<h3>{escape(tr('Merchants with the most findings (top {n})', n=TOP))}</h3>")
    out.append(
        table(
            ["merchant", "name", "findings", "checks"],
            [(m, mnames.get(m, ""), int(r.findings), r.checks) for m, r in merch.iterrows()],
            numeric=[2],
            data=[0, 1],
        )
    )
    out.append("</div></div>")
    listings = f[f.entity_type == "listing"]
    if not listings.empty:
        worst = listings.assign(rank=listings.severity.map(SEVERITY_RANK).fillna(0))
        worst = (
            worst.groupby("entity_id")
            .agg(
                findings=("finding_id", "size"),
                worst=("rank", "max"),
                checks=("check_code", lambda s: ", ".join(sorted(set(s)))),
                merchant=("merchant_id", "first"),
            )
            .reset_index()
            .sort_values(["worst", "findings", "entity_id"], ascending=[False, False, True])
            .head(TOP)
        )
        con.register("_worst_ids", worst[["entity_id"]])
        info = {  # a title may carry a shop's number: quoted as the evidence quotes it
            r[0]: (QUOTES.mask(r[1]), r[2])
            for r in con.execute(
                "SELECT l.listing_id, l.title, l.category FROM listings l "
                "JOIN _worst_ids w ON w.entity_id = l.listing_id"
            ).fetchall()
        }
        con.unregister("_worst_ids")
        inv = {v: k for k, v in SEVERITY_RANK.items()}
        out.append(f"<h3>{escape(tr('Worst listings (top {n})', n=TOP))}</h3>")
        out.append(
            table(
                ["listing", "title", "category", "merchant", "severity", "findings", "checks"],
                [
                    (
                        r.entity_id,
                        *_title_category(info.get(r.entity_id)),
                        r.merchant,
                        inv.get(int(r.worst), ""),
                        int(r.findings),
                        r.checks,
                    )
                    for r in worst.itertuples()
                ],
                numeric=[5],
                data=[0, 1, 3],
            )
        )
    return "".join(out)


def _titles() -> dict[str, str]:
    from promoguard.engine import registry

    try:
        return {c.code: c.title for c in registry.all_checks()}
    except Exception:  # a broken plugin must not lose the overview
        return {}


def _title_category(info: tuple | None) -> tuple[str, str]:
    title, category = info or ("", "")
    return title, word(str(category), str(category))
