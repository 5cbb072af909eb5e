"""Shared fixtures: the non-redistributable development data and the public-domain demo face."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
