"""The per-face stages of the pipeline: mesh → pulse → blendshapes → crop → emotion →
fatigue → drowsiness → scoring → forecast.

Each stage takes every face of one frame at once (the emotion CNN and the face mesh run
one batch per frame) and returns them with its own fields filled in, through
`dataclasses.replace` on the frozen `FaceWork`, so no stage can change what an earlier
one found. A stage that keeps something across frames (the rolling score, the fatigue
windows, the forecaster's input window) keeps it per track id, forgets a track when the
face policy does, and starts afresh on `reset` (a new session).

`clock` names the entry of `pipeline.STAGES` a stage's time counts under: the names
`make bench` prints stay fixed while stages are split or added (fatigue, scoring and
forecast all count as `score`, as they did when one function did all three).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from burnout_tui.config import (
    Config,
    DrowsinessConfig,
    EmotionConfig,
    FatigueConfig,
    HeartConfig,
    MeshConfig,
    ScoringConfig,
)
from burnout_tui.forecast.inputs import input_vector
from burnout_tui.forecast.model import Forecaster, TrackForecast
from burnout_tui.runtime.drowsiness_model import DrowsinessModel
from burnout_tui.runtime.face_policy import MeshGuide
from burnout_tui.scoring import RollingScore, frame_scores
from burnout_tui.scoring.calibration import Calibration
from burnout_tui.scoring.fatigue import Baseline, FatigueFrame, FatigueTracker
from burnout_tui.signals.blink_baseline import BlinkBaseline
from burnout_tui.signals.drowsiness import (
    BlinkRecord,
    BlinkTrack,
    DrowsinessLevel,
    PendingBlink,
    TrackBlinks,
)
from burnout_tui.signals.heart import HeartTracker, PulseFrame
from burnout_tui.sources.frame import Frame
from burnout_tui.vision.align import aligned_crop
from burnout_tui.vision.blendshapes import FaceBlendshapes
from burnout_tui.vision.emotion import EmotionClassifier
from burnout_tui.vision.face import Face
from burnout_tui.vision.fatigue import MeshMeasures, mesh_measures
from burnout_tui.vision.features import face_features
from burnout_tui.vision.mesh import FaceMesh, Mesh
from burnout_tui.vision.skin import skin_rgb

T = TypeVar("T")


class StageOrderError(RuntimeError):
    """A stage ran before the stage whose output it needs: the stage list is wrong."""


@dataclass(frozen=True, slots=True)
class FaceWork:
    """One face on its way through the stages: what the stages so far have found.

    Every field of `pipeline.FaceResult` is here under the same name (the result is built
    from these fields by name), plus what only later stages and the face policy need
    (`crop`, `mesh`, `measures`).
    A field is None until its stage has run.
    """

    track_id: int
    face: Face
    guided: bool = False
    """The face comes from the last frame's mesh (`face_policy.Located.guided`)."""
    crop: npt.NDArray[np.uint8] | None = None
    features: npt.NDArray[np.float32] | None = None
    probs: npt.NDArray[np.float32] | None = None
    mesh: Mesh | None = None
    """The mesh fitted this frame, whatever its presence (the face policy follows the
    face by it); None when the mesh is off or skipped this frame."""
    measures: MeshMeasures | None = None
    fatigue: FatigueFrame | None = None
    frame_score: float | None = None
    rolling_score: float | None = None
    normalized_score: float | None = None
    forecast: float | None = None
    pulse: PulseFrame | None = None
    blinks: tuple[BlinkRecord, ...] = ()
    drowsiness: DrowsinessLevel | None = None
    blendshapes: tuple[float, ...] | None = None


def needed(value: T | None, name: str, stage: str) -> T:
    """`value`, which an earlier stage must have filled in for `stage`."""
    if value is None:
        raise StageOrderError(f"the {stage} stage needs {name}, which no earlier stage set")
    return value


class FaceStage(Protocol):
    """One step of the per-face work; see the module docstring."""

    clock: str

    def reset(self) -> None:
        """Forget everything kept across frames (a new session)."""

    def forget(self, track_ids: Iterable[int]) -> None:
        """Drop what is kept for tracks the face policy no longer follows."""

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        """All faces of `frame`, in order, with this stage's fields filled in."""


