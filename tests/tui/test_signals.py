"""The real `burnout-tui` killed the ways a person, a supervisor or the network kill it.

- SIGTERM, and SIGHUP from a terminal that is still there, quit the monitor like `q`: every
  row flushed, the session complete, exit 0, the terminal as it was before.
- A real hangup (tmux closes the terminal, as sshd does when the connection drops): the
  same, with nothing left to restore.
- `kill -9`: the session ends `interrupted`, keeping every acknowledged row (closed by the
  capture process the UI leaves behind; the next open would do the same had it died too).
- `analyze` under SIGTERM rolls back like Ctrl-C.

Which rows the monitor had committed is learnt from the writer's test-only flush log
(`BURNOUT_TUI_FLUSH_LOG`): the database cannot be read while the process holds its lock.
Every test uses the bundled demo face, so none needs the shared data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from burnout_tui.store import StoreError, open_database
from burnout_tui.store.writer import FLUSH_LOG_ENV
from tests.tui.tmux import Tmux, alive, pid_of
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="finds processes through /proc"),
]

FORWARD_HANGUP = Path(__file__).with_name("forward_hangup.py")
PERIODIC_FLUSHES = 3
"""Flushes to see before killing: more than one proves the writer commits as it goes (each
row waits at most one flush interval), not only when it is closed."""
ANALYZE_POLL_S = 0.02
"""`analyze demo` may take only a few seconds on a fast machine; poll closely enough to stop
it right after its first flush."""
ANALYZE_TIMEOUT_S = 120.0


def acknowledged(log: Path) -> list[int]:
    """The flush log's running totals of committed rows, oldest first."""
    if not log.exists():
        return []
    return [int(line) for line in log.read_text().split()]


def monitor(db: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "burnout_tui.cli", "monitor"),
        *("--source", "demo", "--user", "signalled", "--db", str(db)),
    ]


def start_monitor(tmux: Tmux, tmp_path: Path, *command: str) -> tuple[Path, int]:
    """Start `command` in tmux and wait until the monitor shows and has flushed a few
    times; returns the flush log and the monitor's pid."""
    log = tmp_path / "flushed.log"
    tmux.start(*command, env={FLUSH_LOG_ENV: str(log)})
    tmux.wait_for(lambda screen: "face:" in screen, "the monitor")
    wait_until(lambda: len(acknowledged(log)) >= PERIODIC_FLUSHES, "periodic flushes")
    return log, pid_of(str(tmp_path / "live.duckdb"))


def stored(db: Path) -> tuple[str, bool, int | None, int]:
    """(status, ended_at is set, frames_total, frame rows) of the one session in `db`."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT status, ended_at IS NOT NULL, frames_total,"
            " (SELECT count(*) FROM frames) FROM sessions"
        ).fetchall()
    finally:
        con.close()
    assert len(row) == 1, row
    status, ended, frames_total, rows = row[0]
    return str(status), bool(ended), frames_total, int(rows)


def open_released(db: Path) -> duckdb.DuckDBPyConnection:
    """`db` once the monitor's capture process, which outlives a killed UI by the moment it
    takes to close the session, has let go of DuckDB's lock."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def try_open() -> bool:
        try:
            opened.append(open_database(db))
        except StoreError:
            return False
        return True

    wait_until(try_open, "the capture process to release the database")
    return opened[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_signal_quits_the_monitor_like_q(
    tmux: Tmux, tmp_path: Path, signum: signal.Signals
) -> None:
    db = tmp_path / "live.duckdb"
    before, after, exit_file = (tmp_path / name for name in ("stty.before", "stty.after", "rc"))
    shell = (
        f"stty -g > {before}; {' '.join(monitor(db))}; echo $? > {exit_file};"
        f" stty -g > {after}; exec sleep 600"
    )
    log, pid = start_monitor(tmux, tmp_path, "bash", "-c", shell)

    os.kill(pid, signum)
    wait_until(exit_file.exists, "the monitor to exit")

    assert exit_file.read_text().strip() == "0"
    wait_until(after.exists, "the shell to run again")
    assert after.read_text() == before.read_text(), "stty settings (echo, canonical mode) differ"
    flags = tmux.pane_flags()
    assert flags["alternate_on"] == "0", "still on the alternate screen"
    assert flags["cursor_flag"] == "1", "cursor still hidden"
    assert flags["mouse_any_flag"] == "0", "mouse reporting still on"
    status, ended, frames_total, rows = stored(db)
    assert (status, ended) == ("complete", True)
    assert frames_total is not None and frames_total > 0
    assert rows == acknowledged(log)[-1], "the last flush did not write every row"


def test_a_hangup_saves_the_session_and_exits(tmux: Tmux, tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    exit_file = tmp_path / "rc"
    log, pid = start_monitor(
        tmux, tmp_path, sys.executable, str(FORWARD_HANGUP), str(exit_file), *monitor(db)
    )

    tmux.run("kill-server")  # the terminal goes, as when sshd loses the connection
    wait_until(exit_file.exists, "the monitor to exit after the hangup")

    assert exit_file.read_text().strip() == "0"
    assert not alive(pid)
    status, ended, _, rows = stored(db)
    assert (status, ended) == ("complete", True)
    assert rows == acknowledged(log)[-1]


def test_kill_9_leaves_an_interrupted_session_with_every_acknowledged_row(
    tmux: Tmux, tmp_path: Path
) -> None:
    db = tmp_path / "live.duckdb"
    log, pid = start_monitor(tmux, tmp_path, *monitor(db))

    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), "the monitor to die")
    acks = acknowledged(log)

    con = open_released(db)
    try:
        status, started_at, ended_at, frames_total = con.execute(
            "SELECT status, started_at, ended_at, frames_total FROM sessions"
        ).fetchone()  # type: ignore[misc]
        rows, last_ts, last_index = con.execute(
            "SELECT count(*), max(ts), max(frame_index) FROM frames"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert status == "interrupted"
    assert ended_at == started_at + timedelta(seconds=last_ts)
    assert frames_total == last_index + 1
    assert acks == sorted(acks) and len(acks) >= PERIODIC_FLUSHES
    assert rows >= acks[-1], f"{acks[-1]} rows were acknowledged, {rows} survived"


@pytest.mark.parametrize("existing", [False, True], ids=["new-db", "existing-db"])
def test_sigterm_rolls_analyze_back(tmp_path: Path, existing: bool) -> None:
    db, log = tmp_path / "analysed.duckdb", tmp_path / "flushed.log"
    if existing:
        open_database(db).close()
    process = subprocess.Popen(
        [sys.executable, "-m", "burnout_tui.cli", "analyze", "demo", "--db", str(db)],
        env={**os.environ, FLUSH_LOG_ENV: str(log)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: bool(acknowledged(log)) or process.poll() is not None,
            "rows",
            poll_s=ANALYZE_POLL_S,
        )
        # Stopped, it cannot finish between this check and the signal.
        process.send_signal(signal.SIGSTOP)
        assert process.poll() is None, "analyze finished before it could be interrupted"
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGCONT)
        _, stderr = process.communicate(timeout=ANALYZE_TIMEOUT_S)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM
    assert stderr.strip().splitlines()[-1] == "Error: interrupted by SIGTERM"
    if existing:
        con = duckdb.connect(str(db), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM frames").fetchone() == (0,)
        finally:
            con.close()
    else:
        assert not db.exists() and not db.with_name(db.name + ".wal").exists()
