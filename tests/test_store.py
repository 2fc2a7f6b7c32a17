"""The store's connection settings: a memory cap that DuckDB spills under."""

from __future__ import annotations

import pytest

from promoguard import store
from promoguard.errors import PromoGuardError


def test_memory_limit_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMOGUARD_MEMORY_LIMIT", "512MB")
    con = store.connect(tmp_path / "s.duckdb")
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"


def test_no_limit_leaves_duckdbs_default(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMOGUARD_MEMORY_LIMIT", raising=False)
    con = store.connect(":memory:")
    capped = store.connect(":memory:")
    store.set_memory_limit(capped, "1GB")
    default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert default != capped.execute("SELECT current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize("bad", ["lots", "4GB'; DROP TABLE orders; --", "-1GB"])
def test_a_limit_that_is_not_a_size_is_one_clear_error(bad):
    con = store.connect(":memory:")
    with pytest.raises(PromoGuardError, match="not a size"):
        store.set_memory_limit(con, bad)
