"""The dialog a failed database call ends in, whichever screen made it.

Database calls from the UI (history, a survey, a marker, a rename) run in thread workers
and come back as messages (harlequin's pattern); a failure comes back as `StoreFailed`
and is shown here until dismissed. A notification would vanish after a few seconds and
say nothing of what was lost; a crash would end the session. After the dialog the
screen that asked is as it was, so the person can retry, cancel or quit (which still
saves the session: the capture thread writes through its own cursor).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from burnout_tui.runtime.capture_process import CaptureGone


def database_errors(*also: type[Exception]) -> tuple[type[Exception], ...]:
    """What a worker's database call is expected to raise, with `also`: DuckDB's own errors
    (a closed connection, a read-only or damaged file, a full disk), and `CaptureGone` once
    the capture process, which owns the database, has ended. Anything else is a bug and
    crashes the app loudly through Textual's worker error handling.

    A function, called in the `except` clause, because Python evaluates that only once
    something was raised: the monitor's UI process never holds the database, and importing
    DuckDB up front would cost it tens of megabytes for an error type. A DuckDB error that
    came from the capture process has imported DuckDB already, by being unpickled."""
    import duckdb

    return (duckdb.Error, CaptureGone, *also)


class StoreFailed(Message):
    """A worker's database call failed; `what` says what was not done ("marker not saved")."""

    def __init__(self, what: str, error: Exception) -> None:
        super().__init__()
        self.what = what
        self.error = error


class ErrorModal(ModalScreen[None]):
    """What failed and DuckDB's reason, as plain text; Enter or Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, what: str, error: Exception) -> None:
        super().__init__()
        self.what = what
        self.reason = str(error) or type(error).__name__

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Label(Content(self.what), id="error-title")
            yield Static(Content(self.reason), id="error-reason")
            yield Label("Enter or Escape closes", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss()
