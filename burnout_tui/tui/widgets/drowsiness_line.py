"""The drowsiness level from the last 30 blinks, one line, shown once there is one.

Hidden until the followed person has 30 normalised blinks (several minutes of a session),
so the monitor looks as before until then; afterwards it keeps the newest level, which
changes only when a blink completes, through moments the face is lost.
"""

from __future__ import annotations

from typing import ClassVar

from textual.content import Content
from textual.widgets import Static

from burnout_tui.signals.drowsiness import LEVELS, WINDOW_BLINKS, DrowsinessLevel

LEVEL_STYLES: dict[str, str] = dict(zip(LEVELS, ("green", "yellow", "bold red"), strict=True))


def drowsiness_content(level: DrowsinessLevel) -> Content:
    """`drowsiness (last 30 blinks): drowsy 72 %` with the level in its colour."""
    return Content.assemble(
        f"drowsiness (last {WINDOW_BLINKS} blinks): ",
        Content.styled(level.level, LEVEL_STYLES[level.level]),
        f" {level.probability:.0%}",
        f"   alert {level.p_alert:.0%} · low vigilant {level.p_low_vigilant:.0%}"
        f" · drowsy {level.p_drowsy:.0%}",
    )


class DrowsinessLine(Static):
    """One line under the fatigue cues; `show` it each redraw with the face's level."""

    LINES: ClassVar[int] = 1

    DEFAULT_CSS: ClassVar[str] = """
    DrowsinessLine {
        height: 1;
        display: none;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.level: DrowsinessLevel | None = None

    def show(self, level: DrowsinessLevel | None) -> None:
        """Draw `level` if it is new; None (no face, or no level yet) keeps what is shown."""
        if level is None or level == self.level:
            return
        self.level = level
        self.update(drowsiness_content(level), layout=False)
        self.display = True
