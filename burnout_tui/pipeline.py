"""Frame → faces → emotions → scores: the per-frame work shared by `analyze` and `monitor`.

The pipeline owns the models and the little state that spans frames (the last faces, for
detection scheduling, and the rolling score); everything it returns is an immutable value
so the capture thread can hand results to the UI and the store without copying.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from burnout_tui.config import Config
from burnout_tui.scoring import RollingScore, frame_scores
from burnout_tui.sources.frame import Frame
from burnout_tui.tracking import TrackerState, assign
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import EmotionClassifier
from burnout_tui.vision.face import Face
from burnout_tui.vision.features import face_features

PRIMARY_TRACK = 0
"""Single-user mode follows one person: the largest face, stored under this track id."""

STAGES = ("decode", "detect", "align", "classify", "score", "store")
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

    def __init__(self, config: Config, threads: int = 2) -> None:
        self.config = config
        self.detector = make_detector(config, threads)
        self.classifier = EmotionClassifier(threads=threads)
        self.rolling = RollingScore(config.scoring)
        self.clock = StageClock()
        self._last_faces: list[Face] = []
        self._since_full = 0

    def reset(self) -> None:
        """Forget faces and the rolling window, e.g. when a new session starts."""
        self.rolling = RollingScore(self.config.scoring)
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
        with clock.stage("score"):
            score = float(frame_scores(probs, self.config.scoring))
            rolling = self.rolling.push(score)
        result = FaceResult(PRIMARY_TRACK, primary, probs, features, score, rolling)
        return FrameResult(frame.index, frame.ts, (result,), full, dict(clock.last_ms))


class MultiFacePipeline:
    """Multi-user pipeline: every face gets a track id, its own rolling score, one CNN batch.

    Scheduling follows `FramePipeline`: between full detections only R-Net and O-Net
    refine the faces seen in the last frame. A full detection runs every `detect_every`
    frames, so a newcomer is found within that many frames, and on the next frame
    whenever refinement loses a face, so the tracker sees a lost face again as early
    as possible. Faces come out sorted by track id, so a grid keeps its order.
    """

    def __init__(self, config: Config, threads: int = 2) -> None:
        self.config = config
        self.detector = make_detector(config, threads)
        self.classifier = EmotionClassifier(threads=threads)
        self.clock = StageClock()
        self.tracker = TrackerState()
        self.rolling: dict[int, RollingScore] = {}
        self._since_full = 0
        self._last_ts: float | None = None

    def reset(self) -> None:
        """Forget tracks and rolling windows, e.g. when a new session starts."""
        self.tracker = TrackerState()
        self.rolling = {}
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
            self.rolling = {key: value for key, value in self.rolling.items() if key in live}
        if not faces:
            return FrameResult(frame.index, frame.ts, (), full, dict(clock.last_ms))
        with clock.stage("align"):
            crops = [aligned_crop(frame.image, face) for face in faces]
            features = [face_features(face, crop) for face, crop in zip(faces, crops, strict=True)]
        with clock.stage("classify"):
            probs = self.classifier.predict(crops)
        with clock.stage("score"):
            results = []
            for index, track_id in enumerate(assignment.track_ids):
                score = float(frame_scores(probs[index], self.config.scoring))
                window = self.rolling.setdefault(track_id, RollingScore(self.config.scoring))
                rolling = window.push(score)
                results.append(
                    FaceResult(
                        track_id, faces[index], probs[index], features[index], score, rolling
                    )
                )
            results.sort(key=lambda result: result.track_id)
        return FrameResult(frame.index, frame.ts, tuple(results), full, dict(clock.last_ms))


def make_pipeline(config: Config, multi_user: bool) -> Pipeline:
    """The pipeline for one mode; both load the same models."""
    return MultiFacePipeline(config) if multi_user else FramePipeline(config)
