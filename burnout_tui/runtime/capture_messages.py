"""What the monitor's UI process and its capture process say to each other.

Two pipes join them (see `capture_process` and `capture_child`): the child publishes
`Update`s on one, which the UI drains on its timer; the other carries the UI's
`Request`s and the child's `Reply`s, plus the child's first word (`Ready` or
`StartFailed`) and, when it crashes, its last (`Ended`). Every value is a frozen
dataclass that pickles as it is: frame results are a few small numpy arrays each.

`Snapshot.seq` orders the worker's state across both pipes: a reply to a pause carries
a snapshot newer than any update still in flight on the other pipe, so the UI keeps the
newest and "PAUSED" never flickers back to "RUNNING".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.runtime.worker_status import WorkerStatus
from burnout_tui.sources import SourceSpec


@dataclass(frozen=True, slots=True)
class CaptureSettings:
    """Everything the child needs to monitor one source into one database."""

    spec: SourceSpec
    config: Config
    db: Path
    user: str
    fast: bool = False
    multi_user: bool = False
    record: Path | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int
    status: WorkerStatus
    track_names: Mapping[int, str]


@dataclass(frozen=True, slots=True)
class Update:
    """The results published since the last update, and the worker's state after them."""

    results: tuple[FrameResult, ...]
    snapshot: Snapshot


@dataclass(frozen=True, slots=True)
class Ready:
    user_id: int
    forecaster_label: str | None


@dataclass(frozen=True, slots=True)
class StartFailed:
    """The database, the personal model or the source settings were refused before any
    session started; `error` is the `UserError` the monitor would have raised itself."""

    error: Exception


@dataclass(frozen=True, slots=True)
class Ended:
    """The child crashed and is exiting. `reason` is one line for the screen, `details`
    the traceback; `interrupted` says whether it closed the session `interrupted` itself."""

    reason: str
    details: str
    interrupted: bool


class Command:
    """A request's body; each subclass is one thing the UI can ask of the capture."""


@dataclass(frozen=True, slots=True)
class Start(Command):
    pass


@dataclass(frozen=True, slots=True)
class SetPaused(Command):
    """Pause or resume: absolute, so a request the UI does not wait for cannot invert."""

    paused: bool


@dataclass(frozen=True, slots=True)
class NewSession(Command):
    pass


@dataclass(frozen=True, slots=True)
class AddMarker(Command):
    note: str


@dataclass(frozen=True, slots=True)
class RenameTrack(Command):
    track_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Query(Command):
    """`function(cursor, *args, **kwargs)` on a cursor of the child's own; the function is
    pickled by reference, so it must be a module-level function the child can import."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stop(Command):
    pass


@dataclass(frozen=True, slots=True)
class Request:
    request_id: int
    command: Command


@dataclass(frozen=True, slots=True)
class Reply:
    """`value` when the command succeeded, else the exception it raised (re-raised in the
    UI process); `snapshot` is the worker's state right after, when the command changed it."""

    request_id: int
    value: Any = None
    error: Exception | None = None
    snapshot: Snapshot | None = None
