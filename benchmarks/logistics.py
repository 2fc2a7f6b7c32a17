"""Benchmark the six logistics and licensing checks (SHIP001-004, PARCEL001, LIC001) at city scale
on DuckDB, with a pandas baseline of SHIP001 and SHIP004 in the same run; check the baseline finds
the same orders.

    .venv/bin/python benchmarks/logistics.py                      # 5M orders, 20M scans
    .venv/bin/python benchmarks/logistics.py --orders 500000      # a quick run
    .venv/bin/python benchmarks/logistics.py --reuse              # keep an existing store

The store is synthetic, generated with DuckDB SQL (a minute, not the simulator's much longer city
run): 40,000 merchants, 120,000 listings in the simulator's nine categories, one parcel and four
carrier scans per order (pickup and transit in the merchant's city, transit and delivery in the
buyer's), real Chinese cities from promoguard.geo. One order in 500 of each kind breaks a rule:
late pickup after the declaration (SHIP001), a borrowed tracking number (SHIP002), late dispatch
(SHIP003), a pickup before payment (SHIP004), a token weight (PARCEL001); one licensed merchant
in 50 has no licence (LIC001). Each engine runs in a freshly spawned process (benchmarks/_common),
so its peak RSS is its own: interpreter, imports, data and work.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import engines_main  # noqa: E402

DEFAULT_STORE = Path(os.environ.get("TMPDIR", "/tmp")) / "promoguard-bench" / "logistics.duckdb"
CODES = ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "PARCEL001", "LIC001")
CATEGORIES = (
    ("apparel", None),
    ("electronics", None),
    ("home", None),
    ("toys", None),
    ("food", "food_business"),
    ("health_food", "health_food"),
    ("cosmetics", "cosmetics"),
    ("medical_device", "medical_device"),
    ("alcohol", "alcohol_retail"),
)
MERCHANTS, LISTINGS = 40_000, 120_000
MEMORY_LIMIT = os.environ.get("BENCH_DUCKDB_MEMORY", "2GB")


def generate(path: Path, orders: int) -> dict[str, int]:
    from promoguard import geo, store

    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    con = store.connect(path)
    cn = [(n, lat, lon) for n, lat, lon, c in geo.CITIES if c == "CN"]
    ncity = len(cn)
    con.execute("CREATE TEMP TABLE city (k INTEGER, name VARCHAR)")
    con.executemany("INSERT INTO city VALUES (?, ?)", [(i, n) for i, (n, *_) in enumerate(cn)])
    cats = ", ".join(f"('{c}', {i})" for i, (c, _) in enumerate(CATEGORIES))
    con.execute(f"CREATE TEMP TABLE cat AS SELECT * FROM (VALUES {cats}) t(name, k)")
    con.execute("INSERT INTO platforms VALUES ('P1', 'Bench Mall')")
    con.execute(
        f"""INSERT INTO merchants SELECT 'M' || lpad(i::VARCHAR, 6, '0'), 'P1', 'shop ' || i, NULL
        FROM range({MERCHANTS}) t(i)"""
    )
    # listing i belongs to merchant i % MERCHANTS; a merchant's category is its number mod 9
    con.execute(
        f"""INSERT INTO listings SELECT 'L' || lpad(i::VARCHAR, 7, '0'),
        'M' || lpad((i % {MERCHANTS})::VARCHAR, 6, '0'), 'P1', 'item ' || i, cat.name, 'CNY', NULL
        FROM range({LISTINGS}) t(i) JOIN cat ON cat.k = (i % {MERCHANTS}) % 9"""
    )
    types = ", ".join(f"({i}, '{t}')" for i, (_, t) in enumerate(CATEGORIES) if t)
    con.execute(
        f"""INSERT INTO licences SELECT 'LIC' || m, 'M' || lpad(m::VARCHAR, 6, '0'), t.ty,
        TIMESTAMPTZ '2025-01-01 00:00:00+00', NULL, NULL
        FROM range({MERCHANTS}) r(m) JOIN (VALUES {types}) t(k, ty) ON t.k = m % 9
        WHERE m % 50 <> 4"""
    )
    # the per-order plan: offsets in minutes from payment; kind = i % 500 picks the violation
    con.execute(
        f"""CREATE TEMP TABLE plan AS
        SELECT i,
          'O' || lpad(i::VARCHAR, 8, '0') AS order_id,
          i % {LISTINGS} AS l,
          (i % {LISTINGS}) % {MERCHANTS} AS m,
          TIMESTAMPTZ '2026-09-04 16:00:00+00'
            + to_seconds((hash(i) % (78 * 86400))::BIGINT) AS paid_at,
          (hash(i * 7 + 1) % {ncity})::INTEGER AS dest,
          ((i % {LISTINGS}) % {MERCHANTS}) % {ncity} AS origin,
          i % 500 AS kind,
          CASE i % 500 WHEN 1 THEN 60 * 40 WHEN 3 THEN 60 * 60 WHEN 4 THEN -300
               ELSE 60 * 14 END AS pickup_min,
          CASE i % 500 WHEN 1 THEN 60 WHEN 3 THEN 60 * 59 WHEN 4 THEN 60
               ELSE 60 * 13 END AS declared_min,
          CASE WHEN i % 4 = 0 THEN NULL ELSE 60 * 48 END AS promise_min
        FROM range({orders}) t(i)"""
    )
    con.execute(
        """INSERT INTO orders SELECT p.order_id, 'L' || lpad(p.l::VARCHAR, 7, '0'),
        'M' || lpad(p.m::VARCHAR, 6, '0'), 'B' || (hash(p.i) % 1000000), 1, 99.00, p.paid_at,
        p.paid_at + to_minutes(p.promise_min), p.paid_at + to_minutes(p.declared_min), NULL,
        'delivered', NULL, NULL, c.name, NULL, NULL, NULL
        FROM plan p JOIN city c ON c.k = p.dest"""
    )
    con.execute(
        """INSERT INTO shipments SELECT order_id,
        CASE (CASE kind WHEN 2 THEN i - 1 ELSE i END) % 3
             WHEN 0 THEN 'SF' WHEN 1 THEN 'ZTO' ELSE 'YTO' END,
        CASE kind WHEN 2 THEN 'T' || (i - 1) ELSE 'T' || i END,
        CASE kind WHEN 5 THEN 10 ELSE 500 + hash(i) % 1000 END
        FROM plan"""
    )
    scans = [
        ("pickup", "pickup_min", "origin"),
        ("transit", "pickup_min + 360", "origin"),
        ("transit", "pickup_min + 60 * 40", "dest"),
        ("delivered", "pickup_min + 60 * 50", "dest"),
    ]
    for kind, offset, where in scans:
        con.execute(
            f"""INSERT INTO tracking_events SELECT
            CASE p.i % 3 WHEN 0 THEN 'SF' WHEN 1 THEN 'ZTO' ELSE 'YTO' END, 'T' || p.i,
            p.paid_at + to_minutes({offset}), '{kind}', c.name
            FROM plan p JOIN city c ON c.k = p.{where}"""
        )
    con.execute("CHECKPOINT")
    counts = {
        t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
        for t in ("orders", "shipments", "tracking_events", "licences")
    }
    con.close()
    return counts


def run_duckdb(path: str) -> dict[str, object]:
    """The six checks through the engine, findings and evidence included."""
    import datetime as dt

    from promoguard import store
    from promoguard.engine import registry
    from promoguard.engine.backends import duckdb_tables
    from promoguard.engine.packs import load_pack
    from promoguard.engine.run import run_checks

    con = store.connect(path)
    # the target is a 4 GB peak: DuckDB spills what does not fit (its default is 80% of RAM)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    pack = load_pack("cn")
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with duckdb_tables(con) as tables:
        result = run_checks(
            tables,
            registry.select(",".join(CODES)),
            pack,
            engine="duckdb",
            scan_id="bench",
            detected_at=when,
        )
    f = result.findings
    out = {
        "per_check_s": {r.code: round(r.seconds, 2) for r in result.runs},
        "found": {c: int((f.check_code == c).sum()) for c in CODES},
        "SHIP001": sorted(f.entity_id[f.check_code == "SHIP001"]),
        "SHIP004": sorted(f.entity_id[f.check_code == "SHIP004"]),
    }
    con.close()
    return out


def run_pandas(path: str) -> dict[str, object]:
    """A straightforward pandas SHIP001 and SHIP004 (the same rules, cn parameters)."""
    import duckdb
    import numpy as np
    import pandas as pd

    from promoguard import geo

    con = duckdb.connect(path, read_only=True)
    con.execute("SET TimeZone='UTC'")
    orders = con.sql("SELECT order_id, paid_at, declared_shipped_at, ship_to_city FROM orders").df()
    ships = con.sql("SELECT order_id, carrier, tracking_no FROM shipments").df()
    events = con.sql(
        "SELECT carrier, tracking_no, event_at, event_type, city FROM tracking_events"
    ).df()
    con.close()
    scans = ships.merge(events, on=["carrier", "tracking_no"])

    # SHIP001: declared, no pickup by declared + 24 h (the data horizon is far later here)
    pick = scans[scans.event_type == "pickup"].groupby("order_id").event_at.min()
    o = orders[orders.declared_shipped_at.notna()].set_index("order_id")
    first_pick = pick.reindex(o.index)
    deadline = o.declared_shipped_at + pd.Timedelta(hours=24)
    horizon = max(events.event_at.max(), orders.declared_shipped_at.max())
    ship001 = o.index[(first_pick.isna() & (deadline < horizon)) | (first_pick > deadline)]

    # SHIP004: a scan before payment or long before the declaration, wrong city, too fast
    first = scans.groupby("order_id").event_at.min()
    j = orders.set_index("order_id").join(first.rename("first_at"), how="inner")
    before_pay = j.first_at < j.paid_at - pd.Timedelta(minutes=5)
    before_decl = j.declared_shipped_at.notna() & (
        j.first_at < j.declared_shipped_at - pd.Timedelta(hours=24)
    )
    dlv = scans[scans.event_type == "delivered"].merge(
        orders[["order_id", "ship_to_city"]], on="order_id"
    )
    norm = lambda s: s.str.strip().str.lower()  # noqa: E731
    wrong = dlv[norm(dlv.city) != norm(dlv.ship_to_city)].order_id.unique()
    ev = events.dropna(subset=["city"]).assign(city=lambda d: norm(d.city))
    ev = ev.sort_values(["carrier", "tracking_no", "event_at", "event_type", "city"])
    same = (ev.carrier.values[1:] == ev.carrier.values[:-1]) & (
        ev.tracking_no.values[1:] == ev.tracking_no.values[:-1]
    )
    coords = geo.coordinates()
    lat = ev.city.map(lambda c: coords.get(c, (np.nan, np.nan))[0]).to_numpy()
    lon = ev.city.map(lambda c: coords.get(c, (np.nan, np.nan))[1]).to_numpy()
    la1, la2, lo1, lo2 = map(np.radians, (lat[:-1], lat[1:], lon[:-1], lon[1:]))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    km = np.round(2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1))), 1)
    secs = np.maximum(
        (ev.event_at.values[1:] - ev.event_at.values[:-1]) / np.timedelta64(1, "s"), 60
    )
    fast = (
        same
        & (ev.city.values[1:] != ev.city.values[:-1])
        & (km >= 100)
        & (km / (secs / 3600) > 800)
    )
    fast_parcels = ev.iloc[1:][fast][["carrier", "tracking_no"]].drop_duplicates()
    fast_orders = ships.merge(fast_parcels, on=["carrier", "tracking_no"]).order_id.unique()
    ship004 = set(j.index[before_pay | before_decl]) | set(wrong) | set(fast_orders)
    return {"SHIP001": sorted(ship001), "SHIP004": sorted(ship004)}


def main() -> None:
    engines_main(
        __doc__.splitlines()[0],
        generate=generate,
        runners={"duckdb": run_duckdb, "pandas": run_pandas},
        codes=CODES,
        compared=("SHIP001", "SHIP004"),
        default_store=DEFAULT_STORE,
        noun="orders",
    )


if __name__ == "__main__":
    main()
