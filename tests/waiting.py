"""Waiting for something another thread or process does, for every test tier."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT_S = 60.0
"""Generous on purpose: a loaded 2-core CI machine starts models and monitors slowly."""
POLL_S = 0.05


def wait_until(
    predicate: Callable[[], bool], what: str, timeout_s: float = WAIT_S, poll_s: float = POLL_S
) -> None:
    """Return once `predicate()` holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll_s)
