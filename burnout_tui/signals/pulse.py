"""A pulse waveform from a face's mean skin colour: POS and CHROM, band-passed.

Both methods cancel what moves all three colour channels together (lighting, the skin's
own tone, much of the motion) and keep the small blood-volume change, which is strongest
in green. Both work on short windows, normalised by their own mean so the slow drift of
light and skin tone drops out, and join the windows by overlap-add. Input is an evenly
spaced (N, 3) RGB series (`timebase.resample`); output an (N,) pulse.

- POS, "plane orthogonal to skin" (Wang, den Brinker, Stuijk & de Haan, IEEE TBME 2017,
  Algorithm 1): project the normalised colour onto two axes orthogonal to the skin-tone
  direction (0, 1, -1) and (-2, 1, 1), and combine them with the ratio of their standard
  deviations ("alpha tuning"), so whichever carries the distortion is cancelled.
- CHROM (de Haan & Jeanne, IEEE TBME 2013): two chrominance signals X = 3R - 2G and
  Y = 1.5R + G - 1.5B of the normalised colour, band-passed, combined as X - alpha Y with
  alpha their standard deviations' ratio, per Hann-windowed half-overlapping window.

Written from the papers' equations; no toolkit's code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

BAND_HZ = (0.7, 3.5)
"""The pulse band: 42-210 beats a minute, every resting and most exercising rates."""

WINDOW_S = 1.6
"""Length of POS's and CHROM's short windows: both papers' 32 frames at 20 frames/s, at
least one whole beat down to 40 bpm (1.5 s), and short enough that light and skin tone
hold still within it."""

POS_AXES = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
"""POS's projection plane, orthogonal to the normalised skin tone (1, 1, 1)."""
CHROM_AXES = np.array([[3.0, -2.0, 0.0], [1.5, 1.0, -1.5]])
"""CHROM's X and Y chrominance axes, for the standardised skin tone of the paper."""

_EPS = 1e-12
"""Guards divisions by a standard deviation or mean that is zero on a constant input."""


def window_length(rate: float) -> int:
    """Samples in one short window at `rate` (at least 2)."""
    return max(2, round(WINDOW_S * rate))


def band_pass(signal: Array, rate: float, band: tuple[float, float] = BAND_HZ) -> Array:
    """`signal` with everything outside `band` removed, zero phase, by FFT.

    The mean and the straight line through the ends are taken out first, so the jump
    between the series' two ends (the FFT sees it as periodic) does not spread over the
    band."""
    count = signal.size
    if count < 2:
        return np.zeros_like(signal)
    ramp = np.linspace(signal[0], signal[-1], count)
    detrended = signal - ramp
    spectrum = np.fft.rfft(detrended - detrended.mean())
    freqs = np.fft.rfftfreq(count, 1.0 / rate)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0.0
    filtered: Array = np.fft.irfft(spectrum, count)
    return filtered


def _windows(rgb: Array, length: int) -> Array:
    """(W, length, 3) views of every `length`-sample window, each divided by its mean."""
    windows = np.lib.stride_tricks.sliding_window_view(rgb, length, axis=0).transpose(0, 2, 1)
    normalised: Array = windows / (windows.mean(axis=1, keepdims=True) + _EPS)
    return normalised


def pos(rgb: Array, rate: float) -> Array:
    """POS pulse of an evenly spaced (N, 3) RGB series; zeros when N < one window."""
    count, length = rgb.shape[0], window_length(rate)
    pulse = np.zeros(count)
    if count < length:
        return pulse
    projected = _windows(rgb, length) @ POS_AXES.T  # (W, length, 2)
    first, second = projected[..., 0], projected[..., 1]
    alpha = first.std(axis=1) / (second.std(axis=1) + _EPS)
    h = first + alpha[:, None] * second
    h -= h.mean(axis=1, keepdims=True)
    starts = h.shape[0]
    for offset in range(length):
        pulse[offset : offset + starts] += h[:, offset]
    return pulse


def chrom(rgb: Array, rate: float) -> Array:
    """CHROM pulse of an evenly spaced (N, 3) RGB series; zeros when N < one window."""
    count, length = rgb.shape[0], window_length(rate)
    pulse = np.zeros(count)
    if count < length:
        return pulse
    # Normalised by a moving mean over one window, then the chrominance signals
    # band-passed over the whole series (too short a window to filter on its own).
    kernel = np.ones(length) / length
    padded = np.pad(rgb, ((length // 2, length - 1 - length // 2), (0, 0)), mode="edge")
    mean = np.stack([np.convolve(padded[:, c], kernel, "valid") for c in range(3)], axis=1)
    chroma = (rgb / (mean + _EPS)) @ CHROM_AXES.T
    x, y = band_pass(chroma[:, 0], rate), band_pass(chroma[:, 1], rate)
    hop = max(1, length // 2)
    hann = np.hanning(length)
    for start in range(0, count - length + 1, hop):
        xs, ys = x[start : start + length], y[start : start + length]
        alpha = xs.std() / (ys.std() + _EPS)
        pulse[start : start + length] += hann * (xs - alpha * ys)
    return pulse


PulseMethod = Callable[[Array, float], Array]
METHODS: dict[str, PulseMethod] = {"pos": pos, "chrom": chrom}
"""The selectable methods by their config name (`[heart] method`)."""


def newest_value(rgb: Array) -> float:
    """POS's value at the newest of these raw samples (one short window's worth, at
    whatever spacing the frames came): the causal per-frame pulse that is stored, as the
    overlap-added value of a frame is only final a window later."""
    normalised = rgb / (rgb.mean(axis=0) + _EPS)
    projected = normalised @ POS_AXES.T
    first, second = projected[:, 0], projected[:, 1]
    h = first + first.std() / (second.std() + _EPS) * second
    return float(h[-1] - h.mean())
