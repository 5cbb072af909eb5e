"""The emotion-model table: one frozen spec per model, the source of every model choice."""

from __future__ import annotations

import dataclasses

import pytest

from burnout_tui.emotion_models import (
    DEFAULT_EMOTION_MODEL,
    EMOTION_MODEL_NAMES,
    EMOTION_MODELS,
    LEGACY_EMOTION_MODEL,
    MINIXCEPTION,
    OURS_V1,
    emotion_model,
)


def test_names_come_from_the_table() -> None:
    assert EMOTION_MODEL_NAMES == ("ours-v1", "minixception")
    assert [spec.name for spec in EMOTION_MODELS] == list(EMOTION_MODEL_NAMES)
    assert len({spec.filename for spec in EMOTION_MODELS}) == len(EMOTION_MODELS)
    assert DEFAULT_EMOTION_MODEL in EMOTION_MODEL_NAMES
    assert LEGACY_EMOTION_MODEL == "minixception"


def test_lookup_and_frozen() -> None:
    assert emotion_model("ours-v1") is OURS_V1
    assert emotion_model("minixception") is MINIXCEPTION
    with pytest.raises(dataclasses.FrozenInstanceError):
        OURS_V1.input_size = 64  # type: ignore[misc]


def test_preprocessing_contracts() -> None:
    """ours-v1: x/255 in [0, 1] at 48x48; mini-Xception: (x/255 - 0.5) * 2 at 64x64."""
    assert (OURS_V1.input_size, OURS_V1.center, OURS_V1.spread) == (48, 0.0, 1.0)
    assert (MINIXCEPTION.input_size, MINIXCEPTION.center, MINIXCEPTION.spread) == (64, 0.5, 2.0)
    assert OURS_V1.gray_level == pytest.approx(1 / 255)
    assert MINIXCEPTION.gray_level == pytest.approx(2 / 255)
    for spec in EMOTION_MODELS:
        assert (spec.input_name, spec.probs_name, spec.features_name) == (
            "image",
            "probs",
            "features",
        )


def test_unknown_name_is_one_line_with_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown emotion model 'vgg'") as error:
        emotion_model("vgg")
    assert '"ours-v1", "minixception"' in str(error.value) and "\n" not in str(error.value)
