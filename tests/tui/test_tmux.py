"""The real `burnout-tui monitor` in a real terminal (tmux), driven by keys like a person.

This is the one test that sees what a user sees: the process, its screen at 100×30,
its key handling and its shutdown, with the real models on a shared clip.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.tui.tmux import POLL_S, SCREEN_TIMEOUT_S, Tmux

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def test_monitor_in_tmux(tmux: Tmux, shared_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    clip = shared_data / "videos" / "liveportrait_d6.mp4"
    command = (
        f"{sys.executable} -m burnout_tui.cli monitor --source {clip} --user tmuxer --db {db}"
        f"; echo EXITED=$? > {tmp_path / 'exit.txt'}"
    )
    tmux.start("bash", "-c", command)
    tmux.wait_for(lambda screen: "face: found" in screen, "a face to be reported")

    tmux.keys("m")
    tmux.wait_for(lambda screen: "Marker" in screen or "note" in screen.lower(), "the marker box")
    tmux.run("send-keys", "-t", tmux.name, "-l", "coffee break")
    tmux.keys("Enter")

    tmux.keys("s")
    tmux.wait_for(lambda screen: "Which survey?" in screen, "the survey picker")
    tmux.keys("Down", "Down", "Down", "Enter")
    tmux.wait_for(lambda screen: "How stressed" in screen, "the check-in form")
    tmux.keys("7", "Enter", "8", "Enter", "3", "Enter")
    tmux.wait_for(lambda screen: "face:" in screen and "Which survey?" not in screen, "monitor")

    tmux.keys("q")
    exit_file = tmp_path / "exit.txt"
    deadline = time.monotonic() + SCREEN_TIMEOUT_S
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert exit_file.read_text().strip() == "EXITED=0"

    con = duckdb.connect(str(db), read_only=True)
    try:
        status, frames_total = con.execute("SELECT status, frames_total FROM sessions").fetchone()  # type: ignore[misc]
        frame_rows = con.execute("SELECT count(*) FROM frames").fetchone()
        markers = con.execute("SELECT note FROM markers").fetchall()
        surveys = con.execute(
            "SELECT instrument, answers, session_id IS NOT NULL FROM surveys"
        ).fetchall()
    finally:
        con.close()
    assert status == "complete"
    assert frames_total > 0
    assert frame_rows is not None and frame_rows[0] > 0
    assert markers == [("coffee break",)]
    assert len(surveys) == 1
    instrument, answers, linked = surveys[0]
    assert instrument == "checkin"
    assert '"stress": 7' in answers and '"motivation": 3' in answers
    assert linked
