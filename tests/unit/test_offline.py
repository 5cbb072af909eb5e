"""Nothing leaves the machine: every command runs with no network use and no stray files.

Each command runs in a child process with a fresh HOME, under the audit hook of
`tests.network_guard` (Python-level sockets) and, where it is installed, `strace`
(native code: ONNX Runtime's telemetry and DuckDB's extension downloads never go through
Python's `socket`). Any connect or send to an internet or local-network address, any name
lookup, and any file under HOME outside burnout-tui's own documented folders fails the
test. Two hostile inputs that used to reach the network are included: a SQLite file as
`--db` (DuckDB would download its sqlite extension) and an `https://` URL in a query
(DuckDB would download httpfs).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRACE = shutil.which("strace")
COMMAND_TIMEOUT_S = 240
ALLOWED_HOME_DIRS: tuple[str, ...] = (".config/burnout-tui", ".local/share/burnout-tui")
"""The platformdirs folders the README documents (user config: config.toml, instruments)."""

_NETWORK_FAMILY = re.compile(r"sa_family=AF_INET6?\b")
_NAME_SERVICE = re.compile(r"nscd|resolve|/run/systemd/resolve")
_LOOPBACK = re.compile(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"')
_DNS_PORT = re.compile(r"sin6?_port=htons\(53\)")

pytestmark = pytest.mark.slow


@dataclass(frozen=True, slots=True)
class Guarded:
    args: tuple[str, ...]
    returncode: int
    stderr: str
    network: tuple[str, ...]


def _strace_works() -> bool:
    if STRACE is None:
        return False
    probe = subprocess.run([STRACE, "-f", "-qq", "-o", os.devnull, "true"], capture_output=True)
    return probe.returncode == 0


TRACED = _strace_works()


def _foreign(line: str) -> bool:
    """A traced syscall that talks to another machine or looks a name up."""
    if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
        return False
    if _NAME_SERVICE.search(line):
        return True
    if not _NETWORK_FAMILY.search(line):
        return False
    return _DNS_PORT.search(line) is not None or _LOOPBACK.search(line) is None


def run_guarded(home: Path, work: Path, *args: str) -> Guarded:
    log = work / "python-network.log"
    trace = work / "strace.log"
    log.unlink(missing_ok=True)
    trace.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.network_guard", str(log), "--", *args]
    if TRACED:
        assert STRACE is not None
        command = [STRACE, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace)]
        command += [sys.executable, "-m", "tests.network_guard", str(log), "--", *args]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "BURNOUT_TUI_")) and key != "HOME"
    }
    env["HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        command,
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    network = log.read_text().splitlines() if log.exists() else []
    if trace.exists():
        network += [line for line in trace.read_text().splitlines() if _foreign(line)]
    return Guarded(args, result.returncode, result.stderr, tuple(network))


def _stray_files(home: Path) -> list[str]:
    found = [path.relative_to(home).as_posix() for path in home.rglob("*") if path.is_file()]
    return [path for path in found if not path.startswith(ALLOWED_HOME_DIRS)]


def test_commands_use_no_network_and_leave_nothing_in_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    db = str(work / "s.duckdb")
    sqlite_db = work / "other.sqlite"
    with sqlite3.connect(sqlite_db) as other:
        other.execute("CREATE TABLE t (x INTEGER)")
    runs = [
        (True, run_guarded(home, work, "analyze", "demo", "--db", db, "--json")),
        (True, run_guarded(home, work, "pilot-monitor", db)),
        (
            True,
            run_guarded(home, work, "report", "sql", "SELECT count(*) FROM v_frames", "--db", db),
        ),
        (
            False,
            run_guarded(
                home, work, "report", "sql", "SELECT * FROM 'https://example.com/x.csv'", "--db", db
            ),
        ),
        (True, run_guarded(home, work, "export", "--parquet", str(work / "export"), "--db", db)),
        (
            False,
            run_guarded(
                home,
                work,
                "survey",
                "--instrument",
                "checkin",
                "--answers",
                "5,5,5",
                "--db",
                str(sqlite_db),
            ),
        ),
        (
            False,
            run_guarded(home, work, "report", "sql", "SELECT 1", "--db", str(sqlite_db)),
        ),
    ]
    for should_succeed, run in runs:
        assert (run.returncode == 0) is should_succeed, (run.args, run.stderr[-2000:])
        assert "Traceback" not in run.stderr, (run.args, run.stderr[-2000:])
        assert not run.network, (run.args, run.network[:10])
    assert _stray_files(home) == []


def test_onnx_runtime_writes_no_telemetry_files(tmp_path: Path) -> None:
    """The smallest reproduction of what ONNX Runtime did on import: a device id in HOME."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "ORT_DISABLE_TELEMETRY"}
    env["HOME"] = str(home)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import burnout_tui.vision.runtime as r; r.load_session('emotion_minixception.onnx')",
        ],
        env=env,
        check=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    assert _stray_files(home) == []
