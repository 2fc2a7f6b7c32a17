"""Warming the compiled graph kernels (``rings.warm``, ``linked.warm``): in a fresh process, the
warm-up loads each kernel with the argument types a real graph gives it, so the finder's own first
call compiles or loads nothing more (what ``scan --since`` relies on to take the loading off the
season checks' thread)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

numba = pytest.importorskip("numba")

# run in a child: this process's other tests may have loaded the kernels already
CHILD = r"""
import json, sys
import numpy as np
import pyarrow as pa
from promoguard.graph import _linked_jit, _peel_jit, linked, rings
from promoguard.engine import registry

def defaults(code):  # the check's defaults, as a pack gives them
    return next(c for c in registry.all_checks() if c.code == code).parameter_defaults()

def sigs():
    return {
        name: len(getattr(mod, name).signatures)
        for mod, name in ((_peel_jit, "peel_parts"), (_linked_jit, "segment_distinct"),
                          (_linked_jit, "segment_windows"))
    }

out = {"before": sigs()}
rings.warm(defaults("BRUSH001"))
linked.warm(defaults("BRUSH002"))
out["warmed"] = sigs()
# real graphs, larger and of other shapes, through the same calls the checks make
rng = np.random.default_rng(7)
n = 400
t = pa.table({
    "buyer": [f"u{i}" for i in rng.integers(0, 60, n)],
    "merchant": [f"m{i}" for i in rng.integers(0, 9, n)],
    "orders": pa.array(rng.integers(2, 6, n), pa.int64()),
    "first_at": pa.array(rng.integers(0, 10**6, n), pa.int64()),
    "last_at": pa.array(rng.integers(10**6, 2 * 10**6, n), pa.int64()),
    "deg": pa.array(rng.integers(3, 50, n), pa.int64()),
}).group_by(["buyer", "merchant"]).aggregate([("orders", "max"), ("first_at", "min"),
    ("last_at", "max"), ("deg", "max")]).rename_columns(
    ["buyer", "merchant", "orders", "first_at", "last_at", "deg"])
rings.fraudar_blocks(rings.edges_from_arrow(t, 5.0), defaults("BRUSH001"))
m = 300
linked.linked_groups(pa.table({
    "buyer_id": [f"b{i}" for i in rng.integers(0, 40, m)],
    "merchant_id": [f"m{i}" for i in rng.integers(0, 3, m)],
    "paid_s": pa.array(np.sort(rng.integers(0, 10**5, m)), pa.int64()),
    "device": [f"d{i}" for i in rng.integers(0, 8, m)],
    "address": pa.array([None] * m, pa.string()),
}), defaults("BRUSH002"))
out["after"] = sigs()
print(json.dumps(out))
"""


def test_warming_loads_the_kernels_the_finders_call():
    env = {k: v for k, v in os.environ.items() if k != "PROMOGUARD_NO_JIT"}
    run = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(out["before"].values()) == {0}  # nothing loaded before the warm-up
    assert all(n >= 1 for n in out["warmed"].values()), out  # each kernel loaded by it
    assert out["after"] == out["warmed"], out  # and the finders needed no other
