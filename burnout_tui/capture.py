"""The background capture worker behind `monitor`: read, analyse, store, publish.

The worker thread owns the source and the models. Results go two ways: every face row to
the store's writer thread, and every FrameResult into a bounded ring buffer that the UI
drains on a timer. Nothing here calls into the UI, so a slow terminal can never stall
capture, and a stalled capture can never freeze the keyboard.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import duckdb

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.forecast.model import Forecaster
from burnout_tui.personal_models import forecaster_label
from burnout_tui.pipeline import FrameResult, Pipeline, make_pipeline
from burnout_tui.recording import Recorder
from burnout_tui.sources import FrameSource, SourceError, SourceKind, SourceSpec, open_source
from burnout_tui.sources.frame import Frame
from burnout_tui.store import FrameWriter, frame_rows, repository, store_cursor
from burnout_tui.store.calibrations import latest_calibration

RING_SIZE = 512
"""Results kept for the UI; at 30 frames/s that is ~17 s, far more than one UI tick."""

RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Back-off between attempts to reopen a camera or stream; the last value repeats."""

FPS_WINDOW = 30
"""Frames over which the processing rate is averaged for display."""

LIVE_FRAME_TIMEOUT_S = 2.0
"""How long to wait for a camera frame before checking again whether to stop."""