class StatelessStage:
    """Base for stages that keep nothing across frames."""

    def reset(self) -> None:
        return None

    def forget(self, track_ids: Iterable[int]) -> None:
        return None


class CropStage(StatelessStage):
    """The aligned face crop the CNNs see, and the geometric features taken from it."""

    clock = "align"

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        cropped = []
        for work in faces:
            crop = aligned_crop(frame.image, work.face)
            cropped.append(replace(work, crop=crop, features=face_features(work.face, crop)))
        return tuple(cropped)


class EmotionStage(StatelessStage):
    """Emotion probabilities for every face of the frame, in one CNN batch, from the
    model `[emotion]` chooses (with the mirror images in the same batch under `flip`)."""

    clock = "classify"

    def __init__(self, threads: int, settings: EmotionConfig | None = None) -> None:
        settings = EmotionConfig() if settings is None else settings
        self.classifier = EmotionClassifier(
            threads=threads, model=settings.model, flip=settings.flip
        )

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        crops = [needed(work.crop, "crop", "emotion") for work in faces]
        probs = self.classifier.predict(crops)
        return tuple(replace(work, probs=probs[i]) for i, work in enumerate(faces))


class MeshStage:
    """The face mesh on its schedule, turned into the per-face measures fatigue needs.

    It runs first: a face the policy follows by its last mesh (`FaceWork.guided`) is
    replaced here by the face this frame's mesh gives (`mesh_face.face_from_mesh`), so the
    emotion crop sees where the face is now, not where it was; a guided face the mesh no
    longer finds (presence below `min_presence`, or leaving the frame) is dropped, and the
    policy runs full detection on the next frame.

    The schedule counts frames with a face (the pipeline runs no stage on a frame
    without one). Every fitted mesh is kept on the face (`FaceWork.mesh`): the pipeline
    hands them to the face policy, which follows each face to its next frame by it. A face
    whose mesh is skipped this frame, or whose mesh the model itself
    doubts (presence below `min_presence`), gets no measures: the fatigue stage then
    carries its windows over rather than counting a made-up open or closed eye.
    """

    clock = "mesh"

    def __init__(self, settings: MeshConfig, threads: int) -> None:
        self.settings = settings
        self.mesh = FaceMesh(threads=threads)
        self.guide = MeshGuide(settings.min_presence)
        self._frames = 0

    def reset(self) -> None:
        self._frames = 0

    def forget(self, track_ids: Iterable[int]) -> None:
        return None

    def fit(self, image: npt.NDArray[np.uint8], faces: Sequence[Face]) -> list[Mesh | None]:
        """The mesh of each face on frames the schedule runs it, None on the others."""
        due = self._frames % self.settings.every == 0
        self._frames += 1
        if not due or not faces:
            return [None] * len(faces)
        return list(self.mesh.predict(image, faces))

    def measures(self, image: npt.NDArray[np.uint8], mesh: Mesh | None) -> MeshMeasures | None:
        if mesh is None or mesh.presence < self.settings.min_presence:
            return None
        height, width = image.shape[:2]
        return mesh_measures(mesh.points, (width, height))

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        meshes = self.fit(frame.image, [work.face for work in faces])
        height, width = frame.image.shape[:2]
        kept = []
        for work, mesh in zip(faces, meshes, strict=True):
            face = work.face
            if work.guided:
                followed = None if mesh is None else self.guide.face((width, height), mesh)
                if followed is None:
                    continue
                face = followed
            kept.append(
                replace(work, face=face, mesh=mesh, measures=self.measures(frame.image, mesh))
            )
        return tuple(kept)


class BlendshapeStage(StatelessStage):
    """The 52 blendshape coefficients of every face with a usable mesh, in one batch.

    A face without a mesh this frame, or with one the model doubts (presence below the
    mesh's `min_presence`, the same faces that get no fatigue measures), gets none.
    """

    clock = "mesh"

    def __init__(self, settings: MeshConfig, threads: int) -> None:
        self.min_presence = settings.min_presence
        self.model = FaceBlendshapes(threads=threads)

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        usable = [
            i
            for i, work in enumerate(faces)
            if work.mesh is not None and work.mesh.presence >= self.min_presence
        ]
        if not usable:
            return faces
        meshes = [needed(faces[i].mesh, "mesh", "blendshapes").points for i in usable]
        coefficients = dict(zip(usable, self.model.predict(meshes), strict=True))
        return tuple(
            replace(work, blendshapes=tuple(coefficients[i].tolist()))
            if i in coefficients
            else work
            for i, work in enumerate(faces)
        )


