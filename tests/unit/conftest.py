"""Fixtures of the self-contained tier: nothing here needs BURNOUT_TUI_DATA."""

from __future__ import annotations

from pathlib import Path

import pytest

from burnout_tui.config import Config, load_config


@pytest.fixture
def loaded_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The config `load_config` finds when run from an empty folder, as a user's run would.

    Unlike the TUI tier's `config` (the bare defaults), this one goes through the lookup, so
    a user config file on the machine counts, and the test runs in its own working folder.
    """
    monkeypatch.chdir(tmp_path)
    return load_config()
