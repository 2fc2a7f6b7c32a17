"""Fixtures for ingest tests: a real in-memory DuckDB store and a one-call ingest of a folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from promoguard import store
from promoguard.ingest import IngestReport, ingest_dir

from ._helpers import write


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.connect(":memory:")
    yield c
    c.close()


@pytest.fixture
def ingest(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> Callable[..., IngestReport]:
    """ingest({"file name": content, ...}, **options) into the test store; returns the report."""

    def run(files: dict[str, str | bytes], **options) -> IngestReport:
        folder = tmp_path / "in"
        for name, content in files.items():
            write(folder, name, content)
        return ingest_dir(folder, con, **options)

    return run
