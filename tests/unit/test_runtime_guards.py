"""`assert` is never a runtime guard: `python -O` strips it, and a user sees a traceback.

A state a user can reach (a bad argument, a missing row, a closed database) is checked
with `if` and raised as a `UserError` subclass, one clear line. What remains are asserts
that narrow a type on a state the code makes impossible; each says why in its message,
so a reader can check the claim. The command layer takes user input directly and keeps
none at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("burnout_tui", "plugins")
NO_ASSERTS = ("burnout_tui/cli/",)
"""Where arguments arrive from the command line: every check there is a real one."""

REWRITTEN_ELSEWHERE = frozenset({"burnout_tui/runtime/capture.py"})
"""Its guards are replaced in the same change by the session-runner rewrite (issue #11);
drop it from this set once that lands."""


def asserts() -> list[tuple[str, int, ast.Assert]]:
    found: list[tuple[str, int, ast.Assert]] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in REWRITTEN_ELSEWHERE:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
            found += [(name, n.lineno, n) for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    return found


def test_commands_check_input_for_real() -> None:
    guards = [f"{name}:{line}" for name, line, _ in asserts() if name.startswith(NO_ASSERTS)]
    assert guards == [], "raise a UserError subclass instead"


def test_every_remaining_assert_says_why_it_cannot_fail() -> None:
    bare = [f"{name}:{line}" for name, line, node in asserts() if node.msg is None]
    assert bare == [], "give the assert a message naming what makes the state impossible"
