"""The Textual app behind `burnout-tui monitor`: owns the capture worker's lifetime.

The worker is injected, so tests can drive every screen with a deterministic stand-in,
and quitting always goes through `action_quit`, which finalises the session off the UI
thread before the app exits, whichever way quit was asked for (q, ctrl+q, the palette).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import duckdb
from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.store.connect import store_cursor
from burnout_tui.tui.capture_protocol import Capture
from burnout_tui.tui.finalising_screen import FinalisingScreen
from burnout_tui.tui.monitor_screen import TICK_S, MonitorScreen
from burnout_tui.tui.people_screen import PeopleScreen

DISCLAIMER = "research proxy, not a diagnosis"


PALETTE: dict[str, tuple[str, str]] = {
    "toggle_pause": ("Pause / resume", "Pause or resume capture"),
    "rename": ("Rename", "Assign a user to the selected person"),
    "open": ("Open person", "The selected person in the single-user view"),
    "marker": ("Add marker", "Mark this moment, with an optional note"),
    "survey": ("Survey", "Answer a burnout or stress questionnaire"),
    "new_session": ("New session", "Save this session and start another"),
    "history": ("History", "Past sessions and their surveys"),
}
"""Command-palette entries for the monitor's actions, in palette order; a screen lists
those of its own actions that appear here (the grid has no survey, the monitor no rename)."""


class MonitorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "burnout-tui"
    SUB_TITLE = DISCLAIMER

    def __init__(
        self,
        worker: Capture,
        con: duckdb.DuckDBPyConnection,
        config: Config | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick_s: float = TICK_S,
        multi_user: bool = False,
    ) -> None:
        """`con` is the store connection; the UI reads and writes through its own cursor.

        With `multi_user` the first screen is the people grid (one panel per tracked
        person) instead of the single-user monitor.

        `clock` must be on the worker's `session_started` clock (`time.monotonic`); tests
        pass a constant one so the session clock does not change between snapshots.
        """
        super().__init__()
        self.capture = worker
        self.config = config if config is not None else worker.config
        self.cursor = store_cursor(con)
        self.clock = clock
        self.tick_s = tick_s
        self.multi_user = multi_user
        self.finalising = False
        self.finalise_error: str | None = None

    def get_default_screen(self) -> Screen[None]:
        if self.multi_user:
            return PeopleScreen(self.capture, self.cursor, self.config, self.clock, self.tick_s)
        return MonitorScreen(self.capture, self.cursor, self.config, self.clock, self.tick_s)

    def on_mount(self) -> None:
        self.sub_title = f"{self.capture.user} · {DISCLAIMER}"
        self.capture.start()

    def on_unmount(self) -> None:
        """The UI's cursor is a connection of its own; closing it releases the file with `con`."""
        self.cursor.close()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MonitorScreen | PeopleScreen):
            return
        for action, (title, help_text) in PALETTE.items():
            callback = getattr(screen, f"action_{action}", None)
            if callback is not None:
                yield SystemCommand(title, help_text, callback)

    async def action_quit(self) -> None:
        """Show "finalising…" and stop the worker in a thread; exit when it is done."""
        if self.finalising:
            return
        self.finalising = True
        await self.push_screen(FinalisingScreen())
        self.finalise()

    @work(thread=True, exclusive=True, group="finalise")
    def finalise(self) -> None:
        """Known store failures end the app with their message; anything else crashes it
        loudly (Textual prints the traceback) rather than leaving "finalising…" up forever."""
        try:
            self.capture.stop()
        except (duckdb.Error, UserError) as error:
            self.finalise_error = f"the session could not be finalised: {error}"
        self.call_from_thread(self._exit_after_finalise)

    def _exit_after_finalise(self) -> None:
        if self.finalise_error is None:
            self.exit()
        else:
            self.exit(return_code=1, message=self.finalise_error)
