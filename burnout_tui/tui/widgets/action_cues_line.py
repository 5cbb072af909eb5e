"""One line of the monitor: the named action cues of the followed face, 0-1 each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.widgets import Static

from burnout_tui.scoring.action_cues import ACTION_CUES, action_cues
from burnout_tui.tui.formatting import NO_VALUE


def format_action_cues(blendshapes: Sequence[float] | None) -> str:
    """`cues: brow .12 · press .05 · …` in `ACTION_CUES` order; a dash without a mesh."""
    if blendshapes is None:
        return f"cues: {NO_VALUE} (no face mesh)"
    values = action_cues(blendshapes)
    shown = (f"{cue.label} {values[cue.name]:.2f}".replace(" 0.", " .") for cue in ACTION_CUES)
    return "cues: " + " · ".join(shown)


class ActionCuesLine(Static):
    """Brow lowering, lip press, lip-corner depression, squint, jaw open and blink, as
    blendshape coefficients (shapes of the face, not muscle measurements)."""

    LINES: ClassVar[int] = 1
    DEFAULT_CSS = """
    ActionCuesLine {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def show(self, blendshapes: Sequence[float] | None) -> None:
        self.update(format_action_cues(blendshapes), layout=False)
