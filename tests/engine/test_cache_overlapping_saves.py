"""Two saved scans --since the same scan S, overlapping (a cron run and a manual run): Y and X
both fold from S's copy; Y saves first and takes S's table over (S - removed + added); then X
saves. X's change was made against S's rows, not Y's: applied on top of Y's, an append-only
relation would hold the day's rows twice in the latest scan's copy, which the next day folds
from. X must keep nothing for such a key (the next scan builds it) rather than a wrong copy
(review 11; found on an appending fold, cache.Appended)."""

from __future__ import annotations

from tests.engine.test_cache import _built, _device_orders, _tables_of, appending  # noqa: F401

from promoguard import incremental, store


def test_two_overlapping_saves_since_one_scan_keep_the_relation(appending, monkeypatch):  # noqa: F811
    path = appending
    con = store.connect(path, read_only=True)
    (since,) = con.execute("SELECT scan_id FROM scans").fetchone()
    con.close()
    con = store.connect(path)
    _device_orders(con, [("o5", "b4", "d1"), ("o6", "b4", "d9"), ("o7", "b5", None)])
    con.close()

    real = incremental._FileSeason.save
    pending: list = []

    def overlapping(self, result, pack, started):
        if pending or getattr(overlapping, "inner", False):
            pending.append((self, result, pack, started))  # X's save: after Y's
            return
        # Y's save: X has scanned meanwhile (it read S's copy too), Y saves, then X
        overlapping.inner = True
        incremental.scan_since(path, "cn", since, save=True)
        real(self, result, pack, started)
        real(*pending[0])

    monkeypatch.setattr(incremental._FileSeason, "save", overlapping)
    incremental.scan_since(path, "cn", since, save=True)
    assert len(pending) == 1
    con = store.connect(path, read_only=True)
    latest = con.execute("SELECT scan_id FROM scans ORDER BY started_at DESC LIMIT 1").fetchone()
    owners = con.execute("SELECT DISTINCT scan_id FROM kept_relations").fetchall()
    con.close()
    assert owners in ([], [latest])  # only the latest scan's copies are listed
    kept = {name: rows for name, (_, rows, _) in _tables_of(path).items()}
    built = _built(path)
    # X's change was made against S's rows, which Y's save changed: X keeps no copy of those
    # keys (the next scan builds them) rather than one holding the day's rows twice
    assert "test_buyer_devices" not in kept
    for name, rows in kept.items():  # what is kept is right
        assert rows == built[name], name
