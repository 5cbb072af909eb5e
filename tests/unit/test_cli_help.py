"""`--help` stays light: the group and every command only declare their options, importing
ONNX Runtime, OpenCV, Textual, DuckDB, Rich and the runtime inside the command that runs."""

from __future__ import annotations

import pytest

from burnout_tui.cli import cli
from tests.command_line import HEAVY_MODULES, help_imports

NOT_FOR_HELP = (*HEAVY_MODULES, "rich", "burnout_tui.runtime", "burnout_tui.tui")
"""Also light before this test existed: Rich draws only results, and the runtime and the TUI
are what the commands run, never what they describe."""
COMMANDS = [(name,) for name in sorted(cli.commands)] + [("report", "sql")]
"""Every command of the group (derived from it), and the one report that is no plugin's."""


def test_help_imports_no_heavy_module() -> None:
    text, loaded = help_imports((), HEAVY_MODULES)
    assert "analyze" in text
    assert loaded == []


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_command_help_imports_no_heavy_module(command: tuple[str, ...]) -> None:
    text, loaded = help_imports(command, NOT_FOR_HELP)
    assert f"Usage: burnout-tui {' '.join(command)} " in text
    assert loaded == []
