"""Traditional Chinese characters read as simplified, one character at a time.

A review farm that posts one text from many accounts can pass some copies through a
simplified-to-traditional converter (这个产品 -> 這個產品): the copies then share few character
shingles with the original and a near-duplicate test misses them. Reading every text through
this table makes the converted copies equal to the original again.

The table is OpenCC's ``TSCharacters`` (traditional to simplified characters, Apache-2.0), as
the pinned ``opencc-python-reimplemented`` package ships it: a traditional character becomes its
first simplified candidate. A character that simplified text also writes (乾 in 乾坤, 於 as a
surname, 夥, 徵, 覆: OpenCC lists the character among its own candidates, or it is the simplified
form of another) is left as it is, so that no simplified text changes: two simplified texts
compare exactly as they did without the table. Character by character is enough for a
comparison: a copy and its original only have to become one text, not good simplified Chinese
(where a character has several candidates, OpenCC's phrase tables choose by context; the
first candidate is the common reading).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

#: the dictionary file inside the ``opencc`` package (``opencc-python-reimplemented``)
_DICTIONARY = Path("dictionary") / "TSCharacters.txt"
_SIMPLIFIED_DICTIONARY = Path("dictionary") / "STCharacters.txt"


def _opencc_folder() -> Path:
    """The installed ``opencc`` package's folder, found without importing it."""
    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the 'opencc-python-reimplemented' package is missing (its character table reads "
            "traditional Chinese as simplified): run scripts/setup.sh"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _pairs(path: Path) -> list[tuple[str, list[str]]]:
    """(key, candidates) of an OpenCC dictionary file: ``key<TAB>candidate candidate ...``."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if key and values:
            out.append((key, values.split(" ")))
    return out


@lru_cache(maxsize=1)
def traditional_to_simplified() -> dict[int, str]:
    """``str.translate`` table: code point of a traditional-only character -> its simplified
    form (some 4,100 characters)."""
    folder = _opencc_folder()
    pairs = _pairs(folder / _DICTIONARY)
    # characters simplified text writes: every simplified candidate, and every key of the
    # simplified-to-traditional table (a simplified character with traditional forms)
    simplified = {c for _, candidates in pairs for c in candidates}
    simplified |= {key for key, _ in _pairs(folder / _SIMPLIFIED_DICTIONARY)}
    table: dict[int, str] = {}
    for key, candidates in pairs:
        first = candidates[0]
        if len(key) != 1 or len(first) != 1 or key in simplified:
            continue
        table[ord(key)] = first
    return table


def to_simplified(text: str) -> str:
    """``text`` with its traditional-only characters read as simplified (国家級 -> 国家级)."""
    return text.translate(traditional_to_simplified())
