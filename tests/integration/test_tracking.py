"""Tracking on real MTCNN clip_detections from `short_hamilton_clip.mp4` (640×360, 29.97 fps).

Ground truth, established by inspection (frames 0, 25, …, 250 were written as PNGs with
the detector's boxes drawn and looked at): frames 100–224 show one face, Barack Obama,
centre frame (box near x=205, y=30–90, ~80×110 px). Frames 225–274 show four seated
people in a row, who barely move: a man far left (box centre x < 120), a woman in a
striped top (centre 120–260), Obama (centre 260–385) and Michelle Obama beside him on
the right (centre ≥ 385). Face centres, read off frames 226 and 250: man (76, 101) →
(71, 100), woman (187, 127) → (199, 127), Obama (353, 86) → (362, 91), Michelle (412,
132) → (422, 134). In frames 229–238 a fifth, half-hidden face behind the man's left
shoulder is found too (centre about (55, 64)); it is a real person, not in the truth
set. A face is a person's when its centre lies within GROUP_RADIUS_PX of that person's
frame-250 centre. Each of the four must keep one id through frames 225–274; an identity
switch is a change of id between two frames that both show that person.

The crowd clip (`crowd_walking_video.mp4`, 1920×1080, 25 fps) was checked the same way:
frames 0, 10, 20, 30 and 40 were written as PNGs with boxes, ids and centres drawn and
looked at. Four faces are clearly visible in frames 0–40 while people walk towards the
camera: a white-haired woman on the left, a red-haired young man left of centre, a boy
in a blue hoodie centre, and a woman in a scarf who crosses the whole frame from left
to right in front of the others by frame 30 (about 36 px a frame) and leaves it at 34.
Their centres were read every 5 frames (CROWD_TRUTH) and are interpolated linearly in
between; the largest gap between that path and the detected centre is 15 px, and the
nearest other face (a small one behind the boy) is always more than 45 px away, so
CROWD_RADIUS_PX = 20 px picks each person's face and nobody else's. Identity switches
are counted exactly as for the Hamilton group.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from burnout_tui.config import TrackingConfig
from burnout_tui.sources import open_source, parse_source
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import Face
from burnout_tui.vision.tracking import FIRST_TRACK_ID, TrackerState, assign

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CLIP = "videos/short_hamilton_clip.mp4"
SINGLE_FACE = range(100, 225)
GROUP = range(225, 275)
GROUP_CENTRES = ((71.0, 100.0), (199.0, 127.0), (362.0, 91.0), (422.0, 134.0))
"""Face centres of the four seated people in frame 250, left to right (inspection above)."""
GROUP_RADIUS_PX = 25.0
"""Less than half the distance between any two of them and from the hidden fifth face."""

CROWD_CLIP = "videos/crowd_walking_video.mp4"
Keyframes = dict[int, tuple[float, float]]
CROWD_TRUTH: tuple[Keyframes, ...] = (
    {0: (307, 658), 5: (312, 666), 10: (314, 700), 15: (316, 696), 20: (311, 716),
     25: (299, 711), 30: (290, 704), 35: (278, 728), 40: (264, 710)},
    {0: (706, 598), 5: (735, 615), 10: (760, 612), 15: (756, 630), 20: (718, 644),
     25: (680, 624), 30: (664, 632), 35: (660, 682), 40: (652, 670)},
    {0: (944, 674), 5: (942, 674), 10: (963, 685), 15: (1001, 708), 20: (1020, 697),
     25: (1016, 739), 30: (1012, 730), 35: (1024, 747), 40: (1044, 765)},
    {0: (334, 777), 5: (498, 793), 10: (693, 808), 15: (876, 798), 20: (1054, 840),
     25: (1260, 837), 30: (1448, 834)},
)  # fmt: skip
"""Face centres, frame index → (x, y), of the white-haired woman, the red-haired man, the
boy and the crossing woman in the crowd clip (inspection above)."""
CROWD_FRAMES = range(0, 41)
CROWD_RADIUS_PX = 20.0
CROWD_MAX_SWITCHES = 0
"""Measured with full MTCNN on every frame; any switch here is a regression."""

Detections = list[tuple[float, list[Face]]]


def detect_all(video: Path) -> Detections:
    """Full MTCNN on every frame: (ts, faces) per frame."""
    source = open_source(parse_source(str(video)))
    detector = FaceDetector()
    found = []
    while (frame := source.read()) is not None:
        found.append((frame.ts, detector.detect(frame.image)))
    source.close()
    return found


@pytest.fixture(scope="module")
def clip_detections(shared_data: Path) -> Detections:
    return detect_all(shared_data / CLIP)


@pytest.fixture(scope="module")
def crowd_detections(shared_data: Path) -> Detections:
    return detect_all(shared_data / CROWD_CLIP)


def run_tracker(
    clip_detections: Detections, config: TrackingConfig, blank: range = range(0)
) -> list[list[tuple[int, Face]]]:
    """Track ids per frame; frames in `blank` get no clip_detections, as if everyone hid."""
    state = TrackerState()
    out = []
    for index, (ts, faces) in enumerate(clip_detections):
        shown = [] if index in blank else faces
        assignment = assign(state, shown, ts, config)
        state = assignment.state
        out.append(list(zip(assignment.track_ids, shown, strict=True)))
    return out


def centre(face: Face) -> tuple[float, float]:
    return face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2


def position_at(keyframes: Keyframes, index: int) -> tuple[float, float] | None:
    """A person's centre at frame `index`, interpolated between keyframes; None outside
    the frames where the person was followed."""
    frames = sorted(keyframes)
    if not frames[0] <= index <= frames[-1]:
        return None
    before = max(frame for frame in frames if frame <= index)
    after = min(frame for frame in frames if frame >= index)
    share = 0.0 if after == before else (index - before) / (after - before)
    (x0, y0), (x1, y1) = keyframes[before], keyframes[after]
    return x0 + (x1 - x0) * share, y0 + (y1 - y0) * share


def identity_switches(
    tracked: list[list[tuple[int, Face]]],
    frames: range,
    people: tuple[Keyframes, ...],
    radius: float = GROUP_RADIUS_PX,
) -> tuple[int, list[set[int]]]:
    """Switches summed over `people` (each person's keyframed centres), and each person's
    set of ids. A face is a person's when its centre lies within `radius` of theirs."""
    switches = 0
    ids: list[set[int]] = [set() for _ in people]
    last: list[int | None] = [None] * len(people)
    for index in frames:
        for track_id, face in tracked[index]:
            for person, keyframes in enumerate(people):
                point = position_at(keyframes, index)
                if point is not None and math.dist(centre(face), point) <= radius:
                    ids[person].add(track_id)
                    if last[person] is not None and last[person] != track_id:
                        switches += 1
                    last[person] = track_id
    return switches, ids


def test_four_seated_people_keep_their_ids(clip_detections: Detections) -> None:
    tracked = run_tracker(clip_detections, TrackingConfig())
    people = tuple({GROUP.start: point, GROUP.stop - 1: point} for point in GROUP_CENTRES)
    switches, ids = identity_switches(tracked, GROUP, people)
    assert switches == 0, ids
    assert all(len(person) == 1 for person in ids)
    assert len(set().union(*ids)) == len(GROUP_CENTRES)


def test_crowd_walking_towards_the_camera_keeps_ids(crowd_detections: Detections) -> None:
    """Faces grow and one person crosses in front of the others; everyone is found in
    every frame of the stretch, so each must keep one id throughout."""
    tracked = run_tracker(crowd_detections, TrackingConfig())
    switches, ids = identity_switches(tracked, CROWD_FRAMES, CROWD_TRUTH, CROWD_RADIUS_PX)
    assert switches <= CROWD_MAX_SWITCHES, ids
    assert all(len(person) == 1 for person in ids), ids
    assert len(set().union(*ids)) == len(CROWD_TRUTH)


def obama_id(tracked: list[list[tuple[int, Face]]], index: int) -> int:
    (only,) = tracked[index]
    return only[0]


def test_id_survives_an_occlusion_shorter_than_the_grace_period(
    clip_detections: Detections,
) -> None:
    config = TrackingConfig()
    hidden = range(140, 170)
    assert clip_detections[hidden.stop][0] - clip_detections[hidden.start - 1][0] < config.grace_s
    tracked = run_tracker(clip_detections, config, blank=hidden)
    assert all(not tracked[index] for index in hidden)
    assert obama_id(tracked, hidden.stop) == obama_id(tracked, hidden.start - 1)


def test_new_id_after_the_grace_period(clip_detections: Detections) -> None:
    config = TrackingConfig()
    hidden = range(140, 210)
    assert clip_detections[hidden.stop][0] - clip_detections[hidden.start - 1][0] > config.grace_s
    tracked = run_tracker(clip_detections, config, blank=hidden)
    before, after = obama_id(tracked, hidden.start - 1), obama_id(tracked, hidden.stop)
    assert after != before
    assert after > before, "ids are never reused"


def test_grace_period_is_configurable(clip_detections: Detections) -> None:
    short = replace(TrackingConfig(), grace_s=0.5)
    hidden = range(140, 170)
    tracked = run_tracker(clip_detections, short, blank=hidden)
    assert obama_id(tracked, hidden.stop) != obama_id(tracked, hidden.start - 1)


def test_assign_is_pure_and_numbers_new_faces_in_order(clip_detections: Detections) -> None:
    ts, faces = clip_detections[GROUP.start]
    state = TrackerState()
    first = assign(state, faces, ts, TrackingConfig())
    again = assign(state, faces, ts, TrackingConfig())
    assert first == again
    assert state == TrackerState()
    assert first.track_ids == tuple(range(FIRST_TRACK_ID, FIRST_TRACK_ID + len(faces)))
    assert first.new_ids == first.track_ids
    following = assign(first.state, faces, ts + 0.1, TrackingConfig())
    assert following.track_ids == first.track_ids
    assert following.new_ids == ()


def scheduled_ids(video: Path, frames: range, mesh_guided: bool) -> list[list[tuple[int, Face]]]:
    """(track id, face) per frame up to `frames.stop` from the multi-user pipeline as
    `analyze --multi-user` runs it, with mesh guidance on (the default) or off; frames
    before `frames.start` are read but not processed."""
    from burnout_tui.config import load_config
    from burnout_tui.runtime.pipeline import make_pipeline

    config = load_config()
    assert config.detection.mesh_guided_multi_user, "mesh guidance is the multi-user default"
    detection = replace(config.detection, mesh_guided_multi_user=mesh_guided)
    pipeline = make_pipeline(replace(config, detection=detection), multi_user=True)
    source = open_source(parse_source(str(video)))
    tracked: list[list[tuple[int, Face]]] = []
    while (frame := source.read()) is not None and frame.index <= frames.stop:
        if frame.index < frames.start:
            tracked.append([])
            continue
        tracked.append([(face.track_id, face.face) for face in pipeline.process(frame).faces])
    source.close()
    return tracked


SCHEDULES = pytest.mark.parametrize("mesh_guided", [True, False], ids=["mesh-guided", "refined"])


@SCHEDULES
def test_crowd_keeps_ids_with_scheduled_detection(shared_data: Path, mesh_guided: bool) -> None:
    """As `analyze --multi-user` runs it: full MTCNN only every `redetect_s` seconds, the
    faces in between followed by their mesh (the default) or refined by R-Net and O-Net.

    The woman crossing in front moves about two face widths between full clip_detections; the
    constant-velocity prediction is what keeps her one person (10 switches without it).
    Followed by her mesh she got a new id at every full detection (10 switches) until a
    face moving more than `MAX_GUIDED_SHIFT` a frame was refined instead.
    """
    tracked = scheduled_ids(shared_data / CROWD_CLIP, CROWD_FRAMES, mesh_guided)
    switches, ids = identity_switches(tracked, CROWD_FRAMES, CROWD_TRUTH, CROWD_RADIUS_PX)
    assert switches <= CROWD_MAX_SWITCHES, ids
    assert all(len(person) == 1 for person in ids), ids


GROUP_LEAD_IN = range(200, GROUP.stop)
"""Frames run for the seated group: from before the cut to the four of them (frame 211),
so their tracks start as `analyze` would start them."""


@SCHEDULES
def test_four_seated_people_keep_their_ids_with_scheduled_detection(
    shared_data: Path, mesh_guided: bool
) -> None:
    tracked = scheduled_ids(shared_data / CLIP, GROUP_LEAD_IN, mesh_guided)
    people = tuple({GROUP.start: point, GROUP.stop - 1: point} for point in GROUP_CENTRES)
    switches, ids = identity_switches(tracked, GROUP, people)
    assert switches == 0, ids
    assert all(len(person) == 1 for person in ids), ids


def test_prediction_moves_a_track_at_its_velocity() -> None:
    face = Face((100, 50, 40, 48), 0.99, {"nose": (120.0, 74.0)})
    track = replace(
        assign(TrackerState(), [face], 0.0, TrackingConfig()).state.tracks[0],
        velocity=(30.0, -10.0),
    )
    ahead = track.predicted(0.5)
    assert ahead.box == (115, 45, 40, 48)
    assert ahead.keypoints["nose"] == (135.0, 69.0)
    assert track.predicted(0.0) is face
