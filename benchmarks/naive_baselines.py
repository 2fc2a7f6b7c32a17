"""How hard is the simulator's test? Score deliberately NAIVE checks against its ground truth.

    .venv/bin/python benchmarks/naive_baselines.py                   # seeds 7, 11, 23 (small)
    .venv/bin/python benchmarks/naive_baselines.py --seeds 7 --markdown

For every seed: simulate the `small` season, ingest it, run one plain rule per check code (the
rule a hurried analyst would write, in DuckDB SQL; some codes get two variants), run PromoGuard's
real `cn` scan on the same store, and score both with `promoguard.evaluate.evaluate`. A simulator
whose hard negatives work makes the naive rules lose precision (honest look-alikes flagged) or
recall (evasions missed) while the real checks stay >= 0.95.

Buyer-group codes (BRUSH001/002) are scored on exact groups, which a naive rule almost never
reproduces; the table therefore also gives a buyer-level score (every buyer of a flagged group
against every buyer of a labelled group) in the `buyers` columns.

The rules live in ``NAIVE_RULES`` so tests/simulate/test_hardness.py can run them on its fixture.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from promoguard.evaluate import evaluate

D11_START = "TIMESTAMPTZ '2026-11-10 16:00:00+00'"
D11_END = "TIMESTAMPTZ '2026-11-11 16:00:00+00'"
# category -> licence type; a hurried analyst copies the table from docs/simulator.md
LICENSED = {
    "food": "food_business",
    "health_food": "health_food",
    "cosmetics": "cosmetics",
    "medical_device": "medical_device",
    "alcohol": "alcohol_retail",
}
_LIC_VALUES = ", ".join(f"('{c}', '{t}')" for c, t in LICENSED.items())
LICENSED_CTE = f"needs(category, licence_type) AS (VALUES {_LIC_VALUES})"


@dataclass(frozen=True)
class NaiveRule:
    code: str
    variant: str  # "a", "b", ... when a code has several naive rules
    entity_type: str
    what: str  # the rule in one line, as it appears in the table
    sql: str  # returns one column, entity_id


NAIVE_RULES: tuple[NaiveRule, ...] = (
    # -- pricing: D11 observations compared with something easier than the legal prior price -----
    NaiveRule(
        "PRICE001",
        "a",
        "listing",
        "D11 reference > lowest OFFERED detail price in the 7 days before (not transacted)",
        f"""SELECT DISTINCT o.listing_id FROM price_observations o
            JOIN (SELECT listing_id, min(price) AS low FROM price_observations
                  WHERE channel = 'detail' AND observed_at >= {D11_START} - INTERVAL 7 DAY
                    AND observed_at < {D11_START} GROUP BY listing_id) p USING (listing_id)
            WHERE o.observed_at >= {D11_START} AND o.observed_at < {D11_END}
              AND o.reference_price > p.low""",
    ),
    NaiveRule(
        "PRICE001",
        "b",
        "listing",
        "D11 reference > promo price (any struck-through price)",
        f"""SELECT DISTINCT listing_id FROM price_observations
            WHERE observed_at >= {D11_START} AND observed_at < {D11_END}
              AND reference_price > price""",
    ),
    NaiveRule(
        "PRICE002",
        "a",
        "listing",
        "claimed % differs > 1 pt from (1 - price / DISPLAYED reference)",
        f"""SELECT DISTINCT listing_id FROM price_observations
            WHERE observed_at >= {D11_START} AND observed_at < {D11_END}
              AND claimed_discount_pct IS NOT NULL AND reference_price > 0
              AND abs(claimed_discount_pct - (1 - price / reference_price) * 100) > 1""",
    ),
    NaiveRule(
        "PRICE003",
        "a",
        "listing",
        "any day-over-day detail price rise > 10% in the 60 days before D11",
        f"""SELECT DISTINCT listing_id FROM (
              SELECT listing_id, observed_at, price,
                     lag(price) OVER (PARTITION BY listing_id ORDER BY observed_at) AS prev
              FROM price_observations WHERE channel = 'detail')
            WHERE observed_at >= {D11_START} - INTERVAL 60 DAY AND observed_at < {D11_START}
              AND price > prev * 1.10""",
    ),
    NaiveRule(
        "PRICE004",
        "a",
        "listing",
        "search/home price < detail price on the same (UTC) day",
        """SELECT DISTINCT s.listing_id FROM price_observations s
            JOIN price_observations d ON d.listing_id = s.listing_id AND d.channel = 'detail'
             AND CAST(d.observed_at AS DATE) = CAST(s.observed_at AS DATE)
            WHERE s.channel IN ('search', 'home') AND s.price < d.price""",
    ),
    NaiveRule(
        "PRICE005",
        "a",
        "listing",
        "D11 reference = listings.msrp (label ignored)",
        f"""SELECT DISTINCT o.listing_id FROM price_observations o JOIN listings l USING (listing_id)
            WHERE o.observed_at >= {D11_START} AND o.observed_at < {D11_END}
              AND o.reference_price = l.msrp""",
    ),
    # -- logistics -----------------------------------------------------------------------------
    NaiveRule(
        "SHIP001",
        "a",
        "order",
        "declared shipped and no pickup event at all",
        """SELECT o.order_id FROM orders o WHERE o.declared_shipped_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM shipments s JOIN tracking_events e
                  ON e.carrier = s.carrier AND e.tracking_no = s.tracking_no
                  WHERE s.order_id = o.order_id AND e.event_type = 'pickup')""",
    ),
    NaiveRule(
        "SHIP002",
        "a",
        "order",
        "tracking_no (carrier ignored) on more than one shipment row",
        """SELECT DISTINCT order_id FROM shipments WHERE tracking_no IN
            (SELECT tracking_no FROM shipments GROUP BY tracking_no HAVING count(*) > 1)""",
    ),
    NaiveRule(
        "SHIP003",
        "a",
        "order",
        "first pickup > paid + 48 h (promised_dispatch_by ignored)",
        """SELECT s.order_id FROM shipments s JOIN tracking_events e
             ON e.carrier = s.carrier AND e.tracking_no = s.tracking_no AND e.event_type = 'pickup'
            JOIN orders o ON o.order_id = s.order_id
            GROUP BY s.order_id, o.paid_at HAVING min(e.event_at) > o.paid_at + INTERVAL 48 HOUR""",
    ),
    NaiveRule(
        "SHIP004",
        "a",
        "order",
        "any tracking event before paid_at",
        """SELECT DISTINCT s.order_id FROM shipments s JOIN tracking_events e
             ON e.carrier = s.carrier AND e.tracking_no = s.tracking_no
            JOIN orders o ON o.order_id = s.order_id WHERE e.event_at < o.paid_at""",
    ),
    NaiveRule(
        "PARCEL001",
        "a",
        "order",
        "weight < 100 g (one threshold for every category; NULL not caught)",
        "SELECT DISTINCT order_id FROM shipments WHERE weight_grams < 100",
    ),
    # -- licensing -----------------------------------------------------------------------------
    NaiveRule(
        "LIC001",
        "a",
        "merchant",
        "sells a licensed category, no licence row of that type (dates, scope ignored)",
        f"""WITH {LICENSED_CTE}
            SELECT DISTINCT o.merchant_id FROM orders o JOIN listings l USING (listing_id)
            JOIN needs n ON n.category = l.category
            WHERE NOT EXISTS (SELECT 1 FROM licences c WHERE c.merchant_id = o.merchant_id
                              AND c.licence_type = n.licence_type)""",
    ),
    NaiveRule(
        "LIC001",
        "b",
        "merchant",
        "no licence of the type valid at the data cut 2026-11-30 (scope ignored)",
        f"""WITH {LICENSED_CTE}
            SELECT DISTINCT o.merchant_id FROM orders o JOIN listings l USING (listing_id)
            JOIN needs n ON n.category = l.category
            WHERE NOT EXISTS (SELECT 1 FROM licences c WHERE c.merchant_id = o.merchant_id
                AND c.licence_type = n.licence_type
                AND c.valid_from <= TIMESTAMPTZ '2026-11-30 16:00:00+00'
                AND (c.valid_to IS NULL OR c.valid_to >= TIMESTAMPTZ '2026-11-30 16:00:00+00'))""",
    ),
    NaiveRule(
        "LIC001",
        "c",
        "merchant",
        "no licence of the type valid on the sale date whose scope EQUALS the category",
        f"""WITH {LICENSED_CTE}
            SELECT DISTINCT o.merchant_id FROM orders o JOIN listings l USING (listing_id)
            JOIN needs n ON n.category = l.category
            WHERE NOT EXISTS (SELECT 1 FROM licences c WHERE c.merchant_id = o.merchant_id
                AND c.licence_type = n.licence_type AND c.valid_from <= o.paid_at
                AND (c.valid_to IS NULL OR c.valid_to >= o.paid_at)
                AND (c.scope IS NULL OR c.scope = l.category))""",
    ),
    # -- brushing ------------------------------------------------------------------------------
    NaiveRule(
        "BRUSH001",
        "a",
        "buyer_group",
        "per merchant, the buyers with >= 5 orders there",
        """SELECT string_agg(buyer_id, '|' ORDER BY buyer_id) FROM (
              SELECT merchant_id, buyer_id FROM orders GROUP BY 1, 2 HAVING count(*) >= 5)
            GROUP BY merchant_id""",
    ),
    NaiveRule(
        "BRUSH002",
        "a",
        "buyer_group",
        "buyers sharing an address",
        """SELECT string_agg(DISTINCT buyer_id, '|' ORDER BY buyer_id) FROM orders
            WHERE buyer_address_id IS NOT NULL GROUP BY buyer_address_id
            HAVING count(DISTINCT buyer_id) > 1""",
    ),
    NaiveRule(
        "BRUSH003",
        "a",
        "merchant",
        "top 10% of merchants by peak orders in one clock hour",
        """WITH peak AS (SELECT merchant_id, max(n) AS n FROM (
                SELECT merchant_id, date_trunc('hour', paid_at) AS h, count(*) AS n
                FROM orders GROUP BY 1, 2) GROUP BY 1)
            SELECT merchant_id FROM peak
            WHERE n >= (SELECT quantile_disc(n, 0.9) FROM peak)""",
    ),
    NaiveRule(
        "BRUSH003",
        "b",
        "merchant",
        "some buyer places >= 3 orders at the merchant in one clock hour",
        """SELECT DISTINCT merchant_id FROM orders
            GROUP BY merchant_id, buyer_id, date_trunc('hour', paid_at) HAVING count(*) >= 3""",
    ),
    # -- reviews -------------------------------------------------------------------------------
    NaiveRule(
        "REVIEW001",
        "a",
        "review",
        "review text identical to another review's",
        """SELECT review_id FROM reviews WHERE text IN
            (SELECT text FROM reviews WHERE text IS NOT NULL AND text <> ''
             GROUP BY text HAVING count(*) > 1)""",
    ),
    NaiveRule(
        "REVIEW002",
        "a",
        "review",
        "review contains 返现 / 好评返 / cashback",
        r"SELECT review_id FROM reviews WHERE regexp_matches(text, '返现|好评返|(?i:cashback)')",
    ),
    NaiveRule(
        "REVIEW002",
        "a",
        "text",
        "text contains 返现 / 好评返 / cashback",
        r"SELECT text_id FROM texts WHERE regexp_matches(content, '返现|好评返|(?i:cashback)')",
    ),
    NaiveRule(
        "REVIEW003",
        "a",
        "review",
        "rating 5 and text shorter than 10 characters",
        "SELECT review_id FROM reviews WHERE rating = 5 AND length(coalesce(text, '')) < 10",
    ),
    # -- content: substring rules, no word boundaries, no evasions, no kind/category filter ------
    NaiveRule(
        "TEXT001",
        "a",
        "text",
        "contains 最 or 第一 (or best / No.1)",
        r"SELECT text_id FROM texts WHERE regexp_matches(content, '最|第一|(?i:\bbest\b|no\.1)')",
    ),
    NaiveRule(
        "TEXT002",
        "a",
        "text",
        "contains 治 / 抗癌 / 降血 (or cure)",
        r"SELECT text_id FROM texts WHERE regexp_matches(content, '治|抗癌|降血|(?i:\bcures?\b)')",
    ),
    NaiveRule(
        "TEXT003",
        "a",
        "text",
        "contains 刀具 / 枪 / 迷药 (or gun)",
        r"SELECT text_id FROM texts WHERE regexp_matches(content, '刀具|枪|迷药|(?i:\bgun\b)')",
    ),
    NaiveRule(
        "TEXT004",
        "a",
        "text",
        "contains 微信 or QQ",
        "SELECT text_id FROM texts WHERE regexp_matches(content, '微信|QQ')",
    ),
    NaiveRule(
        "TEXT005",
        "a",
        "text",
        "an 18-character ID-like run (17 digits + digit/X), no checksum",
        r"SELECT text_id FROM texts WHERE regexp_matches(content, '\d{17}[\dXx]')",
    ),
    NaiveRule(
        "TEXT005",
        "b",
        "text",
        "any run of 16-19 digits, no checksum",
        r"SELECT text_id FROM texts WHERE regexp_matches(content, '\d{16,19}')",
    ),
    NaiveRule(
        "TEXT006",
        "a",
        "text",
        "livestream mentions 原价 / 便宜 / 仅剩 / 只剩 / 最后 / 直降 / 立减",
        """SELECT text_id FROM texts WHERE kind = 'livestream'
            AND regexp_matches(content, '原价|便宜|仅剩|只剩|最后|直降|立减')""",
    ),
)


def naive_findings(con: duckdb.DuckDBPyConnection, rules=NAIVE_RULES) -> pd.DataFrame:
    """Every rule's entities as (variant, check_code, entity_type, entity_id) rows."""
    frames = []
    for rule in rules:
        ids = [row[0] for row in con.sql(rule.sql).fetchall() if row[0] is not None]
        frames.append(
            pd.DataFrame(
                {
                    "variant": rule.variant,
                    "check_code": rule.code,
                    "entity_type": rule.entity_type,
                    "entity_id": [str(i) for i in ids],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def score(findings: pd.DataFrame, truth: pd.DataFrame, code: str) -> tuple[float | None, float]:
    """Precision and recall of one code's findings (None precision when nothing was found)."""
    res = evaluate(findings, truth[truth["check_code"] == code], codes=[code])
    row = res[res["check_code"] == code].iloc[0]
    p = None if pd.isna(row["precision"]) else float(row["precision"])
    return p, float(row["recall"]) if not pd.isna(row["recall"]) else 0.0


def _buyers(df: pd.DataFrame, code: str) -> pd.DataFrame:
    """A buyer-group code exploded to one row per buyer (entity_type 'buyer')."""
    sub = df[df["check_code"] == code]
    ids = sorted({b for gid in sub["entity_id"] for b in str(gid).split("|")})
    return pd.DataFrame({"check_code": code, "entity_type": "buyer", "entity_id": ids})


def naive_score(con: duckdb.DuckDBPyConnection, truth: pd.DataFrame, code: str, variant: str = "a"):
    """Precision and recall of one naive rule (all its entity types) on an ingested store."""
    rules = [r for r in NAIVE_RULES if r.code == code and r.variant == variant]
    found = naive_findings(con, rules)
    return score(found, truth, code)


def season_rows(seed: int, workdir: Path) -> list[dict[str, object]]:
    """Simulate, ingest, scan and score one seed; one row per (code, naive variant)."""
    from promoguard.engine.run import scan
    from promoguard.ingest import ingest_dir
    from promoguard.simulate import generate

    out, store_path = workdir / f"season-{seed}", workdir / f"season-{seed}.duckdb"
    generate("small", seed, out)
    ingest_dir(out, store_path)
    truth = pd.read_csv(out / "ground_truth.csv", dtype=str, keep_default_na=False)
    real = scan(store_path, "cn", save=False).findings
    con = duckdb.connect(str(store_path), read_only=True)
    con.execute("SET TimeZone='UTC'")
    try:
        naive = naive_findings(con)
    finally:
        con.close()
    rows = []
    for code, variant in dict.fromkeys((r.code, r.variant) for r in NAIVE_RULES):
        nf = naive[(naive["check_code"] == code) & (naive["variant"] == variant)]
        what = " + ".join(
            dict.fromkeys(r.what for r in NAIVE_RULES if r.code == code and r.variant == variant)
        )
        row: dict[str, object] = {"seed": seed, "code": code, "variant": variant, "naive": what}
        row["truth"] = int((truth["check_code"] == code).sum())
        row["naive_found"] = int(nf["entity_id"].nunique())
        row["naive_p"], row["naive_r"] = score(nf, truth, code)
        row["pg_p"], row["pg_r"] = score(real, truth, code)
        if code in ("BRUSH001", "BRUSH002"):
            tb = _buyers(truth, code)
            row["naive_buyer_p"], row["naive_buyer_r"] = score(_buyers(nf, code), tb, code)
            row["pg_buyer_p"], row["pg_buyer_r"] = score(_buyers(real, code), tb, code)
        rows.append(row)
    return rows


def _fmt(x: object) -> str:
    return "—" if x is None or (isinstance(x, float) and pd.isna(x)) else f"{x:.2f}"


def summarise(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Mean over seeds per (code, variant), with min naive precision and min PromoGuard scores."""
    df = pd.DataFrame(rows)
    metric_cols = [c for c in df.columns if c.endswith(("_p", "_r"))]
    df[metric_cols] = df[metric_cols].astype("float64")
    g = df.groupby(["code", "variant", "naive"], sort=False)
    out = g[["truth", "naive_found", *metric_cols]].mean()
    out["naive_p_min"] = g["naive_p"].min()
    out["naive_p_max"] = g["naive_p"].max()
    out["pg_p_min"], out["pg_r_min"] = g["pg_p"].min(), g["pg_r"].min()
    return out.reset_index()


def markdown(summary: pd.DataFrame, seeds: list[int]) -> str:
    lines = [
        f"Seeds {', '.join(map(str, seeds))} (`small`); means over seeds, naive P range in brackets.",
        "",
        "| code | naive rule | truth | naive found | naive P [min..max] | naive R "
        "| PromoGuard P (min) | PromoGuard R (min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.to_dict("records"):
        label = r["code"] if r["variant"] == "a" else f"{r['code']} ({r['variant']})"
        lines.append(
            f"| {label} | {r['naive']} | {r['truth']:.0f} | {r['naive_found']:.0f} "
            f"| {_fmt(r['naive_p'])} [{_fmt(r['naive_p_min'])}..{_fmt(r['naive_p_max'])}] "
            f"| {_fmt(r['naive_r'])} | {_fmt(r['pg_p'])} ({_fmt(r['pg_p_min'])}) "
            f"| {_fmt(r['pg_r'])} ({_fmt(r['pg_r_min'])}) |"
        )
    buyer = summary[summary["code"].isin(["BRUSH001", "BRUSH002"])]
    if "naive_buyer_p" in buyer:
        lines += [
            "",
            "Buyer-level (groups exploded to buyers):",
            "",
            "| code | naive P | naive R | PromoGuard P | PromoGuard R |",
            "|---|---|---|---|---|",
        ]
        for r in buyer.to_dict("records"):
            lines.append(
                f"| {r['code']} | {_fmt(r['naive_buyer_p'])} | {_fmt(r['naive_buyer_r'])} "
                f"| {_fmt(r['pg_buyer_p'])} | {_fmt(r['pg_buyer_r'])} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="7,11,23", help="comma-separated simulator seeds")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="pg-hardness-") as tmp:
        for seed in seeds:
            start = time.perf_counter()
            rows += season_rows(seed, Path(tmp))
            print(f"seed {seed}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    summary = summarise(rows)
    if args.markdown:
        print(markdown(summary, seeds))
    else:
        with pd.option_context("display.width", 200, "display.max_colwidth", 50):
            cols = ["code", "variant", "truth", "naive_found", "naive_p", "naive_p_min", "naive_r"]
            print(summary[[*cols, "pg_p", "pg_r", "pg_p_min", "pg_r_min"]].round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
