"""The dialog behind `r` on the people grid: which user a tracked face belongs to."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

MAX_NAME_LENGTH = 64
"""A user name is a label on a panel and a row in the store, not free text."""


class RenameModal(ModalScreen[str | None]):
    """Returns the new name on Enter, or None on Escape or for a blank name."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-dialog"):
            yield Label("Who is this? Their sessions are stored under this user.")
            yield Input(
                value=self.current,
                placeholder="user name",
                max_length=MAX_NAME_LENGTH,
                id="rename-name",
            )
            yield Label("Enter assigns · Escape cancels", classes="dialog-hint")

    @on(Input.Submitted, "#rename-name")
    def save(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        self.dismiss(name or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
