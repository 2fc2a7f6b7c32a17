"""run._appended (kept evidence appended, docs/kept.md) on documents it must not append to."""

from __future__ import annotations

import datetime as dt
import types

import pyarrow as pa

from promoguard.engine import run as eng
from promoguard.engine.evidence import canonical_json_group_table
from promoguard.engine.packs import load_pack

_CHECK = types.SimpleNamespace(
    code="TOYX",
    entity_type="merchant",
    severity="high",
    observed_columns=(),
    expected_columns=(),
    evidence_version="1",
)
_FOUND = pa.table({"entity_id": ["E"], "merchant_id": ["m"], "platform_id": ["p"]})


def _orders(ids: list[str]) -> pa.Table:
    return pa.table({"entity_id": ["E"] * len(ids), "b": ids})


def _freeze(orders: list[str], other: list[str] | None = None) -> tuple[pa.Table, pa.Table]:
    """A document of the ``orders`` rows, as a full scan writes it; with ``other``, and a second
    table ``zz`` (sorted after ``orders``, its rows starting with another key: ``a``)."""
    tables = {"orders": canonical_json_group_table(_orders(orders))}
    if other is not None:
        tables["zz"] = canonical_json_group_table(
            pa.table({"entity_id": ["E"] * len(other), "a": other})
        )
    found, documents, _ = eng._freeze_findings(
        _CHECK, load_pack("cn"), {}, _FOUND, tables, "s", dt.datetime(2026, 1, 1)
    )
    return found, documents


def _append(s_found: pa.Table, s_docs: pa.Table, added: list[str]) -> eng._Made:
    """``_appended`` of the order rows ``added`` to S's document (``s_found``, ``s_docs``)."""
    heads = eng._heads(_CHECK, load_pack("cn"), {}, _FOUND)
    return eng._appended(
        s_docs,
        heads,
        s_found.column("evidence_sha256").combine_chunks(),
        eng._head_digests(heads),
        "orders",
        _orders(added),
        400,
    )


def test_a_document_with_another_table_after_the_rows_is_not_appended_to() -> None:
    # S's document lists orders b2..b4 and one row of zz; the day adds b1, which sorts first.
    # The promise holds only for one list: appending b1 would keep S's zz as it was, whatever
    # zz is now (here it gained a row), so the row must be proved again, not appended
    s_found, s_docs = _freeze(["b2", "b3", "b4"], ["x"])
    now_found, _ = _freeze(["b1", "b2", "b3", "b4"], ["x", "y"])
    where, digests, _ = _append(s_found, s_docs, ["b1"])
    assert where == []
    assert digests != now_found.column("evidence_sha256").to_pylist()


def test_a_document_of_one_list_is_appended_to() -> None:
    # the same shape with no second table: b1 goes first, and the document is a full scan's
    s_found, s_docs = _freeze(["b2", "b3", "b4"])
    now_found, now_docs = _freeze(["b1", "b2", "b3", "b4"])
    where, digests, documents = _append(s_found, s_docs, ["b1"])
    assert where == [0]
    assert digests == now_found.column("evidence_sha256").to_pylist()
    assert documents[0].column("document").to_pylist() == now_docs.column(1).to_pylist()
