"""`analyze --multi-user` stores each tracked face under its own id, each mapped to a user."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from burnout_tui.cli import cli
from burnout_tui.store import repository

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

SEATED_PEOPLE = 4
"""short_hamilton_clip.mp4 ends with four people in view
(see tests/integration/test_tracking.py)."""


def test_analyze_multi_user_stores_tracks_mapped_to_users(
    shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "m.duckdb"
    video = shared_data / "videos" / "short_hamilton_clip.mp4"
    result = CliRunner().invoke(
        cli, ["analyze", str(video), "--multi-user", "--db", str(db), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    con = duckdb.connect(str(db))
    try:
        session_id = report["session_id"]
        stored = {
            int(track_id)
            for (track_id,) in con.execute(
                "SELECT DISTINCT track_id FROM frames WHERE session_id = ?", [session_id]
            ).fetchall()
        }
        names = repository.track_users(con, session_id)
        assert len(stored) >= SEATED_PEOPLE
        assert set(names) == stored
        assert len(set(names.values())) == len(names), "one user per track"
        assert all(name.startswith("user") for name in names.values())
        assert report["tracks"] == {str(k): v for k, v in names.items()}
        last = con.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM frames"
            " WHERE session_id = ? AND frame_index >= 225 GROUP BY frame_index)",
            [session_id],
        ).fetchone()
        assert last is not None and last[0] >= SEATED_PEOPLE
        some_track = min(names)
        repository.assign_track_user(con, session_id, some_track, "Barack")
        renamed = con.execute(
            'SELECT DISTINCT "user" FROM v_track_frames WHERE session_id = ? AND track_id = ?',
            [session_id, some_track],
        ).fetchall()
        assert renamed == [("Barack",)]
    finally:
        con.close()
