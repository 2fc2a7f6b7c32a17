"""Benchmark REVIEW001's text normalisation on reviews in three scripts: as written (simplified
Chinese, at city scale from a season store), the same reviews in traditional characters, and
Russian-like text (Cyrillic letters that look Latin): ``minhash.normalise_many`` (the batch
path, which reads look-alike letters and traditional characters through one numpy lookup)
beside the baseline of ``normalise`` one text at a time (what the batch path did for every text
holding such a character before session 42: such a text was normalised alone), in the same run.

    python benchmarks/review_texts.py --store /work/city2b/season.duckdb [--limit 500000]

Each measurement runs in a fresh process (wall, CPU seconds, peak memory); the outputs are
checked equal.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import host_speed, measure_full, print_table  # noqa: E402


def _texts(store: str, limit: int) -> list[str]:
    import duckdb

    con = duckdb.connect(store, read_only=True)
    try:
        rows = con.execute("SELECT text FROM reviews LIMIT ?", [limit]).fetchall()
    finally:
        con.close()
    return [r[0] or "" for r in rows]


def _traditional(texts: list[str]) -> list[str]:
    """The texts with every simplified character that has a traditional form written in it
    (OpenCC's STCharacters, first candidate): what a converter makes of them."""
    from promoguard.text.scripts import _SIMPLIFIED_DICTIONARY, _opencc_folder, _pairs

    table = {
        ord(k): v[0]
        for k, v in _pairs(_opencc_folder() / _SIMPLIFIED_DICTIONARY)
        if len(k) == 1 and len(v[0]) == 1 and v[0] != k
    }
    return [t.translate(table) for t in texts]


def _cyrillic(texts: list[str]) -> list[str]:
    """Latin look-alikes written in Cyrillic (a Russian review's letters, or a copier's swap)."""
    swap = str.maketrans("aeopcxyABEKMHOPCTX", "аеорсхуАВЕКМНОРСТХ")
    words = [
        "Great",
        "product",
        "works",
        "as",
        "described",
        "fast",
        "delivery",
        "well",
        "packed",
        "recommend",
    ]
    return [
        f"{words[i % 10]} {words[(i * 7) % 10]} {t[:12]}".translate(swap)
        for i, t in enumerate(texts)
    ]


def _digest(out: list[str]) -> str:
    return hashlib.sha256("\x1f".join(out).encode()).hexdigest()[:16]


def normalised(texts: list[str], alone: bool = False) -> dict:
    """Seconds to normalise ``texts`` (``normalise_many``, or ``alone``: ``normalise`` one text
    at a time, the baseline), and a digest of what came out."""
    import time

    from promoguard.graph import minhash

    minhash._tables()  # (built once per process: not the texts' cost)
    t = time.perf_counter()
    out = [minhash.normalise(x) for x in texts] if alone else minhash.normalise_many(texts)
    return {"seconds_in": round(time.perf_counter() - t, 3), "digest": _digest(out)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True, help="a season's DuckDB store (its reviews' texts)")
    ap.add_argument("--limit", type=int, default=500_000, help="how many reviews")
    args = ap.parse_args()
    print({"host_speed": host_speed()}, flush=True)
    plain = _texts(args.store, args.limit)
    sets = {"simplified": plain, "traditional": _traditional(plain), "cyrillic": _cyrillic(plain)}
    rows, same = [], True
    for name, texts in sets.items():
        digests = set()
        for how, alone in (("normalise_many", False), ("one by one (baseline)", True)):
            m = measure_full(normalised, texts, alone)
            digests.add(m.result["digest"])
            rows.append(
                {
                    "texts": name,
                    "how": how,
                    "reviews": len(texts),
                    "seconds": round(m.result["seconds_in"], 2),
                    "reviews_per_s": round(len(texts) / max(m.result["seconds_in"], 1e-9)),
                    "cpu_s": round(m.cpu_seconds, 2),
                    "peak_rss_mb": round(m.peak_rss_bytes / 2**20),
                }
            )
        same = same and len(digests) == 1
    print_table(rows)
    print(f"same normalised texts both ways: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
