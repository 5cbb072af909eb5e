"""One tracked person seen through the `Capture` protocol, for the single-person view.

The people grid is the only screen that drains the worker (two drainers would each see
part of the frames); it hands every drained batch to the open `TrackCapture`s, which
keep only their person's face. Everything else goes straight to the shared worker, so
pausing, markers and new sessions act on the one capture as they do from the grid.
"""

from __future__ import annotations

from pathlib import Path

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.runtime.worker_status import WorkerStatus
from burnout_tui.tui.state.capture_protocol import Capture, forecaster_label, recording, track_names
from burnout_tui.tui.state.people import default_name, face_of, track_result


class TrackCapture:
    """A `Capture` whose frames hold at most the face of `track_id`."""

    def __init__(self, worker: Capture, track_id: int) -> None:
        self.worker = worker
        self.track_id = track_id
        self._pending: list[FrameResult] = []

    def feed(self, results: list[FrameResult]) -> None:
        self._pending += [track_result(r, face_of(r, self.track_id)) for r in results]

    @property
    def config(self) -> Config:
        return self.worker.config

    @property
    def user(self) -> str:
        return track_names(self.worker).get(self.track_id, default_name(self.track_id))

    @property
    def user_id(self) -> int:
        return self.worker.user_id

    @property
    def session_id(self) -> int | None:
        return self.worker.session_id

    @property
    def recording(self) -> Path | None:
        return recording(self.worker)

    @property
    def forecaster_label(self) -> str | None:
        return forecaster_label(self.worker)

    def start(self) -> None:
        """The worker is already running: the grid started it."""

    def drain(self) -> list[FrameResult]:
        drained, self._pending = self._pending, []
        return drained

    def status(self) -> WorkerStatus:
        return self.worker.status()

    def toggle_pause(self) -> bool:
        return self.worker.toggle_pause()

    def add_marker(self, note: str) -> float:
        return self.worker.add_marker(note)

    def request_new_session(self) -> None:
        self.worker.request_new_session()

    def stop(self) -> None:
        """Stopping is the app's, for the worker as a whole, never one person's view."""
