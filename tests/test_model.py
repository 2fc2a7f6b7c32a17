"""The canonical model matches the spec's contract and the store exposes it by name."""

import re
from pathlib import Path

import pytest

from promoguard import model, store

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "data-model.md"


def _spec_tables() -> dict[str, list[tuple[str, bool]]]:
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## Tables")[1].split("Meanings that matter")[0]
    tables = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*(\w+)\s*\|\s*(.+?)\s*\|$", line)
        if not m or m.group(1) in ("table",):
            continue
        cols = [c.strip() for c in m.group(2).split(",")]
        tables[m.group(1)] = [(c.rstrip("?"), c.endswith("?")) for c in cols]
    return tables


@pytest.mark.skipif(not SPEC.exists(), reason="shared/spec/data-model.md is not beside the project")
def test_every_spec_column_is_in_the_model_with_its_nullability():
    tables = _spec_tables()
    # the spec's table list was read (an empty parse would check nothing) and is the model's
    assert set(tables) == set(model.TABLE_NAMES)
    for name, cols in tables.items():
        t = model.table(name)
        for col, nullable in cols:
            assert t.column(col).nullable == nullable, f"{name}.{col}"


def test_keys_and_references_name_real_columns():
    for t in model.TABLES:
        assert set(t.key) <= set(t.column_names), t.name
        for ref in t.references:
            assert set(ref.columns) <= set(t.column_names)
            assert set(ref.target_columns) <= set(model.table(ref.table).column_names)


def test_store_exposes_canonical_tables_under_their_names(tmp_path):
    with store.open_store(tmp_path / "s.duckdb") as con:
        for t in model.TABLES:
            cols = [r[0] for r in con.execute(f'DESCRIBE "{t.name}"').fetchall()]
            assert cols == t.column_names
        con.execute("INSERT INTO listings VALUES ('l1','m1','p1','t','food','CNY', 1299.00)")
        assert con.execute("SELECT msrp::VARCHAR FROM listings").fetchone()[0] == "1299.00"
        assert con.execute("SELECT 0.10::DECIMAL(18,2) + 0.20::DECIMAL(18,2) = 0.30").fetchone()[0]


def test_unknown_table_is_a_clear_error():
    with pytest.raises(KeyError, match="no canonical table 'order'"):
        model.table("order")


def test_data_model_page_is_generated_from_the_model():
    from promoguard import model_docs

    page = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"
    assert page.read_text(encoding="utf-8") == model_docs.render_markdown(), (
        "docs/data-model.md is stale: run `promoguard tables --markdown > docs/data-model.md`"
    )
