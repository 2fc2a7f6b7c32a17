"""Opening a store: operator mistakes are one line, new stores are owner-only."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from promoguard import store
from promoguard.errors import PromoGuardError, StoreError


def test_a_folder_is_not_a_store(tmp_path):
    (tmp_path / "s.duckdb").mkdir()
    with pytest.raises(StoreError, match="is a folder, not a DuckDB file"):
        store.connect(tmp_path / "s.duckdb")


def test_a_text_file_is_not_a_store(tmp_path):
    (tmp_path / "s.duckdb").write_text("hello\n")
    with pytest.raises(StoreError, match="not a PromoGuard store"):
        store.connect(tmp_path / "s.duckdb", read_only=True)


def test_a_store_held_by_another_process_is_named_as_such(tmp_path):
    path = tmp_path / "s.duckdb"
    store.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({str(path)!r}); "
            "print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        for read_only in (False, True):
            with pytest.raises(
                StoreError, match=f"in use by another process \\(process {holder.pid}\\)"
            ):
                store.connect(path, read_only=read_only)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_new_store_is_owner_only(tmp_path):
    path = tmp_path / "s.duckdb"
    store.connect(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


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
