"""The monitor's capture process: the worker, its pipeline (the ONNX models) and the
database writer, away from the UI process so they never compete with it for the GIL.

`run_child` is the target of the process `capture_process.CaptureProcess` spawns. The
child owns the database: the UI's one-off reads and writes (history, surveys) come in as
`Query` requests and run here, each on a cursor of its own, in a small thread pool so a
long read never holds up a pause. Three threads talk to the UI: the main one answers
requests, a publisher sends what the worker produced every `PUBLISH_S`, and the pool.

The child's life follows the UI's, never a signal's: it ignores SIGINT, SIGTERM and
SIGHUP (the terminal's signals reach the whole process group, and the UI finalises
through `Stop` when it gets them), and its standard streams are /dev/null, so nothing
it prints can garble the screen or fail on a hung-up terminal. If the UI process dies,
the request pipe ends and the child closes the session `interrupted` with every row.

A crash (an exception in any of its threads, the capture thread's included) closes the
session `interrupted`, sends `Ended` with a one-line reason and exits with `CRASH_EXIT`.
"""

from __future__ import annotations

import itertools
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from multiprocessing.connection import Connection
from typing import Any, NoReturn

import duckdb

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.forecast.model import Forecaster
from burnout_tui.runtime.capture import CaptureWorker
from burnout_tui.runtime.capture_messages import (
    AddMarker,
    CaptureSettings,
    Command,
    Ended,
    NewSession,
    Query,
    Ready,
    RenameTrack,
    Reply,
    Request,
    SetPaused,
    Snapshot,
    Start,
    StartFailed,
    Stop,
    Update,
)
from burnout_tui.runtime.personal_models import load_forecaster
from burnout_tui.runtime.pipeline import Pipeline, make_pipeline
from burnout_tui.runtime.results import FrameResult
from burnout_tui.sources.frame import Frame
from burnout_tui.store import open_database, store_cursor
from burnout_tui.store.calibrations import latest_calibration

CRASH_ENV = "BURNOUT_TUI_TEST_CHILD_CRASH"
"""Test hook, read only here: `after:N` makes the pipeline raise on the frame after N,
in the capture thread, as a failing model would."""

PUBLISH_S = 1 / 30
"""How often new results are sent: twice per UI tick (`monitor_screen.TICK_S`), so a
tick finds results at most half a tick old."""

QUERY_THREADS = 2
"""Concurrent UI queries: the history list and a session's detail can overlap."""

CRASH_EXIT = 1
"""The exit code of a child that crashed (after saying why on the request pipe)."""

CHILD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STANDARD_FDS = (0, 1, 2)


class InjectedCrash(RuntimeError):
    """Raised by the `CRASH_ENV` test hook."""


class CrashingPipeline(Pipeline):
    """The session's pipeline, raising once `frames` frames went through it."""

    def __init__(self, pipeline: Pipeline, frames: int) -> None:
        super().__init__(pipeline.policy, pipeline.stages)
        self.frames = frames
        self._left = frames

    def process(self, frame: Frame) -> FrameResult:
        if self._left <= 0:
            raise InjectedCrash(f"test crash after {self.frames} frames ({CRASH_ENV})")
        self._left -= 1
        return super().process(frame)


def crash_hook(
    settings: CaptureSettings, con: duckdb.DuckDBPyConnection, forecaster: Forecaster | None
) -> Callable[[Config], Pipeline] | None:
    """The pipeline factory `CRASH_ENV` asks for; None (the worker's own) when unset."""
    value = os.environ.get(CRASH_ENV)
    if value is None:
        return None
    kind, _, count = value.partition(":")
    if kind != "after" or not count.isdigit():
        raise UserError(f"{CRASH_ENV} must be after:N (a number of frames), not {value!r}")
    calibration = None if settings.multi_user else latest_calibration(con, settings.user)

    def factory(config: Config) -> Pipeline:
        pipeline = make_pipeline(
            config, settings.multi_user, forecaster=forecaster, calibration=calibration
        )
        return CrashingPipeline(pipeline, int(count))

    return factory


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def portable(error: Exception) -> Exception:
    """`error` if it survives pickling both ways, else a RuntimeError with its text: the
    UI's reader thread must never fail to unpickle a reply."""
    try:
        pickle.loads(pickle.dumps(error))
    except (pickle.PicklingError, TypeError, AttributeError):
        return RuntimeError(one_line(error))
    return error


def run_as_batch() -> None:
    """Linux's SCHED_BATCH for this thread and those it starts: the same share of the CPU,
    but a waking UI thread preempts the capture's threads rather than waiting its turn
    behind them (a lower nice value would also cost the capture its share when the
    machine is busy). Elsewhere the default policy stays."""
    batch = getattr(os, "SCHED_BATCH", None)
    if batch is not None:
        os.sched_setscheduler(0, batch, os.sched_param(0))


def detach_from_terminal() -> None:
    for signum in CHILD_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in STANDARD_FDS:
            os.dup2(null, fd)
    finally:
        os.close(null)


def run_child(settings: CaptureSettings, updates: Connection, control: Connection) -> None:
    """Open the database and the worker, say `Ready` (or why not), then serve the UI."""
    detach_from_terminal()
    run_as_batch()
    try:
        child = ChildCapture.open(settings, updates, control)
    except UserError as error:
        control.send(StartFailed(portable(error)))
        return
    except Exception as error:
        control.send(Ended(one_line(error), traceback.format_exc(), interrupted=False))
        raise
    control.send(Ready(child.worker.user_id, child.worker.forecaster_label))
    child.serve()


