"""Sessions left `running` by a process that died (kill -9, a crash, power loss).

A session is `running` only while the process that started it is alive: every way out of
the monitor or `analyze` finalises or deletes it. DuckDB lets one read-write process hold a
file at a time, so a `running` session found while opening the file belongs to a process
that is gone; it is marked `interrupted` and closed with what its rows say:

- `ended_at` is the time of its last stored frame, `started_at + max(frames.ts)`, the same
  clock as `v_frames.frame_time` (`started_at` itself when it has no rows): the process
  died some time after that frame, but nothing says when.
- `frames_total` is `max(frame_index) + 1`: the frames processed up to the last stored one.
  A complete session's `frames_total` counts every processed frame, with or without a face,
  and frame indices number them all; counting distinct stored indices would count only the
  frames with a face (those are `valid_frames` in `session_metrics`). Frames processed after
  the last stored row cannot be known, so this is a lower bound, exact up to that frame.

The rows themselves are kept: each committed batch is real data, at most one writer flush
interval (`store.flush_interval_s`) short of the moment the process died. Reports that want
finished work keep filtering on `status = 'complete'`.

Run this only when the file is opened, never on a connection that may already have
started a session of its own (that session would be `running` and alive).
"""

from __future__ import annotations

import duckdb

INTERRUPTED = "interrupted"

_RECOVER = """
UPDATE sessions
SET status = 'interrupted',
    ended_at = started_at + to_seconds(coalesce(
        (SELECT max(f.ts) FROM frames AS f WHERE f.session_id = sessions.session_id), 0)),
    frames_total = coalesce(
        (SELECT max(f.frame_index) + 1 FROM frames AS f WHERE f.session_id = sessions.session_id),
        0)
WHERE status = 'running'
"""

_RECOVER_ALL = _RECOVER + "RETURNING session_id"
_RECOVER_ONE = _RECOVER + "AND session_id = ?"


def recover_interrupted(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Mark every `running` session `interrupted` (see the module); returns their ids, sorted.

    One statement, so one transaction: either every such session is closed or none is.
    """
    return sorted(int(session_id) for (session_id,) in con.execute(_RECOVER_ALL).fetchall())


def interrupt_session(con: duckdb.DuckDBPyConnection, session_id: int) -> None:
    """Close one `running` session `interrupted` by the same rule, now: for a process
    that is alive but cannot finish the session (its last rows could not be written)."""
    con.execute(_RECOVER_ONE, [session_id])
