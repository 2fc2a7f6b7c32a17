"""Scans run without numpy asking for transparent huge pages (:func:`no_hugepage_stalls`)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

#: numpy's own switch (also read from NUMPY_MADVISE_HUGEPAGE when numpy is imported); None in a
#: numpy without it
_SWITCH = getattr(
    getattr(getattr(np, "_core", None), "multiarray", None), "_set_madvise_hugepage", None
)


class _Held:
    """How many wrapped calls are running, in any thread, and numpy's setting before the first:
    the setting is process-wide, so the outermost call alone turns it off and puts it back.
    (Each call saving and restoring what it found left it off for good when two scans in two
    threads ended in the order they started.)"""

    def __init__(self, switch: Callable[[bool], bool]) -> None:
        self.switch = switch
        self.lock = threading.Lock()
        self.depth = 0
        self.before = True

    def __enter__(self) -> None:
        with self.lock:
            if not self.depth:
                self.before = bool(self.switch(False))
            self.depth += 1

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.depth -= 1
            if not self.depth:
                self.switch(self.before)


_HELD = None if _SWITCH is None else _Held(_SWITCH)


def no_hugepage_stalls(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with numpy not asking the kernel for transparent huge pages on its large arrays
    (``madvise(MADV_HUGEPAGE)``); numpy's setting is put back when the last such call running in
    the process returns.

    Where the kernel's THP ``defrag`` setting is ``madvise`` (a common default, and this
    project's benchmark host), a page fault in such an array waits while the kernel compacts
    memory to make a 2 MB page. After DuckDB has churned through a season's blocks memory is
    fragmented, and one array's first touch then stalls: REVIEW003's grouping of 1.75M review
    rows took 0.14 s in one increment and 1.47 s (1.31 s of it in the kernel, for ~7,800 faults)
    in the next, on the same rows; with small pages 0.18-0.19 s every time, and a city day's
    increment ~2 s less (docs/benchmarks/season.md, session 37). Results never depend on it,
    only the kernel's work does."""
    held = _HELD
    if held is None:  # pragma: no cover - a numpy without the switch
        return fn

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with held:
            return fn(*args, **kwargs)

    return run
