"""The forecaster: input vectors, sample cutting, the ONNX model and its numpy fine-tuning."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from burnout_tui import EMOTIONS
from burnout_tui.config import EmotionConfig, ScoringConfig
from burnout_tui.forecast.dataset import (
    EMA_ALPHA,
    HORIZON_S,
    WINDOW,
    Samples,
    ema,
    make_samples,
    target_indices,
    window_ema_weights,
)
from burnout_tui.forecast.finetune import (
    FinetuneResult,
    Head,
    fit_head,
    mae,
    read_head,
    with_head,
    write_model,
)
from burnout_tui.forecast.finetune import finetune as run_finetune
from burnout_tui.forecast.inputs import (
    FATIGUE_INPUTS,
    FORECAST_FEATURES,
    input_from_columns,
    input_vector,
)
from burnout_tui.forecast.model import (
    META_FEATURES,
    META_WINDOW,
    MODEL_FILENAME,
    Forecaster,
    IncompatibleModelError,
    TrackForecast,
)
from burnout_tui.models_dir import model_path
from burnout_tui.scoring.fatigue import FatigueFrame
from burnout_tui.scoring.valence import frame_scores

HIDDEN = 32
FEATURES = len(FORECAST_FEATURES)
PARITY_ATOL = 1e-5
CHECK_FILE = Path(__file__).resolve().parents[2] / "models" / "burnout_lstm_check.npz"
FPS = 30.0


@pytest.fixture(scope="module")
def forecaster() -> Forecaster:
    return Forecaster()


@pytest.fixture(scope="module")
def shipped() -> onnx.ModelProto:
    return onnx.load(str(model_path(MODEL_FILENAME)))


def _fatigue(seed: int) -> FatigueFrame:
    """A FatigueFrame with distinct, plausible values in every field, whatever fields it has."""
    rng = np.random.default_rng(seed)
    values: dict[str, object] = {}
    for field in dataclasses.fields(FatigueFrame):
        if field.type in ("bool", bool):
            values[field.name] = bool(rng.random() < 0.5)
        else:
            values[field.name] = float(rng.uniform(0.05, 30.0))
    return FatigueFrame(**values)  # type: ignore[arg-type]


def _probs(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.dirichlet(np.ones(len(EMOTIONS)), size=n).astype(np.float32)


def _windows(n: int, seed: int = 0) -> np.ndarray:
    """Plausible raw windows: probabilities on the simplex, cues around typical values."""
    rng = np.random.default_rng(seed)
    probs = _probs(rng, n * WINDOW).reshape(n, WINDOW, len(EMOTIONS))
    cues = rng.normal(0.0, 1.0, size=(n, WINDOW, len(FATIGUE_INPUTS))).astype(np.float32)
    cues = cues * np.float32(5.0) + np.float32(10.0)
    return np.concatenate([probs, cues], axis=2).astype(np.float32)


def _initializers(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def test_input_vector_is_probabilities_then_cues_in_feature_order() -> None:
    probs = _probs(np.random.default_rng(0), 1)[0]
    fatigue = _fatigue(1)

    vector = input_vector(probs, fatigue)

    assert vector.shape == (FEATURES,) == (len(EMOTIONS) + len(FATIGUE_INPUTS),)
    assert vector.dtype == np.float32
    assert FORECAST_FEATURES[: len(EMOTIONS)] == EMOTIONS
    np.testing.assert_array_equal(vector[: len(EMOTIONS)], probs)
    expected = [float(getattr(fatigue, name)) for name in FATIGUE_INPUTS]
    np.testing.assert_allclose(vector[len(EMOTIONS) :], expected, rtol=1e-6)


def test_input_vector_without_fatigue_has_nan_cues() -> None:
    vector = input_vector(np.full(len(EMOTIONS), 1 / 7), None)

    assert np.isnan(vector[len(EMOTIONS) :]).all()
    assert np.isfinite(vector[: len(EMOTIONS)]).all()


def test_input_vector_rejects_wrong_probability_count() -> None:
    with pytest.raises(ValueError, match="7 probabilities"):
        input_vector(np.ones(6), _fatigue(0))


def test_input_from_columns_matches_input_vector_and_reads_nulls() -> None:
    rng = np.random.default_rng(2)
    probs = _probs(rng, 4)
    frames = [_fatigue(i) for i in range(3)]
    columns: dict[str, list[object]] = {
        name: [getattr(f, name) for f in frames] + [None] for name in FATIGUE_INPUTS
    }

    built = input_from_columns(probs, columns)

    assert built.shape == (4, FEATURES)
    for row in range(3):
        np.testing.assert_array_equal(built[row], input_vector(probs[row], frames[row]))
    np.testing.assert_array_equal(built[3], input_vector(probs[3], None))


def test_input_from_columns_without_fatigue_columns_is_emotion_only() -> None:
    probs = _probs(np.random.default_rng(3), 5)

    built = input_from_columns(probs, {})

    np.testing.assert_array_equal(built[:, : len(EMOTIONS)], probs)
    assert np.isnan(built[:, len(EMOTIONS) :]).all()


def test_targets_align_by_timestamp_not_by_frame_count() -> None:
    # 30 frames/s with frames 40-49 missing (a third of a second without a face).
    ts = np.delete(np.arange(120) / FPS, np.arange(40, 50))

    found = target_indices(ts, horizon_s=1.0, tolerance_s=0.2)

    # Frame 0 (t=0): the frame at t=1.0 s is index 30, stored at position 30.
    assert found[0] == 30
    # t=0.2 s (frame 6): t+1 = 1.2 s = frame 36, still before the gap.
    assert ts[found[6]] == pytest.approx(ts[6] + 1.0)
    # Frames 10-19 want t+1 s inside the gap (frames 40-49): the first frame after it,
    # frame 50, is at most 0.2 s late for frames 14-19, too late for 10-13.
    late = {int(i): ts[found[i]] - (ts[i] + 1.0) if found[i] >= 0 else None for i in range(10, 20)}
    assert all(late[i] is None for i in range(10, 14))
    assert all(
        value is not None and 0 <= value <= 0.2 + 1e-9 for i, value in late.items() if i >= 14
    )
    # The last second has no future frame at all.
    assert (found[ts > ts[-1] - 1.0] == -1).all()


def test_target_rounding_does_not_skip_a_frame() -> None:
    ts = np.arange(300) / FPS
    found = target_indices(ts, horizon_s=1.0)
    valid = found >= 0
    np.testing.assert_array_equal(found[valid], np.arange(300)[valid] + 30)


def test_make_samples_windows_targets_and_baselines() -> None:
    rng = np.random.default_rng(4)
    frames = 100
    ts = np.arange(frames) / 25.0
    inputs = rng.normal(size=(frames, FEATURES)).astype(np.float32)
    rolling = rng.normal(size=frames)
    scores = rng.normal(size=frames)

    samples = make_samples(ts, inputs, rolling, scores)

    ahead = round(HORIZON_S * 25)
    ends = np.arange(WINDOW - 1, frames - ahead)
    assert len(samples) == ends.size
    assert samples.windows.shape == (ends.size, WINDOW, FEATURES)
    np.testing.assert_array_equal(samples.windows[0], inputs[:WINDOW])
    np.testing.assert_array_equal(samples.windows[-1], inputs[ends[-1] - WINDOW + 1 : ends[-1] + 1])
    np.testing.assert_array_equal(samples.targets, rolling[ends + ahead])
    np.testing.assert_array_equal(samples.persistence, rolling[ends])
    np.testing.assert_allclose(samples.ema, ema(scores)[ends])
    np.testing.assert_array_equal(samples.end_ts, ts[ends])


def test_short_track_gives_no_samples() -> None:
    samples = make_samples(
        np.arange(20) / FPS, np.zeros((20, FEATURES)), np.zeros(20), np.zeros(20)
    )
    assert len(samples) == 0
    assert samples.windows.shape == (0, WINDOW, FEATURES)


def test_ema_starts_at_first_value_and_follows_the_recurrence() -> None:
    values = np.array([1.0, 0.0, 0.0, 2.0])
    expected = [1.0]
    for v in values[1:]:
        expected.append(EMA_ALPHA * v + (1 - EMA_ALPHA) * expected[-1])
    np.testing.assert_allclose(ema(values), expected)


def test_metadata(forecaster: Forecaster) -> None:
    meta = forecaster.metadata
    assert forecaster.horizon_s == HORIZON_S
    assert forecaster.window == WINDOW
    assert meta.features == FORECAST_FEATURES
    assert forecaster.matches_scoring(ScoringConfig())
    assert not forecaster.matches_scoring(ScoringConfig(gamma=0.5))
    assert not forecaster.matches_scoring(ScoringConfig(window=60))
    assert meta.emotion_model == EmotionConfig().model
    assert forecaster.matches_emotion(EmotionConfig())
    assert not forecaster.matches_emotion(EmotionConfig(model="minixception"))
    assert forecaster.experimental == (not meta.beats_persistence)
    held_back = json.loads(meta.properties["held_back_clips"])
    trained = json.loads(meta.properties["training_clips"])
    assert held_back
    assert not set(held_back) & set(trained)
    pooled = json.loads(meta.properties["evaluation"])[-1]
    assert meta.beats_persistence == (pooled["diff_high"] < 0)


def test_output_shapes_and_batch_equals_one_by_one(forecaster: Forecaster) -> None:
    windows = _windows(5)

    forecast, hidden, baseline = forecaster.outputs(windows)

    assert forecast.shape == baseline.shape == (5,)
    assert hidden.shape == (5, HIDDEN)
    assert forecast.dtype == hidden.dtype == np.float32
    np.testing.assert_array_equal(forecaster.predict(windows), forecast)
    np.testing.assert_array_equal(forecaster.hidden(windows), hidden)
    single = np.concatenate([forecaster.predict(windows[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(single, forecast, atol=1e-6)
    assert forecaster.predict(windows[:0]).shape == (0,)
    assert forecaster.hidden(windows[:0]).shape == (0, HIDDEN)


def test_wrong_window_shape_is_refused(forecaster: Forecaster) -> None:
    with pytest.raises(ValueError, match="expected windows of shape"):
        forecaster.predict(np.zeros((2, WINDOW - 1, FEATURES), np.float32))


def test_baseline_is_the_window_ema_of_frame_scores(forecaster: Forecaster) -> None:
    windows = _windows(4, seed=5)
    scores = frame_scores(windows[..., : len(EMOTIONS)].reshape(-1, 7), ScoringConfig())

    _, _, baseline = forecaster.outputs(windows)

    expected = scores.reshape(4, WINDOW) @ window_ema_weights()
    np.testing.assert_allclose(baseline, expected, atol=1e-6)


def test_missing_cues_read_as_the_training_mean(
    forecaster: Forecaster, shipped: onnx.ModelProto
) -> None:
    mean = _initializers(shipped)["input.mean"]
    windows = _windows(2, seed=6)
    blanked = windows.copy()
    blanked[0, 3:9, len(EMOTIONS) :] = np.nan
    blanked[1, :, len(EMOTIONS) + 2] = np.nan
    filled = np.where(np.isnan(blanked), mean, blanked)

    np.testing.assert_allclose(forecaster.predict(blanked), forecaster.predict(filled), atol=1e-6)


def test_model_with_other_features_is_refused(shipped: onnx.ModelProto, tmp_path: Path) -> None:
    other = onnx.ModelProto()
    other.CopyFrom(shipped)
    for prop in other.metadata_props:
        if prop.key == META_FEATURES:
            prop.value = json.dumps([*FORECAST_FEATURES, "heart_rate"])
    path = write_model(other, tmp_path / "other.onnx")

    with pytest.raises(IncompatibleModelError, match="heart_rate"):
        Forecaster(path)


def test_model_whose_graph_disagrees_with_its_metadata_is_refused(
    shipped: onnx.ModelProto, tmp_path: Path
) -> None:
    """Caught at load, not at the first full window in the middle of a session."""
    other = onnx.ModelProto()
    other.CopyFrom(shipped)
    for prop in other.metadata_props:
        if prop.key == META_WINDOW:
            prop.value = str(WINDOW - 10)
    path = write_model(other, tmp_path / "other.onnx")

    with pytest.raises(IncompatibleModelError, match=rf"\(N, {WINDOW}, {FEATURES}\)"):
        Forecaster(path)


def test_unreadable_file_is_an_incompatible_model(tmp_path: Path) -> None:
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")

    with pytest.raises(IncompatibleModelError, match="not a readable ONNX model"):
        Forecaster(path)


def test_track_forecast_waits_for_a_full_window(forecaster: Forecaster) -> None:
    rng = np.random.default_rng(7)
    track = TrackForecast(forecaster)
    vectors = [input_vector(_probs(rng, 1)[0], _fatigue(i)) for i in range(WINDOW + 5)]

    outputs = [track.push(v) for v in vectors]

    assert outputs[: WINDOW - 1] == [None] * (WINDOW - 1)
    assert all(isinstance(value, float) for value in outputs[WINDOW - 1 :])
    last = forecaster.predict(np.stack(vectors[-WINDOW:])[None])[0]
    assert outputs[-1] == pytest.approx(float(last), abs=1e-6)
    assert len(track) == WINDOW + 5


def test_onnx_matches_recorded_pytorch_outputs(forecaster: Forecaster) -> None:
    check = np.load(CHECK_FILE)
    forecast, hidden, _ = forecaster.outputs(check["windows"])

    assert np.isnan(check["windows"]).any(), "the check windows should cover missing cues"
    np.testing.assert_allclose(forecast, check["forecast"], atol=PARITY_ATOL)
    np.testing.assert_allclose(hidden, check["hidden"], atol=PARITY_ATOL)


def test_onnx_matches_a_pytorch_lstm_rebuilt_from_its_weights(
    forecaster: Forecaster, shipped: onnx.ModelProto
) -> None:
    torch = pytest.importorskip("torch")
    weights = _initializers(shipped)
    onnx_to_torch = [0, 2, 3, 1]  # ONNX gate blocks i, o, f, c → torch's i, f, g, o

    def torch_order(matrix: np.ndarray) -> np.ndarray:
        blocks = np.split(matrix, 4)
        return np.concatenate([blocks[i] for i in onnx_to_torch])

    lstm = torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
    bias = weights["lstm.B"][0]
    state = {
        "weight_ih_l0": torch_order(weights["lstm.W"][0]),
        "weight_hh_l0": torch_order(weights["lstm.R"][0]),
        "bias_ih_l0": torch_order(bias[: 4 * HIDDEN]),
        "bias_hh_l0": torch_order(bias[4 * HIDDEN :]),
    }
    lstm.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    windows = _windows(16, seed=8)
    z = (windows - weights["input.mean"]) / weights["input.std"]
    with torch.no_grad():
        _, (h_n, _) = lstm(torch.from_numpy(z))
    hidden = h_n[-1].numpy()
    head = read_head(shipped)
    scores = windows[..., : len(EMOTIONS)] @ weights["score.weights"]
    expected = scores @ weights["baseline.weights"] + head.apply(hidden)

    forecast, onnx_hidden, _ = forecaster.outputs(windows)

    np.testing.assert_allclose(onnx_hidden, hidden, atol=PARITY_ATOL)
    np.testing.assert_allclose(forecast, expected, atol=PARITY_ATOL)


def test_ridge_recovers_a_known_head_exactly() -> None:
    rng = np.random.default_rng(9)
    hidden = np.tanh(rng.normal(size=(400, HIDDEN)))
    truth = Head(weight=rng.normal(size=HIDDEN), bias=0.3)
    deltas = truth.apply(hidden)

    free = fit_head(hidden, deltas, alpha=0.0)
    pulled = fit_head(hidden, deltas, prior=truth, alpha=10.0)

    for head in (free, pulled):
        np.testing.assert_allclose(head.weight, truth.weight, atol=1e-9)
        assert head.bias == pytest.approx(truth.bias, abs=1e-9)


def test_ridge_penalty_pulls_toward_the_prior() -> None:
    rng = np.random.default_rng(10)
    hidden = np.tanh(rng.normal(size=(50, HIDDEN)))
    prior = Head(weight=np.zeros(HIDDEN), bias=0.0)
    deltas = rng.normal(size=50)

    loose = fit_head(hidden, deltas, prior=prior, alpha=1e-4)
    tight = fit_head(hidden, deltas, prior=prior, alpha=100.0)

    assert np.linalg.norm(tight.weight) < 0.05 * np.linalg.norm(loose.weight)


def test_head_round_trip_is_lossless(shipped: onnx.ModelProto) -> None:
    again = with_head(shipped, read_head(shipped))
    assert again.SerializeToString(deterministic=True) == model_path(MODEL_FILENAME).read_bytes()


def test_written_model_predicts_with_the_new_head(
    forecaster: Forecaster, shipped: onnx.ModelProto, tmp_path: Path
) -> None:
    windows = _windows(6, seed=11)
    _, hidden, baseline = forecaster.outputs(windows)
    rng = np.random.default_rng(12)
    new = Head(weight=rng.normal(size=HIDDEN), bias=-0.2)

    path = write_model(with_head(shipped, new, {"note": "test"}), tmp_path / "tuned.onnx")
    tuned = Forecaster(path)

    np.testing.assert_allclose(tuned.predict(windows), baseline + new.apply(hidden), atol=1e-5)
    assert tuned.metadata.properties["note"] == "test"
    assert tuned.metadata.features == FORECAST_FEATURES


def _samples_from(windows: np.ndarray, targets: np.ndarray) -> Samples:
    n = len(targets)
    zeros = np.zeros(n)
    return Samples(windows, targets, persistence=zeros, ema=zeros, end_ts=np.arange(n) / FPS)


def test_finetune_keeps_a_head_that_wins_and_only_then(
    forecaster: Forecaster, tmp_path: Path
) -> None:
    windows = _windows(300, seed=13)
    _, hidden, baseline = forecaster.outputs(windows)
    rng = np.random.default_rng(14)
    truth = Head(weight=rng.normal(0, 0.5, size=HIDDEN), bias=0.1)
    targets = baseline + truth.apply(hidden)
    train, test = (
        _samples_from(windows[:200], targets[:200]),
        _samples_from(windows[200:], targets[200:]),
    )

    kept = run_finetune(train, test, tmp_path / "user.onnx", alpha=0.0)

    assert isinstance(kept, FinetuneResult)
    assert kept.kept and (tmp_path / "user.onnx").is_file()
    assert (kept.n_train, kept.n_test) == (200, 100)
    assert kept.mae_tuned < 1e-4 < kept.mae_shipped
    np.testing.assert_allclose(
        Forecaster(tmp_path / "user.onnx").predict(test.windows), test.targets, atol=1e-4
    )

    shipped_targets = forecaster.predict(windows).astype(np.float64)
    same = _samples_from(windows[:200], shipped_targets[:200])
    same_test = _samples_from(windows[200:], shipped_targets[200:])
    rejected = run_finetune(same, same_test, tmp_path / "not.onnx")

    assert not rejected.kept
    assert not (tmp_path / "not.onnx").exists()
    assert rejected.mae_shipped == pytest.approx(0.0, abs=1e-6)


def test_mae_refuses_empty_or_mismatched_input() -> None:
    assert mae([1.0, 2.0], [2.0, 2.0]) == 0.5
    with pytest.raises(ValueError):
        mae([], [])
    with pytest.raises(ValueError):
        mae([1.0], [1.0, 2.0])


@pytest.mark.shared_data
@pytest.mark.slow
def test_held_back_evaluation_reproduces_the_recorded_one(shared_data: Path) -> None:
    """The real pipeline over the shortest held-back clip gives the MAEs the model file
    records; a difference means the pipeline changed since the model was trained."""
    from tools.forecast_eval import evaluate, live_samples

    clip = "liveportrait_d12"
    recorded = {
        row["clip"]: row for row in json.loads(Forecaster().metadata.properties["evaluation"])
    }[clip]

    (row, _pooled) = evaluate(None, live_samples(shared_data, [clip], HORIZON_S))

    assert row.samples == recorded["samples"]
    assert row.mae_model == pytest.approx(recorded["mae_model"], abs=1e-3)
    assert row.mae_persistence == pytest.approx(recorded["mae_persistence"], abs=1e-3)


def test_evaluate_gives_a_row_per_clip_and_a_pooled_row() -> None:
    from tools.forecast_eval import POOLED, evaluate, format_table

    forecaster = Forecaster()
    data = {}
    for seed, name in ((15, "a"), (16, "b")):
        windows = _windows(40, seed=seed)
        predicted = forecaster.predict(windows).astype(np.float64)
        rng = np.random.default_rng(seed)
        targets = predicted + rng.normal(0.0, 0.01, size=40)
        data[name] = Samples(
            windows, targets, persistence=targets + 0.5, ema=targets + 0.2, end_ts=np.arange(40.0)
        )

    rows = evaluate(None, data)

    assert [row.clip for row in rows] == ["a", "b", POOLED]
    pooled = rows[-1]
    assert pooled.samples == 80
    assert pooled.mae_persistence == pytest.approx(0.5)
    assert pooled.mae_ema == pytest.approx(0.2)
    assert pooled.beats_persistence and pooled.beats_ema
    assert pooled.diff_low <= pooled.mae_model - pooled.mae_persistence <= pooled.diff_high
    assert format_table(rows).count("\n") == len(rows) + 1


def test_augmentations_are_seeded_and_keep_images_valid() -> None:
    from tools.make_sequences import AUGMENTATIONS, augmentation

    image = np.random.default_rng(17).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    for name in AUGMENTATIONS:
        first, again = augmentation("clip", name), augmentation("clip", name)
        assert first.params == again.params
        out = first.transform(image)
        assert out.dtype == np.uint8
        assert out.ndim == 3 and out.shape[2] == 3
        assert first.frame_step in (1, 2)
    assert augmentation("clip", "rotate").params != augmentation("other", "rotate").params


def test_another_emotion_model_switches_the_forecaster_off() -> None:
    """Its inputs are the emotion model's probabilities: with another model they are another
    distribution, so no forecast is made rather than a silently skewed one."""
    from dataclasses import replace

    from burnout_tui.config import Config
    from burnout_tui.runtime.personal_models import load_forecaster

    config = Config()
    assert load_forecaster(config, None, None) is not None
    other = replace(config, emotion=EmotionConfig(model="minixception"))
    assert load_forecaster(other, None, None) is None
