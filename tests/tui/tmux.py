"""A real terminal for end-to-end tests: one private tmux server per test, and process helpers.

Each test gets its own server (`tmux -L NAME`, the `tmux` fixture in conftest.py), so the
fixture's `kill-server` ends exactly the processes that test started, passed or not.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

COLUMNS, LINES = 100, 30
SCREEN_TIMEOUT_S = 60.0
POLL_S = 0.25
TERM = "xterm-256color"


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.name, *args], check=True, capture_output=True, text=True
        ).stdout

    def start(self, *command: str, env: dict[str, str] | None = None) -> None:
        """Run `command` in a new detached session of COLUMNS × LINES, with `env` added to
        the environment (the rest comes from this process, which starts the server)."""
        extra = [f"{name}={value}" for name, value in (env or {}).items()]
        self.run(
            "new-session", "-d", "-s", self.name, "-x", str(COLUMNS), "-y", str(LINES),
            "env", f"TERM={TERM}", *extra, *command,
        )  # fmt: skip

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def pane_flags(self) -> dict[str, str]:
        """The pane's terminal modes as tmux tracks them (alternate screen, cursor, mouse)."""
        names = ("alternate_on", "cursor_flag", "mouse_any_flag", "keypad_flag")
        template = " ".join(f"#{{{name}}}" for name in names)
        values = self.run("display-message", "-p", "-t", self.name, template)
        return dict(zip(names, values.split(), strict=True))

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", self.name, key)
            time.sleep(POLL_S)

    def wait_for(self, predicate: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + SCREEN_TIMEOUT_S
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(POLL_S)
        raise AssertionError(f"timed out waiting for {what}; screen was:\n{screen}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "-L", self.name, "has-session", "-t", self.name], capture_output=True
            ).returncode
            == 0
        )


def pid_of(marker: str) -> int:
    """The one live `python -m burnout_tui.cli` process with `marker` (e.g. its --db path)
    among its arguments."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if argv[1:3] == ["-m", "burnout_tui.cli"] and marker in argv and alive(int(entry.name)):
            found.append(int(entry.name))
    assert len(found) == 1, f"expected one burnout-tui process with {marker!r}, found {found}"
    return found[0]


def alive(pid: int) -> bool:
    """True while any thread of `pid` runs. A killed process's main thread turns zombie
    before its other threads have exited and its files (the database lock) are released;
    a zombie waiting for its parent to reap it counts as gone."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            return True
    return False
