"""Where a scan's time goes, thread by thread: a span per finder, evidence part, freeze and shared
relation on each worker thread, and the process's CPU (and each thread's) sampled every 0.25 s.

    flock /tmp/promoguard-heavy.lock .venv/bin/python benchmarks/scan_timeline.py \\
        --store /work/city2/city.duckdb --out /tmp/me/timeline.json

Runs the full `cn` scan as ``benchmarks/season.py --steps scan`` does (in this process, not
saved) with the engine's functions wrapped to record their spans, then prints the spans longer
than ``--min`` seconds and the cores busy per two seconds; the JSON holds everything (spans, CPU
samples, per-thread CPU, each check's find/evidence/freeze seconds). The wrapping costs little but
is not free: read its wall time beside ``season.py``'s, not instead of it. Heavy at city scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib
import json
import os
import pkgutil
import resource
import sys
import threading
import time
from typing import Any

T0 = time.perf_counter()
SPANS: list[tuple[str, str, float, float]] = []
_LOCK = threading.Lock()


def _record(label: str, start: float, end: float) -> None:
    with _LOCK:
        SPANS.append((threading.current_thread().name, label, start - T0, end - T0))


def _wrap(owner: Any, name: str, label: Any) -> None:
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(label(*args, **kwargs), start, time.perf_counter())

    setattr(owner, name, wrapped)


def _instrument() -> None:
    import promoguard.rules as rules
    from promoguard.engine import backends, cache
    from promoguard.engine import run as R
    from promoguard.engine.base import Tables

    _wrap(R, "_found_rows", lambda check, *a, **k: f"find {check.code}")
    _wrap(R, "_freeze_findings", lambda check, *a, **k: f"freeze {check.code}")
    _wrap(R, "canonical_json_group_table", lambda *a, **k: "json")
    _wrap(backends, "materialise", lambda *a, **k: "materialise")
    _wrap(Tables, "to_arrow", lambda *a, **k: "pull")
    parts = R._evidence_in_parts

    def evidence_in_parts(check: Any, *args: Any, **kwargs: Any) -> Any:
        gen = parts(check, *args, **kwargs)
        while True:
            start = time.perf_counter()
            try:
                item = next(gen)
            except StopIteration:
                _record(f"evidence-end {check.code}", start, time.perf_counter())
                return
            _record(f"evidence {check.code}", start, time.perf_counter())
            yield item

    R._evidence_in_parts = evidence_in_parts
    shared = cache.shared

    def timed_shared(tables: Any, key: Any, build: Any) -> Any:
        start = time.perf_counter()
        try:
            return shared(tables, key, build)
        finally:
            name = key[0] if isinstance(key, tuple) else key
            _record(f"shared {name}", start, time.perf_counter())

    cache.shared = timed_shared
    for info in pkgutil.walk_packages(rules.__path__, "promoguard.rules."):
        module = importlib.import_module(info.name)  # rules import `shared` by name
        if getattr(module, "shared", None) is shared:
            module.shared = timed_shared


def _thread_cpu() -> dict[int, float]:
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, help="a DuckDB store (read only)")
    ap.add_argument("--out", required=True, help="the JSON to write")
    ap.add_argument("--min", type=float, default=0.4, help="print spans at least this long (s)")
    args = ap.parse_args()
    _instrument()
    from promoguard import store as store_mod
    from promoguard.engine import run as R
    from promoguard.engine.backends import duckdb_tables
    from promoguard.engine.packs import load_pack

    cpu: list[tuple[float, float]] = []
    per_thread: list[tuple[float, dict[str, float]]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            now, t = time.perf_counter() - T0, os.times()
            cpu.append((now, t.user + t.system))
            names = {th.native_id: th.name for th in threading.enumerate()}
            per_thread.append((now, {names.get(k, str(k)): v for k, v in _thread_cpu().items()}))
            time.sleep(0.25)

    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    con = store_mod.connect(args.store, read_only=True)
    pack = load_pack("cn")
    _record("connect", start, time.perf_counter())
    start = time.perf_counter()
    with duckdb_tables(con) as tables:
        result = R.run_checks(
            tables,
            R.choose_checks(pack, None),
            pack,
            engine="duckdb",
            scan_id="timeline",
            detected_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        )
    _record("run_checks", start, time.perf_counter())
    con.close()
    done.set()
    wall, t = time.perf_counter() - T0, os.times()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "spans": SPANS,
        "cpu": cpu,
        "thread_cpu": per_thread,
        "wall": wall,
        "cpu_s": t.user + t.system,
        "rss_mb": rss,
        "findings": result.finding_count,
        "parts": {r.code: r.parts for r in result.runs},
    }
    with open(args.out, "w") as f:
        json.dump(report, f)
    for thread, label, a, b in sorted(SPANS, key=lambda s: s[2]):
        if b - a >= args.min and label.split()[0] in ("find", "evidence", "freeze", "shared"):
            who = thread.replace("promoguard-scan_", "thread ")
            print(f"{a:6.1f} {b:6.1f} {b - a:5.1f}  {who:>10}  {label}")
    line = []
    for i in range(0, len(cpu) - 8, 8):
        (t0, c0), (t1, c1) = cpu[i], cpu[i + 8]
        line.append(f"{t0:4.0f}s:{(c1 - c0) / (t1 - t0):.2f}")
    print("cores busy per 2 s:")
    for k in range(0, len(line), 10):
        print("  ".join(line[k : k + 10]))
    print(
        f"wall {wall:.1f} s, CPU {t.user + t.system:.1f} s, peak RSS {rss:,.0f} MB, "
        f"{result.finding_count:,} findings",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
