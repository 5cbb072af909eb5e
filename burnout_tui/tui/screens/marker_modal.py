"""The small dialog behind `m`: an optional note for a marker at the current session time."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

MAX_NOTE_LENGTH = 500
"""A marker note is a remark ("coffee", "meeting ends"), not a diary entry."""


class MarkerModal(ModalScreen[str | None]):
    """Returns the note (possibly empty) on Enter, or None on Escape: nothing is stored then."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="marker-dialog"):
            yield Label("Add a marker at the current session time", id="marker-title")
            yield Input(
                placeholder="optional note",
                max_length=MAX_NOTE_LENGTH,
                id="marker-note",
            )
            yield Label("Enter saves · Escape cancels", classes="dialog-hint")

    @on(Input.Submitted, "#marker-note")
    def save(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
