"""A check's coverage entry in the report's methodology, in words: what ``scan --since`` records
beside it (``ran_with``: digests) is never shown."""

from __future__ import annotations

from promoguard.report.core import coverage_words


def t(key: str, **kwargs: object) -> str:
    return key + "".join(f"[{v}]" for v in kwargs.values())


def test_ran_with_is_not_shown():
    digests = {"pack": "cn", "code": "7389958d8dc5e2c0"}
    assert coverage_words({"status": "ran", "rows": 5, "ran_with": digests}, t) == "ran (rows_n[5])"
    # a check with no coverage of its own but the record: nothing to say, not the digests
    assert coverage_words({"ran_with": digests}, t) == ""
    assert "ran_with" not in coverage_words({"sampled": 3, "ran_with": digests}, t)
