"""`report` while the real `burnout-tui monitor` records in a real terminal (tmux).

The monitor holds the database for writing, so each report reads it through the monitor's
live socket: `report sql` sees the frame count grow between two calls, and a plugin report
prints what it printed before the monitor started. A monitor killed with SIGKILL leaves
its socket behind; reports then read the file itself, and the next monitor replaces the
socket. Quitting removes it. Uses the bundled demo face, so no shared data.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from burnout_tui.store.live_protocol import socket_path
from burnout_tui.store.writer import FLUSH_LOG_ENV
from tests.command_line import run_cli
from tests.tui.test_signals import acknowledged, monitor
from tests.tui.tmux import Tmux, alive, pid_of
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="finds processes through /proc"),
]

LIVE_NOTE = "is being recorded by a running monitor"
USER = "signalled"
"""The user `test_signals.monitor` records as."""


def start(tmux: Tmux, db: Path, log: Path) -> int:
    """Start the monitor on `db` in tmux and wait for its first flush; returns its pid."""
    tmux.start(*monitor(db), env={FLUSH_LOG_ENV: str(log)})
    tmux.wait_for(lambda screen: "face:" in screen, "the monitor")
    wait_until(lambda: len(acknowledged(log)) >= 1, "the first flush")
    return pid_of(str(db))


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the monitor's capture process among them)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_monitor(pid: int) -> None:
    """SIGKILL the whole monitor, UI and capture process, as a power cut would: the capture
    process is stopped first so it cannot react to the UI's death by closing the session."""
    capture = children(pid)
    for child in capture:
        os.kill(child, signal.SIGSTOP)
    os.kill(pid, signal.SIGKILL)
    for child in capture:
        os.kill(child, signal.SIGKILL)


def frame_count(db: Path) -> tuple[int, str]:
    """`report sql "select count(*) from frames"`: the count and what went to stderr."""
    done = run_cli("report", "sql", "select count(*) from frames", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    [[count]] = json.loads(done.stdout)["rows"]
    return int(count), done.stderr


def longitudinal(db: Path) -> subprocess.CompletedProcess[str]:
    done = run_cli("report", "longitudinal", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    return done


def test_reports_read_the_database_while_the_monitor_records(tmux: Tmux, tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    analysed = run_cli("analyze", "demo", "--user", USER, "--db", str(db))
    assert analysed.returncode == 0, analysed.stderr
    before = longitudinal(db)
    log = tmp_path / "flushed.log"
    pid = start(tmux, db, log)

    first, said = frame_count(db)
    assert said.count(LIVE_NOTE) == 1
    flushed = len(acknowledged(log))
    wait_until(lambda: len(acknowledged(log)) > flushed, "another flush")
    second, _ = frame_count(db)
    assert second > first > 0
    live = longitudinal(db)
    assert json.loads(live.stdout) == json.loads(before.stdout)
    assert LIVE_NOTE in live.stderr

    kill_monitor(pid)
    wait_until(lambda: not alive(pid), "the monitor to die")
    assert socket_path(db).exists(), "SIGKILL leaves the socket behind"
    after_kill, said = frame_count(db)
    assert after_kill >= second and LIVE_NOTE not in said

    wait_until(lambda: not tmux.alive(), "the killed monitor's tmux session to end")
    pid = start(tmux, db, tmp_path / "flushed-again.log")
    again, said = frame_count(db)
    assert again > after_kill and said.count(LIVE_NOTE) == 1
    tmux.keys("q")
    wait_until(lambda: not alive(pid), "the monitor to quit")
    assert not socket_path(db).exists()
