"""Frame → faces → emotions → scores: the per-frame work shared by `analyze` and `monitor`.

The pipeline owns the models and the little state that spans frames (the last faces, for
detection scheduling, and the rolling score); everything it returns is an immutable value
so the capture thread can hand results to the UI and the store without copying.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from burnout_tui.calibration import Calibration
from burnout_tui.config import Config
from burnout_tui.forecast.inputs import input_vector
from burnout_tui.forecast.model import Forecaster, TrackForecast
from burnout_tui.scoring import RollingScore, frame_scores
from burnout_tui.scoring.fatigue import FatigueFrame, FatigueTracker
from burnout_tui.sources.frame import Frame
from burnout_tui.tracking import TrackerState, assign
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import EmotionClassifier
from burnout_tui.vision.face import Face
from burnout_tui.vision.fatigue import MeshMeasures, mesh_measures
from burnout_tui.vision.features import face_features
from burnout_tui.vision.mesh import FaceMesh

PRIMARY_TRACK = 0
"""Single-user mode follows one person: the largest face, stored under this track id."""

MAX_DETECTION_SIDE = 1920
"""Frames whose long side exceeds this (1080p's width) are searched for faces on a copy
shrunk to it; boxes and keypoints still come out in source pixels. Above it the P-Net
pyramid grows with the frame while the faces a webcam or a room camera sees are found at
1080p already. With strip-wise P-Net (vision/detector.py) `analyze` on a 4000×3000 MJPG
clip peaked at 431 MB against 333 MB for the same clip at 640×480 (1175 MB before);
tests/test_large_frames.py holds the difference under 150 MB."""

STAGES = ("decode", "detect", "align", "classify", "mesh", "score", "store")
"""Stage names in pipeline order, as `make bench` and the summary report them."""


@dataclass(frozen=True, slots=True)
class FaceResult:
    track_id: int
    face: Face
    probs: npt.NDArray[np.float32]
    features: npt.NDArray[np.float32]
    frame_score: float
    rolling_score: float
    forecast: float | None = None
    fatigue: FatigueFrame | None = None
    normalized_score: float | None = None


@dataclass(frozen=True, slots=True)
class FrameResult:
    index: int
    ts: float
    faces: tuple[FaceResult, ...]
    full_detection: bool
    timings_ms: Mapping[str, float] = field(default_factory=dict)

    @property
    def primary(self) -> FaceResult | None:
        return self.faces[0] if self.faces else None


class Pipeline(Protocol):
    """What `analyze` and the capture worker need from either pipeline."""

    clock: StageClock

    def reset(self) -> None: ...

    def process(self, frame: Frame) -> FrameResult: ...


class StageClock:
    """Accumulates wall time per stage; cheap enough to leave on in production."""

    def __init__(self) -> None:
        self.totals_ms: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.last_ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - start) * 1000.0
            self.totals_ms[name] = self.totals_ms.get(name, 0.0) + elapsed
            self.last_ms[name] = elapsed


def make_detector(config: Config, threads: int) -> FaceDetector:
    detection = config.detection
    return FaceDetector(
        min_face_size=detection.min_face_size,
        thresholds=detection.thresholds,
        scale_factor=detection.scale_factor,
        threads=threads,
        max_side=MAX_DETECTION_SIDE,
    )


class MeshStage:
    """The face mesh on its schedule, turned into the per-face measures fatigue needs.

    A face whose mesh is skipped this frame, or whose mesh the model itself doubts
    (presence below `min_presence`), gets no measures: the fatigue tracker then carries
    its windows over rather than counting a made-up open or closed eye.
    """

    def __init__(self, config: Config, threads: int) -> None:
        self.settings = config.mesh
        self.mesh = FaceMesh(threads=threads)
        self._frames = 0

    def reset(self) -> None:
        self._frames = 0

    def measure(
        self, image: npt.NDArray[np.uint8], faces: Sequence[Face]
    ) -> list[MeshMeasures | None]:
        due = self._frames % self.settings.every == 0
        self._frames += 1
        if not due or not faces:
            return [None] * len(faces)
        height, width = image.shape[:2]
        return [
            mesh_measures(mesh.points, (width, height))
            if mesh.presence >= self.settings.min_presence
            else None
            for mesh in self.mesh.predict(image, faces)
        ]


class TrackScorer:
    """What accumulates over one person's frames: the rolling score, the fatigue windows,
    the forecaster's input window, and the person's calibration if they have one."""

    def __init__(
        self,
        config: Config,
        forecaster: Forecaster | None,
        calibration: Calibration | None,
    ) -> None:
        self.config = config
        self.rolling = RollingScore(config.scoring)
        self.fatigue = FatigueTracker(
            config.fatigue, None if calibration is None else calibration.baseline
        )
        self.forecast = None if forecaster is None else TrackForecast(forecaster)
        self.calibration = calibration
        self._last_ts: float | None = None

    def score(
        self,
        track_id: int,
        ts: float,
        face: Face,
        probs: npt.NDArray[np.float32],
        features: npt.NDArray[np.float32],
        measures: MeshMeasures | None,
    ) -> FaceResult:
        score = float(frame_scores(probs, self.config.scoring))
        rolling = self.rolling.push(score)
        if self._last_ts is not None and ts < self._last_ts:
            # The source restarted its clock (a camera reconnected within the session):
            # the fatigue windows cannot span the jump, but the person's baseline holds.
            learned = self.fatigue.baseline if self.fatigue.calibrated else None
            self.fatigue = FatigueTracker(self.config.fatigue, learned)
        self._last_ts = ts
        fatigue = self.fatigue.push(ts, measures)
        forecast = None
        if self.forecast is not None:
            # Every face frame enters the window, with NaN cues where no mesh was fitted,
            # so it spans the same frames as the rolling score, as in training.
            forecast = self.forecast.push(input_vector(probs, fatigue))
        normalized = None
        if self.calibration is not None:
            normalized = self.calibration.normalize(rolling, self.config.calibration.min_score_std)
        return FaceResult(
            track_id, face, probs, features, score, rolling, forecast, fatigue, normalized
        )


def _area(face: Face) -> int:
    return face.box[2] * face.box[3]


class FramePipeline:
    """Single-user pipeline: detect (on a schedule), follow the largest face, score it.

    Full MTCNN runs every `detect_every` frames; in between only R-Net and O-Net run on a
    region around the last face, which is several times cheaper and, on the shared
    talking-head clips, gives nearly the same boxes (README: "Detection scheduling").
    A lost face triggers a full detection on the very next frame.
    """

    def __init__(
        self,
        config: Config,
        threads: int = 2,
        *,
        forecaster: Forecaster | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.config = config
        self.detector = make_detector(config, threads)
        self.classifier = EmotionClassifier(threads=threads)
        self.mesh = MeshStage(config, threads) if config.mesh.enabled else None
        self.forecaster = forecaster
        self.calibration = calibration
        self.track = TrackScorer(config, forecaster, calibration)
        self.clock = StageClock()
        self._last_faces: list[Face] = []
        self._since_full = 0

    def reset(self) -> None:
        """Forget faces and every window, e.g. when a new session starts."""
        self.track = TrackScorer(self.config, self.forecaster, self.calibration)
        if self.mesh is not None:
            self.mesh.reset()
        self._last_faces = []
        self._since_full = 0

    def _detect(self, image: npt.NDArray[np.uint8]) -> tuple[list[Face], bool]:
        every = self.config.detection.detect_every
        if self._last_faces and self._since_full < every:
            refined = self.detector.refine(image, self._last_faces)
            if refined:
                self._since_full += 1
                return refined, False
        self._since_full = 1
        return self.detector.detect(image), True

    def process(self, frame: Frame) -> FrameResult:
        clock = self.clock
        with clock.stage("detect"):
            faces, full = self._detect(frame.image)
            primary = max(faces, key=_area, default=None)
            self._last_faces = [primary] if primary is not None else []
        if primary is None:
            return FrameResult(frame.index, frame.ts, (), full, dict(clock.last_ms))
        with clock.stage("align"):
            crop = aligned_crop(frame.image, primary)
            features = face_features(primary, crop)
        with clock.stage("classify"):
            probs = self.classifier.predict([crop])[0]
        with clock.stage("mesh"):
            measures = None if self.mesh is None else self.mesh.measure(frame.image, [primary])[0]
        with clock.stage("score"):
            result = self.track.score(PRIMARY_TRACK, frame.ts, primary, probs, features, measures)
        return FrameResult(frame.index, frame.ts, (result,), full, dict(clock.last_ms))


class MultiFacePipeline:
    """Multi-user pipeline: every face gets a track id, its own rolling score, one CNN batch.

    Scheduling follows `FramePipeline`: between full detections only R-Net and O-Net
    refine the faces seen in the last frame. A full detection runs every `detect_every`
    frames, so a newcomer is found within that many frames, and on the next frame
    whenever refinement loses a face, so the tracker sees a lost face again as early
    as possible. Faces come out sorted by track id, so a grid keeps its order. Tracks are
    not yet anyone in particular while the pipeline runs (names come later), so no
    calibration applies: each track's fatigue thresholds adapt from its own first seconds.
    """

    def __init__(
        self, config: Config, threads: int = 2, *, forecaster: Forecaster | None = None
    ) -> None:
        self.config = config
        self.detector = make_detector(config, threads)
        self.classifier = EmotionClassifier(threads=threads)
        self.mesh = MeshStage(config, threads) if config.mesh.enabled else None
        self.forecaster = forecaster
        self.clock = StageClock()
        self.tracker = TrackerState()
        self.tracks: dict[int, TrackScorer] = {}
        self._since_full = 0
        self._last_ts: float | None = None

    def reset(self) -> None:
        """Forget tracks and their windows, e.g. when a new session starts."""
        self.tracker = TrackerState()
        self.tracks = {}
        if self.mesh is not None:
            self.mesh.reset()
        self._since_full = 0
        self._last_ts = None

    def _detect(self, image: npt.NDArray[np.uint8], ts: float) -> tuple[list[Face], bool]:
        every = self.config.detection.detect_every
        visible = [] if self._last_ts is None else self.tracker.visible_at(self._last_ts)
        if visible and self._since_full < every:
            refined = self.detector.refine(image, [track.predicted(ts) for track in visible])
            self._since_full = every if len(refined) < len(visible) else self._since_full + 1
            if refined:
                return refined, False
        self._since_full = 1
        return self.detector.detect(image), True

    def process(self, frame: Frame) -> FrameResult:
        clock = self.clock
        with clock.stage("detect"):
            faces, full = self._detect(frame.image, frame.ts)
            assignment = assign(self.tracker, faces, frame.ts, self.config.tracking)
            self.tracker = assignment.state
            self._last_ts = frame.ts
            live = {track.track_id for track in self.tracker.tracks}
            self.tracks = {key: value for key, value in self.tracks.items() if key in live}
        if not faces:
            return FrameResult(frame.index, frame.ts, (), full, dict(clock.last_ms))
        with clock.stage("align"):
            crops = [aligned_crop(frame.image, face) for face in faces]
            features = [face_features(face, crop) for face, crop in zip(faces, crops, strict=True)]
        with clock.stage("classify"):
            probs = self.classifier.predict(crops)
        with clock.stage("mesh"):
            measures = (
                [None] * len(faces) if self.mesh is None else self.mesh.measure(frame.image, faces)
            )
        with clock.stage("score"):
            results = []
            for index, track_id in enumerate(assignment.track_ids):
                track = self.tracks.get(track_id)
                if track is None:
                    track = self.tracks[track_id] = TrackScorer(self.config, self.forecaster, None)
                results.append(
                    track.score(
                        track_id,
                        frame.ts,
                        faces[index],
                        probs[index],
                        features[index],
                        measures[index],
                    )
                )
            results.sort(key=lambda result: result.track_id)
        return FrameResult(frame.index, frame.ts, tuple(results), full, dict(clock.last_ms))


def make_pipeline(
    config: Config,
    multi_user: bool,
    *,
    forecaster: Forecaster | None = None,
    calibration: Calibration | None = None,
) -> Pipeline:
    """The pipeline for one mode; both load the same models. The forecaster needs the
    mesh's fatigue cues, so without the mesh it is dropped."""
    if not config.mesh.enabled:
        forecaster = None
    if multi_user:
        return MultiFacePipeline(config, forecaster=forecaster)
    return FramePipeline(config, forecaster=forecaster, calibration=calibration)
