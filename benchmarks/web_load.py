"""Load test of the web application: N concurrent users browsing findings and cases, on loopback.

    flock /tmp/promoguard-heavy.lock .venv/bin/python benchmarks/web_load.py \\
        --store /work/city/city.duckdb --db /tmp/city-cases.db --users 50 --seconds 60

1. **Case database.** Unless ``--db`` exists already, cases are opened from the store's latest scan
   by the case service (what ``promoguard cases open`` does), timed, with its peak memory.
2. **Server.** ``promoguard serve`` in its own process on 127.0.0.1 (a free port): one uvicorn
   worker, as a newcomer would start it. Its CPU seconds and peak RSS are read from /proc.
3. **Users.** ``--users`` virtual users log in (analysts and platform officers, untimed), see the
   dashboard (where a login lands), then each loops until ``--seconds`` have passed: the findings list (a random filter: check, severity,
   platform or none), its next page (keyset cursor), a finding, the cases queue, a case. Before the
   first click and between two clicks a user thinks for a random 0.5-2 s (``--think``), like a
   person reading a page.
   The run stops by itself; nothing leaves the machine.
4. **Baseline, same run.** One user with no think time first: the page time of an idle server, to
   read the loaded figures against.

Prints one table per phase: requests, errors, pages/s, p50/p95/p99/max page time per page kind,
and the first findings page of the platform officers alone (a slice of the findings rows, whose
filters meet the officer's platform; not counted twice in ALL PAGES).
The target (issue #14): p95 under 300 ms at 50 users on the city-scale case database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password"
#: Kinds starting so repeat pages already counted under their own kind (a slice, not more pages).
OFFICER = "officers only: "


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_case_db(store: Path, db: Path) -> dict:
    """Open the cases from the store's latest scan into a new SQLite case database, and users."""
    import resource

    from promoguard.cases.service import CaseService
    from promoguard.web.security import hash_password

    started, cpu0 = time.perf_counter(), time.process_time()
    svc = CaseService(f"sqlite:///{db}", actor="load-test")
    opened = svc.open_from_scan(store).to_dict()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu0
    platforms = sorted({c["platform_id"] for c in svc.list_cases() if c["platform_id"]})
    hashed = hash_password(PASSWORD)
    for i in range(5):
        svc.add_user(f"analyst{i}", "analyst", password_hash=hashed)
    for p in platforms:
        svc.add_user(f"officer-{p}", "platform", platform_id=p, password_hash=hashed)
    svc.db.dispose()
    return {
        "cases_opened": opened["opened"],
        "findings": opened["findings_added"],
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "db_mb": round(db.stat().st_size / 2**20),
    }


def _proc_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds, peak RSS bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    return cpu, peak


class Browser:
    """One virtual user: a logged-in session that clicks through findings and cases."""

    def __init__(
        self, client: httpx.AsyncClient, rng: random.Random, facets: dict, officer: bool = False
    ) -> None:
        self.client = client
        self.rng = rng
        self.facets = facets
        #: a platform officer: every list is filtered to the platform, the case for slow plans
        self.officer = officer

    async def login(self, user: str) -> None:
        page = await self.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = await self.client.post(
            "/login", data={"username": user, "password": PASSWORD, "csrf_token": token}
        )
        if r.status_code != 303:
            raise RuntimeError(f"login as {user} failed: {r.status_code}")

    async def visit(self, kind: str, url: str, timings: dict) -> httpx.Response:
        started = time.perf_counter()
        r = await self.client.get(url)
        timings[kind].append((time.perf_counter() - started, r.status_code))
        return r

    async def session(self, until: float, think: tuple[float, float], timings: dict) -> None:
        rng = self.rng
        # a person lands on the dashboard after logging in and reads it before the first click;
        # without the reading time, all users sent their first findings page in the same instant,
        # and that one burst (50 pages queued behind each other) was that page's whole p95 tail
        await self.visit("dashboard", "/", timings)
        await asyncio.sleep(rng.uniform(*think))
        while time.monotonic() < until:
            choice = rng.choice(["none", "check", "severity", "platform"])
            query = ""
            if choice == "check":
                query = f"?check={rng.choice(self.facets['checks'])}"
            elif choice == "severity":
                query = f"?severity={rng.choice(['critical', 'high', 'medium', 'low'])}"
            elif choice == "platform":
                query = f"?platform={rng.choice(self.facets['platforms'])}"
            r = await self.visit("findings", f"/findings{query}", timings)
            if self.officer:  # the same page again, apart (not counted in ALL PAGES)
                timings[OFFICER + "findings"].append(timings["findings"][-1])
            after = re.search(r'rel="next" href="([^"]+)"', r.text)
            finding_links = re.findall(r'href="(/findings/[^"?]+)"', r.text)
            if after and time.monotonic() < until:
                await asyncio.sleep(rng.uniform(*think))
                await self.visit(
                    "findings next page", after.group(1).replace("&amp;", "&"), timings
                )
            if finding_links and time.monotonic() < until:
                await asyncio.sleep(rng.uniform(*think))
                await self.visit("finding", rng.choice(finding_links), timings)
            if time.monotonic() >= until:
                break
            await asyncio.sleep(rng.uniform(*think))
            r = await self.visit("cases", "/cases", timings)
            case_links = re.findall(r'href="(/cases/C-[^"/?]+)"', r.text)
            if case_links and time.monotonic() < until:
                await asyncio.sleep(rng.uniform(*think))
                await self.visit("case", rng.choice(case_links[:20]), timings)
            await asyncio.sleep(rng.uniform(*think))


