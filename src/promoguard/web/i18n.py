"""Chinese and English: Babel message catalogues, read from their .po files when the server starts.

The source strings are English; ``locale/zh/LC_MESSAGES/messages.po`` translates them. The .po file
is compiled in memory at start-up (no build step, nothing written next to the package), and a
string missing from the catalogue falls back to English rather than failing. The language of a
request is, in this order: the language saved in the logged-in user's settings; the switch on
every page (kept in a cookie; for a logged-in user the switch also saves the setting); the
browser's ``Accept-Language``.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English: the identity)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def negotiate(cookie: str | None, accept_language: str | None, *, saved: str | None = None) -> str:
    """The language for a request: the user's saved setting, else the switch's cookie, else the
    best match in Accept-Language, else English."""
    if saved in LANGUAGES:
        return saved
    if cookie in LANGUAGES:
        return cookie
    for tag in _accept_languages(accept_language or ""):
        try:
            lang = Locale.parse(tag, sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def _accept_languages(header: str) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > 0:
            ranked.append((-q, i, tag))
    return [tag for _, _, tag in sorted(ranked)]


def gettext_for(lang: str):
    return translations(lang).gettext


def extract_messages() -> list[str]:
    """Every message id of the web templates and modules, in order of first appearance.

    ``_()``/``gettext()`` in Python and templates, and ``N_()`` (marked, translated later).
    """
    from babel.messages.extract import extract_from_dir

    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "N_": None}
    ids: list[str] = []
    for _file, _line, msg, _comments, _ctx in extract_from_dir(
        Path(__file__).parent, method_map, options, keywords=keywords
    ):
        text = msg if isinstance(msg, str) else msg[0]
        if text and text not in ids:
            ids.append(text)
    return ids
