"""Frame → faces → per-face stages → results: the per-frame work of `analyze` and `monitor`.

One `Pipeline` runs for both modes. A face policy (`face_policy.LargestFace` for one
person, `face_policy.TrackedFaces` for `--multi-user`) finds the faces of a frame on its
detection schedule and gives each a track id; then an ordered list of per-face stages
(`face_stages`: mesh → crop → emotion → fatigue → scoring → forecast) fills in what is
known about each face, in the spirit of insightface's `FaceAnalysis.get` looping
`model.get(img, face)`, except that a stage sees all faces of the frame at once, so the
CNNs run one batch per frame, and that every value is immutable: a stage returns new
`FaceWork` values, the pipeline turns the last ones into frozen `FaceResult`s, so the
capture thread can hand results to the UI and the store without copying. After the
stages the policy hears which meshes were fitted (`FacePolicy.observe`): that is where it
follows each face to in the next frame.

Adding a stage touches the stage list and the schema, nothing else:

1. write the stage (a `face_stages.FaceStage`: `clock`, `reset`, `forget`, `run`), e.g.
   `class PulseStage(StatelessStage): clock = "score"; def run(self, frame, faces): ...`
   returning `replace(work, pulse_bpm=...)` for each face;
2. add it to `face_stages.default_stages` at its place in the order;
3. add its field (`pulse_bpm: float | None = None`) to `FaceWork` and `FaceResult`
   (the result is built from `FaceWork` by field name), and its column to the store's
   schema and `FrameRow` if it is to be stored.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import MISSING, fields
from typing import Any

from burnout_tui.config import Config
from burnout_tui.forecast.model import Forecaster
from burnout_tui.runtime.face_policy import FacePolicy, LargestFace, TrackedFaces, mesh_guide
from burnout_tui.runtime.face_stages import (
    DrowsinessStage,
    FaceStage,
    FaceWork,
    StageOrderError,
    default_stages,
)
from burnout_tui.runtime.results import STAGES, FaceResult, FrameResult
from burnout_tui.scoring.calibration import Calibration
from burnout_tui.signals.drowsiness import TrackBlinks
from burnout_tui.sources.frame import Frame
from burnout_tui.vision.detector import FaceDetector


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
        max_side=detection.max_side,
    )


DEFAULT_THREADS = 2
"""ONNX Runtime threads per model: the machines this targets have two cores."""

_REQUIRED_RESULT_FIELDS = tuple(
    f.name for f in fields(FaceResult) if f.default is MISSING and f.default_factory is MISSING
)


def face_result(work: FaceWork) -> FaceResult:
    """The frozen result of one face, built field by field from its `FaceWork`."""
    values: dict[str, Any] = {f.name: getattr(work, f.name) for f in fields(FaceResult)}
    for name in _REQUIRED_RESULT_FIELDS:
        if values[name] is None:
            raise StageOrderError(f"no stage set {name}, which every FaceResult needs")
    return FaceResult(**values)


class Pipeline:
    """A face policy and an ordered list of per-face stages (see the module docstring).

    Consecutive stages that count under the same `clock` name are timed as one, so
    `clock.last_ms` holds one value per name. A frame without a face runs no stage, nor
    do the stages after the mesh drops the last face it followed.
    Faces come out sorted by track id, so a grid keeps its order.
    """

    def __init__(self, policy: FacePolicy, stages: Sequence[FaceStage]) -> None:
        self.policy = policy
        self.stages = tuple(stages)
        self.clock = StageClock()
        self._timed = tuple(
            (name, tuple(group))
            for name, group in itertools.groupby(self.stages, key=lambda stage: stage.clock)
        )

    def reset(self) -> None:
        """Forget faces, tracks and every window, e.g. when a new session starts."""
        self.policy.reset()
        for stage in self.stages:
            stage.reset()

    def flush_blinks(self, track_ids: Iterable[int] | None = None) -> list[TrackBlinks]:
        """The end of the stream (or of `track_ids`): per track, the blinks still pending
        in the drowsiness stage (`DrowsinessStage.flush`), so a track's last blink is not
        lost."""
        return [
            found
            for stage in self.stages
            if isinstance(stage, DrowsinessStage)
            for found in stage.flush(track_ids)
        ]

    def process(self, frame: Frame) -> FrameResult:
        clock = self.clock
        ended: tuple[TrackBlinks, ...] = ()
        with clock.stage("detect"):
            located = self.policy.locate(frame.image, frame.ts)
            if located.forgotten:
                ended = tuple(self.flush_blinks(located.forgotten))
                for stage in self.stages:
                    stage.forget(located.forgotten)
        if not located.faces:
            return FrameResult(
                frame.index,
                frame.ts,
                (),
                located.full_detection,
                dict(clock.last_ms),
                ended_blinks=ended,
            )
        faces = tuple(
            FaceWork(track_id, face, guided=track_id in located.guided)
            for track_id, face in located.faces
        )
        for name, group in self._timed:
            if not faces:
                break  # the mesh stage dropped every face it was following
            with clock.stage(name):
                for stage in group:
                    faces = stage.run(frame, faces)
        height, width = frame.image.shape[:2]
        meshes = {work.track_id: work.mesh for work in faces if work.mesh is not None}
        self.policy.observe((width, height), meshes)
        results = sorted((face_result(work) for work in faces), key=lambda r: r.track_id)
        return FrameResult(
            frame.index,
            frame.ts,
            tuple(results),
            located.full_detection,
            dict(clock.last_ms),
            ended_blinks=ended,
        )


def make_pipeline(
    config: Config,
    multi_user: bool,
    *,
    forecaster: Forecaster | None = None,
    calibration: Calibration | None = None,
    threads: int = DEFAULT_THREADS,
) -> Pipeline:
    """The pipeline for one mode; both load the same models. The forecaster needs the
    mesh's fatigue cues, so without the mesh it is dropped. Tracks of a multi-user
    session are not yet anyone in particular while the pipeline runs (names come
    later), so no calibration applies to them."""
    if not config.mesh.enabled:
        forecaster = None
    detector = make_detector(config, threads)
    guide = mesh_guide(config.detection, config.mesh)
    policy: FacePolicy
    if multi_user:
        multi_guide = guide if config.detection.mesh_guided_multi_user else None
        policy = TrackedFaces(detector, config.detection, config.tracking, multi_guide)
        calibration = None
    else:
        policy = LargestFace(detector, config.detection, guide)
    stages = default_stages(config, threads, forecaster=forecaster, calibration=calibration)
    return Pipeline(policy, stages)


__all__ = [
    "Pipeline",
    "StageClock",
    "face_result",
    "make_detector",
    "make_pipeline",
]
