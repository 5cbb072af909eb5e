"""The command line as a user meets it: analyze, and every way input can be bad."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest

from tests.command_line import assert_one_line_error, run_cli


def test_analyze_demo_json(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    done = run_cli("analyze", "demo", "--db", str(db), "--json", "--user", "ana")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for key in ("session_id", "frames", "face_frames", "fps", "burnout_mean"):
        assert key in report
    assert report["frames"] > 0
    assert report["face_frames"] >= 0.9 * report["frames"], "the demo face should be found"
    assert (db.stat().st_mode & 0o777) == 0o600
    con = duckdb.connect(str(db), read_only=True)
    status, frames_total = con.execute(
        "SELECT status, frames_total FROM sessions WHERE session_id = ?", [report["session_id"]]
    ).fetchone()  # type: ignore[misc]
    rows = con.execute("SELECT count(*) FROM frames").fetchone()
    con.close()
    assert status == "complete"
    assert frames_total == report["frames"]
    assert rows == (report["face_frames"],)


def test_analyze_table_output(tmp_path: Path) -> None:
    done = run_cli("analyze", "demo", "--db", str(tmp_path / "s.duckdb"))
    assert done.returncode == 0, done.stderr
    assert "frames with a face" in done.stdout
    assert "burnout proxy" in done.stdout


def test_missing_file(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    done = run_cli("analyze", str(tmp_path / "missing.mp4"), "--db", str(db))
    assert_one_line_error(done, "no such file")
    assert not db.exists()


def test_non_video_file(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00not a video" * 100)
    db = tmp_path / "s.duckdb"
    done = run_cli("analyze", str(bogus), "--db", str(db))
    assert_one_line_error(done, "not a video")
    assert not db.exists()


def test_video_without_a_face_leaves_nothing(tmp_path: Path) -> None:
    clip = tmp_path / "wall.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(8):
        writer.write(rng.integers(90, 110, (120, 160, 3), dtype=np.uint8))
    writer.release()
    db = tmp_path / "s.duckdb"
    done = run_cli("analyze", str(clip), "--db", str(db))
    assert_one_line_error(done, "no face")
    assert not db.exists(), "a database created by a failed run should be removed"


def test_failed_run_keeps_existing_database_but_no_session(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert run_cli("analyze", "demo", "--db", str(db), "--json").returncode == 0
    clip = tmp_path / "wall.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for _ in range(4):
        writer.write(np.full((120, 160, 3), 100, dtype=np.uint8))
    writer.release()
    assert run_cli("analyze", str(clip), "--db", str(db)).returncode != 0
    con = duckdb.connect(str(db), read_only=True)
    sessions = con.execute("SELECT count(*) FROM sessions").fetchone()
    con.close()
    assert sessions == (1,)


def test_bad_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[scoring]\nalpha = 'lots'\n")
    done = run_cli("--config", str(config), "analyze", "demo", "--db", str(tmp_path / "s.duckdb"))
    assert_one_line_error(done, "alpha")


@pytest.mark.shared_data
def test_analyze_shared_clip(shared_data: Path, tmp_path: Path) -> None:
    clip = shared_data / "videos" / "liveportrait_d0.mp4"
    done = run_cli("analyze", str(clip), "--db", str(tmp_path / "s.duckdb"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["face_frames"] >= 0.95 * report["frames"]
    assert 0.0 <= report["summary"]["final_percent"] <= 100.0
