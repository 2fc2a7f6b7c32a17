"""SQL text built in one place: identifiers quoted, string literals escaped, fragments marked.

Values never go into SQL text: they are bound parameters (``?``). What must go into the text
(table and column names, the names of temporary tables, pieces of SQL that code composed) goes
through this module:

- ``ident(name)`` quotes a name (embedded quotes doubled), so any text, hostile or not, stays one
  identifier; a name with a NUL or an empty name is refused.
- ``literal(text)`` is a string literal (embedded single quotes doubled), for the few names the
  SQL must hold as text (a column named in a quarantine reason, a rejects table named to a reader).
- ``sql(template, **parts)`` fills a template's ``{name}`` places: a ``Sql`` part (what this
  module made) goes in as it is, an ``int`` as a number, and a plain ``str`` as a quoted
  identifier, so an unmarked string can never become SQL.

ruff's S608 (SQL built from strings) is silenced for this module alone (pyproject.toml); the rest
of the code builds statements through these functions instead of f-strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import LiteralString


class Sql(str):
    """SQL text this module made (or a template the code wrote): safe to put in a statement."""

    __slots__ = ()


def ident(name: str) -> Sql:
    """``name`` as one quoted SQL identifier, whatever it holds."""
    if not isinstance(name, str) or isinstance(name, Sql):
        raise TypeError(f"an identifier is a plain name, not {type(name).__name__}: {name!r}")
    if not name or "\x00" in name:
        raise ValueError(f"not a usable SQL identifier: {name!r}")
    return Sql('"' + name.replace('"', '""') + '"')


def column(alias: str, name: str) -> Sql:
    """``alias."name"``: a column of a table aliased in the statement (both quoted)."""
    return Sql(f"{ident(alias)}.{ident(name)}")


def literal(text: str) -> Sql:
    """``text`` as a SQL string literal."""
    if "\x00" in text:
        raise ValueError(f"a NUL cannot be in a SQL string literal: {text!r}")
    return Sql("'" + text.replace("'", "''") + "'")


def _part(name: str, value: object) -> str:
    if isinstance(value, Sql):
        return value
    if isinstance(value, bool):  # a bool is an int to Python; in SQL it is a mistake here
        raise TypeError(f"{name}: a bool is no SQL part")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return ident(value)
    raise TypeError(f"{name}: {type(value).__name__} is no SQL part (make it Sql, str or int)")


def sql(template: LiteralString, /, **parts: object) -> Sql:
    """The template with each ``{name}`` filled: ``Sql`` as is, ``int`` as a number, ``str`` as
    a quoted identifier. Literal braces in the template are written ``{{`` and ``}}``."""
    return Sql(template.format_map({k: _part(k, v) for k, v in parts.items()}))


def join(separator: LiteralString, parts: Iterable[Sql]) -> Sql:
    """``Sql`` parts joined (``", "``, ``" AND "``); a plain string among them is refused."""
    items = list(parts)
    for p in items:
        if not isinstance(p, Sql):
            raise TypeError(f"join takes Sql parts, not {type(p).__name__}: {p!r}")
    return Sql(separator.join(items))


def idents(names: Iterable[str]) -> Sql:
    """Quoted names, comma-separated (a column list)."""
    return join(", ", (ident(n) for n in names))


def marks(n: int) -> Sql:
    """``n`` bound-parameter marks, comma-separated (``?, ?, ?``)."""
    return Sql(", ".join("?" * int(n)))


def where(conditions: Iterable[Sql]) -> Sql:
    """`` WHERE a AND b`` over the conditions, or nothing when there are none."""
    joined = join(" AND ", conditions)
    return Sql(" WHERE " + joined) if joined else Sql("")


def limit(n: int | None) -> Sql:
    """`` LIMIT n``, or nothing for None."""
    return Sql("" if n is None else f" LIMIT {int(n)}")
