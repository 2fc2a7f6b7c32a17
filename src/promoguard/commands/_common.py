"""What every command shares: one-line errors on stderr, a non-zero exit, JSON on stdout."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console

from promoguard.errors import PromoGuardError
from promoguard.safety import terminal_safe

F = TypeVar("F", bound=Callable[..., Any])

#: Human-facing output goes to stderr so that ``--json`` keeps stdout a single JSON object.
console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> None:
    """Print ``promoguard: error: MESSAGE`` on stderr and exit non-zero."""
    # A message may quote untrusted text (a file name, a header): no escapes reach the terminal.
    line = terminal_safe(" ".join(str(message).split()))
    typer.echo(f"promoguard: error: {line}", err=True)
    raise typer.Exit(code)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str, sort_keys=True) + "\n")


def user_errors(func: F) -> F:
    """Turn the errors a user can act on into one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PromoGuardError as exc:
            fail(str(exc))
        except FileNotFoundError as exc:
            fail(f"not found: {exc.filename or exc}")
        except UnicodeDecodeError as exc:  # a binary file (a store, a zip) given as a text file
            fail(f"a file given as text is not {exc.encoding} text ({exc.reason})")
        except OSError as exc:  # a folder where a file goes, a file where a folder goes, ...
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{(exc.strerror or str(exc)).lower()}")

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
        disable=not enabled,
        transient=True,
    )
    with bar:
        task = bar.add_task("scanning", total=None)

        def tell(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield tell
