"""Scans run with numpy's huge pages off, and the caller's setting comes back after the last."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from promoguard.hugepages import no_hugepage_stalls

multiarray = np._core.multiarray


@pytest.fixture
def huge_pages_on():
    before = multiarray._set_madvise_hugepage(True)
    yield
    multiarray._set_madvise_hugepage(before)


def test_two_scans_in_two_threads_leave_the_callers_setting_whichever_ends_first(huge_pages_on):
    """A starts, B starts, A ends (B still runs without huge pages), B ends: on again. Each call
    putting back what it found left the setting off for good in this order."""
    a_in, b_in, b_may_end = (threading.Event() for _ in range(3))
    seen: dict[str, bool] = {}

    @no_hugepage_stalls
    def scan(name: str, entered: threading.Event, wait: threading.Event) -> None:
        entered.set()
        wait.wait(10)
        seen[name] = bool(multiarray._get_madvise_hugepage())

    a = threading.Thread(target=scan, args=("a", a_in, b_in))
    a.start()
    assert a_in.wait(10)
    b = threading.Thread(target=scan, args=("b", b_in, b_may_end))
    b.start()
    a.join(10)
    # A has returned, B is still running: the setting stays off under it
    seen["between"] = bool(multiarray._get_madvise_hugepage())
    b_may_end.set()
    b.join(10)
    assert seen == {"a": False, "b": False, "between": False}
    assert multiarray._get_madvise_hugepage()


def test_a_scan_that_raises_puts_the_setting_back(huge_pages_on):
    @no_hugepage_stalls
    def scan() -> None:
        assert not multiarray._get_madvise_hugepage()
        raise RuntimeError("bad store")

    with pytest.raises(RuntimeError, match="bad store"):
        scan()
    assert multiarray._get_madvise_hugepage()


def test_a_nested_call_leaves_it_off_for_the_outer_one(huge_pages_on):
    @no_hugepage_stalls
    def inner() -> bool:
        return bool(multiarray._get_madvise_hugepage())

    @no_hugepage_stalls
    def outer() -> tuple[bool, bool]:
        return inner(), bool(multiarray._get_madvise_hugepage())

    assert outer() == (False, False)
    assert multiarray._get_madvise_hugepage()


@pytest.mark.parametrize("caller", [True, False], ids=["on", "off"])
def test_the_callers_setting_comes_back_whichever_it_was(caller):
    """Put back, not switched on: a caller that had huge pages off keeps them off."""
    before = multiarray._set_madvise_hugepage(caller)
    try:

        @no_hugepage_stalls
        def scan() -> bool:
            return bool(multiarray._get_madvise_hugepage())

        assert scan() is False
        assert bool(multiarray._get_madvise_hugepage()) is caller
    finally:
        multiarray._set_madvise_hugepage(before)
