"""Training samples for the forecaster from one track's per-frame arrays (pure numpy).

A sample is the last `window` face frames of a track up to a frame t, and its target is
the rolling score H seconds later. Both the development-time training script (sequences
from the real pipeline over the shared videos) and `burnout-tui train` (sequences read
back from a user's stored sessions) cut samples here, so they agree on what is predicted.

Alignment is by timestamp, not by frame count: a track's frames are the frames where the
face was found, so frame i + k is k frames later only when no frame was missed, and a
camera's frame rate is not fixed. The target is the rolling score at the first frame at or
after t + H; a sample whose target frame lies more than `TARGET_TOLERANCE_S` beyond t + H
(the face was lost around then, or the track ended) is dropped rather than given a target
from a different moment.

Two baselines come with every sample, each a forecast that needs no model:
- persistence: the rolling score at t (tomorrow's weather is today's);
- EMA: an exponential moving average of the frame score S_t over the track up to t.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

WINDOW = 30
"""Frames per input sequence: the rolling score's window (`[scoring] window`), so the model
sees exactly the frames the current rolling score is the mean of, and no more."""

HORIZON_S = 1.0
"""How far ahead the forecast looks, in seconds.

One second is the shortest horizon at which the forecast says something the current score
does not: at 30 frames/s the rolling window one second ahead shares no frame with the
current one (at 25 frames/s, 5 of 30), so the target is a new measurement rather than
mostly a re-average of the frames already seen. Longer horizons cost samples the shortest
clips cannot spare: a sample needs WINDOW frames of history plus H seconds of future, and
at H = 2 s the shortest shared clip yields none (docs/measurements.md#forecast-dataset).
Emotion changes on a talking face come and go within a
few seconds, so the score a second ahead is also the horizon at which anything is
predictable at all."""

TARGET_TOLERANCE_S = 0.2
"""Latest a target frame may come after t + H. At 15-30 frames/s the first frame at or after
t + H is at most 67 ms late; more means frames are missing there (the face was lost), and
the rolling score after a gap still averages frames from before it."""

TS_EPSILON_S = 1e-6
"""Timestamps are index / fps; i/fps + H and (i + k)/fps may differ in the last bit, which
must not push the target to the next frame."""

EMA_ALPHA = 0.1
"""Smoothing constant of the EMA baseline, per face frame: EMA_t = a·S_t + (1 − a)·EMA_{t−1}.

Its weights have their centre of mass (1 − a)/a = 9 frames back, against 14.5 frames for the
rolling window's equal weights: it follows a change sooner than persistence and still
averages over about as many frames (its effective sample size, (2 − a)/a = 19, is close to
the window's 30), so it is the natural "smarter persistence". Of the constants tried on
the training clips, 0.1 forecast best, and better than persistence
(docs/measurements.md#forecast-dataset; `tools/train_forecaster.py` prints the
comparison). The baseline thus gets the benefit of tuning too, and it is also the model's
built-in starting point."""


def window_ema_weights(window: int = WINDOW, alpha: float = EMA_ALPHA) -> npt.NDArray[np.float64]:
    """The EMA restricted to one window, as weights on its frames (oldest first, sum 1).

    The model's built-in baseline: the network adds its learned change to this, so an
    untrained (zero) head forecasts the EMA. Within 30 frames it is the running EMA up to
    the 4 % of weight, (1 − a)^30, that the running EMA gives to older frames.
    """
    raw = (1.0 - alpha) ** np.arange(window - 1, -1, -1, dtype=np.float64)
    return np.asarray(raw / raw.sum())


@dataclass(frozen=True, slots=True)
class Samples:
    """N forecasting samples; row k of every array belongs to the same sample."""

    windows: npt.NDArray[np.float32]
    """(N, window, F) input vectors, oldest frame first."""
    targets: npt.NDArray[np.float64]
    """(N,) rolling score at the first frame at or after t + H."""
    persistence: npt.NDArray[np.float64]
    """(N,) rolling score at t, the persistence forecast."""
    ema: npt.NDArray[np.float64]
    """(N,) EMA of the frame scores up to t, the EMA forecast."""
    end_ts: npt.NDArray[np.float64]
    """(N,) t: the timestamp of each window's last frame."""

    def __len__(self) -> int:
        return int(self.targets.shape[0])


def ema(values: npt.ArrayLike, alpha: float = EMA_ALPHA) -> npt.NDArray[np.float64]:
    """Running EMA of a series, started at its first value (no bias toward 0)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    out = np.empty_like(x)
    level = x[0] if x.size else 0.0
    for index, value in enumerate(x):
        level = alpha * value + (1.0 - alpha) * level
        out[index] = level
    return out


def target_indices(
    ts: npt.ArrayLike,
    horizon_s: float = HORIZON_S,
    tolerance_s: float = TARGET_TOLERANCE_S,
) -> npt.NDArray[np.int64]:
    """For each frame i, the index of the first frame at or after ts[i] + H, or -1.

    -1 where no frame comes within `tolerance_s` after ts[i] + H. `ts` must not decrease.
    """
    t = np.asarray(ts, dtype=np.float64).ravel()
    if np.any(np.diff(t) < 0):
        raise ValueError("timestamps must not decrease")
    wanted = t + horizon_s
    found = np.searchsorted(t, wanted - TS_EPSILON_S, side="left")
    inside = found < t.size
    late = np.full(t.size, np.inf)
    late[inside] = t[found[inside]] - wanted[inside]
    return np.where(inside & (late <= tolerance_s), found, -1).astype(np.int64)


def make_samples(
    ts: npt.ArrayLike,
    inputs: npt.ArrayLike,
    rolling: npt.ArrayLike,
    frame_scores: npt.ArrayLike,
    *,
    window: int = WINDOW,
    horizon_s: float = HORIZON_S,
    tolerance_s: float = TARGET_TOLERANCE_S,
    ema_alpha: float = EMA_ALPHA,
) -> Samples:
    """All samples of one track: its face frames' timestamps (T,), input vectors (T, F),
    rolling scores (T,) and frame scores S_t (T,), in time order.

    Every frame with `window` frames of history (itself included) and a target makes one
    sample; windows overlap (stride 1), which is what the live forecaster sees too.
    """
    t = np.asarray(ts, dtype=np.float64).ravel()
    x = np.asarray(inputs, dtype=np.float32)
    r = np.asarray(rolling, dtype=np.float64).ravel()
    s = np.asarray(frame_scores, dtype=np.float64).ravel()
    frames = t.size
    if x.ndim != 2 or x.shape[0] != frames or r.size != frames or s.size != frames:
        raise ValueError(
            f"expected ts (T,), inputs (T, F), rolling (T,), frame_scores (T,); got "
            f"{t.shape}, {x.shape}, {r.shape}, {s.shape}"
        )
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    features = x.shape[1]
    if frames < window:
        return empty_samples(window, features)
    targets = target_indices(t, horizon_s, tolerance_s)
    ends = np.arange(window - 1, frames)
    ends = ends[targets[ends] >= 0]
    windows = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)  # (T-w+1, F, w)
    chosen = np.ascontiguousarray(windows[ends - (window - 1)].transpose(0, 2, 1))
    return Samples(
        windows=chosen.astype(np.float32, copy=False),
        targets=r[targets[ends]],
        persistence=r[ends],
        ema=ema(s, ema_alpha)[ends] if frames else np.empty(0),
        end_ts=t[ends],
    )


def empty_samples(window: int, features: int) -> Samples:
    none = np.empty(0, dtype=np.float64)
    return Samples(np.empty((0, window, features), np.float32), none, none, none, none)


def concat_samples(parts: Sequence[Samples]) -> Samples:
    """Samples of several tracks or sessions as one set (at least one part needed)."""
    if not parts:
        raise ValueError("no samples to concatenate")
    return Samples(
        windows=np.concatenate([p.windows for p in parts]),
        targets=np.concatenate([p.targets for p in parts]),
        persistence=np.concatenate([p.persistence for p in parts]),
        ema=np.concatenate([p.ema for p in parts]),
        end_ts=np.concatenate([p.end_ts for p in parts]),
    )
