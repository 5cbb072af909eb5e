"""Shared fixtures: the non-redistributable development data and the public-domain demo face."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from burnout_tui.sources.demo import ASSET as ASTRONAUT
from burnout_tui.vision.detector import FaceDetector
from tests.images import ImageBGR, read_image

DATA_ENV = "BURNOUT_TUI_DATA"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder named by BURNOUT_TUI_DATA; tests that need it skip where it is unset."""
    value = os.environ.get(DATA_ENV)
    if not value:
        pytest.skip(f"{DATA_ENV} is unset: the shared development data is not available")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"{DATA_ENV}={value} is not a folder")
    return path


@pytest.fixture(scope="session")
def reference_dir(shared_data: Path) -> Path:
    """`reference/` sits beside `data/` in the shared folder."""
    path = shared_data.parent / "reference"
    if not path.is_dir():
        pytest.skip(f"no reference outputs at {path}")
    return path


@pytest.fixture(scope="session")
def detector() -> FaceDetector:
    """One MTCNN for the whole run: loading its three networks is the slow part."""
    return FaceDetector()


@pytest.fixture(scope="session")
def astronaut() -> ImageBGR:
    """The public-domain photo the demo source ships: the self-contained tier's face."""
    if not ASTRONAUT.is_file():
        pytest.skip(f"bundled asset {ASTRONAUT} is missing")
    return read_image(ASTRONAUT)
