"""`burnout-tui analyze`: one video file (or the demo) in, one complete session out.

A session becomes `complete` only after every frame row is flushed; any failure,
interrupt (Ctrl-C, or SIGTERM/SIGHUP through `burnout_tui.interrupts`) or a video with no
face removes the session again, so a half-analysed video can never be mistaken for a
finished one in reports. A file that ends before the frame count its container announces
(cut or damaged) keeps its rows as a `truncated` session.

Frames are decoded one step ahead on their own thread (`prefetch.DecodeAhead`) while the
models run on the current one; every frame of the file is analysed (a rate limit is the
monitor's, for long live sessions).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import duckdb
import numpy as np

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.forecast.model import Forecaster
from burnout_tui.runtime.personal_models import forecaster_label
from burnout_tui.runtime.pipeline import Pipeline, make_pipeline
from burnout_tui.runtime.prefetch import DecodeAhead
from burnout_tui.runtime.recording import Recorder
from burnout_tui.runtime.results import FrameResult
from burnout_tui.runtime.runner import SessionRunner
from burnout_tui.scoring import SessionSummary, summarise
from burnout_tui.scoring.calibration import Calibration
from burnout_tui.sources.frame import Frame, FrameSource
from burnout_tui.store.calibrations import latest_calibration
from burnout_tui.store.drowsiness_summary import DrowsinessSummary, session_drowsiness
from burnout_tui.store.fatigue import FatigueRow, session_fatigue
from burnout_tui.store.heart_summary import HeartSummary, session_heart

ProgressCallback = Callable[[int], None]
SessionCheck = Callable[[duckdb.DuckDBPyConnection, int], None]
"""Runs on a session's stored rows before it is marked complete; raising removes it."""


class NoFaceError(UserError):
    """The video decoded fine but not one frame had a face in it."""


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    session_id: int
    user: str
    source: str
    frames: int
    face_frames: int
    seconds: float
    summary: SessionSummary
    stage_ms: dict[str, float]
    tracks: dict[int, str] = field(default_factory=dict)
    """Multi-user only: track id → user name, as stored in `track_users`."""
    fatigue: list[FatigueRow] = field(default_factory=list)
    """One row of `v_session_fatigue` per track that had face-mesh cues."""
    calibration: Calibration | None = None
    forecaster: str | None = None
    """Which forecaster filled the forecast column, or None when it was off."""
    status: str = "complete"
    """`truncated` when the file ended before the frame count its container announces:
    the session keeps what was read but is never reported as complete."""
    frames_announced: int | None = None
    heart: list[HeartSummary] = field(default_factory=list)
    """One row of `v_heart`'s summary per track that had heart-rate rows."""
    drowsiness: list[DrowsinessSummary] = field(default_factory=list)
    """Per track with blinks: the last drowsiness level and the share of windows per level."""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> str:
        summary = asdict(self.summary)
        payload = {
            "session_id": self.session_id,
            "status": self.status,
            "user": self.user,
            "source": self.source,
            "frames": self.frames,
            "face_frames": self.face_frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 2),
            "burnout_mean": summary["mean"],
            "burnout_min": summary["min"],
            "burnout_max": summary["max"],
            "burnout_percent": summary["final_percent"],
            "level": summary["level"],
            "summary": summary,
            "tracks": {str(track_id): name for track_id, name in self.tracks.items()},
            "fatigue": [asdict(row) for row in self.fatigue],
            "heart": [asdict(row) for row in self.heart],
            "drowsiness": [asdict(row) for row in self.drowsiness],
            "calibration_id": None if self.calibration is None else self.calibration.calibration_id,
            "forecaster": self.forecaster,
            "stage_ms_per_frame": {
                name: round(total / max(self.frames, 1), 3) for name, total in self.stage_ms.items()
            },
        }
        return json.dumps(payload)


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """How one analysis runs, apart from what it reads and where it stores.

    With `multi_user` each face is tracked and scored on its own, and each new track is
    mapped to an auto-named user (user001, …) on first sight; the summary then takes the
    mean over the faces of each frame. `recorder`, if given, receives every frame; the
    caller owns it and closes it (in a `finally`, so Ctrl-C still finalises the file).
    Single-user sessions use the person's newest calibration unless `calibrated` is
    False (`calibrate` itself records an uncalibrated baseline). `until_s` stops at that
    many seconds of source time, for a live camera that never ends by itself.
    """

    multi_user: bool = False
    recorder: Recorder | None = None
    forecaster: Forecaster | None = None
    calibrated: bool = True
    until_s: float | None = None
    before_complete: SessionCheck | None = None


