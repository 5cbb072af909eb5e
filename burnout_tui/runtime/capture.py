"""The background capture worker behind `monitor`: read, analyse, store, publish.

The worker thread owns the source and the models. Results go two ways: every face row to
the store's writer thread, and every FrameResult into a bounded ring buffer that the UI
drains on a timer. Nothing here calls into the UI, so a slow terminal can never stall
capture, and a stalled capture can never freeze the keyboard.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import duckdb

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.forecast.model import Forecaster
from burnout_tui.runtime.personal_models import forecaster_label
from burnout_tui.runtime.pipeline import Pipeline, make_pipeline
from burnout_tui.runtime.prefetch import DecodeAhead, RateGate, read_due
from burnout_tui.runtime.recording import Recorder
from burnout_tui.runtime.results import FrameResult
from burnout_tui.runtime.runner import SessionRunner
from burnout_tui.runtime.worker_status import WorkerState, WorkerStatus
from burnout_tui.sources import FrameSource, SourceError, SourceKind, SourceSpec, open_source
from burnout_tui.sources.frame import Frame
from burnout_tui.store import store_cursor
from burnout_tui.store.calibrations import latest_calibration
from burnout_tui.store.database import StoreError
from burnout_tui.store.live_server import LiveServer

RING_SIZE = 512
"""Results kept for the UI; at 30 frames/s that is ~17 s, far more than one UI tick."""

RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Back-off between attempts to reopen a camera or stream; the last value repeats."""

FPS_WINDOW = 30
"""Frames over which the processing rate is averaged for display."""

CATCH_UP_S = 0.25
"""How far behind a file's own clock playback may fall before frames are dropped. One slow
frame (a full face detection takes ~150 ms at 720p) is then made up by the quicker frames
after it, which the decode-ahead queue holds ready, instead of costing the next four."""

LIVE_FRAME_TIMEOUT_S = 2.0
"""How long to wait for a camera frame before checking again whether to stop."""


class LatestFrameReader:
    """Reads a live source on its own thread and keeps only the newest frame.

    Cameras queue frames in the driver; if analysis is slower than the camera, reading in
    order would show an ever older picture. Taking the newest frame keeps latency at one
    frame, and every frame replaced before it was taken is counted as dropped. Frames a
    rate (`max_fps`, see `prefetch.RateGate`) skips are grabbed without being decoded
    and are not drops.
    """

    def __init__(self, source: FrameSource, max_fps: float = 0.0) -> None:
        self.source = source
        self._gate = RateGate(max_fps, source.fps)
        self._latest: Frame | None = None
        self._ended = False
        self._cond = threading.Condition()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="camera-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            frame = read_due(self.source, self._gate)
            with self._cond:
                if frame is None:
                    self._ended = True
                    self._cond.notify_all()
                    return
                if self._latest is not None:
                    self.dropped += 1
                self._latest = frame
                self._cond.notify_all()

    def read(self, timeout: float) -> Frame | None:
        with self._cond:
            self._cond.wait_for(lambda: self._latest is not None or self._ended, timeout)
            frame, self._latest = self._latest, None
            return frame

    @property
    def ended(self) -> bool:
        return self._ended

    def close(self) -> None:
        self.source.close()
        self._thread.join(timeout=2.0)


