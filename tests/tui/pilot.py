"""Run async Pilot scenarios from plain pytest tests, and wait for the app's workers.

The project has no asyncio pytest plugin; each test drives its own event loop, which
is also what `app.run_test()` expects.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec

from textual.pilot import Pilot
from textual.worker import WorkerState

P = ParamSpec("P")
UNFINISHED = (WorkerState.PENDING, WorkerState.RUNNING)


def run_async(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    @functools.wraps(test)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


SETTLE_ROUNDS = 10
"""A worker's message may start another worker (the history list, then its first row's
detail); a few rounds cover every chain the screens have."""


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the app's thread workers and for the messages they post to be handled.

    Database calls run in workers (see `burnout_tui.tui.screens.error_modal`), so a key that
    saves or loads something is done only once its worker has finished and its result
    message has been handled; `pilot.press` waits for neither."""
    for _ in range(SETTLE_ROUNDS):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.state in UNFINISHED for worker in pilot.app.workers):
            return
