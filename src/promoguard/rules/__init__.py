"""The built-in rules, one per file: ``rules/<family>/<code>_<name>.py``.

Each file holds everything about its rule: the class (code, name, entity, severity, parameters with
defaults and their basis), its page (What it does / Why is this bad / Example), ``find`` or
``find_local``, ``evidence``, and how the report shows it. A family's ``_shared.py`` holds what its
rules share; ``_relations.py`` the relations several families derive from the carrier scans.
The engine imports every module here that does not start with ``_``.
"""
