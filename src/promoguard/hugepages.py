"""Scans run without numpy asking for transparent huge pages (:func:`no_hugepage_stalls`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np


def no_hugepage_stalls(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with numpy not asking the kernel for transparent huge pages on its large arrays
    (``madvise(MADV_HUGEPAGE)``); numpy's setting is put back when it returns.

    Where the kernel's THP ``defrag`` setting is ``madvise`` (a common default, and this
    project's benchmark host), a page fault in such an array waits while the kernel compacts
    memory to make a 2 MB page. After DuckDB has churned through a season's blocks memory is
    fragmented, and one array's first touch then stalls: REVIEW003's grouping of 1.75M review
    rows took 0.14 s in one increment and 1.47 s (1.31 s of it in the kernel, for ~7,800 faults)
    in the next, on the same rows; with small pages 0.18-0.19 s every time, and a city day's
    increment ~2 s less (docs/benchmarks/season.md, session 37). Results never depend on it,
    only the kernel's work does. (Two scans in one process at once: the first to end puts the
    setting back under the other, which then only runs as it did before.)"""
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None)
    switch = getattr(multiarray, "_set_madvise_hugepage", None)  # numpy's own switch

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        if switch is None:  # pragma: no cover - a numpy without it
            return fn(*args, **kwargs)
        before = switch(False)
        try:
            return fn(*args, **kwargs)
        finally:
            switch(before)

    return run
