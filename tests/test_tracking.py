"""Tracking on real MTCNN detections from `short_hamilton_clip.mp4` (640×360, 29.97 fps).

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
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from burnout_tui.config import TrackingConfig
from burnout_tui.sources import open_source, parse_source
from burnout_tui.tracking import FIRST_TRACK_ID, TrackerState, assign
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import Face

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CLIP = "videos/short_hamilton_clip.mp4"
SINGLE_FACE = range(100, 225)
GROUP = range(225, 275)
GROUP_CENTRES = ((71.0, 100.0), (199.0, 127.0), (362.0, 91.0), (422.0, 134.0))
"""Face centres of the four seated people in frame 250, left to right (inspection above)."""
GROUP_RADIUS_PX = 25.0
"""Less than half the distance between any two of them and from the hidden fifth face."""

Detections = list[tuple[float, list[Face]]]


@pytest.fixture(scope="module")
def detections(shared_data: Path) -> Detections:
    """Full MTCNN on every frame: (ts, faces) per frame."""
    source = open_source(parse_source(str(shared_data / CLIP)))
    detector = FaceDetector()
    found = []
    while (frame := source.read()) is not None:
        found.append((frame.ts, detector.detect(frame.image)))
    source.close()
    return found


def run_tracker(
    detections: Detections, config: TrackingConfig, blank: range = range(0)
) -> list[list[tuple[int, Face]]]:
    """Track ids per frame; frames in `blank` get no detections, as if everyone hid."""
    state = TrackerState()
    out = []
    for index, (ts, faces) in enumerate(detections):
        shown = [] if index in blank else faces
        assignment = assign(state, shown, ts, config)
        state = assignment.state
        out.append(list(zip(assignment.track_ids, shown, strict=True)))
    return out


def centre(face: Face) -> tuple[float, float]:
    return face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2


def identity_switches(
    tracked: list[list[tuple[int, Face]]], frames: range, centres: tuple[tuple[float, float], ...]
) -> tuple[int, list[set[int]]]:
    """Switches summed over the people at `centres`, and each person's set of ids."""
    switches = 0
    ids: list[set[int]] = [set() for _ in centres]
    last: list[int | None] = [None] * len(centres)
    for index in frames:
        for track_id, face in tracked[index]:
            for person, point in enumerate(centres):
                if math.dist(centre(face), point) <= GROUP_RADIUS_PX:
                    ids[person].add(track_id)
                    if last[person] is not None and last[person] != track_id:
                        switches += 1
                    last[person] = track_id
    return switches, ids


def test_four_seated_people_keep_their_ids(detections: Detections) -> None:
    tracked = run_tracker(detections, TrackingConfig())
    switches, ids = identity_switches(tracked, GROUP, GROUP_CENTRES)
    assert switches == 0, ids
    assert all(len(person) == 1 for person in ids)
    assert len(set().union(*ids)) == len(GROUP_CENTRES)


def obama_id(tracked: list[list[tuple[int, Face]]], index: int) -> int:
    (only,) = tracked[index]
    return only[0]


def test_id_survives_an_occlusion_shorter_than_the_grace_period(detections: Detections) -> None:
    config = TrackingConfig()
    hidden = range(140, 170)
    assert detections[hidden.stop][0] - detections[hidden.start - 1][0] < config.grace_s
    tracked = run_tracker(detections, config, blank=hidden)
    assert all(not tracked[index] for index in hidden)
    assert obama_id(tracked, hidden.stop) == obama_id(tracked, hidden.start - 1)


def test_new_id_after_the_grace_period(detections: Detections) -> None:
    config = TrackingConfig()
    hidden = range(140, 210)
    assert detections[hidden.stop][0] - detections[hidden.start - 1][0] > config.grace_s
    tracked = run_tracker(detections, config, blank=hidden)
    before, after = obama_id(tracked, hidden.start - 1), obama_id(tracked, hidden.stop)
    assert after != before
    assert after > before, "ids are never reused"


def test_grace_period_is_configurable(detections: Detections) -> None:
    short = replace(TrackingConfig(), grace_s=0.5)
    hidden = range(140, 170)
    tracked = run_tracker(detections, short, blank=hidden)
    assert obama_id(tracked, hidden.stop) != obama_id(tracked, hidden.start - 1)


def test_assign_is_pure_and_numbers_new_faces_in_order(detections: Detections) -> None:
    ts, faces = detections[GROUP.start]
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
