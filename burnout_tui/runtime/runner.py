"""One session's life, whoever drives it: `analyze`, `calibrate` and the monitor's worker.

A `SessionRunner` starts a session, runs each frame through the pipeline, names new
tracks (multi-user), hands the rows to the store's writer, feeds the recorder, keeps the
counters (frames, frames with a face, frames dropped) and the stage timings (decode and
store included), and ends the session one of three ways:

- `finish`: every row is flushed, then the session is `complete` (or `truncated`);
- `rollback`: the session and its rows are deleted, for a run whose result must not
  pass for one (`analyze` failing or interrupted);
- `interrupt`: the rows written are kept and the session is closed `interrupted`, by the
  same rule a later open would apply (`store.recovery`), for a monitor session whose
  last rows could not be written.

The drivers differ only in pacing (as fast as the source reads, or in real time with
frames dropped) and, in the monitor, in requests from the UI (new session, pause,
marker, rename), which reach the runner through the methods below.

`frame_index` is the source's frame number, counted from the session's first frame:
`analyze` stores the file's own frame numbers; frames the monitor drops to keep up leave
gaps; a camera that reconnects within a session continues after the last number rather
than starting again at 0, so the session's frames stay in order.

Threads: the runner's connection (`con`) is used by one thread at a time (the driver's);
`counts`, `track_names`, `add_marker` and `rename_track` may be called from another,
the last two with that thread's own cursor.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import duckdb

from burnout_tui.config import Config
from burnout_tui.runtime.pipeline import Pipeline
from burnout_tui.runtime.recording import Recorder
from burnout_tui.runtime.results import FrameResult
from burnout_tui.runtime.worker_status import NoSessionError
from burnout_tui.sources.frame import Frame
from burnout_tui.store import FrameWriter, StoreError, repository, stored_rows
from burnout_tui.store.blink_rows import track_blink_rows
from burnout_tui.store.recovery import interrupt_session
from burnout_tui.store.repository import FinalStatus


class NoPipelineError(RuntimeError):
    """A frame reached the runner before its pipeline was attached: a driver bug."""


@dataclass(frozen=True, slots=True)
class SessionCounts:
    """Where the current (or last) session stands, as one consistent snapshot."""

    session_id: int | None
    frames: int
    face_frames: int
    dropped: int
    started: float | None
    """`time.monotonic()` when the session started; None when none is open."""
    stage_ms: dict[str, float] = field(default_factory=dict)
    """Milliseconds spent per stage (`pipeline.STAGES`) in this session so far."""


class _FrameNumbers:
    """Session frame numbers from source frame numbers (see the module docstring)."""

    def __init__(self) -> None:
        self._next = 0
        self._offset: int | None = None

    def new_session(self) -> None:
        self._next = 0
        self._offset = None

    def new_source(self) -> None:
        self._offset = None

    def number(self, source_index: int) -> int:
        if self._offset is None:
            self._offset = self._next - source_index
        number = source_index + self._offset
        self._next = number + 1
        return number


class SessionRunner:
    """Runs one session at a time into `con` (see the module docstring).

    The runner owns the FrameWriter (closed by `close` or leaving `with`); the caller
    owns `con`, the pipeline and the recorder. The pipeline may be attached later
    (`attach`), since the monitor loads the models on its capture thread, after the
    session has started.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        config: Config,
        user: str,
        source_label: str,
        pipeline: Pipeline | None = None,
        *,
        multi_user: bool = False,
        recorder: Recorder | None = None,
    ) -> None:
        self.config = config
        self.source_label = source_label
        self.pipeline = pipeline
        self.multi_user = multi_user
        self.recorder = recorder
        self._con = con
        self.user_id = repository.get_or_create_user(con, user)
        self._writer = FrameWriter(con, flush_interval_s=config.store.flush_interval_s)
        self._lock = threading.Lock()
        self._numbers = _FrameNumbers()
        self._session_id: int | None = None
        self._started: float | None = None
        self._frames = 0
        self._face_frames = 0
        self._dropped = 0
        self._tracks: dict[int, str] = {}
        self._stage_base: dict[str, float] = {}
        self._stage_ms: dict[str, float] = {}
        self._write_error: StoreError | None = None
        self._last_frame: tuple[int, float] | None = None
        """The session's last processed frame: its number and time."""

    def __enter__(self) -> SessionRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def attach(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._stage_base = dict(pipeline.clock.totals_ms)

    @property
    def session_id(self) -> int | None:
        return self._session_id

    @property
    def frames(self) -> int:
        return self._frames

    def counts(self) -> SessionCounts:
        with self._lock:
            return SessionCounts(
                self._session_id,
                self._frames,
                self._face_frames,
                self._dropped,
                self._started,
                dict(self._stage_ms),
            )

    def track_names(self) -> dict[int, str]:
        """Track id → user name for the current session (multi-user; else empty)."""
        with self._lock:
            return dict(self._tracks)

    def begin(self) -> int:
        """Start a new session in status `running`; returns its id. The caller wraps
        everything after this in `try` so that every way out ends the session."""
        config_json = json.dumps(self.config.to_dict())
        session_id = repository.start_session(
            self._con,
            self.user_id,
            self.source_label,
            config_json,
            emotion_model=self.config.emotion.model,
        )
        with self._lock:
            self._session_id = session_id
            self._started = time.monotonic()
            self._frames = 0
            self._face_frames = 0
            self._dropped = 0
            self._last_frame = None
            self._tracks = {}
            self._stage_ms = {}
        self._numbers.new_session()
        if self.pipeline is not None:
            self._stage_base = dict(self.pipeline.clock.totals_ms)
        return session_id

    def next_session(self) -> int:
        """Finish the current session complete and start another, with fresh tracks
        and windows (the monitor's "new session")."""
        self.finish("complete")
        session_id = self.begin()
        if self.pipeline is not None:
            self.pipeline.reset()
        return session_id

    def new_source(self) -> None:
        """The source was (re)opened: its frame numbers may start again at 0."""
        self._numbers.new_source()

    def read(self, read: Callable[[], Frame | None]) -> Frame | None:
        """The next frame from `read` (e.g. `source.read`), timed as `decode`."""
        pipeline = self._pipeline()
        with pipeline.clock.stage("decode"):
            frame = read()
        self._note_stages(pipeline)
        return frame

    def drop(self, frames: int = 1) -> None:
        """Count frames skipped to keep up with a real-time source."""
        with self._lock:
            self._dropped += frames

    def process(self, frame: Frame) -> FrameResult:
        """Analyse one frame into the open session and return its result."""
        session_id = self._open_session()
        pipeline = self._pipeline()
        result = pipeline.process(frame)
        number = self._numbers.number(frame.index)
        self._last_frame = (number, result.ts)
        if self.multi_user:
            self._name_new_tracks(session_id, result)
        if self.recorder is not None:
            self.recorder.put(frame.image, result, self.track_names())
        if result.faces or result.ended_blinks:
            with pipeline.clock.stage("store"):
                rows = stored_rows(session_id, number, result.ts, result.faces)
                rows.extend(track_blink_rows(session_id, number, result.ts, result.ended_blinks))
                try:
                    self._writer.put_many(rows)
                except StoreError as error:
                    self._write_error = error
                    raise
        with self._lock:
            self._frames += 1
            self._face_frames += bool(result.faces)
        self._note_stages(pipeline)
        return result

    def flush(self) -> None:
        """Block until every row so far is committed (readable by other cursors)."""
        self._writer.flush()

    def finish(self, status: FinalStatus = "complete") -> None:
        """Flush every row, then close the session with `status`. No-op without one.

        Raises StoreError, leaving the session open (for `rollback` or `interrupt`), if
        any row of it could not be written, even when an earlier call already raised."""
        if self._session_id is None:
            return
        if self._write_error is not None:
            raise self._write_error
        self._write_pending_blinks()
        self._writer.flush()
        session_id, frames = self._take_session()
        if session_id is not None:
            repository.finish_session(self._con, session_id, frames, status)

    def _write_pending_blinks(self) -> None:
        """The blinks the pipeline still holds when the session ends (a blink needs 0.4 s
        after its reopening before it is complete), stored on the session's last frame."""
        if self.pipeline is None or self._last_frame is None or self._session_id is None:
            return
        number, ts = self._last_frame
        rows = track_blink_rows(self._session_id, number, ts, self.pipeline.flush_blinks())
        if rows:
            self._writer.put_many(rows)

    def rollback(self) -> None:
        """Delete the session and its rows. Closes the writer first (so no row lands
        after the delete), which ends this runner: no session can follow."""
        session_id, _ = self._take_session()
        try:
            self._writer.close()
        finally:
            if session_id is not None:
                repository.delete_session(self._con, session_id)

    def interrupt(self) -> None:
        """Close the session `interrupted`, keeping the rows that were written."""
        session_id, _ = self._take_session()
        if session_id is not None:
            interrupt_session(self._con, session_id)

    def close(self) -> None:
        """Write the rows still queued and stop the writer. Safe to call twice."""
        self._writer.close()

    def add_marker(self, cursor: duckdb.DuckDBPyConnection, note: str) -> float:
        """Store a marker at the current session time, through the caller's `cursor`;
        returns that time in seconds."""
        with self._lock:
            session_id, started = self._session_id, self._started
        if session_id is None or started is None:
            raise NoSessionError("no session is open to put a marker in; try again")
        ts = time.monotonic() - started
        repository.add_marker(cursor, session_id, ts, note)
        return ts

    def rename_track(self, cursor: duckdb.DuckDBPyConnection, track_id: int, name: str) -> None:
        """Name the person behind `track_id` for the rest of this session (and its past
        rows). Raises ValueError for a blank name; an unseen track id is named in
        advance; without an open session nothing happens."""
        name = name.strip()
        if not name:
            raise ValueError("a user name must not be blank")
        with self._lock:
            session_id = self._session_id
        if session_id is None:
            return
        repository.assign_track_user(cursor, session_id, track_id, name)
        with self._lock:
            self._tracks[track_id] = name

    def _note_stages(self, pipeline: Pipeline) -> None:
        """Copy the session's stage totals where `counts` (any thread) can read them."""
        base = self._stage_base
        stage_ms = {name: ms - base.get(name, 0.0) for name, ms in pipeline.clock.totals_ms.items()}
        with self._lock:
            self._stage_ms = stage_ms

    def _pipeline(self) -> Pipeline:
        if self.pipeline is None:
            raise NoPipelineError("attach a pipeline before reading or processing frames")
        return self.pipeline

    def _open_session(self) -> int:
        with self._lock:
            session_id = self._session_id
        if session_id is None:
            raise NoSessionError("no session is open: call begin() before processing frames")
        return session_id

    def _take_session(self) -> tuple[int | None, int]:
        with self._lock:
            session_id, frames = self._session_id, self._frames
            self._session_id = None
            self._started = None
            self._tracks = {}
        return session_id, frames

    def _name_new_tracks(self, session_id: int, result: FrameResult) -> None:
        with self._lock:
            unseen = [f.track_id for f in result.faces if f.track_id not in self._tracks]
        if not unseen:
            return
        names = repository.auto_name_tracks(self._con, session_id, unseen)
        with self._lock:
            for track_id, name in names.items():
                self._tracks.setdefault(track_id, name)


__all__ = ["NoPipelineError", "SessionCounts", "SessionRunner"]
