"""What the screen shows while the session is being closed after `q`.

Stopping the worker waits for the capture thread and flushes the last rows, which can take
a moment (a frame in flight, a slow disk); showing this instead of a frozen monitor tells
the person their data is being saved, not lost.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class FinalisingScreen(ModalScreen[None]):
    """Covers the monitor and swallows keys until the app exits."""

    def compose(self) -> ComposeResult:
        with Vertical(id="finalising-dialog"):
            yield Label("finalising…", id="finalising-title")
            yield Label("saving the last frames and closing the session", classes="dialog-hint")
