"""What an ingest did: per-table counts, the files read, and what was ignored."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TableCounts:
    """Counts for one table. ``read == stored + quarantined`` always holds.

    ``stored`` counts rows now in the store from this ingest: newly inserted plus ``unchanged``
    (identical to a row already stored). ``orphans`` are stored rows whose reference does not
    resolve; they are a subset of ``stored``.
    """

    read: int = 0
    stored: int = 0
    quarantined: int = 0
    orphans: int = 0
    unchanged: int = 0

    def add(self, other: TableCounts) -> None:
        self.read += other.read
        self.stored += other.stored
        self.quarantined += other.quarantined
        self.orphans += other.orphans
        self.unchanged += other.unchanged


#: How many extra (ignored) column names a file's report lists; the rest are counted.
EXTRA_LISTED = 50


@dataclass
class FileReport:
    table: str
    file: str
    format: str
    encoding: str
    counts: TableCounts
    extra_columns: list[str] = field(default_factory=list)  # the first EXTRA_LISTED of them
    notes: list[str] = field(default_factory=list)  # e.g. an empty JSON Lines file
    extra_columns_more: int = 0  # extra columns not listed in extra_columns

    @classmethod
    def extras(cls, names: list[str]) -> dict[str, Any]:
        """``extra_columns`` and ``extra_columns_more`` for a file with these extra columns.

        A JSON Lines file can hold a key per line (a map written as an object): the report lists
        the first EXTRA_LISTED names and counts the rest, so it stays readable at any size.
        """
        return {
            "extra_columns": names[:EXTRA_LISTED],
            "extra_columns_more": max(0, len(names) - EXTRA_LISTED),
        }


@dataclass
class IngestReport:
    ingest_id: str
    source: str
    tz: str
    tables: dict[str, TableCounts] = field(default_factory=dict)
    files: list[FileReport] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    adapter: str | None = None
    seconds: float = 0.0

    @property
    def totals(self) -> TableCounts:
        total = TableCounts()
        for counts in self.tables.values():
            total.add(counts)
        return total

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["totals"] = asdict(self.totals)
        return data
