"""`burnout-tui analyze`: one video file (or the demo) in, one complete session out.

A session becomes `complete` only after every frame row is flushed; any failure,
interrupt or a video with no face removes the session again, so a half-analysed video can
never be mistaken for a finished one in reports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import duckdb
import numpy as np

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.pipeline import FramePipeline, FrameResult
from burnout_tui.scoring import SessionSummary, summarise
from burnout_tui.sources.frame import FrameSource
from burnout_tui.store import FrameRow, FrameWriter, repository

ProgressCallback = Callable[[int], None]


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

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> str:
        summary = asdict(self.summary)
        payload = {
            "session_id": self.session_id,
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
            "stage_ms_per_frame": {
                name: round(total / max(self.frames, 1), 3) for name, total in self.stage_ms.items()
            },
        }
        return json.dumps(payload)


def frame_rows(session_id: int, result: FrameResult) -> list[FrameRow]:
    return [
        FrameRow.from_result(session_id, result.index, result.ts, face) for face in result.faces
    ]


def run_analysis(
    source: FrameSource,
    con: duckdb.DuckDBPyConnection,
    config: Config,
    user: str,
    pipeline: FramePipeline | None = None,
    on_frame: ProgressCallback | None = None,
) -> AnalysisResult:
    pipeline = pipeline or FramePipeline(config)
    clock = pipeline.clock
    user_id = repository.get_or_create_user(con, user)
    session_id = repository.start_session(con, user_id, source.label, json.dumps(config.to_dict()))
    frames = 0
    face_frames = 0
    scores: list[float] = []
    started = time.perf_counter()
    try:
        with FrameWriter(con, flush_interval_s=config.store.flush_interval_s) as writer:
            while True:
                with clock.stage("decode"):
                    frame = source.read()
                if frame is None:
                    break
                result = pipeline.process(frame)
                frames += 1
                if result.faces:
                    face_frames += 1
                    scores.append(result.faces[0].frame_score)
                    with clock.stage("store"):
                        writer.put_many(frame_rows(session_id, result))
                if on_frame is not None:
                    on_frame(frames)
        seconds = time.perf_counter() - started
        if face_frames == 0:
            raise NoFaceError(f"no face found in {source.label} ({frames} frames)")
        repository.finish_session(con, session_id, frames, "complete")
    except BaseException:
        repository.delete_session(con, session_id)
        raise
    summary = summarise(np.asarray(scores, dtype=np.float64), frames, config.scoring, config.levels)
    return AnalysisResult(
        session_id=session_id,
        user=user,
        source=source.label,
        frames=frames,
        face_frames=face_frames,
        seconds=seconds,
        summary=summary,
        stage_ms=dict(clock.totals_ms),
    )


__all__ = ["AnalysisResult", "NoFaceError", "run_analysis"]
