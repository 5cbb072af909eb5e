"""One questionnaire item: its text and a choice driven by digits and arrow keys only.

Short scales (up to ten points, each labelled) are drawn as a row of options so the
anchors are always in view; wide ones (a subscale total entered from a paper form) take
a number typed digit by digit. Nothing here knows which instrument it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.events import Key
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from burnout_tui.tui.formatting import NO_VALUE

DECIMAL_BASE = 10
MAX_ENUMERATED_POINTS = 10
"""Scales up to this many points show every option in a row; wider ones (subscale totals)
show the typed number and the scale's range instead. Digits build numbers either way:
on a 1-10 scale "1" picks 1 and a following "0" makes it 10."""


class ChoiceRow(Widget, can_focus=True):
    """Holds `value` (None until answered) within [minimum, maximum]."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Lower", show=False),
        Binding("right", "step(1)", "Higher", show=False),
        Binding("up", "move(-1)", "Previous item", show=False),
        Binding("down", "move(1)", "Next item", show=False),
        Binding("enter", "advance", "Next / submit"),
        Binding("backspace,delete", "clear", "Clear", show=False),
    ]

    value: reactive[int | None] = reactive(None)

    class Advanced(Message):
        """Enter was pressed on this row: the form moves on or submits."""

        def __init__(self, row: ChoiceRow) -> None:
            super().__init__()
            self.row = row

        @property
        def control(self) -> ChoiceRow:
            return self.row

    def __init__(
        self,
        key: str,
        number: int,
        text: str,
        minimum: int,
        maximum: int,
        labels: Mapping[int, str],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        if maximum < minimum:
            raise ValueError(f"scale maximum {maximum} is below its minimum {minimum}")
        self.key = key
        self.number = number
        self.text = text
        self.minimum = minimum
        self.maximum = maximum
        self.labels = dict(labels)
        self._typed: int | None = None

    @property
    def enumerated(self) -> bool:
        """Short scales show every point (with its label, where the scale has one)."""
        return self.maximum - self.minimum + 1 <= MAX_ENUMERATED_POINTS

    def render(self) -> Content:
        head = Content.assemble((f"{self.number}. ", "bold"), self.text)
        return Content("\n").join([head, self._choices()])

    def _choices(self) -> Content:
        if self.enumerated:
            parts: list[Content] = []
            for point in range(self.minimum, self.maximum + 1):
                label = self.labels.get(point)
                option = f" {point} {label} " if label else f" {point} "
                style = "reverse bold $accent" if point == self.value else ""
                parts.append(Content.styled(option, style))
            return Content(" ").join(parts)
        anchors = " … ".join(
            f"{point} = {self.labels[point]}"
            for point in (self.minimum, self.maximum)
            if point in self.labels
        )
        shown = NO_VALUE if self.value is None else str(self.value)
        return Content.assemble(
            ("value: ", "dim"),
            (f" {shown} ", "reverse bold $accent" if self.value is not None else "dim"),
            (f"  type {self.minimum}-{self.maximum}", "dim"),
            (f"  ({anchors})" if anchors else "", "dim"),
        )

    def on_key(self, event: Key) -> None:
        if event.character is None or not event.character.isdigit():
            return
        event.stop()
        self.type_digit(int(event.character))

    def type_digit(self, digit: int) -> None:
        """Append to the number being typed while it still fits the scale, else start anew."""
        candidate = None if self._typed is None else self._typed * DECIMAL_BASE + digit
        if candidate is None or candidate > self.maximum:
            candidate = digit
        if self.minimum <= candidate <= self.maximum:
            self._typed = candidate
            self.value = candidate
        elif candidate < self.minimum:
            self._typed = candidate
        else:
            self._typed = None
            self.app.bell()

    def on_blur(self) -> None:
        self._typed = None

    def action_step(self, delta: int) -> None:
        """Arrows move along the scale; the first press on an unanswered item picks its low end."""
        self._typed = None
        if self.value is None:
            self.value = self.minimum
        else:
            self.value = min(max(self.value + delta, self.minimum), self.maximum)

    def action_move(self, delta: int) -> None:
        if delta > 0:
            self.screen.focus_next(ChoiceRow)
        else:
            self.screen.focus_previous(ChoiceRow)

    def action_advance(self) -> None:
        self.post_message(self.Advanced(self))

    def action_clear(self) -> None:
        self._typed = None
        self.value = None
