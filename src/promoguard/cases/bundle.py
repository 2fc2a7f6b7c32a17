"""Evidence bundles: a case's findings, evidence, notice and attachments, signed with Ed25519.

A bundle is a zip::

    case.json                 the case and its findings (legal basis, evidence hashes, verdicts)
    events.json               the case's audit events (with their chain hashes)
    evidence/<sha256>.json    each evidence document, named by its SHA-256
    notice.html               the latest guidance notice, if one was issued
    attachments/<n>-<name>    the rectification attachments
    manifest.json             {"files": {path: sha256}, "case_id", "created_at", "public_key"}
    manifest.sig              Ed25519 signature of manifest.json's bytes

:func:`verify` needs nothing but the zip and (ideally) the bureau's public key: it checks the
signature, every file against the manifest, every evidence file against its name and the findings'
hashes, and names what was altered, removed or added.

Keys come from :func:`keygen` (``bureau.key``, PKCS#8 PEM, written owner-only; ``bureau.pub``);
they are read from files when needed and never stored in the case database or printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from promoguard.cases.errors import BundleError
from promoguard.errors import first_line

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keygen(out: str | Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``bureau.key`` (private, mode 0600) and ``bureau.pub`` into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = folder / "bureau.key", folder / "bureau.pub"
    if not overwrite and (key_path.exists() or pub_path.exists()):
        raise BundleError(f"{key_path} exists already: keys are never overwritten")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(key_path, flags, 0o600)  # owner-only from the first byte, whatever the umask
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(key_path, 0o600)
    pub_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key_path, pub_path


def load_private(path: str | Path) -> Ed25519PrivateKey:
    p = Path(path)
    if not p.is_file():
        raise BundleError(f"no signing key at {p} (make one with `promoguard evidence keygen`)")
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{p} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{p} is not an Ed25519 key")
    return key


def load_public(data: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise BundleError(f"{where} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError(f"{where} is not an Ed25519 public key")
    return key


def _public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _safe_name(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in Path(name).name)
    return keep.strip("._") or "file"


def write_bundle(
    files: dict[str, bytes], case_id: str, created_at: str, key_path: str | Path, out: str | Path
) -> dict[str, Any]:
    """Write ``files`` plus a signed manifest to the zip ``out``; the manifest."""
    key = load_private(key_path)
    manifest = {
        "format": "promoguard-evidence-bundle/1",
        "case_id": case_id,
        "created_at": created_at,
        "public_key": _public_pem(key.public_key()),
        "files": {name: _sha(data) for name, data in sorted(files.items())},
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False).encode(
        "utf-8"
    )
    signature = base64.b64encode(key.sign(manifest_bytes))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
        zf.writestr(MANIFEST, manifest_bytes)
        zf.writestr(SIGNATURE, signature)
    tmp.replace(out)
    return manifest


def case_files(
    case: dict[str, Any],
    documents: dict[str, str],
    notice_html: str | None,
    attachments: list[tuple[str, bytes]],
    events: list[dict],
) -> dict[str, bytes]:
    """The bundle's files for a case (``get_case`` output), its documents and attachments."""
    files: dict[str, bytes] = {
        "case.json": json.dumps(
            case, sort_keys=True, indent=1, ensure_ascii=False, default=str
        ).encode("utf-8"),
        "events.json": json.dumps(events, sort_keys=True, indent=1, ensure_ascii=False).encode(
            "utf-8"
        ),
    }
    for sha, doc in sorted(documents.items()):
        files[f"evidence/{sha}.json"] = doc.encode("utf-8")
    if notice_html is not None:
        files["notice.html"] = notice_html.encode("utf-8")
    for i, (name, data) in enumerate(attachments, start=1):
        files[f"attachments/{i:03d}-{_safe_name(name)}"] = data
    return files


@dataclass
class BundleReport:
    ok: bool
    case_id: str | None
    files: int
    signature: str  # valid | invalid | missing
    key: str  # given | embedded
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "case_id": self.case_id,
            "files": self.files,
            "signature": self.signature,
            "key": self.key,
            "problems": self.problems,
        }