class CaptureWorker:
    """Runs the pipeline for one monitored person (or, with `multi_user`, everyone in view)
    and keeps one session open at a time, through a `runner.SessionRunner`: this class
    adds only the pacing (a file at its native rate, dropping frames when behind; a live
    source through `LatestFrameReader`) and the UI's requests.

    In multi-user mode each new track is mapped to an auto-named user on first sight;
    `track_names()` gives the mapping and `rename_track` changes it (stored at once, so
    the whole session's rows of that track belong to the new name). With `record`, every
    processed frame is also written, annotated, to that video file until `stop`.

    Cursors: the runner works through one cursor of its own (the capture thread's, also
    used by `start` and `stop` before and after that thread runs); markers and renames,
    which come from the UI, share a second one under a lock. Both are closed by `stop`.
    """

    def __init__(
        self,
        spec: SourceSpec,
        config: Config,
        con: duckdb.DuckDBPyConnection,
        user: str,
        *,
        fast: bool = False,
        pipeline_factory: Callable[[Config], Pipeline] | None = None,
        multi_user: bool = False,
        record: Path | None = None,
        forecaster: Forecaster | None = None,
    ) -> None:
        """`forecaster` fills the forecast column (see `personal_models.load_forecaster`);
        a single-user session also uses the person's newest calibration, if any."""
        self.spec = spec
        self.config = config
        self.user = user
        self.fast = fast
        self.multi_user = multi_user
        self.recording: Path | None = record
        """The file being recorded to, for the UI to say so; None when not recording."""
        self._recorder: Recorder | None = None
        self.results: deque[FrameResult] = deque(maxlen=RING_SIZE)
        calibration = None if multi_user else latest_calibration(con, user)
        self.forecaster_label = None if forecaster is None else forecaster_label(forecaster)
        """How the UI names the forecaster; None when forecasts are off."""
        self._pipeline_factory: Callable[[Config], Pipeline] = pipeline_factory or (
            lambda config: make_pipeline(
                config, multi_user, forecaster=forecaster, calibration=calibration
            )
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._state = WorkerState.STARTING
        self._message = f"opening {spec.label}"
        self._frame_times: deque[float] = deque(maxlen=FPS_WINDOW)
        self._cursor = store_cursor(con)
        self._control = store_cursor(con)
        self._control_lock = threading.Lock()
        self._runner = SessionRunner(self._cursor, config, user, spec.label, multi_user=multi_user)
        self._new_session_requested = False
        self.live = LiveServer(con)
        """Answers other processes' read-only queries (`report`) while this worker writes."""

    def start(self) -> None:
        self._runner.begin()
        self.live.start()
        self._thread.start()

    def drain(self) -> list[FrameResult]:
        """Everything published since the last drain, oldest first."""
        drained: list[FrameResult] = []
        while True:
            try:
                drained.append(self.results.popleft())
            except IndexError:
                return drained

    def status(self) -> WorkerStatus:
        counts = self._runner.counts()
        with self._lock:
            times = self._frame_times
            fps = (
                (len(times) - 1) / (times[-1] - times[0])
                if len(times) > 1 and times[-1] > times[0]
                else 0.0
            )
            return WorkerStatus(
                state=self._state,
                message=self._message,
                session_id=counts.session_id,
                frames=counts.frames,
                face_frames=counts.face_frames,
                dropped=counts.dropped,
                processing_fps=fps,
                source=self.spec.label,
                session_started=counts.started,
                stage_ms=counts.stage_ms,
            )

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def toggle_pause(self) -> bool:
        """Pause or resume; returns True when now paused."""
        if self._resume.is_set():
            self._resume.clear()
            self._set_state(WorkerState.PAUSED, "paused")
            return True
        self._resume.set()
        self._set_state(WorkerState.RUNNING, "")
        return False

    def add_marker(self, note: str) -> float:
        """Store a marker at the current session time; returns that time in seconds.
        Raises `runner.NoSessionError` while no session is open (before `start`, after
        `stop`, or in the moment between two sessions)."""
        with self._control_lock:
            return self._runner.add_marker(self._control, note)

    def request_new_session(self) -> None:
        """Finalise the current session and start another at the next frame boundary."""
        with self._lock:
            self._new_session_requested = True

    @property
    def session_id(self) -> int | None:
        return self._runner.session_id

    def track_names(self) -> dict[int, str]:
        """Track id → user name for the current session (multi-user mode; else empty)."""
        return self._runner.track_names()

    def rename_track(self, track_id: int, name: str) -> None:
        """Name the person behind `track_id` for the rest of this session (and its past
        rows). Raises ValueError for a blank name; an unseen track id is named in advance."""
        with self._control_lock:
            self._runner.rename_track(self._control, track_id, name)

    @property
    def user_id(self) -> int:
        return self._runner.user_id

    def stop(self, *, interrupted: bool = False) -> None:
        """Stop capture, flush every row and mark the session complete. Safe to call twice.

        If the last rows cannot be written, the session is closed `interrupted` with the
        rows that were (as the next open would) and the error is raised. With
        `interrupted` (the capture crashed, or the UI it served is gone) every row is
        written and the session is closed `interrupted` by that same rule."""
        self._stop.set()
        self._resume.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._recorder is not None:
            self._recorder.close()
        try:
            try:
                if interrupted:
                    self._runner.close()
                    self._runner.interrupt()
                else:
                    self._runner.finish("complete")
            except StoreError:
                self._runner.interrupt()
                raise
            finally:
                self._runner.close()
        finally:
            with self._control_lock:
                self._control.close()
            self._cursor.close()
            self.live.stop()
        self._set_state(WorkerState.STOPPED, "stopped")

    def _set_state(self, state: WorkerState, message: str) -> None:
        with self._lock:
            if self._state is WorkerState.STOPPED:
                return
            self._state = state
            self._message = message

    def _open(self) -> FrameSource | None:
        """Open the source, retrying live sources with back-off until stopped."""
        attempt = 0
        while not self._stop.is_set():
            try:
                return open_source(self.spec, loop_demo=True)
            except SourceError as error:
                if not self.spec_is_live():
                    self._set_state(WorkerState.FAILED, str(error))
                    return None
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                self._set_state(WorkerState.RECONNECTING, f"{error}; retrying in {delay:g} s")
                attempt += 1
                self._stop.wait(delay)
        return None

    def spec_is_live(self) -> bool:
        return self.spec.kind in (SourceKind.CAMERA, SourceKind.STREAM)

    def _run(self) -> None:
        try:
            self._runner.attach(self._pipeline_factory(self.config))
        except UserError as error:
            self._set_state(WorkerState.FAILED, str(error))
            return
        while not self._stop.is_set():
            source = self._open()
            if source is None:
                return
            self._runner.new_source()
            if self.recording is not None and self._recorder is None:
                self._recorder = self._runner.recorder = Recorder(self.recording, source.fps)
            self._set_state(WorkerState.RUNNING, "")
            try:
                max_fps = self.config.capture.max_fps
                if source.live:
                    reason = self._consume_live(LatestFrameReader(source, max_fps))
                else:
                    reason = self._consume_file(source, DecodeAhead(source, max_fps=max_fps))
            except StoreError as error:
                # Rows are being lost: stop capturing; `stop` closes the session
                # `interrupted` and raises the error again.
                self._set_state(WorkerState.FAILED, str(error))
                return
            if reason is WorkerState.ENDED:
                self._set_state(WorkerState.ENDED, f"end of {self.spec.label}")
                return
            if reason is WorkerState.RECONNECTING:
                self._set_state(WorkerState.RECONNECTING, f"{self.spec.label} lost; reconnecting")

    def _handle(self, frame: Frame) -> None:
        with self._lock:
            new_session, self._new_session_requested = self._new_session_requested, False
        if new_session:
            self._runner.next_session()
        result = self._runner.process(frame)
        with self._lock:
            self._frame_times.append(time.monotonic())
        self.results.append(result)

    def _wait_if_paused(self) -> float:
        """Block while paused; returns how long the pause lasted."""
        if self._resume.is_set():
            return 0.0
        paused_at = time.monotonic()
        self._resume.wait()
        return time.monotonic() - paused_at

    def _consume_file(self, source: FrameSource, ahead: DecodeAhead) -> WorkerState:
        """Play a file (or the demo) at its native rate, dropping frames when behind.

        `ahead` decodes on its own thread, so `decode` here is the time this loop waited
        for a frame, as for a live source. The clock starts once the first frame is
        analysed: that run includes ONNX Runtime's one-off warm-up, which would otherwise
        count the next few frames as dropped."""
        wall_start = time.monotonic()
        warm = False
        try:
            while not self._stop.is_set():
                wall_start += self._wait_if_paused()
                frame = self._runner.read(ahead.read)
                if frame is None:
                    return WorkerState.ENDED
                if not self.fast:
                    due = wall_start + frame.ts
                    lag = time.monotonic() - due
                    if lag < 0:
                        self._stop.wait(-lag)
                    elif lag > CATCH_UP_S:
                        self._runner.drop()
                        continue
                self._handle(frame)
                if not warm:
                    wall_start, warm = time.monotonic() - frame.ts, True
        finally:
            ahead.close()
            source.close()
        return WorkerState.STOPPED

    def _consume_live(self, reader: LatestFrameReader) -> WorkerState:
        """Analyse the newest frame of a live source; frames it replaced count as dropped.

        The source decodes on the reader's thread, so `decode` here is the time this loop
        waited for a frame: near zero when analysis is the bottleneck."""
        counted = 0
        try:
            while not self._stop.is_set():
                self._wait_if_paused()
                frame = self._runner.read(lambda: reader.read(timeout=LIVE_FRAME_TIMEOUT_S))
                dropped = reader.dropped
                self._runner.drop(dropped - counted)
                counted = dropped
                if frame is None:
                    if reader.ended:
                        return WorkerState.RECONNECTING
                    continue
                self._handle(frame)
        finally:
            reader.close()
        return WorkerState.STOPPED
