"""A yawn behind a hand, on a clip made from a shared one, and no yawn on the talking clips.

`tools.occluded_yawn` makes the clip in memory (a real gape of liveportrait_d3, slowed into
a 7 s yawn, with a hand-shaped, skin-textured occluder rising over the mouth for the middle
65 % of it); the pipeline's detector and face mesh measure it as in test_fatigue_video.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from burnout_tui.config import FatigueConfig
from tests.integration.test_fatigue_video import Clip, _clip, measure_frames
from tools.occluded_yawn import OccludedYawn, make_clip

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

SLIDE_FRAMES = 6
"""The hand rises into place over 0.2 s and leaves the same way."""
TALKING_CLIPS = ("liveportrait_d0.mp4", "liveportrait_d10.mp4", "liveportrait_d11.mp4")
"""Talking and closed-mouth clips not already checked for yawns by test_fatigue_video
(d3, d6, d9 are)."""


@pytest.fixture(scope="module")
def covered(shared_data: Path) -> tuple[OccludedYawn, Clip]:
    made = make_clip(shared_data, hand=True, slide=SLIDE_FRAMES)
    return made, measure_frames(made.frames, made.fps)


def test_a_yawn_seen_whole_is_a_yawn(shared_data: Path) -> None:
    made = make_clip(shared_data, hand=False)
    events = measure_frames(made.frames, made.fps).run(FatigueConfig()).events("yawn")
    assert len(events) == 1 and made.gape[0] <= events[0] <= made.gape[1], events


def test_a_yawn_behind_a_hand_is_found_after_the_hand_leaves(
    covered: tuple[OccludedYawn, Clip],
) -> None:
    made, clip = covered
    assert made.hand is not None
    events = clip.run(FatigueConfig()).events("yawn")
    assert len(events) == 1, events
    assert made.hand[1] < events[0] <= made.gape[1], (events, made.hand, made.gape)


def test_without_the_rule_the_hand_hides_the_yawn(covered: tuple[OccludedYawn, Clip]) -> None:
    _, clip = covered
    assert clip.run(FatigueConfig(covered_yawn_max_cover_s=0.0)).events("yawn") == []


@pytest.mark.parametrize("name", TALKING_CLIPS)
def test_no_yawn_while_talking(shared_data: Path, name: str) -> None:
    assert _clip(shared_data, name).run(FatigueConfig()).summary().yawns == 0
