"""Findings written out for other tools: Parquet, CSV for Excel, JSON Lines, and .xlsx.

- ``.parquet``: the findings table as stored (observed/expected as JSON text).
- ``.csv``: UTF-8 **with a BOM**, so Excel on a Chinese (or any) Windows machine reads the Chinese
  text right; observed/expected flattened into one column per field (``observed.reference_price``)
  beside the original JSON columns.
- ``.jsonl``: one finding per line, observed/expected as JSON objects, not strings.
- ``.xlsx``: a sheet of findings with the flattened columns (not the JSON ones: a person reads
  these, and a cell holds 32,767 characters at most), a frozen header row and filters, and a
  sheet naming the scan.

The spec's columns (``finding_id``, ``check_code``, ``entity_type``, ``entity_id`` ...) keep
their names in every format (``observed``/``expected`` as their ``observed.*`` fields in .xlsx),
so ``evaluate`` and outside scripts read any of them, to the same scores.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from promoguard import present
from promoguard.errors import PromoGuardError
from promoguard.safety import make_private, private_file, spreadsheet_cell

FORMATS = (".parquet", ".csv", ".jsonl", ".xlsx")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def flattened(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings with ``observed.*`` and ``expected.*`` columns (one per field), after the
    stored columns; ``detected_at`` as UTC ISO text."""
    base = findings.copy()
    if "detected_at" in base.columns:
        base["detected_at"] = base["detected_at"].map(_iso)
    extra: list[dict[str, Any]] = []
    for obs, exp in zip(base.get("observed", []), base.get("expected", []), strict=False):
        row = present.flatten("observed", present.loads(obs))
        row.update(present.flatten("expected", present.loads(exp)))
        extra.append(row)
    if not extra:
        return base
    # object columns: a field absent from some findings must not turn 4 into 4.0 in the others
    flat = pd.DataFrame(extra, index=base.index, dtype=object)
    # observed columns first, then expected, each sorted: stable column order across scans
    cols = sorted(c for c in flat.columns if c.startswith("observed.")) + sorted(
        c for c in flat.columns if c.startswith("expected.")
    )
    return pd.concat([base, flat[cols]], axis=1)


def _iso(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, dt.datetime)) and not pd.isna(value):
        t = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return None if value is None or (isinstance(value, float) and value != value) else value


def _cell(value: Any) -> Any:
    """A value for a spreadsheet cell: text that starts like a formula is kept as text."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return spreadsheet_cell(value)


def write_findings(
    findings: pd.DataFrame, out: str | Path, *, scan: dict[str, Any] | None = None
) -> Path:
    """Write findings to ``out``, the format chosen by its extension (see :data:`FORMATS`)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PromoGuardError(
            f"--out must end in {', '.join(FORMATS)}, not {path.suffix or '(no extension)'}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # every format owner-only: findings quote merchants' names, texts and personal data
    if suffix == ".parquet":
        findings.to_parquet(path, index=False)
        make_private(path)
    elif suffix == ".csv":
        flat = flattened(findings)
        # cell by cell into object columns: DataFrame.map would infer [4, None] as [4.0, nan]
        flat = pd.DataFrame(
            {
                c: pd.Series([_cell(v) for v in flat[c]], index=flat.index, dtype=object)
                for c in flat
            },
            index=flat.index,
        )
        with private_file(path, encoding="utf-8-sig") as fh:
            flat.to_csv(fh, index=False)
    elif suffix == ".jsonl":
        with private_file(path) as fh:
            for r in findings.to_dict("records"):
                r["observed"] = present.loads(r.get("observed"))
                r["expected"] = present.loads(r.get("expected"))
                r["detected_at"] = _iso(r.get("detected_at"))
                fh.write(json.dumps(r, ensure_ascii=False, sort_keys=True, default=str) + "\n")
    else:
        _write_xlsx(flattened(findings), path, scan)
        make_private(path)
    return path


def _write_xlsx(flat: pd.DataFrame, path: Path, scan: dict[str, Any] | None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "findings"
    # the JSON columns are in the flattened ones already; a person reads those
    cols = [c for c in flat.columns if c not in ("observed", "expected")]
    ws.append(cols)
    # amounts of money are stored as exact decimal text; in the sheet they are numbers shown with
    # two decimals, so that a filter or a sum works on them
    money = {i for i, c in enumerate(cols) if "." in c and present.is_money(c.split(".", 1)[1])}
    for row in flat[cols].itertuples(index=False, name=None):
        cells = []
        for i, v in enumerate(row):
            if i in money and isinstance(v, str) and _DECIMAL.match(v):
                cells.append(float(v))
            else:
                cells.append(_cell(v) if not isinstance(v, (list, dict)) else json.dumps(v))
        ws.append(cells)
    for i in money:
        for (c,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
            c.number_format = "#,##0.00"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="E4E8F0")
    for i, name in enumerate(cols, 1):
        c = ws.cell(row=1, column=i)
        c.font, c.fill = bold, fill
        c.alignment = Alignment(vertical="top", wrap_text=True)
        longest = max(
            [len(str(name))] + [len(str(v)) for v in flat[name].head(200) if v is not None]
        )
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest + 2), 60)
    ws.freeze_panes = "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(1, len(flat) + 1)}"
    about = wb.create_sheet("scan")
    about.append(["field", "value"])
    for k, v in (scan or {}).items():
        about.append([k, v if isinstance(v, (str, int, float, type(None))) else json.dumps(v)])
    about.append(["rows", len(flat)])
    about.append(["written_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")])
    wb.save(path)
