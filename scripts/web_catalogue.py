"""Keeps the web tier's message catalogue in step with its templates and code.

    .venv/bin/python scripts/web_catalogue.py            # list messages missing a translation
    .venv/bin/python scripts/web_catalogue.py --update   # add new ones (empty) to the zh .po

Extraction uses Babel (``_()``, ``gettext()`` and ``N_()`` in Python, ``_()`` in the templates).
The test ``tests/web/test_i18n.py`` fails when a message has no Chinese translation.
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from promoguard.web.i18n import LOCALE_DIR, extract_messages

PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    ids = extract_messages()
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    missing = [m for m in ids if not (catalog.get(m) and catalog.get(m).string)]
    if "--update" in sys.argv:
        fresh = Catalog(locale="zh", project="PromoGuard", fuzzy=False)
        for m in ids:
            old = catalog.get(m)
            fresh.add(m, old.string if old else "")
        with PO.open("wb") as fh:
            write_po(fh, fresh, width=100, omit_header=False, no_location=True)
    for m in missing:
        print(m)
    return 1 if missing and "--update" not in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
