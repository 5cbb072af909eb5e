"""Running `burnout-tui` as a user would, for every tier: one definition of how a test runs
the command line in a fresh interpreter and judges its output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

HEAVY_MODULES = ("onnxruntime", "cv2", "textual", "duckdb")
"""What `--help` must never import: each costs a noticeable part of a second to load."""
CLI_TIMEOUT_S = 600
"""Longer than any command a test runs (a full demo analysis on a loaded machine)."""

_HELP_PROBE = """\
import sys
from burnout_tui.cli import cli
try:
    cli(sys.argv[2:], prog_name="burnout-tui")
except SystemExit:
    pass
watched = sys.argv[1].split(",")
print("loaded:" + ",".join(m for m in watched if m in sys.modules))
"""


def run_cli(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m burnout_tui.cli ARGS`, 120 columns wide, no BURNOUT_TUI_DB, no stdin."""
    full_env = {**os.environ, "COLUMNS": "120", **(env or {})}
    full_env.pop("BURNOUT_TUI_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "burnout_tui.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=CLI_TIMEOUT_S,
    )


def help_imports(
    args: Sequence[str], watched: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[str, list[str]]:
    """`burnout-tui ARGS --help` in a fresh interpreter: its output, and which of the
    `watched` modules it left imported."""
    done = subprocess.run(
        [sys.executable, "-c", _HELP_PROBE, ",".join(watched), *args, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else {**os.environ, **env},
    )
    text, _, loaded = done.stdout.rpartition("loaded:")
    return text, [name for name in loaded.strip().split(",") if name]


def assert_one_line_error(done: subprocess.CompletedProcess[str], needle: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert needle in lines[0]
