"""The DuckDB store: private file, migrations, the frame writer, metrics and failures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from burnout_tui import EMOTIONS
from burnout_tui.scoring.fatigue import FatigueFrame
from burnout_tui.store import (
    FATIGUE_COLUMNS,
    FEATURE_COLUMNS,
    MIGRATIONS,
    PROBABILITY_COLUMNS,
    FrameRow,
    FrameWriter,
    StoreError,
    migrate,
    open_database,
    repository,
    schema_version,
    store_cursor,
)
from burnout_tui.store import database as database_module
from burnout_tui.vision.face import Face

VISIBLE_WITHIN_S = 2.0
"""Generous bound on flush_interval_s (0.5 s here) plus an insert, for slow CI machines."""


def make_row(session_id: int, index: int, score: float = 0.0, track_id: int = 0) -> FrameRow:
    probs = [1.0 / len(EMOTIONS)] * len(EMOTIONS)
    features = [float(index % 5 + k) for k in range(len(FEATURE_COLUMNS))]
    return FrameRow(
        session_id=session_id,
        frame_index=index,
        ts=index / 30.0,
        track_id=track_id,
        box_x=10,
        box_y=20,
        box_w=30 + index % 7,
        box_h=40,
        det_score=0.99,
        **dict(zip(PROBABILITY_COLUMNS, probs, strict=True)),
        **dict(zip(FEATURE_COLUMNS, features, strict=True)),
        frame_score=score,
        rolling_score=score / 2,
    )


def new_session(con: duckdb.DuckDBPyConnection, user: str = "ana") -> int:
    user_id = repository.get_or_create_user(con, user)
    return repository.start_session(con, user_id, "demo", "{}")


def count_frames(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM frames").fetchone()
    assert row is not None
    return int(row[0])


def test_database_file_is_private(db: Path, con: duckdb.DuckDBPyConnection) -> None:
    assert db.stat().st_mode & 0o777 == 0o600
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        assert wal.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700


def test_reopen_repairs_permissions(db: Path) -> None:
    open_database(db).close()
    os.chmod(db, 0o644)
    open_database(db).close()
    assert db.stat().st_mode & 0o777 == 0o600


def test_migrations_recorded_and_idempotent(db: Path) -> None:
    con = open_database(db)
    versions = con.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
    assert [v for v, _ in versions] == list(range(1, len(MIGRATIONS) + 1))
    assert all(applied is not None for _, applied in versions)
    assert migrate(con) == []
    con.close()
    con = open_database(db)
    again = con.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
    assert again == versions
    assert schema_version(con) == len(MIGRATIONS)
    con.close()


def test_failing_migration_leaves_nothing(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    open_database(db).close()
    broken = "CREATE TABLE half_done (a INTEGER); SELECT no_such_function();"
    monkeypatch.setattr(database_module, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(StoreError, match="cannot prepare"):
        open_database(db)
    monkeypatch.undo()
    con = open_database(db)
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "half_done" not in tables
    assert schema_version(con) == len(MIGRATIONS)
    con.close()


def test_newer_schema_is_refused(db: Path) -> None:
    con = open_database(db)
    con.execute("INSERT INTO schema_migrations (version) VALUES (?)", [len(MIGRATIONS) + 1])
    con.close()
    with pytest.raises(StoreError, match="newer than this burnout-tui"):
        open_database(db)


def test_another_programs_database_is_refused(db: Path) -> None:
    db.parent.mkdir(parents=True)
    other = duckdb.connect(str(db))
    other.execute("CREATE TABLE invoices (id INTEGER)")
    other.close()
    with pytest.raises(StoreError, match="another program"):
        open_database(db)


@pytest.mark.parametrize("content", [b"", b"definitely not a database\n" * 200])
def test_not_a_database_file(db: Path, content: bytes) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        open_database(db)
    message = str(caught.value)
    assert "\n" not in message
    assert str(db) in message and "not a DuckDB database" in message


def test_locked_by_another_process(db: Path, con: duckdb.DuckDBPyConnection) -> None:
    probe = (
        "import sys\n"
        "from burnout_tui.store import StoreError, open_database\n"
        "try:\n"
        "    open_database(sys.argv[1])\n"
        "except StoreError as error:\n"
        "    print(error)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(db)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3, done.stderr
    message = done.stdout.strip()
    assert len(message.splitlines()) == 1
    assert str(db) in message
    assert "in use by another burnout-tui process" in message
    assert f"PID {os.getpid()}" in message
    assert "--db" in message


def test_in_memory_database() -> None:
    con = open_database(":memory:")
    assert schema_version(con) == len(MIGRATIONS)
    con.close()


def test_frame_row_fields_are_the_frames_columns(con: duckdb.DuckDBPyConnection) -> None:
    columns = [column[0] for column in con.execute("SELECT * FROM frames LIMIT 0").description]
    assert [field.name for field in fields(FrameRow)] == columns
    assert tuple(f"p_{name}" for name in EMOTIONS) == PROBABILITY_COLUMNS
    assert set(FEATURE_COLUMNS) <= set(columns)


def test_writer_flushes_without_close(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    reader = store_cursor(con)
    writer = FrameWriter(con, flush_interval_s=0.5, batch_rows=10_000)
    try:
        writer.put_many(make_row(session_id, i) for i in range(25))
        started = time.monotonic()
        while count_frames(reader) < 25:
            assert time.monotonic() - started < VISIBLE_WITHIN_S, "rows not flushed in time"
            time.sleep(0.02)
    finally:
        writer.close()


def test_flush_blocks_until_committed(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    with FrameWriter(con, flush_interval_s=1.0, batch_rows=10_000) as writer:
        writer.put_many(make_row(session_id, i) for i in range(100))
        writer.flush()
        assert count_frames(store_cursor(con)) == 100
    writer.flush()


def test_close_drains_everything(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    writer = FrameWriter(con, flush_interval_s=1.0, batch_rows=1_000)
    for i in range(5_500):
        writer.put(make_row(session_id, i))
    writer.close()
    writer.close()
    assert count_frames(con) == 5_500
    assert writer.rows_written == 5_500
    with pytest.raises(RuntimeError):
        writer.put(make_row(session_id, 0))


def test_ten_thousand_rows_round_trip(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    rows = [make_row(session_id, i, score=np.sin(i)) for i in range(10_000)]
    with FrameWriter(con) as writer:
        writer.put_many(rows)
    stored = con.execute("SELECT * FROM frames ORDER BY frame_index").fetchall()
    assert len(stored) == 10_000
    assert [FrameRow(*values) for values in stored] == rows


def test_writer_error_is_raised_in_the_caller(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    bad = replace(make_row(session_id, 0), ts=None)  # type: ignore[arg-type]
    writer = FrameWriter(con, flush_interval_s=0.1)
    writer.put(bad)
    with pytest.raises(StoreError, match="writing frames failed"):
        deadline = time.monotonic() + VISIBLE_WITHIN_S
        while time.monotonic() < deadline:
            writer.put(make_row(session_id, 1))
            time.sleep(0.02)
    writer.close()
    assert count_frames(con) == 0


def test_writer_rejects_anything_but_frame_rows(con: duckdb.DuckDBPyConnection) -> None:
    with FrameWriter(con) as writer, pytest.raises(TypeError):
        writer.put({"session_id": 1})  # type: ignore[arg-type]


def test_writer_error_raised_by_close(con: duckdb.DuckDBPyConnection) -> None:
    bad = replace(make_row(new_session(con), 0), ts=None)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="writing frames failed"), FrameWriter(con) as writer:
        writer.put(bad)


def test_session_metrics_match_numpy(con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(7)
    first, second, empty = new_session(con, "ana"), new_session(con, "bo"), new_session(con)
    scores = {first: rng.normal(0.2, 0.3, 300), second: rng.uniform(-1, 1, 50)}
    with FrameWriter(con) as writer:
        for session_id, values in scores.items():
            writer.put_many(make_row(session_id, i, float(s)) for i, s in enumerate(values))
        writer.put(make_row(second, 0, 0.9, track_id=1))
    scores[second] = np.append(scores[second], 0.9)
    repository.finish_session(con, first, 320)
    metrics = {
        row[0]: row
        for row in con.execute(
            "SELECT session_id, user_name, status, duration_s, valid_frames, frames_total,"
            " mean_score, min_score, max_score, std_score, volatility FROM session_metrics"
        ).fetchall()
    }
    assert set(metrics) == {first, second, empty}
    _, user, status, duration, valid, total, mean, low, high, std, var = metrics[first]
    assert (user, status, valid, total) == ("ana", "complete", 300, 320)
    assert duration is not None and duration >= 0
    values = scores[first]
    assert mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx((values.min(), values.max()))
    assert std == pytest.approx(values.std())
    assert var == pytest.approx(values.var())
    second_row = metrics[second]
    assert second_row[1:6] == ("bo", "running", None, 50, None), "two faces in frame 0"
    assert second_row[6] == pytest.approx(scores[second].mean())
    assert second_row[9] == pytest.approx(scores[second].std())
    assert metrics[empty][4] == 0 and metrics[empty][6] is None


def test_repository_round_trip(con: duckdb.DuckDBPyConnection) -> None:
    user_id = repository.get_or_create_user(con, "ana")
    assert repository.get_or_create_user(con, "ana") == user_id
    assert repository.get_or_create_user(con, "bo") != user_id
    with pytest.raises(ValueError):
        repository.get_or_create_user(con, "  ")
    session_id = repository.start_session(con, user_id, "camera:0", '{"a": 1}', notes="x")
    row = con.execute(
        "SELECT status, ended_at, started_at FROM sessions WHERE session_id = ?", [session_id]
    ).fetchone()
    assert row is not None and row[:2] == ("running", None)
    now_utc = datetime.now(timezone.utc).replace(tzinfo=None)
    assert abs(row[2] - now_utc) < timedelta(minutes=1), "timestamps are UTC"
    repository.finish_session(con, session_id, 10, "failed")
    with pytest.raises(StoreError, match="already finished"):
        repository.finish_session(con, session_id, 10)
    with pytest.raises(ValueError):
        repository.finish_session(con, session_id, 10, "running")  # type: ignore[arg-type]


def test_survey_times_must_be_aware(con: duckdb.DuckDBPyConnection) -> None:
    user_id = repository.get_or_create_user(con, "ana")
    with pytest.raises(ValueError):
        repository.add_survey(con, user_id, "MBI", datetime(2024, 5, 1, 12), {"q1": 3})
    taken = datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    survey_id = repository.add_survey(
        con, user_id, "MBI", taken, {"q1": 3}, subscales={"ee": 12.0}, total=30, burnout_01=0.4
    )
    row = con.execute(
        "SELECT taken_at, answers->>'q1', subscales->>'ee' FROM surveys WHERE survey_id = ?",
        [survey_id],
    ).fetchone()
    assert row == (datetime(2024, 5, 1, 12), "3", "12.0")


def test_delete_session_removes_rows_and_unlinks_surveys(con: duckdb.DuckDBPyConnection) -> None:
    keep, drop = new_session(con), new_session(con)
    with FrameWriter(con) as writer:
        writer.put_many(make_row(s, i) for s in (keep, drop) for i in range(10))
    repository.add_marker(store_cursor(con), drop, 1.0, "coffee")
    user_id = repository.get_or_create_user(con, "ana")
    survey_id = repository.add_survey(
        con, user_id, "MBI", datetime.now(timezone.utc), {}, session_id=drop
    )
    repository.delete_session(con, drop)
    assert con.execute("SELECT DISTINCT session_id FROM frames").fetchall() == [(keep,)]
    assert con.execute("SELECT count(*) FROM markers").fetchone() == (0,)
    assert con.execute("SELECT session_id FROM sessions").fetchall() == [(keep,)]
    linked = con.execute("SELECT session_id FROM surveys WHERE survey_id = ?", [survey_id])
    assert linked.fetchone() == (None,)


@dataclass(frozen=True)
class FakeFaceResult:
    track_id: int
    face: Face
    probs: np.ndarray
    features: np.ndarray
    frame_score: float
    rolling_score: float
    forecast: float | None = None
    fatigue: FatigueFrame | None = None
    normalized_score: float | None = None
    pulse: Any = None
    blendshapes: tuple[float, ...] | None = None


def test_frame_row_from_a_pipeline_result() -> None:
    probs = np.arange(1, 8, dtype=np.float32) / 28
    features = np.arange(len(FEATURE_COLUMNS), dtype=np.float32)
    result = FakeFaceResult(2, Face((1, 2, 3, 4), 0.95), probs, features, 0.25, 0.5)
    row = FrameRow.from_result(9, 12, 0.4, result)
    assert (row.session_id, row.frame_index, row.track_id) == (9, 12, 2)
    assert (row.box_x, row.box_y, row.box_w, row.box_h) == (1, 2, 3, 4)
    assert row.p_angry == pytest.approx(1 / 28) and row.p_neutral == pytest.approx(7 / 28)
    assert [getattr(row, name) for name in FEATURE_COLUMNS] == list(range(len(FEATURE_COLUMNS)))
    assert row.forecast is None
    assert row.ear_left is None and row.blink is None and row.normalized_score is None
    with pytest.raises(ValueError, match="features"):
        FrameRow.from_result(9, 12, 0.4, replace(result, features=np.zeros(7)))


def test_fatigue_cues_are_stored_under_their_own_names(tmp_path: Path) -> None:
    """Every FatigueFrame field has a column, and a round trip through the writer keeps it."""
    fatigue = FatigueFrame(
        ear_left=0.31,
        ear_right=0.29,
        mar=0.05,
        head_yaw=-4.0,
        head_pitch=2.5,
        head_roll=1.0,
        eyes_closed=False,
        blink=True,
        yawn=False,
        looking_away=True,
        blink_rate=14.0,
        perclos=0.08,
        calibrated=True,
    )
    assert set(FATIGUE_COLUMNS) == {field.name for field in fields(FatigueFrame)} - {"calibrated"}
    probs = np.full(7, 1 / 7, dtype=np.float32)
    features = np.zeros(len(FEATURE_COLUMNS), dtype=np.float32)
    result = FakeFaceResult(
        0, Face((1, 2, 3, 4), 0.9), probs, features, 0.1, 0.2, 0.3, fatigue, 1.5
    )
    con = open_database(tmp_path / "fatigue.duckdb")
    user_id = repository.get_or_create_user(con, "ana")
    session_id = repository.start_session(con, user_id, "demo", "{}")
    with FrameWriter(con, flush_interval_s=0.1) as writer:
        writer.put_many([FrameRow.from_result(session_id, 0, 0.0, result)])
    columns = ", ".join(FATIGUE_COLUMNS)
    stored = con.execute(f"SELECT {columns}, normalized_score FROM v_frames").fetchone()
    assert stored == (*(getattr(fatigue, name) for name in FATIGUE_COLUMNS), 1.5)
    summary = con.execute("SELECT blinks, yawns, looking_away_share FROM v_session_fatigue")
    assert summary.fetchone() == (1, 0, 1.0)
