"""Evidence bundles: signed, verified offline, and every alteration named."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest

from promoguard.cases import BundleError, CaseService
from promoguard.cases.bundle import keygen, verify
from promoguard.cases.service import export_bundle

from .helpers import make_case


@pytest.fixture
def exported(sqlite_url, tmp_path):
    svc = CaseService(sqlite_url, actor="analyst1")
    make_case(svc, "C-1", status="under_review", findings=3)
    svc.guide("C-1", "2030-01-15")
    svc.rectify("C-1", "已整改", attachments=[("截图 proof.png", b"\x89PNG fake image bytes")])
    key, pub = keygen(tmp_path / "keys")
    out = tmp_path / "bundle.zip"
    export_bundle(svc, "C-1", out, key)
    return svc, out, key, pub


def _rewrite(src, dst, *, drop=(), change=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename in drop:
                continue
            data = zin.read(item.filename)
            if change and item.filename == change[0]:
                data = change[1](data)
            zout.writestr(item.filename, data)


def test_keygen_private_key_is_owner_only_and_never_overwritten(tmp_path):
    key, pub = keygen(tmp_path / "k")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes() and b"PUBLIC KEY" in pub.read_bytes()
    with pytest.raises(BundleError, match="never overwritten"):
        keygen(tmp_path / "k")


def test_bundle_holds_everything_and_verifies(exported):
    svc, out, _key, pub = exported
    names = set(zipfile.ZipFile(out).namelist())
    case = svc.get_case("C-1")
    assert {"case.json", "events.json", "notice.html", "manifest.json", "manifest.sig"} <= names
    for f in case["findings_detail"]:
        assert f"evidence/{f['evidence_sha256']}.json" in names
    assert any(n.startswith("attachments/") and n.endswith("proof.png") for n in names)
    report = verify(out, pub)
    assert report.ok, report.problems
    assert (report.signature, report.key, report.case_id) == ("valid", "given", "C-1")
    # the key is in neither the database nor the bundle
    private = _key.read_bytes()
    with svc.db.engine.connect() as conn:
        from sqlalchemy import text

        for (payload,) in conn.execute(text("SELECT payload FROM audit_events")):
            assert "PRIVATE" not in payload
    assert all(private not in zipfile.ZipFile(out).read(n) for n in names)
    assert svc.events("C-1")[-1]["action"] == "evidence_exported"


def test_an_edited_evidence_document_is_named(exported, tmp_path):
    _svc, out, _key, pub = exported
    ev = next(n for n in zipfile.ZipFile(out).namelist() if n.startswith("evidence/"))
    bad = tmp_path / "edited.zip"
    _rewrite(out, bad, change=(ev, lambda d: d.replace("全网最低价".encode(), "合规价格".encode())))
    report = verify(bad, pub)
    assert not report.ok
    assert report.signature == "valid"  # the manifest is intact; the document is not
    assert any(p.startswith(f"{ev} was altered") for p in report.problems), report.problems


def test_a_removed_file_is_named(exported, tmp_path):
    _svc, out, _key, pub = exported
    bad = tmp_path / "removed.zip"
    _rewrite(out, bad, drop=("notice.html",))
    report = verify(bad, pub)
    assert not report.ok and "notice.html was removed" in report.problems


def test_an_added_file_and_an_edited_manifest_are_named(exported, tmp_path):
    _svc, out, _key, pub = exported
    bad = tmp_path / "added.zip"
    _rewrite(out, bad)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("evidence/extra.json", b"{}")
    assert "evidence/extra.json was added (not in the manifest)" in verify(bad, pub).problems
    bad2 = tmp_path / "manifest.zip"
    _rewrite(out, bad2, change=("manifest.json", lambda d: d.replace(b'"C-1"', b'"C-2"')))
    report = verify(bad2, pub)
    assert report.signature == "invalid" and not report.ok


def test_a_wrong_key_is_named(exported, tmp_path):
    _svc, out, _key, _pub = exported
    _other_key, other_pub = keygen(tmp_path / "other")
    report = verify(out, other_pub)
    assert not report.ok and report.signature == "invalid"
    assert any("another key" in p for p in report.problems)


def test_a_re_signed_bundle_fails_against_the_bureau_key(exported, tmp_path):
    """Someone who alters a document and re-signs with their own key passes only the embedded key."""
    import json

    from promoguard.cases.bundle import write_bundle

    _svc, out, _key, pub = exported
    zf = zipfile.ZipFile(out)
    files = {n: zf.read(n) for n in zf.namelist() if n not in ("manifest.json", "manifest.sig")}
    ev = next(n for n in files if n.startswith("evidence/"))
    files[ev] = json.dumps({"forged": True}).encode()
    forger_key, _ = keygen(tmp_path / "forger")
    forged = tmp_path / "forged.zip"
    write_bundle(files, "C-1", "2030-01-01T00:00:00Z", forger_key, forged)
    report = verify(forged, pub)
    assert not report.ok and report.signature == "invalid"
    assert any("does not hash to its name" in p for p in report.problems)


def test_not_a_bundle(tmp_path):
    p = tmp_path / "x.zip"
    p.write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a zip"):
        verify(p)


def test_a_second_copy_of_a_file_or_an_archive_before_the_bundle_is_named(exported, tmp_path):
    """A forged case.json written beside the genuine one (a zip may hold a name twice), or a
    forged zip put in front of the bundle, verified as intact: the check read one copy and an
    unzip tool may show the other."""
    _svc, out, _key, pub = exported
    forged = b'{"case_id": "C-1", "status": "closed"}'
    twice = tmp_path / "twice.zip"
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(twice, "w") as zout,
        zipfile.ZipFile(out) as zin,
    ):
        zout.writestr("case.json", forged)
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
    report = verify(twice, pub)
    assert not report.ok
    assert any(p.startswith("case.json is in the bundle 2 times") for p in report.problems)

    front = tmp_path / "front.zip"
    with zipfile.ZipFile(tmp_path / "forged.zip", "w") as zf:
        zf.writestr("case.json", forged)
    front.write_bytes((tmp_path / "forged.zip").read_bytes() + out.read_bytes())
    report = verify(front, pub)
    assert not report.ok
    assert any("bytes come before the bundle's first file" in p for p in report.problems)
    assert verify(out, pub).ok  # the bundle as exported has neither


def test_a_damaged_file_is_named_not_a_traceback(exported, tmp_path):
    _svc, out, _key, pub = exported
    data = bytearray(out.read_bytes())
    with zipfile.ZipFile(out) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("attachments/"))
    # the entry's stored bytes, past its local header (30 bytes, its name and extra field)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start] ^= 0xFF
    bad = tmp_path / "crc.zip"
    bad.write_bytes(bytes(data))
    report = verify(bad, pub)
    assert not report.ok
    assert any(p.startswith(f"{info.filename} is damaged") for p in report.problems)