class ChildCapture:
    """The worker and the database connection, and the UI's requests to them."""

    def __init__(
        self,
        worker: CaptureWorker,
        con: duckdb.DuckDBPyConnection,
        updates: Connection,
        control: Connection,
    ) -> None:
        self.worker = worker
        self.con = con
        self._updates = updates
        self._control = control
        self._send_lock = threading.Lock()
        self._seq = itertools.count()
        self._seq_lock = threading.Lock()
        self._finish_lock = threading.Lock()
        self._finished = False
        self._failure: BaseException | None = None
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="ui-query")

    @classmethod
    def open(
        cls, settings: CaptureSettings, updates: Connection, control: Connection
    ) -> ChildCapture:
        """As the monitor did in one process: the forecaster before the database, so an
        unusable personal model leaves no new file."""
        config = settings.config
        forecaster = load_forecaster(
            config, settings.db, None if settings.multi_user else settings.user
        )
        con = open_database(settings.db, encrypt=config.store.encrypt)
        try:
            worker = CaptureWorker(
                settings.spec,
                config,
                con,
                settings.user,
                fast=settings.fast,
                multi_user=settings.multi_user,
                record=settings.record,
                forecaster=forecaster,
                pipeline_factory=crash_hook(settings, con, forecaster),
            )
        except BaseException:
            con.close()
            raise
        return cls(worker, con, updates, control)

    def serve(self) -> None:
        """Answer requests until `Stop` or the UI's end; any exception is a crash."""
        threading.excepthook = self._on_thread_exception
        threading.Thread(target=self._publish, name="publisher", daemon=True).start()
        try:
            while True:
                try:
                    request: Request = self._control.recv()
                except EOFError:
                    self._finish(interrupted=True)
                    return
                command = request.command
                if isinstance(command, Stop):
                    self._stop(request)
                    return
                if isinstance(command, AddMarker | RenameTrack | Query):
                    self._pool.submit(self._answer, request)
                else:
                    self._answer(request)
        except Exception as error:
            self._crash(error)

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        """A thread died of an exception (the capture thread, a reader): a crash, handled
        by the publisher, since the dying thread cannot join itself in `worker.stop`."""
        if self._failure is None and isinstance(args.exc_value, Exception):
            self._failure = args.exc_value
            self._wake.set()

    def _publish(self) -> None:
        last: Snapshot | None = None
        try:
            while True:
                failure = self._failure
                if failure is not None:
                    self._crash(failure)
                results = tuple(self.worker.drain())
                snapshot = self._snapshot()
                changed = last is None or (
                    snapshot.status != last.status or snapshot.track_names != last.track_names
                )
                if results or changed:
                    last = snapshot
                    try:
                        self._updates.send(Update(results, snapshot))
                    except OSError:
                        return  # the UI is gone; the request loop sees it and finishes
                self._wake.wait(PUBLISH_S)
        except Exception as error:
            self._crash(error)

    def _snapshot(self) -> Snapshot:
        with self._seq_lock:
            return self._snapshot_locked()

    def _snapshot_locked(self) -> Snapshot:
        return Snapshot(next(self._seq), self.worker.status(), self.worker.track_names())

    def _execute(self, command: Command) -> tuple[Any, Snapshot | None]:
        worker = self.worker
        if isinstance(command, Start):
            worker.start()
            return None, self._snapshot()
        if isinstance(command, SetPaused):
            with self._seq_lock:
                if worker.paused != command.paused:
                    worker.toggle_pause()
                return None, self._snapshot_locked()
        if isinstance(command, NewSession):
            worker.request_new_session()
            return None, None
        if isinstance(command, AddMarker):
            return worker.add_marker(command.note), None
        if isinstance(command, RenameTrack):
            worker.rename_track(command.track_id, command.name)
            return None, self._snapshot()
        if isinstance(command, Query):
            with closing(store_cursor(self.con)) as cursor:
                return command.function(cursor, *command.args, **command.kwargs), None
        raise TypeError(f"unknown command {command!r}")

    def _answer(self, request: Request) -> None:
        """Run one request; its error, if any, is re-raised in the UI, where it came from."""
        try:
            value, snapshot = self._execute(request.command)
        except Exception as error:
            self._send(Reply(request.request_id, error=portable(error)))
            return
        self._send(Reply(request.request_id, value, snapshot=snapshot))

    def _send(self, message: object) -> None:
        with self._send_lock:
            self._control.send(message)

    def _stop(self, request: Request) -> None:
        """`q`: the session complete (or the crash that came first), then the reply."""
        if self._failure is not None:
            self._crash(self._failure)
        try:
            self._finish(interrupted=False)
        except (UserError, duckdb.Error) as error:
            self._send(Reply(request.request_id, error=portable(error)))
            return
        self._send(Reply(request.request_id))

    def _finish(self, *, interrupted: bool) -> bool:
        """Let pending queries end, stop the worker, close the database: once. Returns
        whether this call did it."""
        with self._finish_lock:
            if self._finished:
                return False
            self._finished = True
            self._pool.shutdown(wait=True)
            try:
                self.worker.stop(interrupted=interrupted)
            finally:
                self.con.close()
            return True

    def _crash(self, error: BaseException) -> NoReturn:
        """Close the session `interrupted` if it can, tell the UI why, and exit."""
        try:
            interrupted = False
            try:
                interrupted = self._finish(interrupted=True)
            except (UserError, duckdb.Error):
                interrupted = False  # the UI runs the recovery once this process is gone
            details = "".join(traceback.format_exception(error))
            with suppress(OSError):  # the UI may be gone too
                self._send(Ended(one_line(error), details, interrupted))
        finally:
            os._exit(CRASH_EXIT)
