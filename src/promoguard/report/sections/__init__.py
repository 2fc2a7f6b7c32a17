"""Report sections, one module each: ``TITLE``, ``ORDER`` and ``render(con, findings)``.

Add a module here to add a section (families: ``<family>.py``); the report discovers it with
pkgutil. ``render`` returns an HTML fragment in which every value from data is escaped, or None.
"""
