"""Which faces of a frame the pipeline follows, and under which track id.

A face policy owns detection and its schedule. With the face mesh on, a followed face's
next box comes from its last mesh (`mesh_face.face_from_mesh`), as MediaPipe's
face_landmark_front tracks with landmarks instead of its detector, so full MTCNN runs only
to find faces: at the start, after the mesh loses a face (presence below
`mesh.min_presence`, or the face leaving the frame), and in `--multi-user` every
`detection.redetect_s` seconds of frame time for newcomers. The pipeline reports each
frame's meshes back through `observe` once the stages have run.

Without the mesh (or on frames its schedule skips), and in `--multi-user` unless
`detection.mesh_guided_multi_user` is on, R-Net and O-Net refine the faces of the last
frame (`FaceDetector.refine`) and full MTCNN runs every `detect_every` frames for one
person, every `redetect_s` seconds for several. `detect_every = 1` means full detection on
every frame, in either mode, mesh or not. docs/tracking.md compares both schedules with
full detection on every frame.

- `LargestFace` (single-user): the largest face, always under `PRIMARY_TRACK`. A lost
  face triggers a full detection on the very next frame.
- `TrackedFaces` (`--multi-user`): every face, each matched to a track by
  `tracking.assign`. A full detection also runs on the next frame whenever a followed
  face is lost, so the tracker sees it again as early as possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from burnout_tui.config import DetectionConfig, MeshConfig, TrackingConfig
from burnout_tui.runtime.results import PRIMARY_TRACK
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import Face
from burnout_tui.vision.mesh import Mesh
from burnout_tui.vision.mesh_face import face_from_mesh
from burnout_tui.vision.tracking import TrackerState, assign


@dataclass(frozen=True, slots=True)
class Located:
    """One frame's faces as the policy follows them, in the order the stages see them."""

    faces: tuple[tuple[int, Face], ...]
    """(track id, face) pairs."""
    full_detection: bool
    forgotten: frozenset[int] = field(default_factory=frozenset)
    """Tracks the policy stopped following at this frame: stages drop their state."""
    guided: frozenset[int] = field(default_factory=frozenset)
    """Tracks whose face comes from the last frame's mesh rather than the detector: the
    mesh stage replaces it by this frame's mesh, or drops it when the mesh lost it."""


class FacePolicy(Protocol):
    def reset(self) -> None:
        """Forget every face and track, e.g. when a new session starts."""

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located: ...

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        """The meshes fitted in the frame `locate` just returned, by track id (a track
        whose mesh was not fitted is absent); `frame_size` is (width, height)."""


def _area(face: Face) -> int:
    return face.box[2] * face.box[3]


@dataclass(frozen=True, slots=True)
class MeshGuide:
    """Turns the meshes of one frame into the faces the policy follows in the next."""

    min_presence: float
    """`mesh.min_presence`: below it the mesh says the face is gone."""

    def face(self, frame_size: tuple[int, int], mesh: Mesh) -> Face | None:
        """The face `mesh` follows, or None when it lost it (low presence, out of frame)."""
        if mesh.presence < self.min_presence:
            return None
        return face_from_mesh(mesh, frame_size)

    def next_faces(
        self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh], guided: frozenset[int]
    ) -> tuple[dict[int, Face], bool]:
        """The next frame's face per track, and whether a face followed by its mesh
        (`guided`) was lost. A detector's face whose mesh is doubtful is not lost: the
        detector found it, and the refine schedule follows it instead."""
        guides: dict[int, Face] = {}
        for track_id, mesh in meshes.items():
            face = self.face(frame_size, mesh)
            if face is not None:
                guides[track_id] = face
        return guides, not guided <= guides.keys()


def mesh_guide(detection: DetectionConfig, mesh: MeshConfig) -> MeshGuide | None:
    """The guide a policy tracks with, or None where the refine schedule alone applies:
    without the mesh, with a mesh that skips frames (`mesh.every` > 1: a followed face
    must be confirmed on every frame), or with `detect_every = 1` (full detection on every
    frame, the reference the schedules are compared with)."""
    if not mesh.enabled or mesh.every > 1 or detection.detect_every <= 1:
        return None
    return MeshGuide(mesh.min_presence)


