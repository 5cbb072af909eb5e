"""The value every source produces, and the interface the capture worker and `analyze` read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    `ts` is seconds since the source started: media time for files and the demo (so a
    session's clock means the same thing however fast it is processed), wall-clock time
    for cameras and streams.
    """

    index: int
    ts: float
    image: npt.NDArray[np.uint8]


class FrameSource(Protocol):
    label: str
    fps: float
    frame_count: int | None
    live: bool

    def read(self) -> Frame | None:
        """The next frame, or None at the end of a file (or when a live source drops)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class GrabbingSource(FrameSource, Protocol):
    """A source that can move past a frame without decoding it (OpenCV's `grab` without
    `retrieve`), so frames skipped to honour a rate cost no decoding. `read` is `grab`
    then `retrieve`."""

    def grab(self) -> float | None:
        """Advance to the next frame without decoding it; its `ts`, or None at the end."""
        ...

    def retrieve(self) -> Frame | None:
        """Decode the frame `grab` last advanced to (None if it cannot be decoded)."""
        ...
