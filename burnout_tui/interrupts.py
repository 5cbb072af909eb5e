"""SIGTERM and SIGHUP end a command the way Ctrl-C (or, in the monitor, `q`) would.

Python's default for both signals is to die at once: no `finally`, no last flush, no
rollback. A supervisor's `kill`, a closed terminal window or a dropped SSH connection
would then leave a monitor session `running` with its last rows unwritten, or half an
analysis behind. `raise_on_termination`, installed by the CLI's `main`, turns either
signal into `Interrupted` in the main thread, which unwinds like KeyboardInterrupt through
every rollback. While the monitor's app runs it installs its own handler (`on_termination`)
that quits through `q`'s path instead.

Rules shared by both handlers:
- Only the first signal acts; later ones are ignored, so neither a rollback nor the final
  flush can itself be cut short. `kill -9` still ends the process at once (the next open
  then marks its session `interrupted`, see `store/recovery.py`).
- A SIGHUP ignored when the handler is installed (`nohup burnout-tui …`) stays ignored.
- After a hangup the terminal is gone: every write to it fails with EIO, which would turn
  the cleanup's own output (Textual restoring the screen, a progress bar, the closing
  message) into new errors. Before anything else, each standard stream that was a terminal
  and no longer answers is pointed at /dev/null, so the cleanup runs as if it were there.
"""

from __future__ import annotations

import os
import signal
import termios
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import NoReturn

TERMINATION_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP)

STANDARD_FDS = (0, 1, 2)

SIGNAL_EXIT_BASE = 128
"""A command cut short by signal N exits 128 + N, the shell's code for death by that
signal, so a supervisor tells "stopped" from "failed" (and 143 from SIGTERM is expected)."""


@dataclass(frozen=True, slots=True)
class Termination:
    """Which signal arrived, and whether it took the terminal with it (a hangup)."""

    signum: int
    terminal_lost: bool


SignalHandler = Callable[[Termination], object]
Restore = Callable[[], None]
PythonHandler = Callable[[int, FrameType | None], object] | int | signal.Handlers


class Interrupted(BaseException):
    """A termination signal arrived. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way up can swallow it, while every `except BaseException`
    rollback and every `finally` still runs."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return SIGNAL_EXIT_BASE + self.signum


def on_termination(handler: SignalHandler) -> Restore:
    """Call `handler` on the first SIGTERM or SIGHUP; ignore any after it.

    Returns a function that puts the previous handlers back. Must be called from the main
    thread (Python runs signal handlers there, and only there may they be installed). The
    handler runs in the main thread between two bytecodes, so it must only hand work on
    (raise, or `loop.call_soon_threadsafe`), never block.
    """
    terminals = [fd for fd in STANDARD_FDS if os.isatty(fd)]
    handled = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal handled
        if handled:
            return
        handled = True
        lost = detach_lost_terminal(terminals) if signum == signal.SIGHUP else []
        handler(Termination(signum, terminal_lost=bool(lost)))

    previous: dict[signal.Signals, PythonHandler] = {}
    for signum in TERMINATION_SIGNALS:
        current = signal.getsignal(signum)
        if signum == signal.SIGHUP and current == signal.SIG_IGN:
            continue
        if current is not None:
            previous[signum] = current
        signal.signal(signum, on_signal)

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


def raise_on_termination() -> Restore:
    """Make SIGTERM and SIGHUP raise `Interrupted` in the main thread (see the module)."""
    return on_termination(_raise)


def _raise(termination: Termination) -> NoReturn:
    raise Interrupted(termination.signum)


def detach_lost_terminal(fds: list[int]) -> list[int]:
    """Point each of `fds` whose terminal no longer answers at /dev/null; returns those.

    A hung-up terminal fails every ioctl with EIO, while one that is still there (a hand-
    sent `kill -HUP`) answers, keeps its streams and is restored on exit as usual.
    """
    lost = [fd for fd in fds if not _answers(fd)]
    if lost:
        null = os.open(os.devnull, os.O_RDWR)
        try:
            for fd in lost:
                os.dup2(null, fd)
        finally:
            os.close(null)
    return lost


def _answers(fd: int) -> bool:
    try:
        termios.tcgetattr(fd)
    except termios.error:
        return False
    return True
