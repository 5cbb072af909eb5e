"""Config: defaults, the documented default file, lookup order and one-line errors."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from burnout_tui import config as config_module
from burnout_tui.config import (
    REASON,
    Config,
    ConfigError,
    ScoringConfig,
    config_from_table,
    default_config_text,
    load_config,
)
from burnout_tui.config_file import render_default_config
from burnout_tui.emotion_models import DEFAULT_EMOTION_MODEL, EMOTION_MODEL_NAMES
from burnout_tui.errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and an empty user config directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    user_file = tmp_path / "user" / "config.toml"
    monkeypatch.setattr(config_module, "user_config_file", lambda: user_file)
    return work


def user_file() -> Path:
    return config_module.user_config_file()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_any_file(workdir: Path) -> None:
    assert load_config() == Config()


def test_default_file_equals_dataclass_defaults() -> None:
    assert config_from_table(tomllib.loads(default_config_text()), "default") == Config()


def test_default_file_covers_every_key_with_a_comment() -> None:
    lines = default_config_text().splitlines()
    parsed = tomllib.loads(default_config_text())
    assert set(parsed) == set(Config().to_dict())
    for section, values in Config().to_dict().items():
        assert set(parsed[section]) == set(values), section
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[number - 1].startswith("#"), f"no comment above: {line}"


def test_override_file_keeps_other_defaults(workdir: Path) -> None:
    write(workdir / "burnout-tui.toml", "[scoring]\nalpha = 2\nwindow = 10\n")
    config = load_config()
    assert config.scoring == ScoringConfig(alpha=2.0, window=10)
    assert isinstance(config.scoring.alpha, float)
    assert config.levels == Config().levels
    assert config.detection == Config().detection


def test_thresholds_become_a_tuple(workdir: Path) -> None:
    write(workdir / "burnout-tui.toml", "[detection]\nthresholds = [0.5, 0.6, 0.7]\n")
    assert load_config().detection.thresholds == (0.5, 0.6, 0.7)


def test_lookup_order(workdir: Path) -> None:
    write(user_file(), "[scoring]\nwindow = 4\n")
    assert load_config().scoring.window == 4
    write(workdir / "pyproject.toml", "[project]\nname = 'x'\n")
    assert load_config().scoring.window == 4, "a pyproject without the table is skipped"
    write(workdir / "pyproject.toml", "[tool.burnout-tui.scoring]\nwindow = 3\n")
    assert load_config().scoring.window == 3
    write(workdir / "burnout-tui.toml", "[scoring]\nwindow = 2\n")
    assert load_config().scoring.window == 2
    explicit = write(workdir / "elsewhere.toml", "[scoring]\nwindow = 1\n")
    assert load_config(explicit).scoring.window == 1


def test_first_file_found_is_the_only_one_read(workdir: Path) -> None:
    write(user_file(), "[scoring]\nwindow = 4\n")
    write(workdir / "burnout-tui.toml", "[levels]\nhigh = 90\n")
    config = load_config()
    assert config.levels.high == 90.0
    assert config.scoring.window == ScoringConfig().window


def one_line_error(path: Path | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert isinstance(caught.value, UserError)
    return message


def test_unknown_key_names_file_and_key(workdir: Path) -> None:
    path = write(workdir / "c.toml", "[scoring]\nalpah = 1.0\n")
    message = one_line_error(path)
    assert str(path) in message and "scoring.alpah" in message


def test_unknown_section(workdir: Path) -> None:
    message = one_line_error(write(workdir / "c.toml", "[scoreing]\nalpha = 1.0\n"))
    assert "[scoreing]" in message


def test_wrong_type_names_key_and_value(workdir: Path) -> None:
    message = one_line_error(write(workdir / "c.toml", "[scoring]\nalpha = 'lots'\n"))
    assert "scoring.alpha" in message and "'lots'" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[scoring]\nwindow = 1.5\n", "scoring.window"),
        ("[scoring]\nlam = 1.5\n", "scoring.lam"),
        ("[scoring]\ngamma = 2.0\n", "scoring.gamma"),
        ("[scoring]\nbeta = -1\n", "scoring.beta"),
        ("[levels]\nmoderate = 80\n", "levels.high"),
        ("[detection]\nthresholds = [0.6, 0.7]\n", "detection.thresholds"),
        ("[detection]\ndetect_every = true\n", "detection.detect_every"),
        ("[store]\nflush_interval_s = 5\n", "store.flush_interval_s"),
    ],
)
def test_invalid_values(workdir: Path, text: str, key: str) -> None:
    assert key in one_line_error(write(workdir / "c.toml", text))


def test_errors_in_pyproject_name_the_table(workdir: Path) -> None:
    write(workdir / "pyproject.toml", "[tool.burnout-tui.scoring]\nalpah = 1\n")
    message = one_line_error()
    assert "pyproject.toml [tool.burnout-tui]" in message and "scoring.alpah" in message


def test_invalid_toml(workdir: Path) -> None:
    message = one_line_error(write(workdir / "c.toml", "[scoring\n"))
    assert "invalid TOML" in message


def test_missing_explicit_file(workdir: Path) -> None:
    assert "no such config file" in one_line_error(workdir / "missing.toml")


def test_to_dict_is_json(workdir: Path) -> None:
    assert json.loads(json.dumps(Config().to_dict()))["scoring"]["alpha"] == 1.0


def test_default_file_is_generated_from_the_dataclasses() -> None:
    """Defaults and reasons are written once, in config.py; the shipped file is their
    rendering. On failure run `python -m tools.write_default_config` and commit."""
    assert default_config_text() == render_default_config()


def test_every_setting_has_a_reason() -> None:
    for name, section in Config().to_dict().items():
        for item in fields(getattr(Config(), name)):
            assert item.metadata.get(REASON), f"{name}.{item.name}"
        assert section


def test_emotion_model_and_flip(workdir: Path) -> None:
    assert Config().emotion.model == DEFAULT_EMOTION_MODEL == "ours-v1"
    assert Config().emotion.flip is True
    text = '[emotion]\nmodel = "minixception"\nflip = false\n'
    chosen = load_config(write(workdir / "c.toml", text))
    assert chosen.emotion.model == "minixception" and chosen.emotion.flip is False


def test_unknown_emotion_model_is_one_line_naming_the_choices(workdir: Path) -> None:
    message = one_line_error(write(workdir / "c.toml", '[emotion]\nmodel = "resnet"\n'))
    assert "emotion.model" in message and "'resnet'" in message
    assert all(f'"{name}"' in message for name in EMOTION_MODEL_NAMES)
    assert "flip" in one_line_error(write(workdir / "d.toml", "[emotion]\nflip = 1\n"))
