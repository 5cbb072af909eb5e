"""Heart rate and its quality from the spectrum of a pulse window.

The rate is the strongest peak of the pulse band in the spectrum of the pulse's first
difference (its velocity, as the velocity plethysmogram is the PPG's), refined between
frequency bins by a parabola through the log power of the peak and its neighbours. The
difference tilts the spectrum by f²: camera and compression noise grow towards low
frequencies (on the shared UBFC clips episodes of 0.7-1 Hz artefacts out-powered a
1.5-1.9 Hz pulse in a fifth of the windows), a pulse's fundamental is the band's upper
part for most people at rest, and its harmonic stays well below it.

While the rate is being followed, the spectrum is weighted towards the last reported
rate (`PRIOR_SIGMA_BPM`): a heart rate changes by a few beats a minute from one second
to the next, an artefact's frequency jumps anywhere. The weight never falls below
`PRIOR_FLOOR`, so a peak more than three times stronger elsewhere still wins, and the
prior is dropped after a gap (`heart.HeartTracker`).

The quality index is the spectral signal-to-noise ratio of de Haan & Jeanne (2013): the
power within `PEAK_HALF_WIDTH_HZ` of the peak and of its first harmonic over all other
power in the band, in dB, on the unweighted spectrum. A clean pulse puts most power at
those two places; a window without one spreads it, so the ratio falls whatever peak
happens to be highest.

A window with gaps arrives as several evenly spaced pieces: their power spectra, on one
common frequency grid, are summed (each piece weighted by its length, as its power is),
so a gap costs resolution but never fills in samples that were not seen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from burnout_tui.signals.pulse import BAND_HZ

Array = npt.NDArray[np.float64]

FFT_SIZE = 4096
"""Zero-padded FFT length: at 30 Hz, bins of 0.44 bpm before interpolation, fine enough
that the parabola's refinement is well below 1 bpm, and a fixed grid so pieces of any
length add up."""

PEAK_HALF_WIDTH_HZ = 0.1
"""Half-width of the signal band around the peak (and twice it around the harmonic), as
in de Haan & Jeanne's SNR: a 10 s window's own spectral peak is about 0.1 Hz wide."""

PRIOR_SIGMA_BPM = 12.0
"""Width of the weight towards the last rate: a resting rate moves by well under 12 bpm
in a second; 10-15 gave the same errors on UBFC (docs/heart-rate.md)."""
PRIOR_FLOOR = 0.3
"""Weight far from the last rate, relative to at most 1.3 at it."""


@dataclass(frozen=True, slots=True)
class RateEstimate:
    """A window's spectral peak: `bpm`, and `snr_db`, the quality index."""

    bpm: float
    snr_db: float


def power_spectrum(pieces: Sequence[Array], rate: float) -> tuple[Array, Array]:
    """Frequencies and the summed Hann-windowed power of evenly spaced pulse pieces."""
    freqs: Array = np.fft.rfftfreq(FFT_SIZE, 1.0 / rate).astype(np.float64)
    power: Array = np.zeros(freqs.size)
    for piece in pieces:
        if piece.size < 2:
            continue
        taper = np.hanning(min(piece.size, FFT_SIZE))
        spectrum = np.fft.rfft(piece[:FFT_SIZE] * taper, FFT_SIZE)
        # Normalised per sample so a piece's weight is its length, not its length squared.
        power += np.abs(spectrum) ** 2 / float(np.sum(taper**2))
    return freqs, power


def _refined_peak(freqs: Array, weighted: Array, indices: npt.NDArray[np.intp]) -> float:
    peak = int(indices[np.argmax(weighted[indices])])
    offset = 0.0
    if indices[0] < peak < indices[-1]:
        left, middle, right = np.log(weighted[peak - 1 : peak + 2] + 1e-300)
        curvature = left - 2.0 * middle + right
        if curvature < 0.0:
            offset = 0.5 * (left - right) / curvature
    return float(freqs[peak] + offset * (freqs[1] - freqs[0]))


def spectral_rate(
    pieces: Sequence[Array],
    rate: float,
    prior_bpm: float | None = None,
    band: tuple[float, float] = BAND_HZ,
) -> RateEstimate | None:
    """The pulse rate of the pieces' summed velocity spectrum, or None when it holds no
    power; weighted towards `prior_bpm` when one is given."""
    freqs, power = power_spectrum([np.diff(piece) for piece in pieces], rate)
    in_band = (freqs >= band[0]) & (freqs <= band[1])
    total = float(power[in_band].sum())
    if not math.isfinite(total) or total <= 0.0:
        return None
    weighted = power
    if prior_bpm is not None:
        distance = (60.0 * freqs - prior_bpm) / PRIOR_SIGMA_BPM
        weighted = power * (PRIOR_FLOOR + np.exp(-0.5 * distance**2))
    peak_hz = _refined_peak(freqs, weighted, np.flatnonzero(in_band))
    signal = in_band & (
        (np.abs(freqs - peak_hz) <= PEAK_HALF_WIDTH_HZ)
        | (np.abs(freqs - 2.0 * peak_hz) <= 2.0 * PEAK_HALF_WIDTH_HZ)
    )
    signal_power = float(power[signal].sum())
    noise_power = total - signal_power
    if signal_power <= 0.0:
        return RateEstimate(bpm=60.0 * peak_hz, snr_db=-math.inf)
    snr_db = math.inf if noise_power <= 0.0 else 10.0 * math.log10(signal_power / noise_power)
    return RateEstimate(bpm=60.0 * peak_hz, snr_db=snr_db)


def peak_bpm(signal: Array, rate: float, band: tuple[float, float] = BAND_HZ) -> float:
    """The plain spectral peak of one evenly spaced signal, in bpm, refined by the
    parabola: how a reference rate is read from a finger PPG (no tilt, no prior)."""
    freqs, power = power_spectrum([signal], rate)
    in_band = np.flatnonzero((freqs >= band[0]) & (freqs <= band[1]))
    return 60.0 * _refined_peak(freqs, power, in_band)
