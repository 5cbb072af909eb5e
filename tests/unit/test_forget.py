"""`burnout-tui forget`: every row of a person goes, bytes included, and nobody else's."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from burnout_tui.runtime.personal_models import personal_model_path
from burnout_tui.store import open_database, repository
from burnout_tui.store.database import wal_path
from burnout_tui.store.erase import compact, rebuild_path
from tests.command_line import assert_one_line_error, run_cli

NAME = "zzforgetme"
SECRETS = (NAME, "zz-marker-4f1c9e", "zz-answer-7d2b06", "zz-note-93ae51")
"""Strings that exist nowhere but in the forgotten person's rows: the name, a marker
note, a survey answer (its JSON key) and a session note."""
OTHER = "zzother"
KEEPER = "keeper"
SHARED_TRACK = 100
"""A track of NAME added to the keeper's multi-user session."""
PRIVATE_MODE = 0o600
SURVIVORS = (
    'SELECT * FROM v_track_frames WHERE "user" <> ? ORDER BY session_id, track_id, frame_index',
    'SELECT * EXCLUDE (session_id) FROM v_surveys WHERE "user" <> ? ORDER BY survey_id',
    "SELECT * FROM users WHERE name <> ? ORDER BY user_id",
)


def _copy_frames(con: duckdb.DuckDBPyConnection, into: int, track_offset: int) -> None:
    con.execute(
        "INSERT INTO frames SELECT * REPLACE (? AS session_id, track_id + ? AS track_id)"
        " FROM frames WHERE session_id = 1",
        [into, track_offset],
    )


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The keeper's analysed multi-user demo session (1) with one more track that is
    NAME; NAME's own session (2) with a marker, a note and a calibration; NAME's
    multi-user session (3) with a track of OTHER and an unmapped track (NAME's); NAME's
    survey, and a survey of the keeper's linked to session 2."""
    forget_db = tmp_path_factory.mktemp("forget") / "s.duckdb"
    done = run_cli("analyze", "demo", "--multi-user", "--user", KEEPER, "--db", str(forget_db))
    assert done.returncode == 0, done.stderr
    con = open_database(forget_db)
    try:
        [track] = repository.track_users(con, 1)
        _copy_frames(con, 1, SHARED_TRACK - track)
        repository.assign_track_user(con, 1, SHARED_TRACK, NAME)
        user = repository.get_or_create_user(con, NAME)
        own = repository.start_session(con, user, "demo", "{}", notes=SECRETS[3])
        _copy_frames(con, own, 0)
        repository.add_marker(con, own, 0.5, SECRETS[1])
        con.execute(
            "INSERT INTO calibrations (user_id, session_id, face_frames, score_mean, score_std)"
            " VALUES (?, ?, 10, 0.5, 0.1)",
            [user, own],
        )
        shared = repository.start_session(con, user, "demo", "{}", notes=SECRETS[3])
        _copy_frames(con, shared, 0)
        _copy_frames(con, shared, 1)
        repository.assign_track_user(con, shared, track, OTHER)
        repository.add_marker(con, shared, 0.5, SECRETS[1])
        now = datetime.now(timezone.utc)
        repository.add_survey(con, user, "checkin", now, {SECRETS[2]: 3})
        keeper = repository.get_or_create_user(con, KEEPER)
        repository.add_survey(con, keeper, "checkin", now, {"q1": 5}, session_id=own)
        for session_id in (own, shared):
            repository.finish_session(con, session_id, frames_total=1)
    finally:
        con.close()
    return forget_db


@pytest.fixture
def forget_db(base_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    shutil.copy(base_db, path)
    model = personal_model_path(path, NAME)
    model.parent.mkdir(mode=0o700)
    model.write_bytes(b"stands in for the file train writes; forget only deletes it")
    return path


def file_bytes(path: Path) -> bytes:
    return b"".join(f.read_bytes() for f in (path, wal_path(path)) if f.exists())


def found(path: Path) -> list[str]:
    content = file_bytes(path)
    return [secret for secret in SECRETS if secret.encode() in content]


def query(path: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def catalog(path: Path) -> list[tuple[object, ...]]:
    return query(
        path,
        "SELECT 'table', table_name, sql FROM duckdb_tables() UNION ALL "
        "SELECT 'view', view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY ALL",
    )


def test_forget_removes_every_row_and_byte(forget_db: Path) -> None:
    assert found(forget_db) == list(SECRETS), "the secrets must be in the file to begin with"
    frames_of = query(forget_db, 'SELECT count(*) FROM v_track_frames WHERE "user" = ?', [NAME])
    survivors = [query(forget_db, sql, [NAME]) for sql in SURVIVORS]
    schema = catalog(forget_db)
    next_session = query(forget_db, "SELECT max(session_id) + 1 FROM sessions")[0][0]

    done = run_cli("forget", "--user", NAME, "--yes", "--json", "--db", str(forget_db))

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["removed"] == {
        "frames": frames_of[0][0],
        "blinks": 0,
        "heart": 0,
        "markers": 2,
        "calibrations": 1,
        "track_users": 1,
        "surveys": 1,
        "sessions": 1,
        "users": 1,
    }
    assert payload["reowned_sessions"] == [{"session_id": 3, "user": OTHER}]
    assert payload["surveys_unlinked"] == 1
    assert payload["files_removed"] == [str(personal_model_path(forget_db, NAME))]
    assert not personal_model_path(forget_db, NAME).exists()
    assert found(forget_db) == []
    assert [query(forget_db, sql, [NAME]) for sql in SURVIVORS] == survivors
    assert query(forget_db, 'SELECT session_id, "user" FROM v_sessions ORDER BY 1') == [
        (1, KEEPER),
        (3, OTHER),
    ]
    assert query(forget_db, "SELECT notes FROM sessions WHERE session_id = 3") == [(None,)]
    assert query(forget_db, "SELECT count(*) FROM markers") == [(0,)]
    assert query(forget_db, "SELECT session_id FROM surveys") == [(None,)], "unlinked, kept"
    assert catalog(forget_db) == schema
    assert forget_db.stat().st_mode & 0o777 == PRIVATE_MODE
    assert not wal_path(forget_db).exists() and not rebuild_path(forget_db).exists()
    con = open_database(forget_db)
    try:
        user = repository.get_or_create_user(con, "later")
        assert repository.start_session(con, user, "demo", "{}") == next_session
    finally:
        con.close()


def test_forget_text_output_names_what_it_did(forget_db: Path) -> None:
    done = run_cli("forget", "--user", NAME, "--yes", "--db", str(forget_db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"forgot {NAME}: removed ")
    assert f"session 3 kept for the other people in it, re-owned by {OTHER}" in done.stdout
    assert f"deleted {personal_model_path(forget_db, NAME)}" in done.stdout


def test_unknown_name_is_one_line_and_changes_nothing(forget_db: Path) -> None:
    before = hashlib.sha256(file_bytes(forget_db)).hexdigest()
    done = run_cli("forget", "--user", "nobody", "--yes", "--db", str(forget_db))
    assert_one_line_error(done, "no user named 'nobody'")
    assert hashlib.sha256(file_bytes(forget_db)).hexdigest() == before
    assert personal_model_path(forget_db, NAME).exists()


def test_without_a_terminal_or_yes_it_refuses(forget_db: Path) -> None:
    done = run_cli("forget", "--user", NAME, "--db", str(forget_db))
    assert_one_line_error(done, "--yes")
    assert query(forget_db, "SELECT count(*) FROM users WHERE name = ?", [NAME]) == [(1,)]
    assert personal_model_path(forget_db, NAME).exists()


def run_on_terminal(forget_db: Path, typed: str) -> tuple[int, str]:
    """Run forget with a pseudo-terminal as stdin, type `typed` and Enter."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("BURNOUT_TUI_DB", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "burnout_tui.cli", "forget", "--user", NAME, "--db", str(forget_db)],
        stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    os.close(follower)
    os.write(leader, typed.encode() + b"\n")
    _, err = child.communicate(timeout=120)
    os.close(leader)
    return child.returncode, err


def test_on_a_terminal_the_name_must_be_typed(forget_db: Path) -> None:
    code, err = run_on_terminal(forget_db, "zzforget")
    assert code != 0 and "not confirmed" in err, err
    assert found(forget_db) == list(SECRETS)
    code, err = run_on_terminal(forget_db, NAME)
    assert code == 0, err
    assert "re-owned by zzother" in err
    assert found(forget_db) == []


def test_refuses_while_a_monitor_holds_the_file(
    forget_db: Path, hold_database: Callable[[Path], Path]
) -> None:
    held = hold_database(forget_db)
    done = run_cli("forget", "--user", NAME, "--yes", "--db", str(held))
    assert_one_line_error(done, "in use by another burnout-tui process")
    assert personal_model_path(held, NAME).exists()


def test_compact_drops_bytes_that_delete_checkpoint_and_vacuum_leave(forget_db: Path) -> None:
    """The measurement behind `compact`: DuckDB 1.5.5 keeps deleted strings on disk."""
    con = open_database(forget_db)
    try:
        con.execute("DELETE FROM markers")
        con.execute("CHECKPOINT")
        con.execute("VACUUM")
        con.execute("FORCE CHECKPOINT")
    finally:
        con.close()
    assert SECRETS[1] in found(forget_db)
    compact(forget_db)
    assert SECRETS[1] not in found(forget_db)
    assert forget_db.stat().st_mode & 0o777 == PRIVATE_MODE


def test_forget_removes_the_persons_heart_rows_and_no_one_elses(forget_db: Path) -> None:
    """Heart-rate seconds follow the person their track is (`TRACK_TABLES`): NAME's own
    session, NAME's track in the keeper's session; the keeper's seconds stay."""
    con = open_database(forget_db)
    try:
        [track] = [t for t in repository.track_users(con, 1) if t != SHARED_TRACK]
        for into, offset in ((1, SHARED_TRACK - track), (2, 0)):
            con.execute(
                "INSERT INTO heart SELECT * REPLACE (? AS session_id, track_id + ? AS track_id)"
                " FROM heart WHERE session_id = 1 AND track_id = ?",
                [into, offset, track],
            )
    finally:
        con.close()
    seconds = 'SELECT count(*) FROM v_heart WHERE "user" = ?'
    [(theirs,)] = query(forget_db, seconds, [NAME])
    [(others,)] = query(forget_db, 'SELECT count(*) FROM v_heart WHERE "user" <> ?', [NAME])
    assert theirs > 0 and others > 0, "the demo session has heart rows to copy"
    kept = query(forget_db, 'SELECT * FROM v_heart WHERE "user" <> ? ORDER BY ALL', [NAME])

    done = run_cli("forget", "--user", NAME, "--yes", "--json", "--db", str(forget_db))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["removed"]["heart"] == theirs
    assert query(forget_db, seconds, [NAME]) == [(0,)]
    assert query(forget_db, 'SELECT * FROM v_heart WHERE "user" <> ? ORDER BY ALL', [NAME]) == kept