def run_analysis(
    source: FrameSource,
    con: duckdb.DuckDBPyConnection,
    config: Config,
    user: str,
    options: AnalysisOptions | None = None,
    *,
    pipeline: Pipeline | None = None,
    on_frame: ProgressCallback | None = None,
) -> AnalysisResult:
    """Analyse every frame of `source` into one new session (see AnalysisOptions)."""
    options = options or AnalysisOptions()
    multi_user, recorder, forecaster = options.multi_user, options.recorder, options.forecaster
    until_s, before_complete = options.until_s, options.before_complete
    calibration = None if multi_user or not options.calibrated else latest_calibration(con, user)
    pipeline = pipeline or make_pipeline(
        config, multi_user, forecaster=forecaster, calibration=calibration
    )
    scores: list[float] = []
    ahead: DecodeAhead | None = None
    started = time.perf_counter()
    with SessionRunner(
        con, config, user, source.label, pipeline, multi_user=multi_user, recorder=recorder
    ) as runner:
        # Nothing between creating the session and `try`: an interrupt (Ctrl-C, SIGTERM)
        # there would leave it `running`.
        session_id = runner.begin()
        try:
            ahead = DecodeAhead(source)
            frame: Frame | None = None
            while True:
                frame = runner.read(ahead.read)
                if frame is None or (until_s is not None and frame.ts >= until_s):
                    break
                result = runner.process(frame)
                if result.faces:
                    scores.append(_frame_value(result, multi_user))
                if on_frame is not None:
                    on_frame(runner.frames)
            runner.flush()
            seconds = time.perf_counter() - started
            counts = runner.counts()
            tracks = runner.track_names()
            if counts.face_frames == 0:
                raise NoFaceError(f"no face found in {source.label} ({counts.frames} frames)")
            if before_complete is not None:
                before_complete(con, session_id)
            truncated = frame is None and counts.frames < (source.frame_count or 0)
            runner.finish("truncated" if truncated else "complete")
        except BaseException:
            runner.rollback()
            raise
        finally:
            if ahead is not None:
                ahead.close()
    frames = counts.frames
    summary = summarise(np.asarray(scores, dtype=np.float64), frames, config.scoring, config.levels)
    return AnalysisResult(
        fatigue=session_fatigue(con, session_id),
        heart=session_heart(con, session_id),
        drowsiness=session_drowsiness(con, session_id),
        calibration=calibration,
        forecaster=None if forecaster is None else forecaster_label(forecaster),
        session_id=session_id,
        user=user,
        source=source.label,
        frames=frames,
        face_frames=counts.face_frames,
        seconds=seconds,
        summary=summary,
        stage_ms=counts.stage_ms,
        tracks=tracks,
        status="truncated" if truncated else "complete",
        frames_announced=source.frame_count,
    )


def _frame_value(result: FrameResult, multi_user: bool) -> float:
    """The frame's value in the session summary: the followed face's score, or with
    several people the mean over them, so each frame counts once whoever is in it."""
    if multi_user:
        return float(np.mean([face.frame_score for face in result.faces]))
    return result.faces[0].frame_score


__all__ = ["AnalysisOptions", "AnalysisResult", "NoFaceError", "run_analysis"]
