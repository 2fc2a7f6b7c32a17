"""Shared benchmark helpers: honest wall time and peak memory, and a plain results table.

    from _common import measure, print_table

    seconds, peak = measure(run_promoguard, csv_path, store_path)   # fresh process each call
    m = measure_full(run_promoguard, csv_path, store_path)   # + CPU seconds and the result
    print_table([{"engine": "promoguard", "seconds": seconds, "peak_rss_mb": peak / 2**20}])

``measure`` runs the function in a freshly *spawned* Python process (not forked: a forked child
would start with the parent's memory already counted), so the peak resident set size is the
function's own: interpreter + imports + work. The function must be importable (defined at module
level) and its arguments and result picklable; scripts using it need the usual
``if __name__ == "__main__":`` guard. CPU seconds are reported too: on a shared machine wall time
depends on what else runs, CPU time much less so.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Measurement:
    seconds: float  # wall time of the call
    cpu_seconds: float  # CPU time of the call, all threads: independent of other load
    peak_rss_bytes: int  # peak resident memory of the whole process (interpreter included)
    result: Any = None


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        cpu, start = cpu_seconds(), time.perf_counter()
        result = fn(*args)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        conn.send(("ok", Measurement(seconds, cpu, peak_rss_bytes(), result)))
    except BaseException as exc:  # report it to the parent rather than dying silently
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def measure_full(fn: Callable[..., Any], *args: Any) -> Measurement:
    """Wall time, CPU time, peak RSS and return value of ``fn(*args)`` in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args))
    proc.start()
    child.close()
    try:
        status, payload = parent.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"benchmark process died (exit code {proc.exitcode})") from None
    proc.join()
    if status != "ok":
        raise RuntimeError(f"benchmark failed: {payload}")
    return payload


def measure(fn: Callable[..., Any], *args: Any) -> tuple[float, int]:
    """(seconds, peak RSS bytes) of ``fn(*args)`` run in a fresh process."""
    m = measure_full(fn, *args)
    return m.seconds, m.peak_rss_bytes


#: the fixed work of :func:`host_speed`: a pure-Python loop, and a DuckDB aggregate on one thread
_PY_LOOP = 3_000_000
_DUCKDB_ROWS = 30_000_000


def _python_work(n: int = _PY_LOOP) -> int:
    """The Python yardstick: a loop of integer steps the interpreter cannot skip (each step
    reads the last); returns its result so that a test can hold the work to what it is."""
    s = 0
    for i in range(n):
        s += i ^ (s & 1023)
    return s


def _duckdb_work(rows: int = _DUCKDB_ROWS) -> int:
    """The DuckDB yardstick: hash and sum ``rows`` generated integers on one thread."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")
        return int(con.execute(f"SELECT sum(hash(i) % 1000) FROM range({rows}) t(i)").fetchone()[0])
    finally:
        con.close()


def host_speed(repeat: int = 3) -> dict[str, float]:
    """Seconds this machine takes for two fixed single-threaded pieces of work (lower is faster):
    ``python_s``, a pure-Python loop (the engine's Python: planning, Arrow glue, evidence JSON),
    and ``duckdb_s``, a DuckDB aggregate on one thread (the engine's SQL); the best of
    ``repeat`` runs each, the least disturbed on a shared machine.

    Printed beside a benchmark's figures so that figures taken on different hosts can be read
    together: the workplace's hosts differ up to ~1.8-fold per core (the same code's full city
    scan took 58 s in session 16 and 106 s on session 17's host, both quiet). A pair taken in
    the same minutes needs no such yardstick; a figure against a target in seconds does."""
    best: dict[str, float] = {}
    for name, work in (("python_s", _python_work), ("duckdb_s", _duckdb_work)):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        best[name] = round(min(times), 3)
    return best


def print_table(rows: Sequence[dict[str, Any]], file: Any = None) -> None:
    """Print dicts as an aligned plain-text table (columns in first-row order)."""
    if not rows:
        return
    out = file or sys.stdout
    headers = list(rows[0])

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [[fmt(r.get(h, "")) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for c in cells:
        print(
            "  ".join(
                v.rjust(w) if v[:1].isdigit() or v[:1] == "-" else v.ljust(w)
                for v, w in zip(c, widths, strict=True)
            ),
            file=out,
        )


def engines_main(
    description: str,
    *,
    generate: Callable[[Path, int], Any],
    runners: dict[str, Callable[[str], dict[str, Any]]],
    codes: Sequence[str],
    compared: Sequence[str],
    default_store: Path,
    noun: str = "entities",
) -> None:
    """The command line of a benchmark that makes a store of ``--orders`` orders, runs the rules
    on DuckDB (all of ``codes``) and a naive pandas baseline (``compared`` only), each in a fresh
    process, prints the table, and exits 1 when the two do not find the same ``noun``."""
    import argparse
    import json
    import os

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--orders", type=int, default=5_000_000)
    ap.add_argument("--store", type=Path, default=default_store)
    ap.add_argument("--reuse", action="store_true", help="use an existing store as it is")
    ap.add_argument("--engines", default="duckdb,pandas")
    args = ap.parse_args()

    if not (args.reuse and args.store.exists()):
        t = time.perf_counter()
        counts = generate(args.store, args.orders)
        print(f"generated {counts} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    rows, results = [], {}
    for engine in args.engines.split(","):
        load_before = os.getloadavg()[0]  # the machine is shared: wall time swings with its load
        m = measure_full(runners[engine], str(args.store))
        load_after = os.getloadavg()[0]
        results[engine] = m.result
        rows.append(
            {
                "engine": engine,
                "checks": ",".join(codes if engine == "duckdb" else compared),
                "seconds": round(m.seconds, 1),
                "cpu_seconds": round(m.cpu_seconds, 1),
                "peak_rss_mb": round(m.peak_rss_bytes / 2**20),
                "load_1min": f"{load_before:.2f}-{load_after:.2f}",
            }
        )
    print_table(rows)
    if "duckdb" in results:
        print(json.dumps({k: results["duckdb"][k] for k in ("per_check_s", "found")}))
    if "duckdb" in results and "pandas" in results:
        for code in compared:
            same = results["duckdb"][code] == results["pandas"][code]
            n = len(results["pandas"][code])
            print(f"{code}: pandas baseline finds the same {n} {noun}: {same}")
            if not same:
                sys.exit(1)
