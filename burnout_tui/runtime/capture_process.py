"""`CaptureProcess`: the monitor's capture worker in a child process, seen as a `Capture`.

The worker, the pipeline (the ONNX models) and the database writer run in a process
started with `spawn` (never `fork`: a forked copy of a process with threads, ONNX
Runtime and an open DuckDB file is not safe), so the UI's event loop never waits for the
GIL behind the capture thread. The child is `capture_child.run_child`; what they say is
in `capture_messages`.

- Results come over a one-way pipe that `drain` reads on the UI's timer, as it read the
  worker's ring before. The pipe's buffer bounds it: if the UI falls behind, the child's
  publisher waits and the worker's ring drops the oldest results, as it always did.
- Everything else is a request with a reply on a second pipe: pause, marker, new session,
  rename, stop, and the UI's database reads and writes (`run`), since the database
  belongs to the child. A reader thread here hands each reply to the thread waiting for
  it; the screens already make their database calls from thread workers.
- When the child ends without being asked (it crashed and said why, or it was killed),
  `status()` turns `FAILED` with the reason, every call that needs the child raises
  `CaptureGone`, and the session is marked `interrupted`: by the child if it could,
  else here, once it is gone, by opening the database (which runs `store.recovery`).
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.runtime import capture_messages as messages
from burnout_tui.runtime.capture_messages import CaptureSettings, Reply, Request, Snapshot
from burnout_tui.runtime.results import FrameResult
from burnout_tui.runtime.worker_status import WorkerState, WorkerStatus

if TYPE_CHECKING:
    import duckdb

P = ParamSpec("P")
T = TypeVar("T")

JOIN_TIMEOUT_S = 10.0
"""How long the child may take to exit once it has answered `Stop` (the session is
saved by then); past it, it is killed."""


def _child_main(settings: CaptureSettings, updates: Connection, control: Connection) -> None:
    """The spawned child's entry point: the capture modules (and with them ONNX Runtime and
    OpenCV) are imported here, in the child, so the UI process never loads them."""
    from burnout_tui.runtime.capture_child import run_child

    run_child(settings, updates, control)


class CaptureGone(UserError):
    """The capture process has ended: nothing more is recorded, and what it held (the
    database) cannot be reached through it. The message says why, in one line."""


class CaptureStartError(UserError):
    """The capture process ended before it was ready."""


def exit_description(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"ended with exit code {exitcode}"


class CaptureProcess:
    """A `Capture` (with tracking, recording and forecaster label) and the UI's access to
    the database, both served by a spawned child process (see the module docstring).

    Construction starts the child; `wait_ready` waits until it has opened the database and
    raises the `UserError` it met (a bad personal model, an unusable database). `start`
    starts the session; `stop` finalises it in the child and waits for the child to exit.
    """

    def __init__(self, settings: CaptureSettings) -> None:
        self.settings = settings
        self.config: Config = settings.config
        self.user = settings.user
        self.recording: Path | None = settings.record
        self._user_id: int | None = None
        self.forecaster_label: str | None = None
        context = multiprocessing.get_context("spawn")
        self._updates, child_updates = context.Pipe(duplex=False)
        self._control, child_control = context.Pipe()
        self._process = context.Process(
            target=_child_main, args=(settings, child_updates, child_control), name="capture"
        )
        self._process.start()
        # Only the child may hold its ends: its death must read as the end of the pipes.
        child_updates.close()
        child_control.close()
        self._ids = itertools.count()
        self._pending: dict[int, Future[Reply]] = {}
        self._send_lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._stop_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._snapshot_lock = threading.Lock()
        self._pausing: tuple[int, bool] | None = None
        """A pause or resume sent and not yet answered: (request id, paused)."""
        self._failure: str | None = None
        """Why the child ended without being asked to, for the screen."""
        self._gone: str | None = None
        """Why no call can reach the child any more (its failure, or a finished stop)."""
        self._ended: messages.Ended | None = None
        self._stopping = False
        self._stopped = False
        self._reader = threading.Thread(
            target=self._read_replies, name="capture-replies", daemon=True
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def crash_details(self) -> str | None:
        """The child's traceback, when it crashed and could say so."""
        return None if self._ended is None else self._ended.details

    @property
    def user_id(self) -> int:
        assert self._user_id is not None, "wait_ready() returns before the app starts"
        return self._user_id

    def wait_ready(self) -> None:
        """Block until the child has opened the database and its worker."""
        try:
            message = self._control.recv()
        except EOFError:
            message = None
        if isinstance(message, messages.Ready):
            self._user_id = message.user_id
            self.forecaster_label = message.forecaster_label
            self._reader.start()
            return
        self._close()
        if isinstance(message, messages.StartFailed):
            raise message.error
        if isinstance(message, messages.Ended):
            raise CaptureStartError(
                f"the capture process failed to start: {message.reason}\n{message.details}"
            )
        raise CaptureStartError(
            f"the capture process {exit_description(self._process.exitcode)} before it started"
        )

    # -- the Capture protocol ------------------------------------------------------------

    @property
    def session_id(self) -> int | None:
        snapshot = self._snapshot
        return None if snapshot is None else snapshot.status.session_id

    def start(self) -> None:
        self._call(messages.Start())

    def drain(self) -> list[FrameResult]:
        """Every result the child has published since the last drain, oldest first."""
        drained: list[FrameResult] = []
        with self._drain_lock:
            try:
                while not self._updates.closed and self._updates.poll():
                    update: messages.Update = self._updates.recv()
                    drained += update.results
                    self._note(update.snapshot)
            except (EOFError, OSError):
                self._updates.close()  # the child is gone; the reply reader says why
        return drained

    def status(self) -> WorkerStatus:
        snapshot = self._snapshot
        status = (
            WorkerStatus(
                state=WorkerState.STARTING,
                message=f"opening {self.settings.spec.label}",
                session_id=None,
                frames=0,
                face_frames=0,
                dropped=0,
                processing_fps=0.0,
                source=self.settings.spec.label,
                session_started=None,
            )
            if snapshot is None
            else snapshot.status
        )
        if self._failure is not None:
            return replace(status, state=WorkerState.FAILED, message=self._failure)
        if self._gone is not None:
            return replace(status, state=WorkerState.STOPPED, message="stopped")
        pausing = self._pausing
        if pausing is not None and status.state in (WorkerState.RUNNING, WorkerState.PAUSED):
            paused = pausing[1]
            return replace(
                status,
                state=WorkerState.PAUSED if paused else WorkerState.RUNNING,
                message="paused" if paused else "",
            )
        return status

    def toggle_pause(self) -> bool:
        """Pause or resume; returns True when now paused (False once the child is gone).

        Called on the UI thread for a key, so it does not wait for the child: `status()`
        shows the new state at once, until the child's reply brings its own snapshot."""
        paused = self.status().state is not WorkerState.PAUSED
        try:
            request_id, future = self._send(messages.SetPaused(paused))
        except CaptureGone:
            return False
        with self._snapshot_lock:
            self._pausing = (request_id, paused)
        future.add_done_callback(lambda _: self._paused_confirmed(request_id))
        return paused

    def _paused_confirmed(self, request_id: int) -> None:
        with self._snapshot_lock:
            if self._pausing is not None and self._pausing[0] == request_id:
                self._pausing = None

    def add_marker(self, note: str) -> float:
        return float(self._call(messages.AddMarker(note)))

    def request_new_session(self) -> None:
        """Once the child is gone there is no session to renew: nothing happens."""
        try:
            self._call(messages.NewSession())
        except CaptureGone:
            return

    def track_names(self) -> dict[int, str]:
        snapshot = self._snapshot
        return {} if snapshot is None else dict(snapshot.track_names)

    def rename_track(self, track_id: int, name: str) -> None:
        self._call(messages.RenameTrack(track_id, name))

    def stop(self) -> None:
        """Finalise the session in the child and wait for it to exit. Safe to call twice.

        Raises the child's error if the session could not be finalised, and `CaptureGone`
        when the child had already crashed (the session is then `interrupted`)."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
            try:
                if self._failure is not None:
                    raise CaptureGone(self._failure)
                if self._reader.is_alive():
                    self._stopping = True
                    self._call(messages.Stop())
            finally:
                self._close()

    # -- the UI's database access ----------------------------------------------------------

    def run(
        self,
        query: Callable[Concatenate[duckdb.DuckDBPyConnection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`query(cursor, *args, **kwargs)` on a cursor in the child, which owns the file;
        `query` must be a module-level function (it is pickled by name). Blocks: call it
        from a thread worker."""
        result: T = self._call(messages.Query(query, args, kwargs))
        return result

    # -- plumbing ------------------------------------------------------------------------

    def _call(self, command: messages.Command) -> Any:
        _, future = self._send(command)
        reply = future.result()
        if reply.error is not None:
            raise reply.error
        return reply.value

    def _send(self, command: messages.Command) -> tuple[int, Future[Reply]]:
        """Send a request; its reply (or `CaptureGone`) completes the future."""
        future: Future[Reply] = Future()
        with self._send_lock:
            if self._gone is not None:
                raise CaptureGone(self._gone)
            request_id = next(self._ids)
            self._pending[request_id] = future
            try:
                self._control.send(Request(request_id, command))
            except OSError:
                del self._pending[request_id]
                raise CaptureGone("the capture process has ended") from None
        return request_id, future

    def _note(self, snapshot: Snapshot) -> None:
        """Keep the newest of the snapshots arriving on either pipe."""
        with self._snapshot_lock:
            if self._snapshot is None or snapshot.seq > self._snapshot.seq:
                self._snapshot = snapshot

    def _read_replies(self) -> None:
        while True:
            try:
                message = self._control.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, messages.Ended):
                self._ended = message
                continue
            assert isinstance(message, Reply), f"unexpected message {message!r}"
            if message.snapshot is not None:
                self._note(message.snapshot)
            with self._send_lock:
                future = self._pending.pop(message.request_id)
            future.set_result(message)
        self._child_gone()

    def _child_gone(self) -> None:
        """The request pipe has ended: the child exited or died. Unless it was asked to
        stop and did, say why on screen and fail every call still waiting."""
        self._process.join(JOIN_TIMEOUT_S)
        ended = self._ended
        failure: str | None = None
        if ended is None and self._stopping:
            gone = "the capture has stopped"
        else:
            if ended is not None:
                cause = f"the capture process crashed: {ended.reason}"
                interrupted = ended.interrupted or self._recover()
            else:
                cause = f"the capture process {exit_description(self._process.exitcode)}"
                interrupted = self._recover()
            session = self.session_id
            kept = (
                f"; session {session} was kept as interrupted"
                if interrupted and session is not None
                else "; the session will be marked interrupted at the database's next open"
                if session is not None
                else ""
            )
            gone = failure = f"{cause}{kept}; history is unavailable"
        with self._send_lock:
            self._failure = failure
            self._gone = gone
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(CaptureGone(gone))

    def _recover(self) -> bool:
        """Mark the child's session `interrupted` from here, now that the file is free.
        The store (and DuckDB) is imported only now: the UI process never needs it else."""
        import duckdb

        from burnout_tui.store import StoreError, open_database
        from burnout_tui.store.connect import IN_MEMORY

        db = self.settings.db
        if str(db) == IN_MEMORY:
            return False
        try:
            open_database(db, encrypt=self.config.store.encrypt).close()
        except (StoreError, duckdb.Error):
            return False
        return True

    def _close(self) -> None:
        """Close this side's pipes (the child takes that as the end of the UI) and wait
        for the child and the reply reader."""
        with self._drain_lock:
            self._updates.close()
        self._process.join(JOIN_TIMEOUT_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        if self._reader.is_alive():
            self._reader.join()
        self._control.close()
