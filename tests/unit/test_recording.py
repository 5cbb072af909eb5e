"""`--record`: a finalised, openable video with one frame per analysed frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from burnout_tui.cli import cli
from burnout_tui.config import Config
from burnout_tui.runtime.analyze import AnalysisOptions, run_analysis
from burnout_tui.runtime.recording import Recorder, RecordingError, check_output
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
        result = run_analysis(
            source, con, Config(), "rec", AnalysisOptions(multi_user=True, recorder=recorder)
        )
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
    [("out.mkv", "use one of .mp4, .avi"), ("plain/out.mp4", "cannot create folder")],
)
def test_bad_record_path_is_one_line_before_anything_starts(
    tmp_path: Path, name: str, expected: str
) -> None:
    (tmp_path / "plain").write_text("a file where the folder would go")
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


def test_ctrl_c_still_leaves_a_playable_recording(tmp_path: Path) -> None:
    """A person stops `analyze` with Ctrl-C: the video so far must be a finished file."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "cut.avi"
    db = tmp_path / "r.duckdb"
    process = subprocess.Popen(
        [sys.executable, "-m", "burnout_tui.cli", "analyze", "demo", "--multi-user",
         "--record", str(out), "--db", str(db)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stderr is not None
    announced = process.stderr.readline()
    assert "recording to" in announced
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 50_000):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    assert process.returncode != 0, "an interrupted analysis is not a success"
    assert "Traceback" not in rest
    video = cv2.VideoCapture(str(out))
    assert video.isOpened()
    ok, frame = video.read()
    assert ok and frame is not None
    video.release()
