"""Validated ingest: read a folder of canonical table files into the store, quarantining bad rows.

``ingest_dir(src, store, tz=..., encoding=..., adapter=...)`` is the whole API; see docs/ingest.md
for the accepted formats, the conventions and the quarantine reasons.
"""

from promoguard.ingest.load import ingest_dir
from promoguard.ingest.report import FileReport, IngestReport, TableCounts

__all__ = ["FileReport", "IngestReport", "TableCounts", "ingest_dir"]
