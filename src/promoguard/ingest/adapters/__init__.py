"""Adapters turn another export format into canonical table files, then ordinary ingest runs.

An adapter is one module ``promoguard.ingest.adapters.<name>`` holding a function registered with
``@register_adapter("<name>")``::

    @register_adapter("olist")
    def convert(src: Path, out: Path) -> None:
        ...  # write orders.csv, listings.csv, ... into out

Modules are imported on demand, so adding an adapter is adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path

from promoguard.errors import IngestError

Adapter = Callable[[Path, Path], None]

#: name -> convert function, filled by ``register_adapter`` as adapter modules are imported.
ADAPTERS: dict[str, Adapter] = {}

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_adapter(name: str) -> Callable[[Adapter], Adapter]:
    """Decorator: register ``convert(src, out)`` under ``name``."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"adapter name {name!r} must be lower-case letters, digits and _")

    def decorate(func: Adapter) -> Adapter:
        ADAPTERS[name] = func
        return func

    return decorate


def available() -> list[str]:
    """The adapter names there are: one module each in this package (and any registered)."""
    modules = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    return sorted(modules | set(ADAPTERS))


def _unknown(name: str) -> IngestError:
    return IngestError(f"unknown adapter {name!r}; choose one of: {', '.join(available())}")


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name``, importing its module if needed; IngestError when unknown."""
    if name not in ADAPTERS:
        if not _NAME.fullmatch(name):
            raise _unknown(name)
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the adapter exists but something it imports is missing
            raise _unknown(name) from None
    if name not in ADAPTERS:
        raise IngestError(f"module for adapter {name!r} does not register it")
    return ADAPTERS[name]


def run_adapter(name: str, src: Path, out: Path) -> None:
    """Convert ``src`` into canonical table files in ``out`` with the adapter ``name``."""
    convert = get_adapter(name)
    if not src.exists():
        raise IngestError(f"no such file or folder: {src}")
    convert(src, out)
