"""The adapter registry: one module per adapter, imported on demand; unknown names are errors."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from promoguard.errors import IngestError
from promoguard.ingest import adapters, ingest_dir

from ._helpers import one, write


@pytest.fixture
def fake_adapter_module(monkeypatch):
    """Install promoguard.ingest.adapters.fake as if it were a module on disk."""
    module = types.ModuleType("promoguard.ingest.adapters.fake")

    def load_module_body() -> None:
        @adapters.register_adapter("fake")
        def convert(src: Path, out: Path) -> None:
            rows = src.read_text().split()
            write(out, "platforms.csv", "platform_id,name\n" + "".join(f"{r},{r}\n" for r in rows))

    module.__dict__["_load"] = load_module_body
    monkeypatch.setitem(sys.modules, "promoguard.ingest.adapters.fake", module)
    monkeypatch.delitem(adapters.ADAPTERS, "fake", raising=False)
    real_import = adapters.importlib.import_module

    def import_module(name: str):
        if name == "promoguard.ingest.adapters.fake":
            load_module_body()
            return module
        return real_import(name)

    monkeypatch.setattr(adapters.importlib, "import_module", import_module)
    yield
    adapters.ADAPTERS.pop("fake", None)


def test_adapter_is_imported_on_demand_and_feeds_ordinary_ingest(
    tmp_path, con, fake_adapter_module
):
    assert "fake" not in adapters.ADAPTERS
    (tmp_path / "export.txt").write_text("P1 P2 P3")
    report = ingest_dir(tmp_path / "export.txt", con, adapter="fake")
    assert "fake" in adapters.ADAPTERS
    assert report.adapter == "fake"
    assert report.tables["platforms"].stored == 3
    assert one(con, "SELECT count(*) FROM platforms") == 3


def test_unknown_adapter_is_a_clear_error(tmp_path, con):
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\n")
    with pytest.raises(IngestError, match="unknown adapter 'nope'"):
        ingest_dir(tmp_path / "in", con, adapter="nope")
    with pytest.raises(IngestError, match="unknown adapter"):
        adapters.get_adapter("../etc")


@pytest.mark.parametrize("name", ["Bad-Name", "Olist", "bad-name", "my.adapter", "1olist", ""])
def test_register_adapter_rejects_bad_names(name):
    # one fault per name: "Bad-Name" alone is refused for its capital and its hyphen alike
    with pytest.raises(ValueError, match="lower-case"):
        adapters.register_adapter(name)


def test_register_adapter_accepts_lower_case_letters_digits_and_underscores():
    adapters.register_adapter("olist_v2")  # a decorator; nothing is registered until it is used
    assert "olist_v2" not in adapters.ADAPTERS
