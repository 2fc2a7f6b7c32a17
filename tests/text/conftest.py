"""The text tests share the content rules' hand-made store of texts and reviews."""

from tests.rules.content.conftest import content_con  # noqa: F401 - a fixture, used by name