class TrackClocks:
    """Each track's last frame time, to tell when the source restarted its clock (a camera
    reconnected within the session): a track's windows cannot span the jump, though the
    person's baseline holds."""

    def __init__(self) -> None:
        self._last: dict[int, float] = {}

    def reset(self) -> None:
        self._last = {}

    def forget(self, track_ids: Iterable[int]) -> None:
        for track_id in track_ids:
            self._last.pop(track_id, None)

    def restarted(self, track_id: int, ts: float) -> bool:
        """Note `ts` as the track's latest time; True if it is earlier than the last one."""
        last = self._last.get(track_id)
        self._last[track_id] = ts
        return last is not None and ts < last


class FatigueStage:
    """Blinks, PERCLOS, yawns and gaze per track, from the mesh measures.

    A single-user session starts from the person's calibrated baseline if they have one;
    tracks of a multi-user session adapt from their own first seconds.
    """

    clock = "score"

    def __init__(self, settings: FatigueConfig, baseline: Baseline | None) -> None:
        self.settings = settings
        self.baseline = baseline
        self._trackers: dict[int, FatigueTracker] = {}
        self._clocks = TrackClocks()

    def reset(self) -> None:
        self._trackers = {}
        self._clocks.reset()

    def forget(self, track_ids: Iterable[int]) -> None:
        track_ids = list(track_ids)
        for track_id in track_ids:
            self._trackers.pop(track_id, None)
        self._clocks.forget(track_ids)

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        return tuple(self._push(frame.ts, work) for work in faces)

    def _push(self, ts: float, work: FaceWork) -> FaceWork:
        tracker = self._trackers.get(work.track_id)
        restarted = self._clocks.restarted(work.track_id, ts)
        if tracker is None:
            tracker = FatigueTracker(self.settings, self.baseline)
        elif restarted:
            learned = tracker.baseline if tracker.calibrated else None
            tracker = FatigueTracker(self.settings, learned)
        self._trackers[work.track_id] = tracker
        return replace(work, fatigue=tracker.push(ts, work.measures))


