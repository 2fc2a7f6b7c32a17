"""A transcoded copy of an export never sits in the temp folder under a name (issue #17, 5).

A killed ingest used to leave a plaintext UTF-8 copy of a GBK export in /tmp. The copy is now an
unnamed file (O_TMPFILE): no folder ever lists it, and the kernel frees it on any exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from promoguard.ingest import load

GBK_ROWS = "platform_id,name\n" + "".join(f"P{i},天猫旗舰店{i}\n" for i in range(50))


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="O_TMPFILE is Linux-only")
def test_no_named_copy_exists_while_a_gbk_file_is_read(ingest, con, tmp_path, monkeypatch):
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    seen: list[list[Path]] = []
    real = load.stage_file

    def watching(*args, **kwargs):
        seen.append(_files(temp_root))  # the moment the transcoded copy is being read
        return real(*args, **kwargs)

    monkeypatch.setattr(load, "stage_file", watching)
    report = ingest({"platforms.csv": GBK_ROWS.encode("gbk")})
    assert report.files[0].encoding == "gb18030" and report.tables["platforms"].stored == 50
    assert seen == [[]]
    assert _files(temp_root) == []


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="O_TMPFILE is Linux-only")
def test_a_killed_ingest_leaves_no_plaintext_copy(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    big = "platform_id,name\n" + "".join(f"P{i},天猫旗舰店{i}\n" for i in range(4_000_000))
    (folder / "platforms.csv").write_bytes(big.encode("gbk"))
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    env = {**os.environ, "TMPDIR": str(temp_root)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "promoguard",
            "ingest",
            str(folder),
            "--store",
            str(tmp_path / "s.duckdb"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill it while it reads the file: the store is opened just before the files are read.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / "s.duckdb").exists():
        time.sleep(0.01)
    # Kill it soon after: on a quiet machine 1M lines were read within the second the test used to
    # wait, so the file is bigger and the kill comes sooner.
    time.sleep(0.3)
    assert proc.poll() is None, "the ingest ended before it could be killed; use a bigger file"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _files(temp_root) == []
