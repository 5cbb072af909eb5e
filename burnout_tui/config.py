"""Settings: frozen dataclasses with validated defaults, read from one TOML file.

The defaults live in the dataclasses so code and tests can build a `Config()` without any
file; `default_config.toml`, shipped in the package, documents every key and the reason
for its default, and a test keeps the two identical. Exactly one file is read (the first
found in the lookup order), so what a session used is never a merge of several places.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import platformdirs

from burnout_tui.errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

APP_NAME = "burnout-tui"
PROJECT_CONFIG_NAME = "burnout-tui.toml"
PYPROJECT_NAME = "pyproject.toml"
USER_CONFIG_NAME = "config.toml"
DEFAULT_CONFIG_RESOURCE = "default_config.toml"

MTCNN_WINDOW_PX = 12
"""P-Net scans 12x12 windows, so no smaller face can be found at any pyramid level."""

MAX_FLUSH_INTERVAL_S = 1.0
"""Rows must reach other readers (history view, a second cursor) within a second."""

PERCENT_MAX = 100.0


class ConfigError(UserError):
    """A config file is unreadable, unknown to us in some key, or holds a wrong value."""


def _require(condition: bool, message: str) -> None:
    """Validation failures start with the key name so the loader can prefix its section."""
    if not condition:
        raise ValueError(message)


def _non_negative(name: str, value: float) -> None:
    _require(math.isfinite(value) and value >= 0.0, f"{name} must be a finite number >= 0")


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Weights of the valence frame score and of the session's final score."""

    alpha: float = 1.0
    beta: float = 1.0
    gamma: float = 0.3
    lam: float = 0.8
    window: int = 30

    def __post_init__(self) -> None:
        _non_negative("alpha", self.alpha)
        _non_negative("beta", self.beta)
        _non_negative("gamma", self.gamma)
        _require(
            self.gamma <= self.alpha,
            "gamma must not exceed alpha: flat affect may not outweigh negative emotion",
        )
        _require(
            self.alpha + self.beta > 0.0,
            "alpha and beta cannot both be 0: the score would have no range",
        )
        _require(0.0 <= self.lam <= 1.0, "lam must be between 0 and 1")
        _require(self.window >= 1, "window must be at least 1 frame")


@dataclass(frozen=True, slots=True)
class LevelsConfig:
    """Where the 0-100 % proxy changes from "low" to "moderate" and to "high"."""

    moderate: float = 40.0
    high: float = 65.0

    def __post_init__(self) -> None:
        _require(0.0 <= self.moderate <= PERCENT_MAX, "moderate must be between 0 and 100")
        _require(0.0 <= self.high <= PERCENT_MAX, "high must be between 0 and 100")
        _require(self.moderate <= self.high, "high must not be below moderate")


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """MTCNN parameters and how often the full detector runs."""

    min_face_size: int = 20
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8)
    scale_factor: float = 0.709
    detect_every: int = 5

    def __post_init__(self) -> None:
        _require(
            self.min_face_size >= MTCNN_WINDOW_PX,
            f"min_face_size must be at least {MTCNN_WINDOW_PX} (MTCNN's smallest window)",
        )
        _require(
            all(0.0 <= t <= 1.0 for t in self.thresholds), "thresholds must lie between 0 and 1"
        )
        _require(0.0 < self.scale_factor < 1.0, "scale_factor must lie strictly between 0 and 1")
        _require(self.detect_every >= 1, "detect_every must be at least 1")