class WorkerState(str, Enum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    state: WorkerState
    message: str
    session_id: int | None
    frames: int
    face_frames: int
    dropped: int
    processing_fps: float
    source: str
    session_started: float | None
    """`time.monotonic()` when the current session started, for the session clock."""


class LatestFrameReader:
    """Reads a live source on its own thread and keeps only the newest frame.

    Cameras queue frames in the driver; if analysis is slower than the camera, reading in
    order would show an ever older picture. Taking the newest frame keeps latency at one
    frame, and every frame replaced before it was taken is counted as dropped.
    """

    def __init__(self, source: FrameSource) -> None:
        self.source = source
        self._latest: Frame | None = None
        self._ended = False
        self._cond = threading.Condition()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="camera-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            frame = self.source.read()
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
    and keeps one session open at a time.

    In multi-user mode each new track is mapped to an auto-named user on first sight;
    `track_names()` gives the mapping and `rename_track` changes it (stored at once, so
    the whole session's rows of that track belong to the new name). With `record`, every
    processed frame is also written, annotated, to that video file until `stop`.
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
        self._track_names: dict[int, str] = {}
        self.results: deque[FrameResult] = deque(maxlen=RING_SIZE)
        self._con = con
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
        self._frames = 0
        self._face_frames = 0
        self._dropped = 0
        self._frame_times: deque[float] = deque(maxlen=FPS_WINDOW)
        self._user_id = repository.get_or_create_user(con, user)
        self._session_id: int | None = None
        self._session_started: float | None = None
        self._writer = FrameWriter(con, flush_interval_s=config.store.flush_interval_s)
        self._new_session_requested = False

    def start(self) -> None:
        self._begin_session()
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
                session_id=self._session_id,
                frames=self._frames,
                face_frames=self._face_frames,
                dropped=self._dropped,
                processing_fps=fps,
                source=self.spec.label,
                session_started=self._session_started,
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
        """Store a marker at the current session time; returns that time in seconds."""
        with self._lock:
            session_id = self._session_id
            started = self._session_started
        assert session_id is not None and started is not None
        ts = time.monotonic() - started
        repository.add_marker(store_cursor(self._con), session_id, ts, note)
        return ts

    def request_new_session(self) -> None:
        """Finalise the current session and start another at the next frame boundary."""
        with self._lock:
            self._new_session_requested = True

    @property
    def session_id(self) -> int | None:
        return self._session_id

    def track_names(self) -> dict[int, str]:
        """Track id → user name for the current session (multi-user mode; else empty)."""
        with self._lock:
            return dict(self._track_names)

    def rename_track(self, track_id: int, name: str) -> None:
        """Name the person behind `track_id` for the rest of this session (and its past
        rows). Raises ValueError for a blank name; an unseen track id is named in advance."""
        name = name.strip()
        if not name:
            raise ValueError("a user name must not be blank")
        with self._lock:
            session_id = self._session_id
        if session_id is None:
            return
        repository.assign_track_user(store_cursor(self._con), session_id, track_id, name)
        with self._lock:
            self._track_names[track_id] = name

    @property
    def user_id(self) -> int:
        return self._user_id

    def stop(self) -> None:
        """Stop capture, flush every row and mark the session complete. Safe to call twice."""
        self._stop.set()
        self._resume.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._recorder is not None:
            self._recorder.close()
        self._writer.close()
        self._end_session()
        self._set_state(WorkerState.STOPPED, "stopped")

    def _set_state(self, state: WorkerState, message: str) -> None:
        with self._lock:
            if self._state is WorkerState.STOPPED:
                return
            self._state = state
            self._message = message

    def _begin_session(self) -> None:
        config_json = json.dumps(self.config.to_dict())
        session_id = repository.start_session(
            store_cursor(self._con), self._user_id, self.spec.label, config_json
        )
        with self._lock:
            self._session_id = session_id
            self._session_started = time.monotonic()
            self._frames = 0
            self._face_frames = 0
            self._dropped = 0
            self._track_names = {}

    def _end_session(self) -> None:
        with self._lock:
            session_id, frames = self._session_id, self._frames
            self._session_id = None
            self._track_names = {}
        if session_id is not None:
            self._writer.flush()
            repository.finish_session(store_cursor(self._con), session_id, frames, "complete")

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
            pipeline = self._pipeline_factory(self.config)
        except UserError as error:
            self._set_state(WorkerState.FAILED, str(error))
            return
        while not self._stop.is_set():
            source = self._open()
            if source is None:
                return
            if self.recording is not None and self._recorder is None:
                self._recorder = Recorder(self.recording, source.fps)
            self._set_state(WorkerState.RUNNING, "")
            if source.live:
                reason = self._consume_live(pipeline, LatestFrameReader(source))
            else:
                reason = self._consume_file(pipeline, source)
            if reason is WorkerState.ENDED:
                self._set_state(WorkerState.ENDED, f"end of {self.spec.label}")
                return
            if reason is WorkerState.RECONNECTING:
                self._set_state(WorkerState.RECONNECTING, f"{self.spec.label} lost; reconnecting")

    def _name_new_tracks(self, session_id: int, result: FrameResult) -> None:
        with self._lock:
            unseen = [f.track_id for f in result.faces if f.track_id not in self._track_names]
        names = repository.auto_name_tracks(store_cursor(self._con), session_id, unseen)
        with self._lock:
            for track_id, name in names.items():
                self._track_names.setdefault(track_id, name)

    def _handle(self, pipeline: Pipeline, frame: Frame) -> None:
        if self._new_session_requested:
            self._end_session()
            self._begin_session()
            pipeline.reset()
            with self._lock:
                self._new_session_requested = False
        result = pipeline.process(frame)
        session_id = self._session_id
        assert session_id is not None
        if self.multi_user:
            self._name_new_tracks(session_id, result)
        if self._recorder is not None:
            self._recorder.put(frame.image, result, self.track_names())
        if result.faces:
            self._writer.put_many(frame_rows(session_id, self._frames, frame.ts, result.faces))
        with self._lock:
            self._frames += 1
            self._face_frames += bool(result.faces)
            self._frame_times.append(time.monotonic())
        self.results.append(result)

    def _wait_if_paused(self) -> float:
        """Block while paused; returns how long the pause lasted."""
        if self._resume.is_set():
            return 0.0
        paused_at = time.monotonic()
        self._resume.wait()
        return time.monotonic() - paused_at

    def _consume_file(self, pipeline: Pipeline, source: FrameSource) -> WorkerState:
        """Play a file (or the demo) at its native rate, dropping frames when behind."""
        wall_start = time.monotonic()
        frame_period = 1.0 / source.fps
        try:
            while not self._stop.is_set():
                wall_start += self._wait_if_paused()
                frame = source.read()
                if frame is None:
                    return WorkerState.ENDED
                if not self.fast:
                    due = wall_start + frame.ts
                    lag = time.monotonic() - due
                    if lag < 0:
                        self._stop.wait(-lag)
                    elif lag > frame_period:
                        with self._lock:
                            self._dropped += 1
                        continue
                self._handle(pipeline, frame)
        finally:
            source.close()
        return WorkerState.STOPPED

    def _consume_live(self, pipeline: Pipeline, reader: LatestFrameReader) -> WorkerState:
        try:
            while not self._stop.is_set():
                self._wait_if_paused()
                frame = reader.read(timeout=LIVE_FRAME_TIMEOUT_S)
                with self._lock:
                    self._dropped = reader.dropped
                if frame is None:
                    if reader.ended:
                        return WorkerState.RECONNECTING
                    continue
                self._handle(pipeline, frame)
        finally:
            reader.close()
        return WorkerState.STOPPED
