"""`calibrate` and `train` from the command line, on the real models.

The demo face is the self-contained tier; a shared talking-head clip checks that a
calibration from one real person normalises that person's later session.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from burnout_tui.runtime.personal_models import personal_model_path
from tests.command_line import run_cli


def calibrate(db: Path, user: str, source: str, seconds: float) -> dict[str, object]:
    done = run_cli(
        "calibrate", "--user", user, "--source", source, "--seconds", str(seconds),
        "--db", str(db), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload: dict[str, object] = json.loads(done.stdout)
    return payload


def test_calibrate_stores_a_baseline_that_later_sessions_use(tmp_path: Path) -> None:
    db = tmp_path / "cal.duckdb"
    calibration = calibrate(db, "ana", "demo", 6)
    assert calibration["user"] == "ana"
    assert isinstance(calibration["face_frames"], int) and calibration["face_frames"] >= 30
    baseline = calibration["baseline"]
    assert isinstance(baseline, dict) and 0.1 < baseline["ear_open"] < 0.5
    done = run_cli("analyze", "demo", "--user", "ana", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["calibration_id"] == calibration["calibration_id"]
    assert report["fatigue"] and report["fatigue"][0]["mesh_frames"] > 0
    assert isinstance(report["drowsiness"], list)
    con = duckdb.connect(str(db), read_only=True)
    normalized, stored = con.execute(
        "SELECT count(normalized_score), count(*) FROM v_frames WHERE session_id = ?",
        [report["session_id"]],
    ).fetchone() or (0, 0)
    con.close()
    assert normalized == stored > 0
    other = run_cli("analyze", "demo", "--user", "ben", "--db", str(db), "--json")
    assert json.loads(other.stdout)["calibration_id"] is None, "ana's baseline is not ben's"


def test_calibrate_table_and_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "cal.duckdb"
    done = run_cli(
        "calibrate", "--user", "ana", "--source", "demo", "--seconds", "5", "--db", str(db)
    )
    assert done.returncode == 0, done.stderr
    assert "open-eye EAR" in done.stdout and "calibration 1 for ana" in done.stdout
    short = run_cli(
        "calibrate", "--user", "ana", "--source", "demo", "--seconds", "2", "--db", str(db)
    )
    assert short.returncode != 0 and "Traceback" not in short.stderr
    assert "--seconds" in short.stderr
    missing = run_cli(
        "calibrate", "--user", "ana", "--source", str(tmp_path / "none.mp4"), "--db", str(db)
    )
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_calibrate_without_a_face_leaves_nothing(tmp_path: Path, blank_video: Path) -> None:
    db = tmp_path / "cal.duckdb"
    done = run_cli("calibrate", "--user", "ana", "--source", str(blank_video), "--db", str(db))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert not db.exists(), "a failed first run removes the database it created"


@pytest.fixture
def blank_video(tmp_path: Path) -> Path:
    import cv2
    import numpy as np

    path = tmp_path / "blank.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 64))
    for _ in range(60):
        writer.write(np.full((64, 64, 3), 128, np.uint8))
    writer.release()
    return path


def test_train_refuses_without_enough_sessions(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    unknown = run_cli("train", "--user", "nobody", "--db", str(db))
    assert unknown.returncode != 0 and "no database" in unknown.stderr
    assert run_cli("analyze", "demo", "--user", "ana", "--db", str(db)).returncode == 0
    again = run_cli("train", "--user", "nobody", "--db", str(db))
    assert again.returncode != 0 and "no user named 'nobody'" in again.stderr
    one = run_cli("train", "--user", "ana", "--db", str(db))
    assert one.returncode != 0 and "at least 2 sessions" in one.stderr
    assert "Traceback" not in one.stderr


def test_train_keeps_a_personal_model_only_when_it_wins(tmp_path: Path, shared_data: Path) -> None:
    """Real sessions of one face: the tuned head is judged on the newest session only."""
    db = tmp_path / "t.duckdb"
    for clip in ("liveportrait_d3.mp4", "liveportrait_d9.mp4", "liveportrait_d11.mp4"):
        done = run_cli(
            "analyze", str(shared_data / "videos" / clip), "--user", "ana", "--db", str(db)
        )
        assert done.returncode == 0, done.stderr
    done = run_cli("train", "--user", "ana", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["n_train"] >= 100 and result["n_test"] > 0
    model = personal_model_path(db, "ana")
    assert model.is_file() == result["kept"]
    assert result["kept"] == (result["mae_tuned"] < result["mae_shipped"])
    if result["kept"]:
        assert (model.parent.stat().st_mode & 0o777) == 0o700
        report = run_cli("analyze", "demo", "--user", "ana", "--db", str(db), "--json")
        assert json.loads(report.stdout)["forecaster"] is not None


def test_personal_model_names_never_collide(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    names = ["ana", "Ana", "a/na", "a_2f_na", "../x", "é"]
    paths = {personal_model_path(db, name) for name in names}
    assert len(paths) == len(names)
    assert all(path.parent == tmp_path / "s.forecasters" for path in paths)
