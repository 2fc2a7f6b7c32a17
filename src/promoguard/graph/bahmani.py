"""Densest-subgraph peeling as relational passes (Bahmani, Kumar, Vassilvitskii, VLDB 2012).

Each pass removes, all at once, every node whose weighted degree is at most (1 + eps) times the
average degree 2·f(S)/|S| (twice the density g(S) = f(S)/|S|: each edge counts at both ends). At
least a fraction eps/(1+eps) of the nodes goes each pass, so O(log_{1+eps} V) passes suffice, and
the best pass is within a factor 2(1+eps) of the densest subgraph. Every pass is two group-bys
and two semi-joins, so it runs through Ibis on DuckDB or Spark when the graph outgrows one machine.

Weights are integers (micro-units) so the sums, and hence every removal decision, are exact and
identical on both engines.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

WEIGHT_SCALE = 1_000_000


@dataclass(frozen=True)
class RelationalPeel:
    edges: pa.Table | None  # the best pass's edges (the input's columns); None if no edges
    density: float  # in weight units (weight / WEIGHT_SCALE)
    passes: int


class _Scratch:
    """Temporary tables of one peel: each pass builds on the last, so every pass is written out
    (a temp table on DuckDB, a checkpointed view on Spark) to keep the plan from growing."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.prefix = f"_bahmani_{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []

    def materialise(self, expr: ir.Table) -> ir.Table:
        name = f"{self.prefix}_{len(self.names)}"
        # in-memory tables in the expression (ibis.memtable) must exist in the engine first
        self.backend._run_pre_execute_hooks(expr)
        sql = self.backend.compile(expr)
        if self.backend.name == "duckdb":
            self.backend.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
        else:  # pyspark
            self.backend._session.sql(sql).localCheckpoint().createOrReplaceTempView(name)
        self.names.append(name)
        return self.backend.table(name)

    def drop(self) -> None:
        for name in self.names:
            if self.backend.name == "duckdb":
                self.backend.con.execute(f'DROP TABLE IF EXISTS "{name}"')
            else:
                self.backend._session.catalog.dropTempView(name)
        self.names.clear()


def bahmani_peel(
    backend, edges: ir.Table, eps: float = 0.1, max_passes: int = 200, min_degree: int = 0
) -> RelationalPeel:
    """Peel ``edges`` (buyer, merchant, weight [int micro-units], ...) in parallel passes.

    ``min_degree`` (micro-units) first drops, pass by pass, nodes below the smallest density worth
    reporting: a block of that density keeps all its nodes (see fraudar.prune_below).
    """
    scratch = _Scratch(backend)
    try:
        return _peel(backend, scratch, edges, eps, max_passes, min_degree)
    finally:
        scratch.drop()


def _peel(
    backend, scratch: _Scratch, edges: ir.Table, eps: float, max_passes: int, min_degree: int
) -> RelationalPeel:
    current = scratch.materialise(edges)
    passes = 0
    # prune passes: drop nodes below min_degree until none is left below it
    while min_degree and passes < max_passes:
        passes += 1
        bdeg, mdeg = _degrees(current)
        low = _count(backend, bdeg.filter(bdeg.d < min_degree))
        low += _count(backend, mdeg.filter(mdeg.d < min_degree))
        if not low:
            break
        current = scratch.materialise(_keep_above(current, bdeg, mdeg, min_degree, strict=False))
    # density passes: drop every node at or below (1 + eps) x the average degree
    best_edges: pa.Table | None = None
    best_density = -1.0
    while passes < max_passes:
        passes += 1
        bdeg, mdeg = _degrees(current)
        stats = backend.to_pyarrow(
            current.aggregate(f=current.weight.sum(), e=current.count())
        ).to_pylist()[0]
        if not stats["e"]:
            break
        n = _count(backend, bdeg) + _count(backend, mdeg)
        density = int(stats["f"]) / n
        if density > best_density:
            best_density = density
            best_edges = backend.to_pyarrow(current)
        threshold = (1.0 + eps) * 2.0 * density
        current = scratch.materialise(_keep_above(current, bdeg, mdeg, threshold, strict=True))
    return RelationalPeel(best_edges, max(best_density, 0.0) / WEIGHT_SCALE, passes)


def _count(backend, expr: ir.Table) -> int:
    return int(backend.to_pyarrow(expr.count().as_table()).column(0)[0].as_py())


def _degrees(current: ir.Table) -> tuple[ir.Table, ir.Table]:
    bdeg = current.group_by("buyer").aggregate(d=current.weight.sum())
    mdeg = current.group_by("merchant").aggregate(d=current.weight.sum())
    return bdeg, mdeg


def _keep_above(
    current: ir.Table, bdeg: ir.Table, mdeg: ir.Table, threshold: float, strict: bool
) -> ir.Table:
    """Edges whose both ends have degree above the threshold (> when strict, else >=)."""
    t = ibis.literal(threshold)
    keep_b = bdeg.filter(bdeg.d > t if strict else bdeg.d >= t).select("buyer")
    keep_m = mdeg.filter(mdeg.d > t if strict else mdeg.d >= t).select("merchant")
    kept = current.semi_join(keep_b, "buyer").semi_join(keep_m, "merchant")
    return kept.select(*current.columns)
