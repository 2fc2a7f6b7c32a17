"""Every command, random arguments: a clean exit, a usage error, or one line on stderr (#17, 4).

Arguments are drawn from a pool of real paths (a tiny store, its source folder, a labels file,
a folder, missing paths, the store itself as an output) and hostile strings (ANSI escapes,
SQL, path traversal, transform codecs, huge numbers). Each run is in-process and bounded; no
network. A traceback, an exit code other than 0/1/2, or a multi-line error fails the test.

Excluded, with the reason: ``serve`` starts a web server (it blocks); valid ``--scale`` names
(a whole season takes minutes) and ``--engine spark`` (a JVM start) are not in the pool, so
``simulate`` and ``demo`` exercise their argument handling, not a full run; ``watch`` always gets
``--once`` (its loop runs until stopped).
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
import typer.main
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from promoguard.cli import app

runner = CliRunner()
COMMAND = typer.main.get_command(app)
EXCLUDED = {"serve": "starts a web server and blocks"}
COMMANDS = sorted(name for name in COMMAND.commands if name not in EXCLUDED)
SECONDS = 120  # per invocation, on a loaded 2-core machine

HOSTILE = [
    "",
    " ",
    "cn",
    "eu",
    "xx",
    "PRICE001",
    "TEXT",
    "TEXT001,NOPE",
    "\x1b[2J\x1b[1;1Hok",
    "'; DROP TABLE findings; --",
    "../../traversal",  # stays inside the test's folder: the test runs two levels down
    "Asia/Shanghai",
    "Mars/Olympus",
    "gb18030",
    "base64",
    "rot13",
    "utf-16",
    "olist",
    "duckdb",
    "-1",
    "0",
    "1",
    "2",
    "3.5",
    "1e309",
    "nan",
    "99999999999999999999999",
    "label",
    "listing_id",
    "resident_id,mobile",
    "\u202eevil",
    "huge",
    "parquet",
    "csv",
    "local[1]",
]


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("fuzz")
    src = base / "season"
    src.mkdir()
    (src / "platforms.csv").write_text("platform_id,name\nP1,Tmall\n")
    (src / "merchants.csv").write_text("merchant_id,platform_id,name\nM1,P1,=1+1\n")
    (src / "texts.csv").write_text(
        "text_id,kind,merchant_id,listing_id,created_at,lang,content\n"
        'T1,ad,M1,,2026-11-11T00:00:00Z,zh,品质最佳\nT2,ad,M1,,2026-11-11,zh,"open\n'
    )
    store = base / "s.duckdb"
    assert runner.invoke(app, ["ingest", str(src), "--store", str(store)]).exit_code == 0
    result = runner.invoke(app, ["scan", "--store", str(store), "--pack", "cn"])
    assert result.exit_code == 0, result.output
    labels = base / "labels.csv"
    labels.write_text(
        "text,label,listing_id\n"
        + "".join(f"review {i} great,{i % 2},L{i % 3}\n" for i in range(12))
    )
    findings = base / "f.parquet"
    runner.invoke(app, ["scan", "--store", str(store), "--pack", "cn", "--out", str(findings)])
    truth = base / "truth.csv"
    truth.write_text("check_code,entity_type,entity_id\nTEXT001,text,T1\n")
    folder = base / "folder"
    folder.mkdir()
    (base / "text.txt").write_text("hello\n")
    return {
        "store": store,
        "season": src,
        "labels": labels,
        "findings": findings,
        "truth": truth,
        "folder": folder,
        "text": base / "text.txt",
        "missing": base / "missing" / "nothing.duckdb",
        "out_html": base / "out" / "r.html",
        "out_csv": base / "out" / "f.csv",
        "out_dir": base / "out" / "dir",
    }


def _values(pool: dict[str, Path]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([str(p) for p in pool.values()]), st.sampled_from(HOSTILE))


def _arguments(name: str, pool: dict[str, Path]) -> st.SearchStrategy[list[str]]:
    command = COMMAND.commands[name]
    pieces = []
    for param in command.params:
        if not param.opts:
            continue
        if param.opts[0].startswith("--"):
            if getattr(param, "is_flag", False):
                pieces.append(st.sampled_from([[], [param.opts[0]]]))
            else:
                pieces.append(
                    st.one_of(st.just([]), _values(pool).map(lambda v, o=param.opts[0]: [o, v]))
                )
        else:  # a positional argument
            pieces.append(_values(pool).map(lambda v: [v]))
    return (
        st.tuples(*pieces).map(lambda parts: [x for part in parts for x in part])
        if pieces
        else st.just([])
    )


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _check(name: str, args: list[str]) -> None:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    try:
        result = runner.invoke(app, [name, *args])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    shown = f"promoguard {name} {args!r}"
    assert isinstance(result.exception, (SystemExit, type(None))), (
        f"{shown} raised {result.exception!r}"
    )
    assert result.exit_code in (0, 1, 2), f"{shown} exited {result.exit_code}"
    output = result.stdout + result.stderr
    assert "Traceback" not in output, f"{shown}: {output[-2000:]}"
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("promoguard: error:")]
    if result.exit_code == 1 and name != "verify":
        assert len(errors) == 1, f"{shown}: {result.stderr[-2000:]}"
        assert result.stderr.rstrip().endswith(errors[0]), f"{shown}: {result.stderr[-2000:]}"


@pytest.mark.parametrize("name", COMMANDS)
def test_random_arguments_give_a_clean_exit_or_one_line(name, pool, tmp_path, monkeypatch):
    # Relative paths (and default outputs such as report.html) land in a private folder, two
    # levels down so that "../../traversal" stays inside the test's own folder too.
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    store = pool["store"]
    keep = store.read_bytes()

    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failing args are printed
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(args=_arguments(name, pool))
    def run(args):
        if name in ("simulate", "demo") and "--scale" not in args:
            args = [*args, "--scale", "huge"]  # never a full season (see the module docstring)
        if name == "watch" and "--once" not in args:
            args = [*args, "--once"]  # one pass: the loop itself never ends
        if "--engine" in args and args[args.index("--engine") + 1 :][:1] == ["spark"]:
            return
        _check(name, args)
        shutil.rmtree(pool["out_dir"].parent, ignore_errors=True)

    try:
        run()
    finally:
        store.write_bytes(keep)  # a fuzzed command may have written to it (ingest, scan)
