"""What every command shares: where output goes, and how a failure is reported.

- Tables and text a user asked for go to **stdout** (``stdout``), so ``promoguard checks > f`` writes
  the table; progress bars, spinners and notes about what was done go to **stderr** (``console``).
- With ``--json`` stdout holds exactly one JSON object, also on failure: ``{"error": "..."}``.
- A failure is one line on stderr, ``promoguard: error: ...``, and a non-zero exit code.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from promoguard.errors import PromoGuardError, interrupted
from promoguard.safety import terminal_safe

F = TypeVar("F", bound=Callable[..., Any])

#: Diagnostics: progress bars, spinners, "written to ..." notes. Never part of a result.
console = Console(stderr=True, highlight=False)
#: Results: the tables and text a command prints (80 columns when not a terminal).
stdout = Console(highlight=False)
# Rich fixes a console's width from COLUMNS when the console is made, i.e. when this module is
# first imported: a process that imports it under one width and runs commands under another (a
# test runner, an application embedding the CLI) kept the first. Unfixed, the width is read from
# the terminal or COLUMNS each time it is asked.
for _c in (console, stdout):
    _c._width = _c._height = None  # noqa: SLF001 - Rich has no public way to unfix it

#: Set by :func:`user_errors` while a command runs with ``--json``, so :func:`fail` answers in JSON.
_json_mode = False
#: Whether the running command printed its JSON object already (a failure after it, such as
#: `audit verify` finding a broken chain, must not add a second object to stdout).
_emitted = False


def fail(message: str, code: int = 1) -> None:
    """Print ``promoguard: error: MESSAGE`` on stderr (and ``{"error": ...}`` with --json); exit."""
    # A message may quote untrusted text (a file name, a header): no escapes reach the terminal.
    line = terminal_safe(" ".join(str(message).split()))
    if _json_mode and not _emitted:
        emit_json({"error": line})
    typer.echo(f"promoguard: error: {line}", err=True)
    raise typer.Exit(code)


def emit_json(obj: Any) -> None:
    global _emitted
    _emitted = True
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()


def os_error_message(exc: OSError) -> str:
    """An OSError as something a user can act on: what path, and what the system said."""
    where = exc.filename or ""
    why = exc.strerror or type(exc).__name__
    if not where:  # raised with a message of ours, e.g. FileNotFoundError("no store at x")
        return " ".join(str(exc).split()) or why
    if isinstance(exc, FileNotFoundError):
        parent = Path(str(where)).parent if where else None
        if parent is not None and parent != Path(str(where)) and not parent.exists():
            return f"not found: {where} (its folder {parent} does not exist)"
        if parent is not None and parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
            return f"cannot create {where}: {parent} is not writable"
        return f"not found: {where}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {where}"
    if isinstance(exc, IsADirectoryError):
        return f"{where} is a folder, not a file"
    if isinstance(exc, NotADirectoryError):
        return f"{where}: a part of this path is a file, not a folder"
    return f"{where}: {why}" if where else str(why)


def writable_dir(path: Path, what: str = "--out") -> Path:
    """Create the output folder ``path`` or fail saying why it cannot be written to."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if path.exists() and not path.is_dir():
            fail(f"cannot write {what} {path}: it is a file, not a folder")
        ancestor = next((p for p in path.absolute().parents if p.exists()), Path("/"))
        fail(
            f"cannot write {what} {path}: no folder can be created in {ancestor} "
            f"({exc.strerror or exc})"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        fail(f"cannot write {what} {path}: permission denied")
    return path


def writable_file(path: Path, what: str = "--out") -> Path:
    """Check that ``path``'s folder exists (or can be made) and is writable; fail saying why."""
    if path.is_dir():
        fail(f"{what} {path} is a folder; give a file name")
    writable_dir(path.parent if str(path.parent) else Path("."), what=f"{what} folder")
    return path


def user_errors(func: F) -> F:
    """Turn the errors a user can act on into one line on stderr and exit code 1.

    With ``--json`` (a parameter named ``as_json``) the reason is also printed on stdout as
    ``{"error": "..."}`` so that a script reading stdout always gets one JSON object.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _json_mode, _emitted
        previous, _json_mode = _json_mode, bool(kwargs.get("as_json"))
        _emitted = False
        try:
            return func(*args, **kwargs)
        except PromoGuardError as exc:
            fail(str(exc))
        except UnicodeDecodeError as exc:  # a binary file (a store, a zip) given as a text file
            fail(f"a file given as text is not {exc.encoding} text ({exc.reason})")
        except OSError as exc:  # a folder where a file goes, a file where a folder goes, ...
            fail(os_error_message(exc))
        except (KeyboardInterrupt, RuntimeError) as exc:
            # Ctrl-C: Python's own, or DuckDB's for a query it stopped (a RuntimeError, which
            # printed a traceback); a store is written in one transaction (a lake's batch in one
            # rename), so a stop leaves it as it was
            if not interrupted(exc):
                raise
            if _json_mode and not _emitted:  # a script reading stdout still gets its object
                emit_json({"error": "stopped"})
            typer.echo("promoguard: stopped", err=True)
            raise typer.Exit(130) from None
        finally:
            _json_mode = previous

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A transient bar on stderr, driven by a ``progress(step, done, total)`` callback (the
    engine's; it knows nothing of consoles)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        # off a terminal a transient bar shows nothing but leaves a blank line on stderr
        disable=not enabled or not console.is_terminal,
        transient=True,
    )
    with bar:
        task = bar.add_task("scanning", total=None)

        def tell(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield tell
