"""The Double-11 marketplace simulator with ground truth (``promoguard simulate``).

``generate(scale, seed, out)`` writes every canonical table plus ``ground_truth.csv``; the same
seed and scale give byte-identical files. See docs/simulator.md for the generative model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from promoguard.simulate import calendar as cal
from promoguard.simulate.config import SCALES, get_scale
from promoguard.simulate.shard import generate_shard
from promoguard.simulate.world import PLATFORMS
from promoguard.simulate.writer import TableWriter

__all__ = ["SCALES", "generate"]


def _platform_tables() -> dict[str, dict[str, np.ndarray]]:
    ids = np.array([p[0] for p in PLATFORMS], dtype=object)
    names = np.array([p[1] for p in PLATFORMS], dtype=object)
    n = len(ids)
    promo_ids = np.array(
        [f"{p}-PRESALE-2026" for p in ids] + [f"{p}-D11-2026" for p in ids], dtype=object
    )
    return {
        "platforms": {"platform_id": ids, "name": names},
        "promotions": {
            "promotion_id": promo_ids,
            "platform_id": np.concatenate([ids, ids]),
            "name": np.array(
                ["双11预售 Double 11 pre-sale"] * n + ["双11 Double 11"] * n, dtype=object
            ),
            "starts_at": np.array([cal.PRESALE_START] * n + [cal.D11_START] * n, dtype=np.int64),
            "ends_at": np.array([cal.PRESALE_END] * n + [cal.D11_END] * n, dtype=np.int64),
            "announced_at": np.array(
                [cal.PRESALE_ANNOUNCED] * n + [cal.D11_ANNOUNCED] * n, dtype=np.int64
            ),
        },
    }


def generate(
    scale: str,
    seed: int,
    out: Path,
    fmt: str | None = None,
    shrink: float = 1.0,
    shards: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Generate a data set into ``out``; returns a summary (row counts per table, truth counts)."""
    sc = get_scale(scale, shrink)
    n_shards = shards if shards is not None else sc.shards
    fmt = fmt or sc.default_format
    writer = TableWriter(Path(out), fmt)
    try:
        for name, cols in _platform_tables().items():
            writer.write(name, cols)
        for s in range(n_shards):
            result = generate_shard(seed, s, sc)
            for name, cols in result.tables.items():
                writer.write(name, cols)
            writer.write_truth(result.truth)
            if progress:
                progress(s + 1, n_shards)
    finally:
        writer.close()
    return {
        "scale": scale,
        "seed": seed,
        "format": fmt,
        "out": str(out),
        "shards": n_shards,
        "rows": dict(writer.rows),
        "truth": dict(sorted(writer.truth_counts.items())),
    }
