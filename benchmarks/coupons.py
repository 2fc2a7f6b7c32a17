"""Benchmark the four coupon checks (COUPON001-004) at city scale on DuckDB, with a pandas baseline of
COUPON003 and COUPON004 (the two that join coupons to every order and every 到手价) in the same run;
check the baseline finds the same listings and orders.

    .venv/bin/python benchmarks/coupons.py                        # 5M orders, ~2.6M redemptions
    .venv/bin/python benchmarks/coupons.py --orders 500000        # a quick run
    .venv/bin/python benchmarks/coupons.py --reuse                # keep an existing store

The store is synthetic, generated with DuckDB SQL in under a minute: 40,000 merchants, 120,000
listings, 2 coupons for two merchants in five (a 满X减Y that stacks, a 9折 capped at ¥30 that does
not) and a 满300减50 per platform, their terms shown and applied; one merchant in 50 has checkout
raise its threshold unannounced (COUPON001), one in 50 raises it openly after launch (COUPON002).
Orders use the merchant's 满减 (six in ten) and the platform's (three in ten); one redemption in 997
takes nothing off (COUPON004). Every listing shows a 到手价 on 11-11; one in 100 counts the 9折 on top
of the stack (COUPON003). Each engine runs in a freshly spawned process (benchmarks/_common), so its
peak RSS is its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import engines_main  # noqa: E402

DEFAULT_STORE = Path(os.environ.get("TMPDIR", "/tmp")) / "promoguard-bench" / "coupons.duckdb"
CODES = ("COUPON001", "COUPON002", "COUPON003", "COUPON004")
MERCHANTS, LISTINGS = 40_000, 120_000
MEMORY_LIMIT = os.environ.get("BENCH_DUCKDB_MEMORY", "2GB")
D11 = "TIMESTAMPTZ '2026-11-10 16:00:00+00'"  # 11-11 00:00 Beijing


def generate(path: Path, orders: int) -> dict[str, int]:
    from promoguard import store

    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    con = store.connect(path)
    con.execute("INSERT INTO platforms VALUES ('P1', 'a'), ('P2', 'b'), ('P3', 'c')")
    con.execute(
        f"""INSERT INTO merchants SELECT 'M' || lpad(i::VARCHAR, 6, '0'), 'P' || (1 + i % 3),
        'shop', NULL FROM range({MERCHANTS}) t(i)"""
    )
    con.execute(
        f"""INSERT INTO listings SELECT 'L' || lpad(i::VARCHAR, 7, '0'),
        'M' || lpad((i % {MERCHANTS})::VARCHAR, 6, '0'), 'P' || (1 + (i % {MERCHANTS}) % 3), 't',
        CASE i % 3 WHEN 0 THEN 'electronics' WHEN 1 THEN 'apparel' ELSE 'home' END, 'CNY', NULL
        FROM range({LISTINGS}) t(i)"""
    )
    # coupons: m % 5 < 2 has a 满减 (T) and a 9折 (P); one per platform
    con.execute(
        f"""CREATE TEMP TABLE mc AS SELECT i AS m, 'M' || lpad(i::VARCHAR, 6, '0') AS mid,
        'P' || (1 + i % 3) AS pid, 100 + (i % 20) * 20 AS thr FROM range({MERCHANTS}) t(i)
        WHERE i % 5 < 2"""
    )
    con.execute(
        f"""INSERT INTO coupons
        SELECT mid || '-T', pid, mid, 'threshold', {D11} - INTERVAL 8 DAY, {D11} - INTERVAL 3 DAY,
          {D11} + INTERVAL 1 DAY FROM mc
        UNION ALL
        SELECT mid || '-P', pid, mid, 'percent', {D11} - INTERVAL 8 DAY, {D11} - INTERVAL 3 DAY,
          {D11} + INTERVAL 1 DAY FROM mc
        UNION ALL
        SELECT 'P' || k || '-CP01', 'P' || k, NULL, 'threshold', {D11} - INTERVAL 8 DAY,
          {D11} - INTERVAL 3 DAY, {D11} + INTERVAL 1 DAY FROM range(1, 4) t(k)"""
    )
    terms = "coupon_id, effective_at, source, face_value, percent_off, threshold_amount, "
    terms += "max_discount, scope, stackable, per_buyer_cap, valid_to, disclosure, shown_text"
    for src in ("displayed", "applied"):
        shown = "'prominent'" if src == "displayed" else "NULL"
        con.execute(
            f"""INSERT INTO coupon_terms ({terms})
            SELECT mid || '-T', {D11} - INTERVAL 8 DAY, '{src}', thr / 10, NULL, thr, NULL, 'all',
              true, NULL, NULL, {shown}, NULL FROM mc
            UNION ALL
            SELECT mid || '-P', {D11} - INTERVAL 8 DAY, '{src}', NULL, 10, NULL, 30, 'all', false,
              NULL, NULL, {shown}, NULL FROM mc
            UNION ALL
            SELECT 'P' || k || '-CP01', {D11} - INTERVAL 8 DAY, '{src}', 50, NULL, 300, NULL, 'all',
              true, NULL, NULL, {shown}, NULL FROM range(1, 4) t(k)"""
        )
    # m % 50 = 0: checkout raises the threshold by 100 a day before 11-11 (the page does not);
    # m % 50 = 1: both raise it (announced terms worsened)
    con.execute(
        f"""INSERT INTO coupon_terms ({terms})
        SELECT mid || '-T', {D11} - INTERVAL 1 DAY, 'applied', thr / 10, NULL, thr + 100, NULL,
          'all', true, NULL, NULL, NULL, NULL FROM mc WHERE m % 50 IN (0, 1)
        UNION ALL
        SELECT mid || '-T', {D11} - INTERVAL 1 DAY, 'displayed', thr / 10, NULL, thr + 100, NULL,
          'all', true, NULL, NULL, 'prominent', NULL FROM mc WHERE m % 50 = 1"""
    )
    con.execute(
        f"""CREATE TEMP TABLE o AS SELECT i, (i * 2654435761) % {LISTINGS} AS l,
        1 + i % 3 AS q, {D11} - INTERVAL 2 DAY + to_seconds(i % 259200) AS paid
        FROM range({orders}) t(i)"""
    )
    con.execute(
        f"""CREATE TEMP TABLE ol AS SELECT o.*, l % {MERCHANTS} AS m,
        50 + (l * 7919) % 500 AS price FROM o"""
    )
    con.execute(
        """INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price,
        paid_at, placed_at, status)
        SELECT 'O' || lpad(i::VARCHAR, 9, '0'), 'L' || lpad(l::VARCHAR, 7, '0'),
          'M' || lpad(m::VARCHAR, 6, '0'), 'B' || (i % 1000000), q, price, paid,
          paid - INTERVAL 60 SECOND, 'paid' FROM ol"""
    )
    con.execute(
        f"""INSERT INTO coupon_redemptions
        SELECT 'O' || lpad(i::VARCHAR, 9, '0'), mc.mid || '-T',
          CASE WHEN i % 997 = 0 THEN 0
               WHEN q * price >= CASE WHEN mc.m % 50 IN (0, 1)
                    AND paid - INTERVAL 60 SECOND >= {D11} - INTERVAL 1 DAY
                    THEN mc.thr + 100 ELSE mc.thr END THEN mc.thr / 10 ELSE 0 END
        FROM ol JOIN mc ON mc.m = ol.m WHERE i % 10 < 6
        UNION ALL
        SELECT 'O' || lpad(i::VARCHAR, 9, '0'), 'P' || (1 + ol.m % 3) || '-CP01',
          CASE WHEN q * price >= 300 THEN 50 ELSE 0 END
        FROM ol WHERE i % 10 < 3"""
    )
    # one 到手价 per listing on 11-11: the merchant's 满减 and the platform's where reached; one in
    # 100 also takes the 9折 that does not stack
    con.execute(
        f"""INSERT INTO price_observations (listing_id, observed_at, price, channel,
        final_price_claim)
        SELECT 'L' || lpad(i::VARCHAR, 7, '0'), {D11} + INTERVAL 2 HOUR, p, 'detail',
          greatest(1, p - CASE WHEN mc.m IS NOT NULL AND p >= mc.thr THEN mc.thr / 10 ELSE 0 END
            - CASE WHEN p >= 300 THEN 50 ELSE 0 END
            - CASE WHEN mc.m IS NOT NULL AND i % 100 = 7 THEN least(30, floor(p / 10)) ELSE 0 END)
        FROM (SELECT i, 50 + (i * 7919) % 500 AS p, i % {MERCHANTS} AS m
              FROM range({LISTINGS}) t(i)) x
        LEFT JOIN mc ON mc.m = x.m"""
    )
    counts = store.table_counts(con)
    con.close()
    return counts


def run_duckdb(path: str) -> dict[str, object]:
    """The four checks through the engine, findings and evidence included."""
    import datetime as dt

    from promoguard import store
    from promoguard.engine import registry
    from promoguard.engine.backends import duckdb_tables
    from promoguard.engine.packs import load_pack
    from promoguard.engine.run import run_checks

    con = store.connect(path)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with duckdb_tables(con) as tables:
        result = run_checks(
            tables,
            registry.select(",".join(CODES)),
            load_pack("cn"),
            engine="duckdb",
            scan_id="bench",
            detected_at=when,
        )
    f = result.findings
    con.close()
    return {
        "per_check_s": {r.code: round(r.seconds, 2) for r in result.runs},
        "found": {c: int((f.check_code == c).sum()) for c in CODES},
        "COUPON003": sorted(f.entity_id[f.check_code == "COUPON003"]),
        "COUPON004": sorted(f.entity_id[f.check_code == "COUPON004"]),
    }


def _asof(left, terms, on: str):
    """The terms version in force at ``left[on]`` per coupon (latest effective_at <= it)."""
    import pandas as pd

    left = left.sort_values(on, kind="stable")
    terms = terms.sort_values("effective_at", kind="stable")
    return pd.merge_asof(
        left, terms, left_on=on, right_on="effective_at", by="coupon_id", direction="backward"
    )


def _off(df, basket):
    """Cents a coupon takes off ``basket`` cents (vectorised coupon_math.discount)."""
    import numpy as np

    pct = np.floor(basket * df.pct_h.fillna(0) / 10_000)
    pct = np.where(df.max_c.notna() & (pct > df.max_c), df.max_c, pct)
    off = np.where(df.face_c.notna(), df.face_c, np.where(df.pct_h.notna(), pct, 0))
    off = np.minimum(off, basket)
    ok = (df.per_buyer_cap.isna() | (df.per_buyer_cap > 0)) & (
        df.thr_c.isna() | (basket >= df.thr_c)
    )
    return np.where(ok, off, 0)


def run_pandas(path: str) -> dict[str, object]:
    """COUPON003 and COUPON004 written plainly in pandas over the same store."""
    import duckdb
    import numpy as np
    import pandas as pd

    con = duckdb.connect(path, read_only=True)

    def q(sql: str) -> pd.DataFrame:
        return con.execute(sql).df()

    terms = q(
        """SELECT coupon_id, effective_at, source, face_value * 100 AS face_c,
        percent_off * 100 AS pct_h, threshold_amount * 100 AS thr_c, max_discount * 100 AS max_c,
        scope, stackable, per_buyer_cap, valid_to AS terms_valid_to FROM coupon_terms"""
    )
    for c in ("face_c", "pct_h", "thr_c", "max_c"):
        terms[c] = terms[c].astype("float64")
    coupons = q("SELECT coupon_id, merchant_id, platform_id, valid_from, valid_to FROM coupons")
    listings = q("SELECT listing_id, merchant_id, platform_id, category FROM listings")

    # COUPON004: each redemption against the displayed terms when the order was placed
    red = q(
        """SELECT r.order_id, r.coupon_id, r.discount_amount * 100 AS applied_c,
        coalesce(o.placed_at, o.paid_at) AS placed, o.unit_price * 100 * o.quantity AS basket,
        o.listing_id FROM coupon_redemptions r JOIN orders o USING (order_id)"""
    )
    red["applied_c"] = red.applied_c.astype("float64")
    red["basket"] = red.basket.astype("float64")
    red = red.merge(listings[["listing_id", "category"]], on="listing_id").merge(
        coupons[["coupon_id", "valid_from", "valid_to"]], on="coupon_id"
    )
    positive = red[red.applied_c > 0].groupby("order_id").size()
    red["others"] = red.order_id.map(positive).fillna(0) - (red.applied_c > 0)
    d = _asof(red, terms[terms.source == "displayed"].drop(columns="source"), "placed")
    d = d[d.effective_at.notna()]
    valid = (
        (d.valid_from <= d.placed)
        & (d.placed <= d.valid_to)
        & (d.terms_valid_to.isna() | (d.placed <= d.terms_valid_to))
        & (d.scope.isna() | (d.scope == "all") | (d.scope == d.category))
        & ~((d.stackable == False) & (d.others > 0))  # noqa: E712
    )
    d["due"] = np.where(valid, _off(d, d.basket), 0)
    c004 = sorted(set(d.order_id[d.due - d.applied_c > 1]))

    # COUPON003: each 到手价 against the cheapest basket from the coupons valid then
    claims = q(
        """SELECT p.listing_id, p.observed_at, p.channel, p.price * 100 * coalesce(p.final_price_qty, 1)
          AS basket, p.final_price_claim * 100 * coalesce(p.final_price_qty, 1) AS claim
        FROM price_observations p WHERE p.final_price_claim IS NOT NULL"""
    ).merge(listings, on="listing_id")
    claims["basket"] = claims.basket.astype("float64")
    claims["claim"] = claims.claim.astype("float64")
    claims["key"] = np.arange(len(claims))
    shop = claims.merge(
        coupons[coupons.merchant_id.notna()].drop(columns="platform_id"), on="merchant_id"
    )
    plat = claims.merge(
        coupons[coupons.merchant_id.isna()].drop(columns="merchant_id"), on="platform_id"
    )
    pairs = pd.concat([shop, plat], ignore_index=True)
    pairs = pairs[(pairs.valid_from <= pairs.observed_at) & (pairs.observed_at <= pairs.valid_to)]
    idx = ["key", "coupon_id"]
    applied = _asof(pairs, terms[terms.source == "applied"].drop(columns="source"), "observed_at")
    shown = _asof(pairs, terms[terms.source == "displayed"].drop(columns="source"), "observed_at")
    t = applied.set_index(idx).sort_index()
    shown = shown.set_index(idx).reindex(t.index)
    none = t.effective_at.isna()  # no applied version in force: what was displayed counts
    t.loc[none] = shown.loc[none]
    t = t.reset_index()
    t = t[t.effective_at.notna()]
    t = t[
        (t.scope.isna() | (t.scope == "all") | (t.scope == t.category))
        & (t.terms_valid_to.isna() | (t.observed_at <= t.terms_valid_to))
    ]
    t = t.assign(off=_off(t, t.basket), stacks=t.stackable != False)  # noqa: E712
    best = t.groupby("key").agg(single=("off", "max"))
    best["stack"] = t[t.stacks].groupby("key").off.sum()
    best = best.fillna(0)
    saving = np.maximum(best["single"], best["stack"])
    claims["saving"] = claims.key.map(saving).fillna(0)
    cheapest = claims.basket - np.minimum(claims.saving, claims.basket)
    c003 = sorted(set(claims.listing_id[claims.claim + 1 < cheapest]))
    con.close()
    return {"COUPON003": c003, "COUPON004": c004}


def main() -> None:
    engines_main(
        __doc__.splitlines()[0],
        generate=generate,
        runners={"duckdb": run_duckdb, "pandas": run_pandas},
        codes=CODES,
        compared=("COUPON003", "COUPON004"),
        default_store=DEFAULT_STORE,
        noun="entities",
    )


if __name__ == "__main__":
    main()
