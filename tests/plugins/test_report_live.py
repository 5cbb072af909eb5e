"""Plugin reports on a database a capture worker is recording into: read through the worker.

The worker runs in this process and holds the file for writing, so `report` (a child
process) cannot open it and gets the worker's copy of every table instead; a report of
the complete sessions must print exactly what it printed before the recording started.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from burnout_tui.config import Config
from burnout_tui.runtime.capture import CaptureWorker
from burnout_tui.sources import parse_source
from burnout_tui.store import live_client, open_database
from tests.command_line import run_cli
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def recording(demo_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the demo store that a capture worker is recording a new session into."""
    path = tmp_path / "recording.duckdb"
    path.write_bytes(demo_db.read_bytes())
    con = open_database(path)
    worker = CaptureWorker(parse_source("demo"), Config(), con, "ana", fast=True)
    worker.start()
    try:
        wait_until(lambda: worker.status().face_frames > 0, "the new session's frames")
        yield path
    finally:
        worker.stop()
        con.close()


def test_a_plugin_report_runs_unchanged_while_a_session_records(
    demo_db: Path, recording: Path
) -> None:
    before = run_cli("report", "longitudinal", "--db", str(demo_db), "--json")
    assert before.returncode == 0, before.stderr
    live = run_cli("report", "longitudinal", "--db", str(recording), "--json")
    assert live.returncode == 0, live.stderr
    assert json.loads(live.stdout) == json.loads(before.stdout)
    assert live.stderr.count("is being recorded by a running monitor") == 1
    running = live_client.query(recording, "SELECT count(*) AS n FROM v_sessions")
    assert running.column("n").to_pylist() == [2]