class LargestFace:
    """Single-user: follow the largest face, by its mesh where there is one."""

    def __init__(
        self, detector: FaceDetector, settings: DetectionConfig, guide: MeshGuide | None = None
    ) -> None:
        self.detector = detector
        self.settings = settings
        self.guide = guide
        self._last_faces: list[Face] = []
        self._guided: Face | None = None
        self._guiding = False
        self._since_full = 0

    def reset(self) -> None:
        self._last_faces = []
        self._guided = None
        self._guiding = False
        self._since_full = 0

    def _detect(self, image: npt.NDArray[np.uint8]) -> tuple[list[Face], bool]:
        if self._guided is not None:
            return [self._guided], False
        if self._last_faces and self._since_full < self.settings.detect_every:
            refined = self.detector.refine(image, self._last_faces)
            if refined:
                self._since_full += 1
                return refined, False
        self._since_full = 1
        return self.detector.detect(image), True

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located:
        self._guiding = self._guided is not None
        faces, full = self._detect(image)
        self._guided = None
        primary = max(faces, key=_area, default=None)
        if primary is None:
            self._last_faces = []
            return Located((), full)
        self._last_faces = [primary]
        guided = frozenset({PRIMARY_TRACK}) if self._guiding else frozenset()
        return Located(((PRIMARY_TRACK, primary),), full, guided=guided)

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        if self.guide is None:
            return
        guided = frozenset({PRIMARY_TRACK}) if self._guiding else frozenset()
        guides, lost = self.guide.next_faces(frame_size, meshes, guided)
        self._guided = guides.get(PRIMARY_TRACK)
        if lost:
            self._last_faces = []


class TrackedFaces:
    """Multi-user: every face gets a track id from the tracker.

    Followed faces come from their last mesh; tracks seen in the last frame without one
    are refined where their velocity says they are now (`Track.predicted`). Newcomers are
    looked for by a full detection every `redetect_s` seconds of frame time, with or
    without mesh guidance, and on the frame after a face was lost.
    """

    def __init__(
        self,
        detector: FaceDetector,
        settings: DetectionConfig,
        tracking: TrackingConfig,
        guide: MeshGuide | None = None,
    ) -> None:
        self.detector = detector
        self.settings = settings
        self.tracking = tracking
        self.guide = guide
        self.reset()

    def reset(self) -> None:
        self.tracker = TrackerState()
        self._refine_lost = False
        self._last_ts: float | None = None
        self._last_full_ts: float | None = None
        self._guided: dict[int, Face] = {}
        self._guiding: frozenset[int] = frozenset()
        self._lost = False

    def _redetect_due(self, ts: float) -> bool:
        last = self._last_full_ts
        # A clock that went back (a camera reconnected) restarts the cadence.
        return last is None or ts < last or ts - last >= self.settings.redetect_s

    def _unguided(self, ts: float) -> list[Face]:
        visible = [] if self._last_ts is None else self.tracker.visible_at(self._last_ts)
        return [track.predicted(ts) for track in visible if track.track_id not in self._guided]

    def _follow(self, image: npt.NDArray[np.uint8], ts: float) -> list[Face] | None:
        """This frame's faces from the meshes (and refinement of the rest), or None when
        a full detection must run instead."""
        if self.guide is None or self._lost or self._redetect_due(ts):
            return None
        unguided = self._unguided(ts)
        if not self._guided and not unguided:
            return None
        refined = self.detector.refine(image, unguided) if unguided else []
        if len(refined) < len(unguided):
            return None
        return [*self._guided.values(), *refined]

    def _detect(self, image: npt.NDArray[np.uint8], ts: float) -> tuple[list[Face], bool]:
        followed = self._follow(image, ts)
        if followed is not None:
            return followed, False
        visible = [] if self._last_ts is None else self.tracker.visible_at(self._last_ts)
        every_frame = self.settings.detect_every <= 1
        if (
            self.guide is None
            and visible
            and not every_frame
            and not self._refine_lost
            and not self._redetect_due(ts)
        ):
            refined = self.detector.refine(image, [track.predicted(ts) for track in visible])
            # A face refinement lost is looked for again by a full detection next frame.
            self._refine_lost = len(refined) < len(visible)
            if refined:
                return refined, False
        self._refine_lost = False
        self._last_full_ts = ts
        return self.detector.detect(image), True

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located:
        faces, full = self._detect(image, ts)
        guides = {} if full else self._guided
        self._guided, self._lost = {}, False
        before = {track.track_id for track in self.tracker.tracks}
        assignment = assign(self.tracker, faces, ts, self.tracking)
        self.tracker = assignment.state
        self._last_ts = ts
        live = {track.track_id for track in self.tracker.tracks}
        pairs = tuple(zip(assignment.track_ids, faces, strict=True))
        # A face counts as followed by its mesh only if the tracker gave it back to the
        # track it was followed under.
        self._guiding = frozenset(
            track_id for track_id, face in pairs if guides.get(track_id) is face
        )
        return Located(pairs, full, frozenset(before - live), guided=self._guiding)

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        if self.guide is None:
            return
        self._guided, self._lost = self.guide.next_faces(frame_size, meshes, self._guiding)


__all__ = [
    "PRIMARY_TRACK",
    "FacePolicy",
    "LargestFace",
    "Located",
    "MeshGuide",
    "TrackedFaces",
    "mesh_guide",
]