@dataclass(frozen=True, slots=True)
class TrackingConfig:
    """How faces are followed from frame to frame in multi-user mode."""

    grace_s: float = 2.0
    min_iou: float = 0.3
    max_keypoint_distance: float = 0.6

    def __post_init__(self) -> None:
        _non_negative("grace_s", self.grace_s)
        _require(0.0 <= self.min_iou <= 1.0, "min_iou must be between 0 and 1")
        _require(
            math.isfinite(self.max_keypoint_distance) and self.max_keypoint_distance > 0.0,
            "max_keypoint_distance must be a finite number > 0",
        )


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where sessions are stored and how long rows may wait before being written."""

    path: str = "sessions.duckdb"
    flush_interval_s: float = 0.5

    def __post_init__(self) -> None:
        _require(bool(self.path), "path must not be empty")
        _require(
            0.0 < self.flush_interval_s <= MAX_FLUSH_INTERVAL_S,
            f"flush_interval_s must be > 0 and <= {MAX_FLUSH_INTERVAL_S:g}",
        )


@dataclass(frozen=True, slots=True)
class Config:
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    levels: LevelsConfig = field(default_factory=LevelsConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; stored with each session so its score can be recomputed later."""
        return asdict(self)


def default_config_text() -> str:
    return resources.files("burnout_tui").joinpath(DEFAULT_CONFIG_RESOURCE).read_text("utf-8")


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / USER_CONFIG_NAME


def load_config(path: Path | None = None) -> Config:
    """Read the first config found; with none, the defaults.

    Lookup order: `path` (from --config), ./burnout-tui.toml, [tool.burnout-tui] in
    ./pyproject.toml, then config.toml in the user config directory.
    """
    found = _locate(path)
    if found is None:
        return Config()
    label, table = found
    return config_from_table(table, label)


def config_from_table(table: dict[str, Any], label: str) -> Config:
    """Build a Config from parsed TOML; `label` names the file in error messages."""
    sections = get_type_hints(Config)
    built: dict[str, Any] = {}
    for name, values in table.items():
        if name not in sections:
            known = ", ".join(f"[{s}]" for s in sections)
            raise ConfigError(f"{label}: unknown section [{name}] (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{label}: {name} must be a [{name}] table")
        built[name] = _section(sections[name], values, name, label)
    return Config(**built)


def _section(cls: Any, values: dict[str, Any], section: str, label: str) -> Any:
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{label}: unknown key {section}.{key}")
        try:
            kwargs[key] = _coerce(value, hints[key])
        except TypeError as error:
            raise ConfigError(f"{label}: {section}.{key} must be {error}, got {value!r}") from None
    try:
        return cls(**kwargs)
    except ValueError as error:
        raise ConfigError(f"{label}: {section}.{error}") from None


def _coerce(value: Any, hint: Any) -> Any:
    """TOML already has the right scalar types; only int -> float and list -> tuple remain."""
    if get_origin(hint) is tuple:
        items = get_args(hint)
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise TypeError(f"a list of {len(items)} numbers")
        try:
            return tuple(_coerce(item, kind) for item, kind in zip(value, items, strict=True))
        except TypeError:
            raise TypeError(f"a list of {len(items)} numbers") from None
    if isinstance(value, bool):
        raise TypeError(_describe(hint))
    if hint is float and isinstance(value, int | float):
        return float(value)
    if isinstance(value, hint):
        return value
    raise TypeError(_describe(hint))


def _describe(hint: Any) -> str:
    return {float: "a number", int: "a whole number", str: "a string"}.get(hint, str(hint))


def _locate(explicit: Path | None) -> tuple[str, dict[str, Any]] | None:
    if explicit is not None:
        return str(explicit), _read(explicit)
    local = Path(PROJECT_CONFIG_NAME)
    if local.is_file():
        return str(local), _read(local)
    pyproject = Path(PYPROJECT_NAME)
    if pyproject.is_file():
        tool = _read(pyproject).get("tool", {})
        table = tool.get(APP_NAME) if isinstance(tool, dict) else None
        if table is not None:
            label = f"{pyproject} [tool.{APP_NAME}]"
            if not isinstance(table, dict):
                raise ConfigError(f"{label}: must be a table")
            return label, table
    user = user_config_file()
    if user.is_file():
        return str(user), _read(user)
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"no such config file: {path}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


__all__ = [
    "Config",
    "ConfigError",
    "DetectionConfig",
    "LevelsConfig",
    "ScoringConfig",
    "StoreConfig",
    "TrackingConfig",
    "config_from_table",
    "default_config_text",
    "load_config",
    "user_config_file",
]
