"""`--record`: a finalised, openable video with one frame per analysed frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from burnout_tui.analyze import run_analysis
from burnout_tui.cli import cli
from burnout_tui.config import Config
from burnout_tui.recording import Recorder, RecordingError, check_output
from burnout_tui.sources import open_source, parse_source
from burnout_tui.store import open_database

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_recording_of_the_demo_opens_with_the_expected_frame_count(
    tmp_path: Path, suffix: str
) -> None:
    out = check_output(tmp_path / f"demo{suffix}")
    source = open_source(parse_source("demo"))
    recorder = Recorder(out, source.fps)
    con = open_database(tmp_path / "r.duckdb")
    try:
        result = run_analysis(source, con, Config(), "rec", multi_user=True, recorder=recorder)
    finally:
        recorder.close()
        con.close()
    video = cv2.VideoCapture(str(out))
    assert video.isOpened()
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == result.frames
    assert recorder.frames_written == result.frames
    video.release()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("out.mkv", "use one of .mp4, .avi"), ("missing/out.mp4", "not a writable folder")],
)
def test_bad_record_path_is_one_line_before_anything_starts(
    tmp_path: Path, name: str, expected: str
) -> None:
    db = tmp_path / "never.duckdb"
    result = CliRunner().invoke(
        cli, ["analyze", "demo", "--db", str(db), "--record", str(tmp_path / name)]
    )
    assert result.exit_code != 0
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not db.exists()
    with pytest.raises(RecordingError):
        check_output(tmp_path / name)
