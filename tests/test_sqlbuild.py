"""promoguard.sqlbuild: names stay names and values stay out of the SQL text, whatever they hold."""

from __future__ import annotations

import duckdb
import pytest

from promoguard.sqlbuild import Sql, column, ident, idents, join, literal, sql

HOSTILE = 'x"; DROP TABLE keep; --'


def test_a_hostile_name_stays_one_identifier():
    con = duckdb.connect()
    con.execute("CREATE TABLE keep (v INTEGER)")
    con.execute(sql("CREATE TABLE {t} ({c} VARCHAR)", t=HOSTILE, c=HOSTILE))
    con.execute(sql("INSERT INTO {t} VALUES (?)", t=HOSTILE), ["row"])
    got = con.execute(sql("SELECT {c} FROM {t}", c=column(HOSTILE, HOSTILE), t=HOSTILE)).fetchall()
    assert got == [("row",)]
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {"keep", HOSTILE}  # nothing dropped, the name kept to the letter


def test_a_plain_string_part_is_quoted_never_pasted():
    assert sql("SELECT count(*) FROM {t}", t="orders") == 'SELECT count(*) FROM "orders"'
    assert sql("SELECT count(*) FROM {t}", t="a; DROP TABLE b") == (
        'SELECT count(*) FROM "a; DROP TABLE b"'
    )
    assert sql("SELECT {n}", n=Sql("1 + 1")) == "SELECT 1 + 1"  # marked SQL goes in as it is
    assert sql("LIMIT {n}", n=3) == "LIMIT 3"
    assert sql("{{'j': 'VARCHAR'}}") == "{'j': 'VARCHAR'}"


@pytest.mark.parametrize("part", [1.5, None, True, b"x", ["a"]])
def test_other_parts_are_refused(part):
    with pytest.raises(TypeError):
        sql("SELECT {p}", p=part)


def test_literal_escapes_quotes_and_round_trips():
    text = "it's '; DROP TABLE keep; --"
    assert duckdb.connect().execute(sql("SELECT {t}", t=literal(text))).fetchone() == (text,)
    with pytest.raises(ValueError, match="a NUL cannot be in a SQL string literal"):
        literal("a\x00b")


@pytest.mark.parametrize("name", ["", "a\x00b"])
def test_unusable_names_are_refused(name):
    with pytest.raises(ValueError):
        ident(name)


def test_ident_takes_a_name_not_sql_and_join_takes_sql_not_names():
    with pytest.raises(TypeError):
        ident(Sql('"already quoted"'))  # quoting twice would make another name
    with pytest.raises(TypeError):
        join(", ", [Sql("a"), "b"])
    assert idents(["a", 'b"c']) == '"a", "b""c"'


def test_where_marks_and_limit_compose_clauses_and_bind_values():
    from promoguard.sqlbuild import limit, marks, where

    assert where([]) == "" and limit(None) == "" and limit(3) == " LIMIT 3"
    clause = where([sql("{c} IN ({m})", c="kind", m=marks(2)), Sql("n > ?")])
    assert clause == ' WHERE "kind" IN (?, ?) AND n > ?'
    con = duckdb.connect()
    con.execute("CREATE TABLE t (kind VARCHAR, n INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [("a", 1), ("b", 5), ("c", 9)])
    query = sql("SELECT kind FROM t{w} ORDER BY kind{l}", w=clause, l=limit(1))
    assert con.execute(query, ["b", "c; DROP TABLE t", 2]).fetchall() == [("b",)]
    with pytest.raises(TypeError):
        where(["n > 1"])  # a plain string is not a condition
