"""Fixtures every tier shares: the development data, the demo face, one detector, a fresh
store, and a store held open by another process.

The tiers: `unit` (self-contained), `integration` (needs BURNOUT_TUI_DATA), `tui` (the
Textual front end) and `plugins` (the built-in plugins and reports).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from burnout_tui.sources.demo import ASSET as ASTRONAUT
from burnout_tui.store import open_database
from burnout_tui.vision.detector import FaceDetector
from tests.images import ImageBGR, read_image

DATA_ENV = "BURNOUT_TUI_DATA"
LOCK_WAIT_S = 30.0
"""How long the lock-holding child may take to start before the test gives up."""
HOLD_S = 600
"""How long the child would hold the file; the fixture kills it when the test ends."""


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


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where a test's store lives, in a folder the product has not created yet."""
    return tmp_path / "data" / "sessions.duckdb"


@pytest.fixture
def con(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A freshly created, empty store at `db`, closed when the test ends."""
    connection = open_database(db)
    yield connection
    connection.close()


@pytest.fixture
def hold_database() -> Iterator[Callable[[Path], Path]]:
    """`hold_database(path)` holds `path` open read-write in another process, as a monitor
    would, until the test ends; it returns `path`."""
    holders: list[subprocess.Popen[str]] = []

    def hold(path: Path) -> Path:
        holder = subprocess.Popen(
            [sys.executable, "-c",
             f"import duckdb, time; con = duckdb.connect({str(path)!r}); "
             f"print('ready', flush=True); time.sleep({HOLD_S})"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        holders.append(holder)
        assert holder.stdout is not None
        deadline = time.monotonic() + LOCK_WAIT_S
        assert holder.stdout.readline().strip() == "ready" and time.monotonic() < deadline
        return path

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait()
