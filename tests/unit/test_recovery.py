"""Sessions left `running` by a dead process are closed as `interrupted` at the next open,
and a process killed at any moment leaves a file that opens again."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from burnout_tui.store import FrameWriter, open_database, repository
from burnout_tui.store.recovery import recover_interrupted
from burnout_tui.store.writer import FLUSH_LOG_ENV
from tests.unit.test_store import make_row

TS_TOLERANCE_S = 2e-6
"""TIMESTAMP keeps microseconds, and the difference of two epochs near 1.7e9 s as doubles
carries a few tenths of a microsecond more: the ended_at is right to the microsecond."""


def start(con: duckdb.DuckDBPyConnection, user: str = "ana") -> int:
    return repository.start_session(con, repository.get_or_create_user(con, user), "demo", "{}")


def session(con: duckdb.DuckDBPyConnection, session_id: int) -> tuple[object, ...]:
    row = con.execute(
        "SELECT status, epoch(ended_at) - epoch(started_at), frames_total FROM sessions"
        " WHERE session_id = ?",
        [session_id],
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_running_session_is_interrupted_at_the_next_open(tmp_path: Path) -> None:
    db = tmp_path / "sessions.duckdb"
    con = open_database(db)
    with_rows, without_rows, finished = start(con), start(con), start(con)
    with FrameWriter(con) as writer:
        # Frames 0-9 and 14 had a face (two tracks on 14); 10-13 and any after 14 had none.
        writer.put_many(make_row(with_rows, index) for index in range(10))
        writer.put_many(make_row(with_rows, 14, track_id=track) for track in (0, 1))
    repository.finish_session(con, finished, 7)
    con.close()  # the process "dies": nothing finishes the two running sessions

    con = open_database(db)
    try:
        assert session(con, with_rows) == (
            "interrupted",
            pytest.approx(14 / 30.0, abs=TS_TOLERANCE_S),
            15,
        )
        assert session(con, without_rows) == ("interrupted", 0.0, 0)
        assert session(con, finished)[0::2] == ("complete", 7)
        statuses = con.execute("SELECT status FROM v_sessions ORDER BY session_id").fetchall()
        assert statuses == [("interrupted",), ("interrupted",), ("complete",)]
        assert con.execute("SELECT count(*) FROM frames").fetchone() == (12,), "rows are kept"
        assert recover_interrupted(con) == [], "nothing left to recover"
    finally:
        con.close()


def test_ended_at_is_the_last_frames_time(tmp_path: Path) -> None:
    """The same clock as `v_frames.frame_time`, so the session ends on its last frame."""
    con = open_database(tmp_path / "sessions.duckdb")
    try:
        session_id = start(con)
        with FrameWriter(con) as writer:
            writer.put_many(make_row(session_id, index) for index in range(45))
        assert recover_interrupted(con) == [session_id]
        ended, last_frame = con.execute(
            "SELECT s.ended_at, max(f.frame_time) FROM sessions AS s"
            " JOIN v_frames AS f USING (session_id) GROUP BY s.ended_at"
        ).fetchone()  # type: ignore[misc]
        assert abs(ended - last_frame) < timedelta(milliseconds=1)
    finally:
        con.close()


KILLED_AFTER_OPEN = """
import os, sys
from burnout_tui.store import open_database, repository
con = open_database(sys.argv[1])
repository.start_session(con, repository.get_or_create_user(con, "ana"), "demo", "{}")
os._exit(0)  # no close, no checkpoint: what kill -9 leaves
"""


def test_a_process_killed_after_creating_the_database_leaves_it_openable(tmp_path: Path) -> None:
    """DuckDB 1.5.5 cannot replay a WAL that holds migration 5's table rebuild."""
    db = tmp_path / "sessions.duckdb"
    subprocess.run([sys.executable, "-c", KILLED_AFTER_OPEN, str(db)], check=True)
    con = open_database(db)
    try:
        assert con.execute("SELECT status FROM sessions").fetchall() == [("interrupted",)]
    finally:
        con.close()


def test_the_flush_log_counts_committed_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "flushed.log"
    monkeypatch.setenv(FLUSH_LOG_ENV, str(log))
    con = open_database(tmp_path / "sessions.duckdb")
    try:
        session_id = start(con)
        with FrameWriter(con, batch_rows=4, flush_interval_s=60.0) as writer:
            writer.put_many(make_row(session_id, index) for index in range(10))
            writer.flush()
            assert log.read_text().split() == ["4", "8", "10"]
            assert con.execute("SELECT count(*) FROM frames").fetchone() == (10,)
    finally:
        con.close()
    assert log.stat().st_mode & 0o777 == 0o600
