"""Fixtures of the plugin and report tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.test_report_sql import build_demo_db


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the demo sessions in it, built once per test module."""
    return build_demo_db(tmp_path_factory.mktemp("db") / "s.duckdb")
