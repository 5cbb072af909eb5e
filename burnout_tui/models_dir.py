"""Where the ONNX model files are found.

A wheel carries them inside the package (`burnout_tui/models`); a source checkout keeps
them in the top-level `models/` folder, next to their README and provenance notes.
`BURNOUT_TUI_MODELS` overrides both, e.g. to try freshly regenerated files.
"""

from __future__ import annotations

import os
from pathlib import Path

from burnout_tui.errors import UserError

MODELS_ENV = "BURNOUT_TUI_MODELS"
_PACKAGE_DIR = Path(__file__).resolve().parent


class ModelNotFoundError(UserError, FileNotFoundError):
    """A model file is missing; the message says how to regenerate it."""


def models_dir() -> Path:
    override = os.environ.get(MODELS_ENV)
    if override:
        return Path(override)
    bundled = _PACKAGE_DIR / "models"
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / "models"


def model_path(filename: str) -> Path:
    path = models_dir() / filename
    if not path.is_file():
        raise ModelNotFoundError(f"model file {path} is missing; regenerate it with `make models`")
    return path
