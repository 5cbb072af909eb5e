"""Decode ahead of inference, and skip frames to honour a rate without decoding them.

`analyze` and the monitor's file playback used to decode a frame, run the models on it and
hand its rows to the writer, one after the other, so one core idled. `DecodeAhead` decodes
on its own thread into a small bounded queue: OpenCV releases the GIL while it decodes,
so the next frame is ready by the time the models are done with this one, and the queue
keeps the reader from running far ahead (memory stays a few frames).

`RateGate` decides which frames a rate (`monitor --rate`, `[capture] max_fps`) lets
through; a source that can `grab` without `retrieve` (`sources.frame.GrabbingSource`:
files, cameras, the demo) moves past the others without decoding them. Frames skipped
for the rate are counted apart from frames dropped to keep up: only the latter are a
sign of trouble.
"""

from __future__ import annotations

import queue
import threading

from burnout_tui.sources.frame import Frame, FrameSource, GrabbingSource

PREFETCH_DEPTH = 2
"""Frames queued ahead (the reader holds one more while it waits for room): decoding a
frame takes a fraction of analysing it, so two cover a slow decode (a keyframe), and at
1080p (6 MB a frame) they cost ~20 MB of peak RSS (measured in docs/performance.md)."""

PUT_POLL_S = 0.1
"""How often a reader blocked on a full queue checks whether it was closed."""

JOIN_TIMEOUT_S = 5.0
"""Longest wait for the reader thread at close: it stops after the decode in progress
(milliseconds, even for a 4K frame) or within one `PUT_POLL_S`; the bound is there so a
source hung inside its decoder cannot hang the caller too."""


class RateGate:
    """Lets through at most `max_fps` frames per second of source time (0: every frame).

    Frames are kept on a fixed grid of one per `1 / max_fps` seconds, so the average rate
    is exact whatever the ratio to the source's rate (7 of 30 frames/s is 7, not 7.5 or
    6); a frame up to half a source frame early counts as on time, so a camera's jitter
    does not skip the frame the grid wanted. After a gap longer than one period (a pause,
    a reconnect) the grid restarts rather than letting a burst through.
    """

    def __init__(self, max_fps: float, source_fps: float) -> None:
        self._period = 1.0 / max_fps if max_fps > 0 else 0.0
        self._tolerance = 0.5 / source_fps if source_fps > 0 else 0.0
        self._next: float | None = None
        self.skipped = 0
        """Frames refused so far."""

    @property
    def limited(self) -> bool:
        return self._period > 0.0

    def due(self, ts: float) -> bool:
        """Whether the frame at source time `ts` is to be analysed (else it is counted
        as skipped)."""
        if not self.limited:
            return True
        if self._next is not None and ts < self._next - self._tolerance:
            self.skipped += 1
            return False
        if self._next is None or ts - self._next >= self._period:
            self._next = ts
        self._next += self._period
        return True


def read_due(source: FrameSource, gate: RateGate) -> Frame | None:
    """The next frame `gate` lets through, or None at the end of `source`. Frames before
    it are grabbed without being decoded where the source allows."""
    if not gate.limited:
        return source.read()
    if isinstance(source, GrabbingSource):
        while (ts := source.grab()) is not None:
            if gate.due(ts):
                return source.retrieve()
        return None
    while (frame := source.read()) is not None:
        if gate.due(frame.ts):
            return frame
    return None


class _End:
    """Queued after the last frame."""


class DecodeAhead:
    """Reads `source` on its own thread, at most `depth` frames ahead of `read`.

    It is itself a frame source (label, fps, frame count and liveness are the source's),
    so a driver reads it as it read the source. With `max_fps`, frames are skipped by a
    `RateGate`; `skipped` counts them. An error raised by the source reaches the caller
    of `read`. `close` stops the thread but leaves the source to its owner, who closes it
    after (never while the thread may still be decoding from it).
    """

    def __init__(
        self, source: FrameSource, *, max_fps: float = 0.0, depth: int = PREFETCH_DEPTH
    ) -> None:
        self.source = source
        self.label = source.label
        self.fps = source.fps
        self.frame_count = source.frame_count
        self.live = source.live
        self._gate = RateGate(max_fps, source.fps)
        self._queue: queue.Queue[Frame | _End | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="decode-ahead", daemon=True)
        self._thread.start()

    @property
    def skipped(self) -> int:
        return self._gate.skipped

    def read(self) -> Frame | None:
        if self._ended:
            return None
        item = self._queue.get()
        if isinstance(item, _End):
            self._ended = True
            return None
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        return item

    def close(self) -> None:
        """Stop reading ahead; frames still queued are discarded. Safe to call twice."""
        self._stop.set()
        self._thread.join(timeout=JOIN_TIMEOUT_S)
        self._discard_queued()

    def _discard_queued(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _run(self) -> None:
        item: Frame | _End | BaseException
        while not self._stop.is_set():
            try:
                frame = read_due(self.source, self._gate)
            except BaseException as error:  # handed to the reader, who raises it
                item = error
            else:
                item = _End() if frame is None else frame
            if not self._put(item) or not isinstance(item, Frame):
                return

    def _put(self, item: Frame | _End | BaseException) -> bool:
        """Queue `item`, waiting for room; False if closed meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=PUT_POLL_S)
            except queue.Full:
                continue
            return True
        return False


__all__ = ["PREFETCH_DEPTH", "DecodeAhead", "RateGate", "read_due"]
