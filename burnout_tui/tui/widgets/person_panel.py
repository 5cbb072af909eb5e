"""One person on the people grid: their name, current state and a few fixed-scale traces."""

from __future__ import annotations

from statistics import fmean
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from burnout_tui import EMOTIONS
from burnout_tui.config import PERCENT_MAX, LevelsConfig
from burnout_tui.scoring import level
from burnout_tui.tui.formatting import (
    NO_VALUE,
    format_percent,
    format_probability,
    level_content,
)
from burnout_tui.tui.state.live_series import LiveSeries
from burnout_tui.tui.widgets.meter_row import MeterRow

TOP_EMOTIONS = 3
"""Emotion traces per panel: all seven would not fit a grid cell, and the leading three
carry most of the probability mass for a face at any moment."""

LOST_STYLE = "bold $text-warning"


def top_emotions(series: LiveSeries, count: int = TOP_EMOTIONS) -> list[str]:
    """The emotions with the highest mean over the visible history, so rows do not swap
    places with every frame the way the current argmax would."""
    means = {
        name: fmean(history) if (history := series.emotion_history(name)) else 0.0
        for name in EMOTIONS
    }
    return sorted(EMOTIONS, key=lambda name: -means[name])[:count]


def state_line(series: LiveSeries, present: bool, levels: LevelsConfig) -> Content:
    """Top emotion of the newest face (the last one seen, while lost), then the rolling proxy."""
    face = series.latest_face
    parts: list[Content | str] = []
    if face is None:
        parts.append(Content.styled(NO_VALUE, "dim"))
    else:
        probabilities = face.probs.tolist()
        top = max(range(len(EMOTIONS)), key=probabilities.__getitem__)
        parts += [
            Content.styled(EMOTIONS[top], "bold"),
            " ",
            format_probability(probabilities[top]),
        ]
    rolling = series.rolling_percent
    parts += [
        "  ·  ",
        format_percent(rolling),
        " ",
        level_content(None if rolling is None else level(rolling, levels)),
    ]
    if not present:
        parts += ["  ", Content.styled("lost", LOST_STYLE)]
    return Content.assemble(*parts)


class PersonPanel(Widget, can_focus=True):
    """Focusable, so arrows, tab and a click all select the person that Enter and `r` act on.

    The arrows are bound here rather than on the screen because the scrolling grid
    around the panels would otherwise take up and down for itself.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "screen.select(-1, 0)", "Previous", show=False),
        Binding("right", "screen.select(1, 0)", "Next", show=False),
        Binding("up", "screen.select(0, -1)", "Up", show=False),
        Binding("down", "screen.select(0, 1)", "Down", show=False),
    ]

    def __init__(self, track_id: int, name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.track_id = track_id
        self.person_name = name
        self.border_title = Content(name)

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(NO_VALUE, "dim"), classes="person-state", markup=False)
        yield MeterRow(
            "burnout",
            minimum=0.0,
            maximum=PERCENT_MAX,
            value_format=format_percent,
            classes="person-burnout",
        )
        for rank in range(TOP_EMOTIONS):
            yield MeterRow(
                EMOTIONS[rank],
                minimum=0.0,
                maximum=1.0,
                value_format=format_probability,
                classes="person-emotion",
            )

    def rename(self, name: str) -> None:
        if name != self.person_name:
            self.person_name = name
            self.border_title = Content(name)

    def show(self, series: LiveSeries, present: bool, levels: LevelsConfig) -> None:
        """Redraw from the person's series; every history handed on is a fresh list."""
        self.query_one(".person-state", Static).update(
            state_line(series, present, levels), layout=False
        )
        self.query_one(".person-burnout", MeterRow).show(
            series.burnout_history(), series.rolling_percent
        )
        face = series.current_face
        current = None if face is None else dict(zip(EMOTIONS, face.probs.tolist(), strict=True))
        rows = self.query(".person-emotion").results(MeterRow)
        for row, name in zip(rows, top_emotions(series), strict=True):
            row.relabel(name)
            row.show(series.emotion_history(name), None if current is None else current[name])
        self.set_class(not present, "-lost")
