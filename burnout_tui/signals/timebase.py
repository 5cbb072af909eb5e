"""From samples at true frame times to the evenly spaced series spectra need.

Cameras drop frames and deliver them at uneven intervals (the UBFC clips repeat and skip
timestamps); a spectrum computed as if the frames were evenly spaced would put the pulse
at the wrong frequency. So every series is first cut at its gaps, then each piece is
interpolated onto an even grid at `RATE_HZ` from the frames' own timestamps.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

RATE_HZ = 30.0
"""The even grid's rate: above twice the pulse band's 3.5 Hz by far, and the common camera
rate, so a 30 frames/s camera's samples are kept nearly as they are."""


def increasing(ts: Array) -> npt.NDArray[np.bool_]:
    """Which samples to keep so the times strictly increase: a frame stamped with the
    same time as the one before it (or earlier) cannot be placed, and is dropped."""
    keep = np.ones(ts.shape, dtype=bool)
    if ts.size:
        keep[1:] = ts[1:] > np.maximum.accumulate(ts)[:-1]
    return keep


def runs(ts: Array, max_gap_s: float) -> list[slice]:
    """The stretches of `ts` (increasing) without a gap longer than `max_gap_s`."""
    if ts.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(ts) > max_gap_s) + 1
    bounds = [0, *cuts.tolist(), int(ts.size)]
    return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]


def resample(ts: Array, values: Array, rate: float = RATE_HZ) -> tuple[Array, Array]:
    """`values` (N,) or (N, C) at increasing times `ts`, linearly interpolated onto an even
    grid from ts[0] at `rate`: the grid's times and values."""
    count = int(np.floor((ts[-1] - ts[0]) * rate)) + 1
    grid = ts[0] + np.arange(count) / rate
    if values.ndim == 1:
        return grid, np.interp(grid, ts, values)
    columns = [np.interp(grid, ts, values[:, c]) for c in range(values.shape[1])]
    return grid, np.stack(columns, axis=1)
