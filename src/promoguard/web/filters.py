"""The filters of the findings and cases lists, read from the query string and checked.

A filter value is kept as a plain string and only ever reaches SQL as a bound parameter; a value of
the wrong shape (a date that is not a date, a page size that is not a number) is a 422, not a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fastapi import HTTPException

FINDING_FILTERS = (
    "check",
    "severity",
    "platform",
    "merchant",
    "date_from",
    "date_to",
    "state",
    "family",
    "case",
)
CASE_FILTERS = ("status", "platform", "merchant", "assignee", "severity", "overdue")


def _date(name: str, value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise HTTPException(status_code=422, detail=f"{name} is a date, YYYY-MM-DD") from None


def _read(params: Mapping[str, str], names: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    filters: dict[str, str] = {}
    for name in names:
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if len(value) > 200:
            raise HTTPException(status_code=422, detail=f"{name} is too long")
        if name.startswith("date_"):
            value = _date(name, value)
        if name == "check":
            value = value.upper()
        if name == "overdue":  # a checkbox sends 1; a script may send true or false
            flag = value.lower()
            if flag in ("0", "false", "no", "off"):
                continue  # not "only overdue": every case, as with the box unticked
            if flag not in ("1", "true", "yes", "on"):
                raise HTTPException(status_code=422, detail="overdue is true or false")
            value = "1"
        filters[name] = value
    after = (params.get("after") or "").strip() or None
    if after is not None and len(after) > 400:
        raise HTTPException(status_code=422, detail="after is too long")
    return filters, after


def finding_filters(params: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """(filters, keyset cursor) of a findings list request."""
    return _read(params, FINDING_FILTERS)


def case_filters(params: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """(filters, keyset cursor) of a cases list request."""
    return _read(params, CASE_FILTERS)
