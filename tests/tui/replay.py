"""A deterministic stand-in for CaptureWorker: replays fixed FrameResults, no camera, no model.

The UI depends only on the `Capture` protocol, so the screens can be driven and
snapshotted from the same sequence of results every run.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS
from burnout_tui.config import Config
from burnout_tui.runtime.results import FaceResult, FrameResult
from burnout_tui.runtime.worker_status import WorkerState, WorkerStatus
from burnout_tui.scoring import RollingScore, frame_scores
from burnout_tui.scoring.fatigue import FatigueFrame
from burnout_tui.store import repository, store_cursor
from burnout_tui.vision.face import Face

REPLAY_FRAMES = 240
SESSION_STARTED = 1000.0
FROZEN_NOW = SESSION_STARTED + 83.0
"""The frozen clock reads 1 min 23 s into the session."""

FEATURES = 6
LOST_FACE_FRAMES = range(100, 112)
"""A short stretch with no face, as when someone looks away."""


FORECAST_DRIFT = 0.05
"""The replayed forecast runs a little ahead of the rolling score, as a rising one would."""

BLINK_EVERY = 90
"""A blink every three seconds at 30 frames/s: a usual 20 blinks a minute."""


def replay_fatigue(index: int, phase: float) -> FatigueFrame:
    """Eyes that blink on a schedule and droop a little as the replay turns sad."""
    closed = index % BLINK_EVERY in (0, 1, 2)
    ear = 0.12 if closed else 0.30 - 0.04 * phase
    return FatigueFrame(
        ear_left=ear,
        ear_right=ear,
        mar=0.08,
        head_yaw=-3.0,
        head_pitch=2.0 - 6.0 * phase,
        head_roll=1.0,
        eyes_closed=closed,
        blink=index % BLINK_EVERY == 3,
        yawn=index == REPLAY_FRAMES // 2,
        looking_away=False,
        blink_rate=20.0 if index >= BLINK_EVERY else math.nan,
        perclos=0.03 + 0.04 * phase,
        calibrated=index >= BLINK_EVERY,
    )


def frozen_clock() -> float:
    return FROZEN_NOW


def replay_results(config: Config, frames: int = REPLAY_FRAMES) -> list[FrameResult]:
    """Smoothly changing emotions: happiness fading into sadness, with a gap without a face."""
    rolling = RollingScore(config.scoring)
    results: list[FrameResult] = []
    for index in range(frames):
        ts = index / 30.0
        if index in LOST_FACE_FRAMES:
            results.append(FrameResult(index, ts, (), True, {}))
            continue
        phase = index / frames
        raw = {
            "angry": 0.05 + 0.10 * phase,
            "disgust": 0.02,
            "fear": 0.03 + 0.05 * math.sin(index / 9.0) ** 2,
            "happy": 0.60 * (1.0 - phase),
            "sad": 0.05 + 0.45 * phase,
            "surprise": 0.05,
            "neutral": 0.20,
        }
        probs = np.array([raw[name] for name in EMOTIONS], dtype=np.float32)
        probs /= probs.sum()
        score = float(frame_scores(probs, config.scoring))
        smoothed = rolling.push(score)
        face = FaceResult(
            track_id=0,
            face=Face(box=(40, 30, 120, 150), score=0.99),
            probs=probs,
            features=np.zeros(FEATURES, dtype=np.float32),
            frame_score=score,
            rolling_score=smoothed,
            forecast=smoothed + FORECAST_DRIFT if len(rolling) >= config.scoring.window else None,
            fatigue=replay_fatigue(index, phase),
        )
        results.append(FrameResult(index, ts, (face,), index % 5 == 0, {}))
    return results


class ReplayCapture:
    """Hands all results over on the first drain, then nothing: the screen settles at once.

    Actions are recorded for the tests; a session row exists in the store so surveys can
    be linked to it. `stop` can be held back (`hold_stop`) to observe "finalising…".
    """

    def __init__(
        self,
        config: Config,
        con: duckdb.DuckDBPyConnection,
        user: str = "tester",
        results: Sequence[FrameResult] = (),
        state: WorkerState = WorkerState.RUNNING,
        message: str = "",
    ) -> None:
        self.config = config
        self.user = user
        self.forecaster_label: str | None = "LSTM, 1 s ahead"
        self._con = con
        self.user_id = repository.get_or_create_user(con, user)
        self._pending = list(results)
        self._frames = len(results)
        self._face_frames = sum(1 for result in results if result.faces)
        self.state = state
        self.message = message
        self._session_id: int | None = None
        self.started = False
        self.paused = False
        self.markers: list[str] = []
        self.new_sessions = 0
        self.stopped = threading.Event()
        self.release_stop = threading.Event()
        self.release_stop.set()

    @property
    def session_id(self) -> int | None:
        return self._session_id

    def start(self) -> None:
        self.started = True
        self._session_id = repository.start_session(
            store_cursor(self._con), self.user_id, "replay", json.dumps(self.config.to_dict())
        )

    def feed(self, results: Sequence[FrameResult]) -> None:
        """More frames for the next drain, as the worker publishes them."""
        self._pending += results

    def drain(self) -> list[FrameResult]:
        drained, self._pending = self._pending, []
        return drained

    def status(self) -> WorkerStatus:
        return WorkerStatus(
            state=WorkerState.PAUSED if self.paused else self.state,
            message="paused" if self.paused else self.message,
            session_id=self._session_id,
            frames=self._frames,
            face_frames=self._face_frames,
            dropped=2,
            processing_fps=29.7,
            source="replay",
            session_started=SESSION_STARTED,
        )

    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        return self.paused

    def add_marker(self, note: str) -> float:
        self.markers.append(note)
        return FROZEN_NOW - SESSION_STARTED

    def request_new_session(self) -> None:
        self.new_sessions += 1

    def hold_stop(self) -> None:
        self.release_stop.clear()

    def stop(self) -> None:
        self.release_stop.wait(timeout=10)
        self.stopped.set()


TRACK_IDS = (1, 2, 3)
TRACK_GAP_FRAMES = range(90, 140)
"""Person 2 looks away for a while and comes back."""
TRACK_3_LEAVES_AT = 200
"""Person 3 walks off before the end, so their panel shows "lost" in the final state."""
TRACK_NAMES = {1: "ana"}
"""Person 1 was assigned a user before the replay starts; the others carry default names."""


def _track_probs(track_id: int, index: int, frames: int) -> npt.NDArray[np.float32]:
    """A different, smooth course of emotions per person, all pure functions of the frame."""
    phase = index / frames
    raw = {
        "angry": 0.05 + 0.25 * phase * (track_id == 2),
        "disgust": 0.02,
        "fear": 0.03 + 0.05 * math.sin(index / (6.0 + track_id)) ** 2,
        "happy": 0.60 * (1.0 - phase) if track_id != 3 else 0.10,
        "sad": 0.05 + 0.45 * phase * (track_id == 1),
        "surprise": 0.05 + 0.30 * (track_id == 3),
        "neutral": 0.20 + 0.20 * (track_id == 2),
    }
    probs = np.array([raw[name] for name in EMOTIONS], dtype=np.float32)
    return probs / probs.sum()


def _in_view(track_id: int, index: int) -> bool:
    if track_id == 2:
        return index not in TRACK_GAP_FRAMES
    if track_id == TRACK_IDS[-1]:
        return index < TRACK_3_LEAVES_AT
    return True


def multi_replay_results(config: Config, frames: int = REPLAY_FRAMES) -> list[FrameResult]:
    """Three tracked people, one with a gap and one who leaves; deterministic frame by frame."""
    rolling = {track: RollingScore(config.scoring) for track in TRACK_IDS}
    results: list[FrameResult] = []
    for index in range(frames):
        faces: list[FaceResult] = []
        for track in TRACK_IDS:
            if not _in_view(track, index):
                continue
            probs = _track_probs(track, index, frames)
            score = float(frame_scores(probs, config.scoring))
            faces.append(
                FaceResult(
                    track_id=track,
                    face=Face(box=(40 + 150 * track, 30, 120, 150), score=0.99),
                    probs=probs,
                    features=np.zeros(FEATURES, dtype=np.float32),
                    frame_score=score,
                    rolling_score=rolling[track].push(score),
                    forecast=None,
                )
            )
        results.append(FrameResult(index, index / 30.0, tuple(faces), index % 5 == 0, {}))
    return results


class MultiReplayCapture(ReplayCapture):
    """The replay with the multi-user worker's extras: track names, renaming, recording."""

    def __init__(
        self,
        config: Config,
        con: duckdb.DuckDBPyConnection,
        results: Sequence[FrameResult] = (),
        recording: Path | None = None,
    ) -> None:
        super().__init__(config, con, results=results)
        self._names = dict(TRACK_NAMES)
        self.recording = recording
        self.renames: list[tuple[int, str]] = []

    def track_names(self) -> dict[int, str]:
        return dict(self._names)

    def rename_track(self, track_id: int, name: str) -> None:
        self.renames.append((track_id, name))
        self._names[track_id] = name