async def run_phase(
    base: str, users: list[str], seconds: float, think: tuple[float, float], facets: dict
) -> dict:
    timings: dict[str, list[tuple[float, int]]] = defaultdict(list)
    limits = httpx.Limits(max_connections=len(users) + 5)
    clients = [
        httpx.AsyncClient(base_url=base, timeout=120, limits=limits, follow_redirects=False)
        for _ in users
    ]
    try:
        browsers = [
            Browser(c, random.Random(i), facets, officer=u.startswith("officer-"))
            for i, (c, u) in enumerate(zip(clients, users, strict=True))
        ]
        # logins are untimed and four at a time: each is an argon2 verification (~0.1-0.5 CPU s),
        # and fifty at once would only measure a login storm
        gate = asyncio.Semaphore(4)

        async def login(b: Browser, user: str) -> None:
            async with gate:
                await b.login(user)

        await asyncio.gather(*(login(b, u) for b, u in zip(browsers, users, strict=True)))
        started = time.perf_counter()
        until = time.monotonic() + seconds
        await asyncio.gather(*(b.session(until, think, timings) for b in browsers))
        wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return {"wall": wall, "timings": timings}


def summarise(label: str, result: dict) -> list[dict]:
    rows = []
    every = [t for k, ts in result["timings"].items() if not k.startswith(OFFICER) for t in ts]
    for kind, ts in sorted(result["timings"].items()) + [("ALL PAGES", every)]:
        ms = sorted(t * 1000 for t, _ in ts)
        if not ms:
            continue
        errors = sum(1 for _, code in ts if code >= 400)
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) >= 2 else [ms[0]] * 99
        rows.append(
            {
                "phase": label,
                "page": kind,
                "requests": len(ms),
                "errors": errors,
                "pages_per_s": round(len(ms) / result["wall"], 1),
                "p50_ms": round(q[49], 1),
                "p95_ms": round(q[94], 1),
                "p99_ms": round(q[98], 1),
                "max_ms": round(ms[-1], 1),
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, default=Path("/work/city/city.duckdb"))
    ap.add_argument("--db", type=Path, required=True, help="SQLite case database (built if absent)")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"))
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON object")
    args = ap.parse_args()

    build = None
    if not args.db.exists():
        print(f"building the case database {args.db} from {args.store} ...", file=sys.stderr)
        build = build_case_db(args.store, args.db)
        print(json.dumps(build), file=sys.stderr)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PROMOGUARD_SECRET": os.urandom(16).hex()}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "promoguard", "serve", "--db", f"sqlite:///{args.db}",
            "--store", str(args.store), "--host", "127.0.0.1", "--port", str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {server.stderr.read().decode()}")
            time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=300) as c:
            token = c.post(
                "/api/v1/token", data={"username": "analyst0", "password": PASSWORD}
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            scans = c.get("/api/v1/scans", headers=auth).json()["items"]
            cards = c.get("/api/v1/platforms", headers=auth).json()["items"]
        facets = {
            "checks": sorted({"PRICE001", "SHIP001", "SHIP004", "REVIEW001", "TEXT001", "LIC001"}),
            "platforms": [card["platform_id"] for card in cards],
        }
        officers = [f"officer-{p}" for p in facets["platforms"]]
        users = [
            (officers[i % len(officers)] if i % 5 == 4 else f"analyst{i % 5}")
            for i in range(args.users)
        ]
        cpu0, _ = _proc_stats(server.pid)
        baseline = asyncio.run(
            run_phase(base, ["analyst0"], min(20.0, args.seconds), (0, 0), facets)
        )
        cpu1, _ = _proc_stats(server.pid)
        loaded = asyncio.run(run_phase(base, users, args.seconds, tuple(args.think), facets))
        cpu2, peak = _proc_stats(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = summarise("1 user, no think time", baseline) + summarise(
        f"{args.users} users, think {args.think[0]}-{args.think[1]} s", loaded
    )
    print_table(rows)
    findings = sum(s["findings"] for s in scans)
    print(
        f"\ncase database: {findings} findings; server: one uvicorn worker, "
        f"CPU {cpu1 - cpu0:.1f} s (baseline), {cpu2 - cpu1:.1f} s ({args.users} users, "
        f"{loaded['wall']:.0f} s), peak RSS {peak / 2**20:.0f} MiB"
    )
    if args.json:
        print(
            json.dumps(
                {"build": build, "findings": findings, "rows": rows,
                 "server_cpu_s": {"baseline": round(cpu1 - cpu0, 1), "loaded": round(cpu2 - cpu1, 1)},
                 "server_peak_rss_mb": round(peak / 2**20)},
            )
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
