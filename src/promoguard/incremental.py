"""Incremental scans: re-check only what the data added since the last scan can change.

Each check declares what its findings depend on (``depends_on``):

- ``"merchant"``: a finding on an entity depends only on rows of that entity's merchant (its
  listings and their prices, reviews and texts, its orders with their parcels and scans, its
  licences) and on the platform-wide tables (platforms, promotions);
- ``"season"``: on anything in the season (a data horizon, a per-carrier share, a buyer graph,
  near-duplicate reviews across merchants): it is re-run on everything.

``scan --since SCAN`` finds the merchants the rows added after SCAN touch, runs the merchant
checks on those merchants' rows only, keeps SCAN's findings of those checks on every other
merchant, and runs the season checks on everything. The result is the full set of findings a
full re-scan gives (tests/test_incremental.py checks that they are identical, on a lake and a
DuckDB file, on DuckDB and Spark), saved as a scan like any other, so ``monitor.delta`` reads
new, still and resolved findings from it.

Which rows are new: on a lake, the files of the ingest batches its manifest lists after SCAN; on
a DuckDB file, the rows past the row counts SCAN recorded per table (``scan_marks``: the canonical
tables only grow, so rows ``rowid >= mark`` are the ones added since). When that cannot be told
(a scan made before marks were kept, rows removed) the scan falls back to a full one and says so.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
import pandas as pd

from promoguard import lake, sqlbuild

DEPENDS_ON = ("merchant", "season")

#: the rows reached from the affected merchants: table -> FROM clause over the full lake (alias t)
_MERCHANT_ROWS = {
    "merchants": "_all_merchants t SEMI JOIN _pg_affected a USING (merchant_id)",
    "licences": "_all_licences t SEMI JOIN _pg_affected a USING (merchant_id)",
    "listings": "_all_listings t SEMI JOIN _pg_affected a USING (merchant_id)",
    "texts": "_all_texts t SEMI JOIN _pg_affected a USING (merchant_id)",
    "orders": "_all_orders t SEMI JOIN _pg_affected a USING (merchant_id)",
    "price_observations": "_all_price_observations t SEMI JOIN listings l USING (listing_id)",
    "reviews": "_all_reviews t SEMI JOIN listings l USING (listing_id)",
    "shipments": "_all_shipments t SEMI JOIN orders o USING (order_id)",
    "tracking_events": "_all_tracking_events t SEMI JOIN shipments s USING (carrier, tracking_no)",
}
#: how new rows of each table name their merchant (through the full lake views, prefix _all_)
_MERCHANT_OF = {
    "merchants": "SELECT merchant_id FROM {new}",
    "licences": "SELECT merchant_id FROM {new}",
    "listings": "SELECT merchant_id FROM {new}",
    "texts": "SELECT merchant_id FROM {new}",
    "orders": "SELECT merchant_id FROM {new}",
    "price_observations": "SELECT l.merchant_id FROM {new} n JOIN _all_listings l USING (listing_id)",
    "reviews": "SELECT l.merchant_id FROM {new} n JOIN _all_listings l USING (listing_id)",
    "shipments": "SELECT o.merchant_id FROM {new} n JOIN _all_orders o USING (order_id)",
    "tracking_events": (
        "SELECT o.merchant_id FROM {new} n JOIN _all_shipments s USING (carrier, tracking_no) "
        "JOIN _all_orders o USING (order_id)"
    ),
}
#: new rows here can change any finding: the scan falls back to a full one
_SEASON_WIDE = ("platforms", "promotions")
#: above this share of the merchants touched, the merchant checks run on the whole store
SCOPE_SHARE = 0.5
#: the database name a DuckDB file store is attached under in the scoped connection
_SRC = "_pg_src"


def depends_on(check: Any) -> str:
    """What the rule declares (``Check.depends_on``). Season-wide, and why: SHIP001/SHIP003 judge
    against the data horizon (the latest instant in the whole season); PARCEL001 uses each
    carrier's share of weighed parcels; SHIP002 finds a tracking number shared across merchants;
    REVIEW001 near-duplicates across merchants; REVIEW003 a buyer's orders everywhere;
    BRUSH001-003 the buyer-merchant graph."""
    scope = getattr(check, "depends_on", "season")
    if scope not in DEPENDS_ON:
        raise ValueError(f"{check.code}: depends_on {scope!r} is not one of {DEPENDS_ON}")
    return scope


def batches_since(manifest: lake.Manifest, scan_id: str) -> list[str] | None:
    """Ingest batches published after the scan ``scan_id``; None when the lake does not have it."""
    for i, b in enumerate(manifest.batches):
        if b.get("kind") == "scan" and b.get("scan_id") == scan_id:
            return [x["batch"] for x in manifest.batches[i + 1 :] if x.get("kind") == "ingest"]
    return None


def new_files(manifest: lake.Manifest, batches: list[str]) -> dict[str, list[str]]:
    """Per canonical table, the files those batches published (a file's name carries its batch)."""
    marks = [re.compile(rf"/part-{re.escape(b)}-\d+\.parquet$") for b in batches]
    out: dict[str, list[str]] = {}
    for table in lake.TABLE_NAMES:
        files = ["/" + f for f in manifest.tables.get(table, [])]
        hit = [f[1:] for f in files if any(m.search(f) for m in marks)]
        if hit:
            out[table] = hit
    return out


def affected_merchants(
    con: duckdb.DuckDBPyConnection, new: dict[str, str], local_reads: set[str]
) -> pd.DataFrame | None:
    """The merchants whose rows ``new`` (table -> SQL relation of the added rows) adds to; None
    when every finding may change. ``con`` has the whole season as ``_all_<table>`` views.

    New rows of a table no merchant-local check reads (coupons, prizes) change no such finding:
    only the season checks read them, and those are re-run on everything anyway."""
    parts = []
    for table, rel in new.items():
        if table in _SEASON_WIDE:
            return None
        if table in _MERCHANT_OF:
            parts.append(_MERCHANT_OF[table].format(new=rel))
        elif table in local_reads:  # read by a merchant check, but not traced to a merchant
            return None
    if not parts:
        return pd.DataFrame({"merchant_id": pd.Series([], dtype=object)})
    union = sqlbuild.join(" UNION ", (sqlbuild.sql("({p})", p=sqlbuild.Sql(p)) for p in parts))
    query = sqlbuild.sql(
        "SELECT DISTINCT merchant_id FROM ({u}) WHERE merchant_id IS NOT NULL", u=union
    )
    return con.execute(query).df()


def scope_to(
    con: duckdb.DuckDBPyConnection, merchants: pd.DataFrame, local_reads: set[str]
) -> duckdb.DuckDBPyConnection:
    """Make ``con``'s canonical tables hold only the rows reached from ``merchants`` (tables
    over its ``_all_<table>`` views); a table no local check reads is left empty.

    ``con`` is a private in-memory database, so these are ordinary tables of it, not temporary
    ones: every cursor of the database sees them, and the scan runs its checks on two threads
    (``engine.run.scan_threads``) as a full scan does; temporary tables held it to one."""
    con.register("_pg_affected_df", merchants)
    con.execute("CREATE TABLE _pg_affected AS SELECT merchant_id FROM _pg_affected_df")
    con.unregister("_pg_affected_df")
    for table in lake.TABLE_NAMES:  # in reference order: a table after those it is reached by
        source = _MERCHANT_ROWS.get(table, f'"_all_{table}" t')
        where = "" if table in local_reads or table in _MERCHANT_ROWS else " WHERE false"
        # materialised: the checks read each table many times
        con.execute(
            sqlbuild.sql(
                "CREATE TABLE {table} AS SELECT t.* FROM {source}{where}",
                table=table,
                source=sqlbuild.Sql(source),
                where=sqlbuild.Sql(where),
            )
        )
    return con


def scoped_connection(
    root: Any, manifest: lake.Manifest, merchants: pd.DataFrame, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection whose canonical tables hold only the rows reached from ``merchants``."""
    season = _LakeSeason(lake.Path(root), memory_limit)
    season.manifest = manifest
    return scope_to(season.all_views(), merchants, set(lake.TABLE_NAMES))


class _LakeSeason:
    """A Parquet lake: new rows are the files of the ingest batches published after a scan."""

    engine_label = "lake"

    def __init__(self, root: Any, memory_limit: str | None) -> None:
        self.root = lake.Path(root)
        self.memory_limit = memory_limit
        self.manifest = lake.read_manifest(self.root)

    def connect(self) -> duckdb.DuckDBPyConnection:
        return lake.connect(self.root, memory_limit=self.memory_limit)

    def all_views(self) -> duckdb.DuckDBPyConnection:
        from promoguard import store as store_mod

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        store_mod.set_memory_limit(con, self.memory_limit)
        lake.attach_views(con, self.root, self.manifest, lake.TABLE_NAMES, prefix="_all_")
        return con

    def new_rows(self, con: Any, since: str) -> tuple[dict[str, str] | None, int, str | None]:
        from promoguard.errors import CheckError

        batches = batches_since(self.manifest, since)
        if batches is None:
            raise CheckError(f"--since {since}: the scan is not in the lake's manifest")
        base = str(self.root.resolve())
        new = {
            table: "read_parquet([{}], hive_partitioning = false)".format(
                ", ".join(lake._sql_str(f"{base}/{r}") for r in rels)
            )
            for table, rels in new_files(self.manifest, batches).items()
        }
        return new, len(batches), None

    def marks(self, con: Any) -> dict[str, int] | None:
        return None

    def spark(self, con: Any, master: str):
        return lake.spark_tables(self.root, master)

    def save(self, result: Any, pack: Any, detected_at: Any) -> None:
        lake.save_scan(self.root, result, pack, detected_at)


class _FileSeason:
    """A DuckDB file: new rows are those past the row counts the scan recorded (``scan_marks``)."""

    engine_label = "file"

    def __init__(self, path: Any, memory_limit: str | None) -> None:
        self.path = lake.Path(path)
        self.memory_limit = memory_limit

    def connect(self) -> duckdb.DuckDBPyConnection:
        from promoguard import store as store_mod

        con = store_mod.connect(self.path, read_only=True)
        store_mod.set_memory_limit(con, self.memory_limit)
        return con

    def all_views(self) -> duckdb.DuckDBPyConnection:
        """An in-memory connection with the file attached read-only, its tables as ``_all_*``
        views (the scoped tables take the canonical names, so the file's must not)."""
        from promoguard import store as store_mod

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        store_mod.set_memory_limit(con, self.memory_limit)
        con.execute(f"ATTACH {lake._sql_str(str(self.path))} AS {_SRC} (READ_ONLY)")
        have = self._tables(con)
        schema = store_mod.table_schema()
        for table in lake.TABLE_NAMES:
            if table in have:
                con.execute(
                    sqlbuild.sql(
                        "CREATE VIEW {view} AS SELECT * FROM {src}.main.{table}",
                        view="_all_" + table,
                        src=_SRC,
                        table=table,
                    )
                )
            else:  # a store made before the table existed: it reads as empty
                cols = ", ".join(f'"{c}" {t}' for c, t in schema[table])
                con.execute(f'CREATE TABLE "_all_{table}" ({cols})')
        return con

    @staticmethod
    def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
        return {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "AND schema_name = 'main'",
                [_SRC],
            ).fetchall()
        }

    def new_rows(self, con: Any, since: str) -> tuple[dict[str, str] | None, int, str | None]:
        from promoguard import store as store_mod

        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
        }
        if "scan_marks" not in tables:
            return None, 0, f"the store keeps no row marks; scan {since} is scanned in full"
        marks = dict(
            con.execute(
                "SELECT table_name, row_count FROM scan_marks WHERE scan_id = ?", [since]
            ).fetchall()
        )
        # The batches ingested after that scan: a scan's started_at is cut to the second (it names
        # the scan), so an ingest just before it, in the same second, looked like one after it (a
        # clean-clone CI on a quiet machine counted 2 batches for 1). Its finished_at is exact, and
        # a DuckDB file has one writer at a time, so an ingest it did not see started after it.
        ended = con.execute(
            "SELECT coalesce(finished_at, started_at) FROM scans WHERE scan_id = ?", [since]
        ).fetchone()
        batches = con.execute(
            "SELECT count(DISTINCT ingest_id) FROM ingest_log WHERE started_at >= ?", [ended[0]]
        ).fetchone()[0]
        if not marks:
            return None, batches, f"scan {since} kept no row marks (made before they were kept)"
        now = store_mod.row_marks(con)
        new: dict[str, str] = {}
        for table, rows in now.items():
            before = marks.get(table, 0)
            # rowids are positions: 0..n-1 as long as no row was ever removed, which is what
            # makes "rowid >= mark" the rows added since; anything else and we cannot tell
            top = con.execute(
                sqlbuild.sql("SELECT coalesce(max(rowid), -1) FROM {t}", t=table)
            ).fetchone()[0]
            if top != rows - 1 or rows < before:
                return None, batches, f"rows of {table} were removed since scan {since}"
            if rows > before:
                new[table] = sqlbuild.sql(
                    "(SELECT * FROM {src}.main.{table} WHERE rowid >= {before})",
                    src=_SRC,
                    table=table,
                    before=int(before),
                )
        return new, batches, None

    def marks(self, con: Any) -> dict[str, int] | None:
        from promoguard import store as store_mod

        return store_mod.row_marks(con)

    def spark(self, con: Any, master: str):
        from promoguard.engine import backends

        return backends.spark_tables(con, master)

    def save(self, result: Any, pack: Any, detected_at: Any) -> None:
        from promoguard.engine import run as eng

        con = eng._writer(self.path)
        try:
            eng.save_result(con, result, pack, detected_at)
        finally:
            con.close()


def scan_since(
    store: Any,
    pack: Any,
    since: str,
    *,
    checks: Any = None,
    engine: str = "duckdb",
    spark_master: str = "local[*]",
    save: bool = True,
    progress: Any = None,
    memory_limit: str | None = None,
):
    """A scan of the store (a lake or a DuckDB file) equal to a full re-scan, computed from the
    scan ``since`` and the rows added after it (``since`` may be ``last``: the latest scan of the
    pack). Returns the result and what was re-checked (``info``)."""
    import datetime as dt
    import uuid

    from promoguard.engine import backends
    from promoguard.engine import run as eng
    from promoguard.engine.packs import load_pack
    from promoguard.errors import CheckError

    if engine not in eng.ENGINES:
        raise CheckError(f"unknown engine {engine!r}; choose one of {', '.join(eng.ENGINES)}")
    if lake.is_lake(store):
        if not (lake.Path(store) / lake.MANIFEST).exists():
            raise CheckError(f"no lake at {store}; run `promoguard ingest` first")
        season: Any = _LakeSeason(store, memory_limit)
    else:
        if not lake.Path(store).exists():
            raise CheckError(f"no store at {store}; run `promoguard ingest` first")
        season = _FileSeason(store, memory_limit)
    the_pack = load_pack(pack)
    chosen = eng.choose_checks(the_pack, checks)
    con = season.connect()
    scoped = None
    try:
        since = _resolve(con, since, the_pack.name)
        prev = con.execute(
            "SELECT pack, checks, parameters FROM scans WHERE scan_id = ?", [since]
        ).fetchone()
        if prev is None:
            raise CheckError(f"--since {since}: no such scan in the store")
        new, batches, fallback = season.new_rows(con, since)
        marks = season.marks(con)  # what this scan reads (a DuckDB file)
        prev_params = _previous_parameters(prev, the_pack.name)
        candidates = [
            c
            for c in chosen
            if depends_on(c) == "merchant"
            and prev_params.get(c.code) == _canonical(the_pack.parameters_for(c))
        ]
        local_reads = {t for c in candidates for t in c.reads}
        merchants = None
        affected_count = None
        if new is not None and candidates:
            scoped = season.all_views()
            merchants = affected_merchants(scoped, new, local_reads)
            if merchants is None:
                fallback = "the new rows reach platform-wide tables"
            else:
                total = scoped.execute("SELECT count(*) FROM _all_merchants").fetchall()[0][0]
                if len(merchants) > SCOPE_SHARE * total:
                    # copying most of the season to re-check it costs more than checking it
                    fallback = (
                        f"the new rows touch {len(merchants):,} of {total:,} merchants: "
                        "the merchant checks run on the whole store"
                    )
                    affected_count, merchants = len(merchants), None
        local = candidates if merchants is not None else []
        season_checks = [c for c in chosen if c not in local]
        detected_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        scan_id = f"scan-{detected_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        kw = {"engine": engine, "scan_id": scan_id, "detected_at": detected_at}
        parts = []
        coverage: dict[str, dict[str, Any]] = {}
        with backends.duckdb_tables(con) as tables:
            # whether a local check runs is decided on the whole store, as a full scan does
            counts: dict[str, int | None] = {}
            for c in local:
                coverage[c.code] = eng.check_coverage(tables, c, counts)
            if season_checks and engine == "duckdb":
                parts.append(
                    eng.run_checks(tables, season_checks, the_pack, progress=progress, **kw)
                )
        if season_checks and engine != "duckdb":
            with season.spark(con, spark_master) as tables:
                parts.append(
                    eng.run_checks(tables, season_checks, the_pack, progress=progress, **kw)
                )
        carried = con.execute("SELECT * FROM findings LIMIT 0").df()
        if local:
            scope_to(scoped, merchants, local_reads)
            cm = (
                backends.duckdb_tables(scoped)
                if engine == "duckdb"
                else backends.spark_tables(scoped, spark_master)
            )
            with cm as tables:
                parts.append(
                    eng.run_checks(
                        tables, local, the_pack, progress=progress, coverage_of=coverage, **kw
                    )
                )
            con.register("_pg_affected", merchants)
            con.register("_pg_local", pd.DataFrame({"code": [c.code for c in local]}))
            carried = con.execute(
                """SELECT f.* FROM findings f
                   WHERE f.scan_id = ? AND f.check_code IN (SELECT code FROM _pg_local)
                     AND (f.merchant_id IS NULL
                          OR f.merchant_id NOT IN (SELECT merchant_id FROM _pg_affected))""",
                [since],
            ).df()
            carried["scan_id"] = scan_id
            carried["detected_at"] = detected_at
    finally:
        con.close()
        if scoped is not None:
            scoped.close()
    result = _combine(parts, carried, chosen, the_pack.name, scan_id, engine)
    result.marks = marks
    if save:
        season.save(result, the_pack, detected_at)
    return result, {
        "since": since,
        "store": season.engine_label,
        "batches": batches,
        "affected_merchants": affected_count if merchants is None else len(merchants),
        "full_because": None if local else (fallback or _why_full(candidates, new)),
        "rechecked_local": [c.code for c in local],
        "rerun_season": [c.code for c in season_checks],
        "carried": len(carried),
    }


def _why_full(candidates: list, new: Any) -> str | None:
    if new is not None and not candidates:
        return "no merchant-local check ran as it runs now in the previous scan"
    return None


def _resolve(con: duckdb.DuckDBPyConnection, since: str, pack: str) -> str:
    from promoguard.errors import CheckError

    if since != "last":
        return since
    row = con.execute(
        "SELECT scan_id FROM scans WHERE pack = ? ORDER BY started_at DESC, scan_id DESC LIMIT 1",
        [pack],
    ).fetchone()
    if row is None:
        raise CheckError(f"--since last: the store has no scan of pack {pack!r}")
    return row[0]


def _canonical(params: Any) -> Any:
    import json

    from promoguard.engine.evidence import canonical_value

    return json.loads(json.dumps(canonical_value(params), sort_keys=True))


def _previous_parameters(prev: tuple, pack: str) -> dict[str, Any]:
    import json

    if prev[0] != pack:
        return {}
    try:
        return json.loads(prev[2])
    except ValueError:
        return {}


def _combine(
    parts: list, carried: pd.DataFrame, chosen: list, pack: str, scan_id: str, engine: str
):
    from promoguard.engine.evidence import FrozenEvidence
    from promoguard.engine.run import CheckRun, ScanResult

    frames = [p.findings for p in parts]
    if len(carried):
        frames.append(carried[parts[0].findings.columns] if parts else carried)
    findings = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else (parts[0].findings if parts else carried)
    )
    runs_by_code = {r.code: r for p in parts for r in p.runs}
    counts = findings.groupby("check_code").size().to_dict() if len(findings) else {}
    runs = [
        CheckRun(
            c.code,
            int(counts.get(c.code, 0)),
            runs_by_code.get(c.code, CheckRun(c.code, 0, 0.0)).seconds,
        )
        for c in chosen
    ]
    # the parts' documents stay in Arrow and their spill files (a dict of Python strings would
    # hold a city scan's ~2 GB of documents twice over)
    evidence = FrozenEvidence()
    coverage: dict[str, dict[str, Any]] = {}
    for p in parts:
        evidence.absorb(p.evidence)
        coverage.update(p.coverage)
    # the checks in the order a full scan runs them
    findings_order = {c.code: i for i, c in enumerate(chosen)}
    if len(findings):
        findings = (
            findings.assign(_o=findings.check_code.map(findings_order))
            .sort_values(["_o"], kind="stable")
            .drop(columns="_o")
            .reset_index(drop=True)
        )
    coverage = {c.code: coverage[c.code] for c in chosen if c.code in coverage}
    return ScanResult(scan_id, pack, engine, findings, runs, evidence, coverage)
