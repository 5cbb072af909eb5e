"""Fixtures for the TUI tests: the default config and replayed results.

The fresh store is the root conftest's `con`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from tests.tui.replay import ReplayCapture, replay_results
from tests.tui.tmux import Tmux


@pytest.fixture
def config() -> Config:
    return Config()


@pytest.fixture
def results(config: Config) -> list[FrameResult]:
    return replay_results(config)


@pytest.fixture
def capture(
    config: Config, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> ReplayCapture:
    return ReplayCapture(config, con, results=results)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A private tmux server for one test, killed (with what runs in it) at its end."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    session = Tmux(f"burnout-tui-test-{tmp_path.name}")
    yield session
    subprocess.run(["tmux", "-L", session.name, "kill-server"], check=False, capture_output=True)
