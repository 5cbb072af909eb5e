"""The Textual app behind `burnout-tui monitor`: owns the capture worker's lifetime.

The worker is injected, so tests can drive every screen with a deterministic stand-in,
and quitting always goes through `action_quit`, which finalises the session off the UI
thread before the app exits, whichever way quit was asked for (q, ctrl+q, the palette,
and with `quit_on_signals` SIGTERM or SIGHUP).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, SystemCommand
from textual.screen import Screen

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.interrupts import Restore, Termination, on_termination
from burnout_tui.tui.screens.error_modal import ErrorModal, StoreFailed, database_errors
from burnout_tui.tui.screens.finalising_screen import FinalisingScreen
from burnout_tui.tui.screens.monitor_screen import TICK_S, MonitorScreen
from burnout_tui.tui.screens.people_screen import PeopleScreen
from burnout_tui.tui.state.capture_protocol import Capture
from burnout_tui.tui.state.store_access import CursorStore, StoreAccess

if TYPE_CHECKING:
    import duckdb

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

HANGUP_EXIT_GRACE_S = 5.0
"""After a hangup, how long the app may take to exit once the session is saved before the
process ends without it. Textual needs milliseconds; the wait only matters when the UI is
stuck (see `_finalise_after_hangup`), where a saved session must not leave a process
lingering on a dropped SSH connection."""

FINALISE_FAILED_EXIT = 1
"""The exit code when the session could not be finalised (the CLI's code for any error)."""


class MonitorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "burnout-tui"
    SUB_TITLE = DISCLAIMER

    def __init__(
        self,
        worker: Capture,
        con: duckdb.DuckDBPyConnection | None = None,
        config: Config | None = None,
        *,
        store: StoreAccess | None = None,
        clock: Callable[[], float] = time.monotonic,
        tick_s: float = TICK_S,
        multi_user: bool = False,
        quit_on_signals: bool = False,
    ) -> None:
        """The UI's database reads and writes go through `store` (the real monitor's capture
        process, which owns the database), or, for a capture in this process, through a
        cursor of its own on `con`: exactly one of the two is given.

        With `multi_user` the first screen is the people grid (one panel per tracked
        person) instead of the single-user monitor. With `quit_on_signals` (the real
        monitor; the app must then run in the main thread) SIGTERM and SIGHUP quit like
        `q`, replacing while the app runs the handlers Textual's web driver installs.

        `clock` must be on the worker's `session_started` clock (`time.monotonic`); tests
        pass a constant one so the session clock does not change between snapshots.
        """
        super().__init__()
        self.capture = worker
        self.config = config if config is not None else worker.config
        if (store is None) == (con is None):
            raise TypeError("give MonitorApp either the capture's connection or a store")
        self._own_store: CursorStore | None = None
        if con is not None:
            store = self._own_store = CursorStore(con)
        assert store is not None, "one of the two was given"
        self.store: StoreAccess = store
        self.clock = clock
        self.tick_s = tick_s
        self.multi_user = multi_user
        self.finalising = False
        self.finalise_error: str | None = None
        self.quit_on_signals = quit_on_signals
        self.termination: Termination | None = None
        """The signal that asked the app to quit, if one did."""
        self._restore_signals: Restore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_lock = threading.Lock()
        self._capture_stopped = False
        self._exited = threading.Event()

    def get_default_screen(self) -> Screen[None]:
        if self.multi_user:
            return PeopleScreen(self.capture, self.store, self.config, self.clock, self.tick_s)
        return MonitorScreen(self.capture, self.store, self.config, self.clock, self.tick_s)

    def on_mount(self) -> None:
        """Signals are routed before the session starts, so none can end it unsaved; this runs
        after the driver's start, so it overrides the web driver's own SIGTERM handler."""
        self.sub_title = f"{self.capture.user} · {DISCLAIMER}"
        if self.quit_on_signals:
            self._loop = asyncio.get_running_loop()
            self._restore_signals = on_termination(self._on_termination)
        self.capture.start()

    def on_unmount(self) -> None:
        """The UI's own cursor (with `con`) is a connection of its own; closing it releases
        the file with `con`.

        The previous signal handlers come back only when no signal arrived: after one, the
        rest of the shutdown (closing the database) must not be cut short by a second."""
        if self._own_store is not None:
            self._own_store.close()
        if self._restore_signals is not None and self.termination is None:
            self._restore_signals()

    def _on_termination(self, termination: Termination) -> None:
        """SIGTERM or SIGHUP: quit like `q`. Runs in the main thread inside the signal
        handler, possibly in the middle of the event loop's own code, so it only hands on."""
        assert self._loop is not None, "set in on_mount, before the handler is installed"
        self.termination = termination
        if termination.terminal_lost:
            threading.Thread(
                target=self._finalise_after_hangup, name="hangup-finalise", daemon=True
            ).start()
        else:
            self._loop.call_soon_threadsafe(self.call_later, self.action_quit)

    def _finalise_after_hangup(self) -> None:
        """Save the session without waiting for the UI, then let the app exit, and end the
        process if it cannot.

        The UI may be wedged: Textual's output thread dies on the first write to the vanished
        terminal (EIO), which can come before this signal is handled, and the event loop then
        blocks for good on that thread's full queue. Nothing here needs the loop, so the rows
        are flushed and the session completed either way; `os._exit` after the grace period
        skips only the database's checkpoint, which its WAL replays at the next open.
        """
        assert self._loop is not None, "only started by _on_termination, which needs it"
        saved = False
        try:
            self._stop_capture()
            saved = self.finalise_error is None
            self._loop.call_soon_threadsafe(self._exit_after_finalise)
        finally:
            if not self._exited.wait(HANGUP_EXIT_GRACE_S):
                os._exit(0 if saved else FINALISE_FAILED_EXIT)

    def mark_exited(self) -> None:
        """`run()` has returned: the caller goes on closing the database by itself."""
        self._exited.set()

    def _stop_capture(self) -> None:
        """Stop the worker (flush, complete the session) once, whichever thread asks first
        (`q`'s finalise worker or a hangup); a second caller waits until it is done."""
        with self._stop_lock:
            if self._capture_stopped:
                return
            self._capture_stopped = True
            try:
                self.capture.stop()
            except database_errors(UserError) as error:
                self.finalise_error = f"the session could not be finalised: {error}"

    @on(StoreFailed)
    def show_store_failure(self, event: StoreFailed) -> None:
        """A screen's database call failed: say so until dismissed; the screen stays usable.
        Not while finalising: quitting is already under way and its own error wins."""
        if not self.finalising:
            self.push_screen(ErrorModal(event.what, event.error))

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
        self._stop_capture()
        self.call_from_thread(self._exit_after_finalise)

    def _exit_after_finalise(self) -> None:
        if self.finalise_error is None:
            self.exit()
        else:
            self.exit(return_code=FINALISE_FAILED_EXIT, message=self.finalise_error)