class DrowsinessStage:
    """Blinks with the dataset's four features per track, and the drowsiness level of each
    window of 30 normalised blinks (docs/drowsiness.md).

    The EAR is the mean of both eyes', as in the dataset, from the mesh measures; a frame
    without them adds nothing. Every window completed on a frame, over all its faces, goes
    through the model in one batch. A single-user session normalises by the person's
    calibrated blink baseline if their calibration holds one; otherwise (and for the tracks
    of a multi-user session) each track learns its own from its first `baseline_s`.
    """

    clock = "score"

    def __init__(
        self,
        settings: DrowsinessConfig,
        max_gap_s: float,
        baseline: BlinkBaseline | None,
        model: DrowsinessModel,
    ) -> None:
        self.settings = settings
        self.max_gap_s = max_gap_s
        self.baseline = baseline
        self.model = model
        self._tracks: dict[int, BlinkTrack] = {}
        self._clocks = TrackClocks()
        self._levels: dict[int, DrowsinessLevel] = {}

    def reset(self) -> None:
        self._tracks, self._levels = {}, {}
        self._clocks.reset()

    def forget(self, track_ids: Iterable[int]) -> None:
        track_ids = list(track_ids)
        for track_id in track_ids:
            self._tracks.pop(track_id, None)
            self._levels.pop(track_id, None)
        self._clocks.forget(track_ids)

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        pending = [self._push(frame.ts, work) for work in faces]
        records = self._records([work.track_id for work in faces], pending)
        return tuple(
            replace(work, blinks=done, drowsiness=self._levels.get(work.track_id))
            for work, done in zip(faces, records, strict=True)
        )

    def flush(self, track_ids: Iterable[int] | None = None) -> list[TrackBlinks]:
        """The end of the session (or, given `track_ids`, of those tracks, before they are
        forgotten): per track, the blink still waiting for its 0.4 s of context if its
        reopening was seen, with its window's level (usually none)."""
        track_ids = sorted(
            self._tracks if track_ids is None else set(track_ids) & set(self._tracks)
        )
        pending = [self._tracks[track_id].flush() for track_id in track_ids]
        records = self._records(track_ids, pending)
        return [(t, done) for t, done in zip(track_ids, records, strict=True) if done]

    def _records(
        self, track_ids: list[int], pending: list[list[PendingBlink]]
    ) -> list[tuple[BlinkRecord, ...]]:
        """Every window completed, over all tracks, through the model in one batch."""
        windows = [
            blink.window for blinks in pending for blink in blinks if blink.window is not None
        ]
        probabilities = self.model.predict(np.stack(windows)) if windows else np.zeros((0, 3))
        done = []
        read = 0
        for track_id, blinks in zip(track_ids, pending, strict=True):
            records = []
            for blink in blinks:
                level = None
                if blink.window is not None:
                    p_alert, p_low, p_drowsy = (float(p) for p in probabilities[read])
                    read += 1
                    level = DrowsinessLevel(p_alert, p_low, p_drowsy)
                    self._levels[track_id] = level
                records.append(BlinkRecord(blink.blink, blink.normalised, level))
            done.append(tuple(records))
        return done

    def _push(self, ts: float, work: FaceWork) -> list[PendingBlink]:
        measures = work.measures
        if measures is None:
            return []
        track = self._tracks.get(work.track_id)
        if self._clocks.restarted(work.track_id, ts) or track is None:
            known = self.baseline if track is None else track.baseline
            track = BlinkTrack(self.settings, self.max_gap_s, known)
            self._tracks[work.track_id] = track
        ear = 0.5 * (measures.ear_left + measures.ear_right)
        return track.push(ts, ear)


class ScoringStage:
    """The frame score from the emotions, its rolling mean per track, and with a
    calibration the rolling score as a z-score against the person's baseline."""

    clock = "score"

    def __init__(
        self, settings: ScoringConfig, calibration: Calibration | None, min_score_std: float
    ) -> None:
        self.settings = settings
        self.calibration = calibration
        self.min_score_std = min_score_std
        self._rolling: dict[int, RollingScore] = {}

    def reset(self) -> None:
        self._rolling = {}

    def forget(self, track_ids: Iterable[int]) -> None:
        for track_id in track_ids:
            self._rolling.pop(track_id, None)

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        return tuple(self._score(work) for work in faces)

    def _score(self, work: FaceWork) -> FaceWork:
        probs = needed(work.probs, "probs", "scoring")
        score = float(frame_scores(probs, self.settings))
        rolling_score = self._rolling.setdefault(work.track_id, RollingScore(self.settings))
        rolling = rolling_score.push(score)
        normalized = None
        if self.calibration is not None:
            normalized = self.calibration.normalize(rolling, self.min_score_std)
        return replace(work, frame_score=score, rolling_score=rolling, normalized_score=normalized)


class ForecastStage:
    """The forecaster's prediction per track, from a window of emotions and fatigue cues.

    Every face frame enters the window, with NaN cues where no mesh was fitted, so it
    spans the same frames as the rolling score, as in training.
    """

    clock = "score"

    def __init__(self, forecaster: Forecaster) -> None:
        self.forecaster = forecaster
        self._windows: dict[int, TrackForecast] = {}

    def reset(self) -> None:
        self._windows = {}

    def forget(self, track_ids: Iterable[int]) -> None:
        for track_id in track_ids:
            self._windows.pop(track_id, None)

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        return tuple(self._forecast(work) for work in faces)

    def _forecast(self, work: FaceWork) -> FaceWork:
        probs = needed(work.probs, "probs", "forecast")
        window = self._windows.get(work.track_id)
        if window is None:
            window = self._windows[work.track_id] = TrackForecast(self.forecaster)
        return replace(work, forecast=window.push(input_vector(probs, work.fatigue)))


