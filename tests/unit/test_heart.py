"""Heart rate from a face's skin colour: a real photo whose skin pulses at a known rate.

The photo is the bundled astronaut; its mesh is fitted once by the real model (the photo
does not move), and each synthetic frame modulates the skin with a pulse of the
blood-volume colour signature, adds camera noise and a slow lighting drift, and goes
through the product's own skin extraction and per-track heart-rate state.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import duckdb
import numpy as np
import numpy.typing as npt
import pytest

from burnout_tui.config import ConfigError, HeartConfig, config_from_table
from burnout_tui.signals import timebase
from burnout_tui.signals.heart import HeartEstimate, HeartTracker
from burnout_tui.signals.heart_rate import peak_bpm, spectral_rate
from burnout_tui.signals.pulse import METHODS, band_pass
from burnout_tui.signals.variability import beat_times, variability
from burnout_tui.store import FrameWriter, repository
from burnout_tui.store.heart_rows import HeartRow, heart_rows
from burnout_tui.store.heart_summary import session_heart
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.mesh import FaceMesh
from burnout_tui.vision.skin import skin_rgb
from tests.unit.test_store import make_row, new_session

ImageBGR = npt.NDArray[np.uint8]

PULSE_BPM = 72.0
PULSE_SIGNATURE_BGR = np.array([0.53, 0.77, 0.33])
"""Relative strength of the pulse in B, G, R (Wang et al.'s standardised blood-volume
vector, in OpenCV's channel order)."""
PULSE_DEPTH = 0.004
"""Peak relative change of the green channel: about 0.6 grey levels on this skin, the
size of a real camera pulse."""
NOISE_GREY = 2.0
DRIFT = 0.05
"""Lighting rises by 5 % over the clip."""
CLIP_S = 20.0
FPS = 30.0


FACE_MARGIN_PX = 10


@pytest.fixture(scope="module")
def face_photo(
    astronaut: ImageBGR, detector: FaceDetector
) -> tuple[ImageBGR, npt.NDArray[np.float32]]:
    """The photo cut to its face (synthesising frames of the face alone is quick) and the
    mesh, fitted on the whole photo, in the cut's pixels."""
    face = max(detector.detect(astronaut), key=lambda f: f.box[2] * f.box[3])
    points = FaceMesh().predict(astronaut, [face])[0].points.copy()
    x0, y0 = (np.floor(points[:, :2].min(axis=0)) - FACE_MARGIN_PX).astype(int)
    x1, y1 = (np.ceil(points[:, :2].max(axis=0)) + FACE_MARGIN_PX).astype(int)
    points[:, 0] -= x0
    points[:, 1] -= y0
    return np.ascontiguousarray(astronaut[y0:y1, x0:x1]), points


def frames(
    photo: ImageBGR, times: npt.NDArray[np.float64], bpm: float | None, seed: int = 0
) -> Iterator[tuple[float, ImageBGR]]:
    rng = np.random.default_rng(seed)
    base = photo.astype(np.float32)
    for ts in times:
        pulse = 0.0 if bpm is None else math.sin(2 * math.pi * bpm / 60.0 * ts)
        gain = (1.0 + DRIFT * ts / CLIP_S) * (1.0 + PULSE_DEPTH * pulse * PULSE_SIGNATURE_BGR)
        noise = rng.normal(0.0, NOISE_GREY, base.shape).astype(np.float32)
        noisy = base * gain.astype(np.float32) + noise
        yield float(ts), np.clip(noisy, 0, 255).astype(np.uint8)


def estimates(
    photo: ImageBGR,
    points: npt.NDArray[np.float32],
    times: npt.NDArray[np.float64],
    bpm: float | None,
    settings: HeartConfig,
) -> list[HeartEstimate]:
    tracker = HeartTracker(settings)
    found = []
    for ts, image in frames(photo, times, bpm):
        result = tracker.push(ts, skin_rgb(image, points))
        if result.estimate is not None:
            found.append(result.estimate)
    return found


def even_times() -> npt.NDArray[np.float64]:
    return np.arange(0.0, CLIP_S, 1.0 / FPS)


@pytest.mark.parametrize("method", ["pos", "chrom"])
def test_a_pulsing_photo_gives_its_rate_within_1_bpm(
    face_photo: tuple[ImageBGR, npt.NDArray[np.float32]], method: str
) -> None:
    settings = HeartConfig(method=method)
    found = estimates(*face_photo, even_times(), PULSE_BPM, settings)
    reported = [e for e in found if e.bpm is not None]
    assert len(reported) >= CLIP_S - settings.window_s - 1
    assert all(abs(e.bpm - PULSE_BPM) <= 1.0 for e in reported if e.bpm is not None)
    assert all(e.method == method for e in found)


def test_quality_drops_without_a_pulse(
    face_photo: tuple[ImageBGR, npt.NDArray[np.float32]],
) -> None:
    settings = HeartConfig()
    pulsing = estimates(*face_photo, even_times(), PULSE_BPM, settings)
    still = estimates(*face_photo, even_times(), None, settings)
    full = [e.snr_db for e in still if e.coverage >= settings.min_coverage]
    assert full and all(snr is not None for snr in full)
    pulse_snr = [e.snr_db for e in pulsing if e.bpm is not None and e.snr_db is not None]
    assert float(np.median(full)) < settings.min_snr_db < min(pulse_snr)


def test_dropped_frames_and_uneven_frame_times_keep_the_rate(
    face_photo: tuple[ImageBGR, npt.NDArray[np.float32]],
) -> None:
    """Frames at jittered times, a fifth of them dropped at random, one repeated
    timestamp: the rate comes from the true times, not from the frame count."""
    rng = np.random.default_rng(3)
    times = even_times() + rng.uniform(-0.01, 0.01, even_times().size)
    times = np.sort(times[rng.random(times.size) > 0.2])
    times = np.insert(times, 100, times[100])
    found = estimates(*face_photo, times, PULSE_BPM, HeartConfig())
    reported = [e.bpm for e in found if e.bpm is not None]
    assert reported and all(abs(bpm - PULSE_BPM) <= 1.0 for bpm in reported)


def test_a_gap_is_a_gap_not_zeros(face_photo: tuple[ImageBGR, npt.NDArray[np.float32]]) -> None:
    """Four seconds without a face (None pushed) cut the window: the seconds whose window
    they leave under the coverage threshold are withheld, later ones recover."""
    settings = HeartConfig()
    tracker = HeartTracker(settings)
    found = []
    for ts, image in frames(face_photo[0], np.arange(0.0, 30.0, 1.0 / FPS), PULSE_BPM):
        rgb = None if 12.0 <= ts < 16.0 else skin_rgb(image, face_photo[1])
        result = tracker.push(ts, rgb)
        if rgb is None:
            assert result.value is None
        if result.estimate is not None:
            found.append(result.estimate)
    during = [e for e in found if 14.0 <= e.ts <= 22.0]
    assert during and all(e.bpm is None and e.coverage < settings.min_coverage for e in during)
    late = [e for e in found if e.ts >= 27.0]
    assert late and all(e.bpm is not None and abs(e.bpm - PULSE_BPM) <= 1.0 for e in late)


def test_pieces_add_up_and_the_prior_only_steers() -> None:
    rate = timebase.RATE_HZ
    t = np.arange(0, 4.0, 1 / rate)
    pieces = [np.sin(2 * np.pi * 1.5 * t), np.sin(2 * np.pi * 1.5 * t + 1.0)]
    found = spectral_rate(pieces, rate)
    assert found is not None and found.bpm == pytest.approx(90.0, abs=1.0)
    steered = spectral_rate(pieces, rate, prior_bpm=150.0)
    assert steered is not None and steered.bpm == pytest.approx(90.0, abs=1.0)
    assert spectral_rate([np.zeros(50)], rate) is None


def test_runs_cut_at_gaps_and_times_must_increase() -> None:
    ts = np.array([0.0, 0.1, 0.2, 1.0, 1.1])
    assert [(r.start, r.stop) for r in timebase.runs(ts, 0.25)] == [(0, 3), (3, 5)]
    assert timebase.increasing(np.array([0.0, 0.1, 0.1, 0.05, 0.2])).tolist() == [
        True,
        True,
        False,
        False,
        True,
    ]


def test_variability_of_known_beats() -> None:
    """Beats every 0.8 s alternating ±20 ms: RMSSD 40 ms, SDNN 20 ms."""
    intervals = np.tile([0.78, 0.82], 40)
    beats = np.concatenate([[0.0], np.cumsum(intervals)])
    found = variability([beats])
    assert found is not None
    assert found.rmssd_ms == pytest.approx(40.0, abs=0.5)
    assert found.sdnn_ms == pytest.approx(20.0, abs=0.5)
    rate = timebase.RATE_HZ
    grid = np.arange(0.0, beats[-1], 1 / rate)
    pulse = sum(np.exp(-0.5 * ((grid - b) / 0.08) ** 2) for b in beats)
    detected = beat_times(band_pass(np.asarray(pulse), rate), rate, 75.0)
    assert detected.size == pytest.approx(beats.size, abs=2)
    assert variability([np.array([0.0, 0.8])]) is None


def test_the_reference_peak_and_every_method_on_a_clean_sine() -> None:
    rate = timebase.RATE_HZ
    t = np.arange(0, 10.0, 1 / rate)
    assert peak_bpm(np.sin(2 * np.pi * 1.2 * t), rate) == pytest.approx(72.0, abs=0.3)
    rgb = 150.0 * (1 + 0.002 * np.sin(2 * np.pi * 1.2 * t)[:, None] * np.array([0.33, 0.77, 0.53]))
    for method in METHODS.values():
        found = spectral_rate([band_pass(method(rgb, rate), rate)], rate)
        assert found is not None and found.bpm == pytest.approx(72.0, abs=0.5)


def test_config_refuses_an_unknown_method_and_a_short_hrv_window() -> None:
    with pytest.raises(ConfigError, match="method"):
        config_from_table({"heart": {"method": "green"}}, "t.toml")
    with pytest.raises(ConfigError, match="hrv_window_s"):
        config_from_table({"heart": {"hrv_window_s": 30}}, "t.toml")


def test_the_heart_row_of_a_completed_second() -> None:
    estimate = HeartEstimate(3.0, None, float("-inf"), 0.5, "pos")

    class Pulse:
        value = 0.1

        def __init__(self, estimate: HeartEstimate | None) -> None:
            self.estimate = estimate

    class FaceLike:
        track_id = 1

        def __init__(self, pulse: object) -> None:
            self.pulse = pulse

    assert list(heart_rows(1, 5, 3.0, FaceLike(Pulse(None)))) == []
    assert list(heart_rows(1, 5, 3.0, FaceLike(None))) == []
    (row,) = heart_rows(1, 5, 3.0, FaceLike(Pulse(replace(estimate, bpm=70.0))))
    assert (row.bpm, row.snr_db, row.coverage, row.method) == (70.0, None, 0.5, "pos")


def test_heart_rows_reach_v_heart_and_the_session_summary(con: duckdb.DuckDBPyConnection) -> None:
    session_id = new_session(con)
    with FrameWriter(con) as writer:
        for second, bpm in enumerate([None, 70.0, 74.0, None]):
            writer.put(make_row(session_id, second))
            writer.put(
                HeartRow(session_id, 0, second, float(second), bpm, -1.0, 1.0, None, None, "pos")
            )
    rows = con.execute('SELECT "user", bpm, method FROM v_heart ORDER BY ts').fetchall()
    assert [row[1] for row in rows] == [None, 70.0, 74.0, None]
    (summary,) = session_heart(con, session_id)
    assert summary.seconds == 4 and summary.mean_bpm == pytest.approx(72.0)
    assert summary.withheld_share == pytest.approx(0.5)
    repository.delete_session(con, session_id)
    assert con.execute("SELECT count(*) FROM heart").fetchone() == (0,)


def test_hrv_comes_only_after_a_whole_reported_window() -> None:
    """A clean synthetic pulse whose beats alternate 0.78 / 0.82 s (RMSSD 40 ms): no HRV
    before `hrv_window_s` of reported seconds, then an RMSSD near the true one."""
    settings = HeartConfig()
    beats = np.concatenate([[0.0], np.cumsum(np.tile([0.78, 0.82], 60))])
    times = np.arange(0.0, 80.0, 1.0 / FPS)
    pulse = np.exp(-0.5 * ((times[:, None] - beats[None, :]) / 0.1) ** 2).sum(axis=1)
    rgb = 150.0 * (1.0 + 0.003 * pulse[:, None] * np.array([0.33, 0.77, 0.53]))
    tracker = HeartTracker(settings)
    found = [
        tracker.push(float(ts), (float(r), float(g), float(b))).estimate
        for ts, (r, g, b) in zip(times, rgb, strict=True)
    ]
    estimates_ = [e for e in found if e is not None]
    first_reported = min(e.ts for e in estimates_ if e.bpm is not None)
    early = [e for e in estimates_ if e.ts < first_reported + settings.hrv_window_s - 1.0]
    assert all(e.rmssd_ms is None for e in early)
    late = [e for e in estimates_ if e.rmssd_ms is not None]
    assert late and all(e.bpm == pytest.approx(60.0 / 0.8, abs=1.5) for e in late)
    assert all(e.rmssd_ms == pytest.approx(40.0, abs=15.0) for e in late if e.rmssd_ms)
