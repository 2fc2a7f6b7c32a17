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

from dataclasses import dataclass
from typing import Protocol

import ibis
import ibis.expr.types as ir
import pyarrow as pa

WEIGHT_SCALE = 1_000_000


@dataclass(frozen=True)
class RelationalPeel:
    edges: pa.Table | None  # the best pass's edges (the input's columns); None if no edges
    density: float  # in weight units (weight / WEIGHT_SCALE)
    passes: int


class Scratch(Protocol):
    """Where the passes keep their intermediate tables: the engine's adapter provides it
    (``promoguard.engine.backends.Scratch``), so this module knows no engine's internals."""

    def keep(self, expr: ir.Table) -> ir.Table:
        """Write ``expr``'s rows out in the engine and return them as a table."""
        ...

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` in the engine and bring its rows back."""
        ...


def bahmani_peel(
    scratch: Scratch, edges: ir.Table, eps: float = 0.1, max_passes: int = 200, min_degree: int = 0
) -> RelationalPeel:
    """Peel ``edges`` (buyer, merchant, weight [int micro-units], ...) in parallel passes.

    Each pass builds on the last, so every pass is written out (``scratch.keep``) to keep the
    plan from growing; the caller drops the scratch tables when done.

    ``min_degree`` (micro-units) first drops, pass by pass, nodes below the smallest density worth
    reporting: a block of that density keeps all its nodes (see fraudar.prune_below).
    """
    current = scratch.keep(edges)
    passes = 0
    # prune passes: drop nodes below min_degree until none is left below it
    while min_degree and passes < max_passes:
        passes += 1
        bdeg, mdeg = _degrees(current)
        low = _count(scratch, bdeg.filter(bdeg.d < min_degree))
        low += _count(scratch, mdeg.filter(mdeg.d < min_degree))
        if not low:
            break
        current = scratch.keep(_keep_above(current, bdeg, mdeg, min_degree, strict=False))
    # density passes: drop every node at or below (1 + eps) x the average degree
    best_edges: pa.Table | None = None
    best_density = -1.0
    while passes < max_passes:
        passes += 1
        bdeg, mdeg = _degrees(current)
        stats = scratch.to_arrow(
            current.aggregate(f=current.weight.sum(), e=current.count())
        ).to_pylist()[0]
        if not stats["e"]:
            break
        n = _count(scratch, bdeg) + _count(scratch, mdeg)
        density = int(stats["f"]) / n
        if density > best_density:
            best_density = density
            best_edges = scratch.to_arrow(current)
        threshold = (1.0 + eps) * 2.0 * density
        current = scratch.keep(_keep_above(current, bdeg, mdeg, threshold, strict=True))
    return RelationalPeel(best_edges, max(best_density, 0.0) / WEIGHT_SCALE, passes)


def _count(scratch, expr: ir.Table) -> int:
    return int(scratch.to_arrow(expr.count().as_table()).column(0)[0].as_py())


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
