"""Small ways a new user meets a traceback, a silent loss or a world-readable folder.

Blank `--user`, `--record` and `--plot` into folders that do not exist yet, and video files
that are cut short or are not videos at all: each is one line (or a stored, marked
session), never a traceback and never a session that passes for complete.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

from burnout_tui.cli import cli
from burnout_tui.runtime.recording import check_output
from burnout_tui.sources.demo import ASSET as ASTRONAUT
from tests.command_line import assert_one_line_error, run_cli
from tests.plugins.test_report_correlation import SURVEY, SYSTEM, write_csv

CLIP_SIDE = 256
"""Small enough to analyse in a second, large enough for the astronaut's face to be found."""
CLIP_FRAMES = 20
CLIP_FPS = 10.0
PRIVATE = 0o700


def face_clip(path: Path, fourcc: str, frames: int = CLIP_FRAMES) -> Path:
    """The demo's public-domain face, drifting a little each frame, as a real video file."""
    face = cv2.resize(cv2.imread(str(ASTRONAUT)), (CLIP_SIDE, CLIP_SIDE))
    size = (CLIP_SIDE, CLIP_SIDE)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), CLIP_FPS, size)
    assert writer.isOpened()
    for index in range(frames):
        writer.write(np.roll(face, index, axis=1))
    writer.release()
    return path


def cut_in_half(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
@pytest.mark.parametrize(
    "command",
    [
        ["monitor"],
        ["analyze", "demo"],
        ["calibrate", "--source", "demo"],
        ["train"],
        ["survey", "--instrument", "checkin", "--answers", "3,3,3"],
    ],
    ids=lambda command: command[0],
)
def test_blank_user_is_one_line_on_every_command(
    tmp_path: Path, command: list[str], blank: str
) -> None:
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(cli, [*command, "--user", blank, "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip() == "Error: --user must not be blank: give the person's name"
    assert not db.exists()


def test_record_into_a_missing_folder_creates_it_private(tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "face.avi", "MJPG", frames=4)
    out = tmp_path / "videos" / "today" / "annotated.avi"
    done = run_cli("analyze", str(clip), "--db", str(tmp_path / "s.duckdb"), "--record", str(out))
    assert done.returncode == 0, done.stderr
    assert mode(tmp_path / "videos") == PRIVATE
    assert mode(out.parent) == PRIVATE
    video = cv2.VideoCapture(str(out))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    video.release()


def test_record_under_a_file_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(
        cli, ["analyze", "demo", "--db", str(db), "--record", str(tmp_path / "plain" / "o.mp4")]
    )
    assert result.exit_code == 1
    assert "cannot create folder" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not db.exists()


def test_record_check_creates_every_missing_level_private(tmp_path: Path) -> None:
    """Not only the last folder: `mkdir -p` would leave the parents to the umask."""
    target = tmp_path / "a" / "b" / "out.mp4"
    assert check_output(target) == target
    assert mode(tmp_path / "a") == PRIVATE and mode(tmp_path / "a" / "b") == PRIVATE
    assert not target.exists(), "the probe file is removed"


def test_plot_into_a_missing_folder_creates_it_private(tmp_path: Path) -> None:
    rows = [(f"p{i}", s, v) for i, (s, v) in enumerate(zip(SYSTEM, SURVEY, strict=True))]
    pairs = write_csv(tmp_path / "pairs.csv", rows)
    out = tmp_path / "results"
    result = CliRunner().invoke(
        cli,
        ["report", "correlation", "--csv", str(pairs), "--plot", "figures/2024/c.png",
         "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plot = out / "figures" / "2024" / "c.png"
    assert json.loads(result.stdout)["files"] == [str(plot)]
    assert plot.read_bytes().startswith(b"\x89PNG")
    for folder in (out, out / "figures", plot.parent):
        assert mode(folder) == PRIVATE, folder


def test_truncated_avi_is_stored_as_truncated_with_a_warning(tmp_path: Path) -> None:
    clip = cut_in_half(face_clip(tmp_path / "cut.avi", "MJPG"))
    db = tmp_path / "s.duckdb"
    done = run_cli("analyze", str(clip), "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert 0 < report["frames"] < CLIP_FRAMES
    assert report["status"] == "truncated"
    [warning] = done.stderr.splitlines()
    assert warning.startswith("warning: cut.avi ended after")
    assert f"of the {CLIP_FRAMES} frames" in warning
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("SELECT status, frames_total FROM sessions").fetchall()
    complete = con.execute("SELECT count(*) FROM v_sessions WHERE status = 'complete'").fetchone()
    con.close()
    assert stored == [("truncated", report["frames"])]
    assert complete == (0,)


def test_whole_avi_is_complete(tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "whole.avi", "MJPG", frames=6)
    done = run_cli("analyze", str(clip), "--db", str(tmp_path / "s.duckdb"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "complete"
    assert done.stderr == ""


def test_truncated_mp4_is_refused_in_one_line(tmp_path: Path) -> None:
    """MP4's index (moov) is written last, so a cut MP4 does not open at all."""
    clip = cut_in_half(face_clip(tmp_path / "cut.mp4", "mp4v"))
    db = tmp_path / "s.duckdb"
    assert_one_line_error(run_cli("analyze", str(clip), "--db", str(db)), "not a video")
    assert not db.exists()


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_still_image_is_refused_in_one_line(tmp_path: Path, suffix: str) -> None:
    photo = tmp_path / f"face{suffix}"
    cv2.imwrite(str(photo), cv2.imread(str(ASTRONAUT)))
    db = tmp_path / "s.duckdb"
    done = run_cli("analyze", str(photo), "--db", str(db))
    assert_one_line_error(done, "is a still image, not a video")
    assert not db.exists()
