"""`promoguard sql`: read-only queries of the store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from promoguard.cli import app

runner = CliRunner()


def test_select_prints_rows(season_store):
    result = runner.invoke(
        app, ["sql", "--store", str(season_store), "SELECT count(*) AS n FROM platforms", "--json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["columns"] == ["n"] and data["rows"][0][0] > 0
    csv = runner.invoke(app, ["sql", "--store", str(season_store), "SELECT 1 AS a", "--csv"])
    assert csv.stdout == "a\n1\n"


def test_nothing_can_be_written_or_read_outside_the_store(season_store, tmp_path):
    for query, why in (
        ("DELETE FROM platforms", "read-only"),
        (f"COPY platforms TO '{tmp_path / 'x.csv'}'", "disabled by configuration"),
        ("SELECT * FROM read_csv('/etc/hostname')", "disabled by configuration"),
        ("SET enable_external_access = true", "locked"),
    ):
        result = runner.invoke(app, ["sql", "--store", str(season_store), query])
        assert result.exit_code == 1, query
        assert why in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


def test_sql_reads_a_lake_and_cannot_write_to_it_or_read_elsewhere(season_lake, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from promoguard.cli import app

    lake = tmp_path / "lake"
    shutil.copytree(season_lake, lake)
    runner = CliRunner()
    ok = runner.invoke(app, ["sql", "--store", str(lake), "SELECT count(*) FROM orders", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["rows"][0][0] > 1000
    target = lake / "x.csv"
    copy = runner.invoke(app, ["sql", "--store", str(lake), f"COPY (SELECT 1) TO '{target}'"])
    assert copy.exit_code == 1 and "one SELECT" in copy.stderr and not target.exists()
    outside = runner.invoke(
        app, ["sql", "--store", str(lake), "SELECT * FROM read_csv('/etc/hostname')"]
    )
    assert outside.exit_code == 1 and "Permission" in outside.stderr
