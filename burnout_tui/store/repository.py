"""Plain functions for the rows that are not frames: users, sessions, markers, surveys.

Each takes a connection or a cursor, so a thread passes its own `store_cursor(con)`.
Timestamps are written in UTC by the database itself, so every row shares one clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from burnout_tui.store.errors import StoreError
from burnout_tui.store.track_tables import TRACK_TABLES

if TYPE_CHECKING:
    import duckdb

FinalStatus = Literal["complete", "failed", "truncated"]
FINAL_STATUSES: tuple[str, ...] = ("complete", "failed", "truncated")
"""`truncated`: every frame that could be read is stored, but the file ended before the
frame count its container announces (a cut download, a recording that crashed)."""


def _one_int(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int | None:
    row = con.execute(sql, params).fetchone()
    return None if row is None else int(row[0])


def get_or_create_user(con: duckdb.DuckDBPyConnection, name: str) -> int:
    if not name.strip():
        raise ValueError("a user name must not be blank")
    existing = _one_int(con, "SELECT user_id FROM users WHERE name = ?", [name])
    if existing is not None:
        return existing
    created = _one_int(con, "INSERT INTO users (name) VALUES (?) RETURNING user_id", [name])
    assert created is not None, "INSERT ... RETURNING returns the new row"
    return created


def start_session(
    con: duckdb.DuckDBPyConnection,
    user_id: int,
    source: str,
    config_json: str,
    notes: str | None = None,
    *,
    emotion_model: str | None = None,
) -> int:
    """Create a session in status 'running'; it stays so until finish_session.

    `emotion_model` names the emotion model that scores its frames (`[emotion] model`);
    the runner always gives it, None (NULL) is for rows made without the pipeline."""
    session_id = _one_int(
        con,
        "INSERT INTO sessions (user_id, source, config_json, notes, emotion_model)"
        " VALUES (?, ?, ?, ?, ?) RETURNING session_id",
        [user_id, source, config_json, notes, emotion_model],
    )
    assert session_id is not None, "INSERT ... RETURNING returns the new row"
    return session_id


def finish_session(
    con: duckdb.DuckDBPyConnection,
    session_id: int,
    frames_total: int,
    status: FinalStatus = "complete",
) -> None:
    """Close a running session. Call after the FrameWriter is flushed or closed, so a
    'complete' session never lacks rows."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"status must be one of {FINAL_STATUSES}, got {status!r}")
    updated = _one_int(
        con,
        "UPDATE sessions SET status = ?, frames_total = ?,"
        " ended_at = current_timestamp AT TIME ZONE 'UTC'"
        " WHERE session_id = ? AND status = 'running' RETURNING session_id",
        [status, frames_total, session_id],
    )
    if updated is None:
        raise StoreError(f"session {session_id} does not exist or is already finished")


def delete_session(con: duckdb.DuckDBPyConnection, session_id: int) -> None:
    """Remove a session and its per-face rows and markers atomically, e.g. after a failed
    analysis, so nothing half-written can pass for a result. Surveys linked to it are
    kept and unlinked: they are answers a person gave, not derived data. Close the
    session's FrameWriter first, or rows it writes later will be orphans."""
    con.begin()
    try:
        for table in TRACK_TABLES:
            con.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
        con.execute("DELETE FROM markers WHERE session_id = ?", [session_id])
        con.execute("DELETE FROM track_users WHERE session_id = ?", [session_id])
        con.execute("DELETE FROM calibrations WHERE session_id = ?", [session_id])
        con.execute("UPDATE surveys SET session_id = NULL WHERE session_id = ?", [session_id])
        con.execute("DELETE FROM sessions WHERE session_id = ?", [session_id])
        con.commit()
    except BaseException:
        con.rollback()
        raise


AUTO_USER_PREFIX = "user"
AUTO_USER_DIGITS = 3
"""Auto names read user001, user002, …; more than 999 simply grow a digit."""


def next_auto_user_name(con: duckdb.DuckDBPyConnection) -> str:
    """The first userNNN after every existing one, so that an anonymous face in a new
    session never silently joins the history of a different person from an older one."""
    rows = con.execute(
        "SELECT name FROM users WHERE regexp_full_match(name, ?)",
        [f"{AUTO_USER_PREFIX}[0-9]+"],
    ).fetchall()
    taken = [int(str(name)[len(AUTO_USER_PREFIX) :]) for (name,) in rows]
    return f"{AUTO_USER_PREFIX}{max(taken, default=0) + 1:0{AUTO_USER_DIGITS}d}"


def assign_track_user(
    con: duckdb.DuckDBPyConnection, session_id: int, track_id: int, user_name: str
) -> int:
    """Map a track of a multi-user session to a person (created if new); returns user_id.

    Called on first sight with an auto name and again when someone renames the track:
    the mapping holds for the whole session, so every row of that track, earlier ones
    included, belongs to the new name.
    """
    user_id = get_or_create_user(con, user_name)
    con.execute(
        "INSERT OR REPLACE INTO track_users (session_id, track_id, user_id) VALUES (?, ?, ?)",
        [session_id, track_id, user_id],
    )
    return user_id


def auto_name_tracks(
    con: duckdb.DuckDBPyConnection, session_id: int, track_ids: Iterable[int]
) -> dict[int, str]:
    """Give each of these newly seen tracks the next free userNNN and store the mapping."""
    names: dict[int, str] = {}
    for track_id in track_ids:
        names[track_id] = next_auto_user_name(con)
        assign_track_user(con, session_id, track_id, names[track_id])
    return names


def track_users(con: duckdb.DuckDBPyConnection, session_id: int) -> dict[int, str]:
    """Track id → user name for one session."""
    rows = con.execute(
        "SELECT t.track_id, u.name FROM track_users AS t JOIN users AS u USING (user_id)"
        " WHERE t.session_id = ? ORDER BY t.track_id",
        [session_id],
    ).fetchall()
    return {int(track_id): str(name) for track_id, name in rows}


def add_marker(con: duckdb.DuckDBPyConnection, session_id: int, ts: float, note: str) -> None:
    """`ts` is seconds from the session start, on the same clock as frames.ts."""
    con.execute("INSERT INTO markers VALUES (?, ?, ?)", [session_id, ts, note])


def add_survey(
    con: duckdb.DuckDBPyConnection,
    user_id: int,
    instrument: str,
    taken_at: datetime,
    answers: Mapping[str, Any],
    *,
    subscales: Mapping[str, float] | None = None,
    total: float | None = None,
    burnout_01: float | None = None,
    session_id: int | None = None,
) -> int:
    """Store one completed questionnaire; returns its survey_id.

    `taken_at` must carry a time zone: a naive time could be local or UTC, and guessing
    wrong would shift surveys against sessions by hours. `burnout_01` is the instrument's
    burnout measure rescaled to [0, 1], the value compared with the camera proxy.
    """
    if taken_at.tzinfo is None or taken_at.utcoffset() is None:
        raise ValueError("taken_at must be timezone-aware")
    utc = taken_at.astimezone(timezone.utc).replace(tzinfo=None)
    survey_id = _one_int(
        con,
        "INSERT INTO surveys (user_id, session_id, instrument, taken_at, answers, subscales,"
        " total, burnout_01) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING survey_id",
        [
            user_id,
            session_id,
            instrument,
            utc,
            json.dumps(dict(answers)),
            None if subscales is None else json.dumps(dict(subscales)),
            total,
            burnout_01,
        ],
    )
    assert survey_id is not None, "INSERT ... RETURNING returns the new row"
    return survey_id