def verify(path: str | Path, pubkey: str | Path | None = None) -> BundleReport:
    """Check a bundle offline; every problem named (altered, removed, added, bad signature)."""
    p = Path(path)
    if not p.is_file():
        raise BundleError(f"no bundle at {p}")
    try:
        zf = zipfile.ZipFile(p)
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{p} is not a zip file") from exc
    problems: list[str] = []
    with zf:
        names = set(zf.namelist())
        if MANIFEST not in names:
            raise BundleError(f"{p} has no {MANIFEST}: not an evidence bundle")
        # a zip can hold a name twice, or carry another archive before its first file: one
        # reader takes one copy, another the other, so a forged case.json could ride beside the
        # genuine one that verifies (a bundle PromoGuard writes has neither)
        seen = Counter(zf.namelist())
        for name in sorted(n for n, k in seen.items() if k > 1):
            problems.append(
                f"{name} is in the bundle {seen[name]} times: unzip tools may take another copy than the one checked"
            )
        first = min(info.header_offset for info in zf.infolist())
        if first:
            problems.append(
                f"{first} bytes come before the bundle's first file (another archive may hide there)"
            )

        damaged: set[str] = set()

        def read(name: str) -> bytes | None:
            if name in damaged:
                return None
            try:
                return zf.read(name)
            except (zipfile.BadZipFile, zlib.error, OSError) as exc:  # a bad CRC, a cut entry
                damaged.add(name)
                problems.append(f"{name} is damaged ({first_line(exc)})")
                return None

        manifest_bytes = read(MANIFEST)
        if manifest_bytes is None:
            raise BundleError(f"{p}: {MANIFEST} is damaged: {problems[-1]}")
        try:
            manifest = json.loads(manifest_bytes)
            listed: dict[str, str] = dict(manifest["files"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"{p}: {MANIFEST} is not a bundle manifest") from exc
        # signature over the manifest's exact bytes
        if pubkey is not None:
            key = load_public(Path(pubkey).read_bytes(), str(pubkey))
            key_source = "given"
        else:
            key = load_public(str(manifest.get("public_key", "")).encode(), "the bundle's key")
            key_source = "embedded"
        if SIGNATURE not in names:
            signature = "missing"
            problems.append(f"{SIGNATURE} was removed: the bundle is not signed")
        else:
            try:
                key.verify(base64.b64decode(read(SIGNATURE) or b"", validate=True), manifest_bytes)
                signature = "valid"
            except (InvalidSignature, ValueError):
                signature = "invalid"
                problems.append(
                    "the signature does not verify: manifest.json was altered, or the bundle was "
                    "signed with another key" + (" than the one given" if pubkey else "")
                )
        for name, digest in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name} was removed")
                continue
            data = read(name)
            if data is None:
                continue
            if _sha(data) != digest:
                problems.append(f"{name} was altered (its SHA-256 is not the manifest's)")
            elif name.startswith("evidence/") and _sha(data) != Path(name).stem:
                problems.append(f"{name} does not hash to its name")
        for name in sorted(names - set(listed) - {MANIFEST, SIGNATURE}):
            problems.append(f"{name} was added (not in the manifest)")
        # the findings must point at the evidence the bundle carries
        if "case.json" in names and "case.json" in listed:
            try:
                case = json.loads(read("case.json") or b"{}")
                for f in case.get("findings_detail", []):
                    ev = f"evidence/{f.get('evidence_sha256')}.json"
                    if ev not in listed:
                        problems.append(
                            f"finding {f.get('check_code')} {f.get('entity_id')}: its evidence {ev} is not in the bundle"
                        )
            except ValueError:
                problems.append("case.json is not JSON")
    return BundleReport(
        ok=not problems,
        case_id=manifest.get("case_id"),
        files=len(listed),
        signature=signature,
        key=key_source,
        problems=problems,
    )