RIGHT_EYE_CORNER, LEFT_EYE_CORNER = 33, 263
"""The outer eye corners: their distance is the face's size for the pulse's motion gate."""


class PulseStage:
    """The face's mean skin colour from this frame's mesh, and per track the pulse and a
    heart rate every second (`signals.heart`).

    A frame is a gap (no colour pushed) when the mesh was skipped or doubted, or when the
    face moved faster than `max_motion` eye-corner distances per second since its last
    mesh: the skin's shading then changes far more than a pulse does.
    """

    clock = "mesh"

    def __init__(self, settings: HeartConfig, min_presence: float) -> None:
        self.settings = settings
        self.min_presence = min_presence
        self._trackers: dict[int, HeartTracker] = {}
        self._last: dict[int, tuple[float, npt.NDArray[np.float64]]] = {}

    def reset(self) -> None:
        self._trackers = {}
        self._last = {}

    def forget(self, track_ids: Iterable[int]) -> None:
        for track_id in track_ids:
            self._trackers.pop(track_id, None)
            self._last.pop(track_id, None)

    def run(self, frame: Frame, faces: tuple[FaceWork, ...]) -> tuple[FaceWork, ...]:
        return tuple(self._push(frame, work) for work in faces)

    def _moved_too_fast(self, track_id: int, ts: float, points: npt.NDArray[np.float32]) -> bool:
        centre = points[:, :2].astype(np.float64).mean(axis=0)
        size = float(np.linalg.norm(points[RIGHT_EYE_CORNER, :2] - points[LEFT_EYE_CORNER, :2]))
        last = self._last.get(track_id)
        self._last[track_id] = (ts, centre)
        if last is None or ts <= last[0] or size <= 0.0:
            return False
        speed = float(np.linalg.norm(centre - last[1])) / size / (ts - last[0])
        return speed > self.settings.max_motion

    def _push(self, frame: Frame, work: FaceWork) -> FaceWork:
        tracker = self._trackers.get(work.track_id)
        if tracker is None:
            tracker = self._trackers[work.track_id] = HeartTracker(self.settings)
        mesh = work.mesh
        rgb = None
        usable = mesh is not None and mesh.presence >= self.min_presence
        if (
            mesh is not None
            and usable
            and not self._moved_too_fast(work.track_id, frame.ts, mesh.points)
        ):
            rgb = skin_rgb(frame.image, mesh.points)
        return replace(work, pulse=tracker.push(frame.ts, rgb))


def calibrated_blinks(calibration: Calibration | None) -> BlinkBaseline | None:
    """The blink baseline a calibration holds, if it holds one (older ones do not)."""
    if calibration is None or calibration.blink_means is None or calibration.blink_stds is None:
        return None
    return BlinkBaseline(
        calibration.blink_count or 0, calibration.blink_means, calibration.blink_stds
    )


def default_stages(
    config: Config,
    threads: int,
    *,
    forecaster: Forecaster | None,
    calibration: Calibration | None,
) -> list[FaceStage]:
    """The stage list, in order. The mesh runs only when enabled, and first (it moves or
    drops the faces the policy follows by mesh, see `MeshStage`); the forecast only with
    a forecaster (which needs the mesh's cues: `make_pipeline` drops it without one)."""
    stages: list[FaceStage] = []
    if config.mesh.enabled:
        stages.append(MeshStage(config.mesh, threads))
        if config.heart.enabled:
            stages.append(PulseStage(config.heart, config.mesh.min_presence))
        if config.blendshapes.enabled:
            stages.append(BlendshapeStage(config.mesh, threads))
    stages += [CropStage(), EmotionStage(threads, config.emotion)]
    stages.append(
        FatigueStage(config.fatigue, None if calibration is None else calibration.baseline)
    )
    if config.mesh.enabled and config.drowsiness.enabled:
        stages.append(
            DrowsinessStage(
                config.drowsiness,
                config.fatigue.max_gap_s,
                calibrated_blinks(calibration),
                DrowsinessModel(threads=1),
            )
        )
    stages.append(ScoringStage(config.scoring, calibration, config.calibration.min_score_std))
    if forecaster is not None:
        stages.append(ForecastStage(forecaster))
    return stages
