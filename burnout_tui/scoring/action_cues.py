"""The 52 blendshape coefficients' names and the named action cues derived from them.

`BLENDSHAPE_NAMES` (in `burnout_tui.measures`, below the vision stage that produces the
coefficients) is the one definition of their order: the model's output,
the stored `frames.blendshapes` array (DuckDB lists are 1-based: coefficient `i` here is
element `i + 1` there), the `v_action_cues` view and docs/action-cues.md all follow it
(tests check each against it). `ACTION_CUES` defines each named cue once: which
coefficients, how the left and right sides combine, and the FACS action unit it
approximates. Blendshapes are a fit of the face's *geometry* (landmark positions) to an
ARKit-style rig, not measurements of muscles: a cue says the shape looks like what the
action unit produces, nothing about why (docs/action-cues.md has each cue's limits).

Model-free (no NumPy model, no ONNX Runtime), so the UI process can import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from burnout_tui.measures import BLENDSHAPE_NAMES, NUM_BLENDSHAPES

BLENDSHAPE_INDEX: dict[str, int] = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}


@dataclass(frozen=True, slots=True)
class ActionCue:
    """One named cue: the mean of its coefficients (both sides of a bilateral action)."""

    name: str
    """Column name in `v_action_cues`."""
    label: str
    """The monitor's short name (one line holds all six at 80 columns)."""
    action_unit: str
    """The FACS action unit(s) the shape approximates."""
    coefficients: tuple[str, ...]

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(BLENDSHAPE_INDEX[name] for name in self.coefficients)

    def value(self, blendshapes: Sequence[float]) -> float:
        """The cue in [0, 1] from one face's 52 coefficients."""
        return sum(float(blendshapes[i]) for i in self.indices) / len(self.indices)


ACTION_CUES: tuple[ActionCue, ...] = (
    ActionCue("brow_lowering", "brow", "AU4", ("browDownLeft", "browDownRight")),
    ActionCue("lip_press", "press", "AU24", ("mouthPressLeft", "mouthPressRight")),
    ActionCue(
        "lip_corner_depression",
        "frown",
        "AU15",
        ("mouthFrownLeft", "mouthFrownRight"),
    ),
    ActionCue("eye_squint", "squint", "AU6/AU7", ("eyeSquintLeft", "eyeSquintRight")),
    ActionCue("jaw_open", "jaw", "AU26/AU27", ("jawOpen",)),
    ActionCue("eye_blink", "blink", "AU45", ("eyeBlinkLeft", "eyeBlinkRight")),
)
"""Both sides averaged: a one-sided action (a wink, a half smile) reads half as strong,
which suits cues meant for tension and fatigue, where both sides act together."""

ACTION_CUE_NAMES: tuple[str, ...] = tuple(cue.name for cue in ACTION_CUES)


def action_cues(blendshapes: Sequence[float]) -> dict[str, float]:
    """Every named cue of one face, by name, in `ACTION_CUES` order."""
    if len(blendshapes) != NUM_BLENDSHAPES:
        raise ValueError(f"expected {NUM_BLENDSHAPES} coefficients, found {len(blendshapes)}")
    return {cue.name: cue.value(blendshapes) for cue in ACTION_CUES}


__all__ = [
    "ACTION_CUES",
    "ACTION_CUE_NAMES",
    "BLENDSHAPE_INDEX",
    "BLENDSHAPE_NAMES",
    "NUM_BLENDSHAPES",
    "ActionCue",
    "action_cues",
]
