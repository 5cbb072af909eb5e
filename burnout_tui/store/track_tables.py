"""The tables of per-face rows, named once for everything that must treat them alike.

A per-face table holds rows keyed by `(session_id, track_id)`: `frames` (one row per face
per frame), and the side tables stages add (per second, per blink, …). Whose such a row is
follows `v_track_frames`: the person the track is (`track_users`), else the session's
user. Deleting a session, forgetting a person, exporting to Parquet and reading an export
back all walk this tuple, so a new per-face table is its migration, its row class
(`store/table_rows.py`) and its name here, and no erasure or export can miss it.
"""

from __future__ import annotations

TRACK_TABLES: tuple[str, ...] = ("frames", "heart", "blinks")
"""Every per-face table, `frames` first."""
