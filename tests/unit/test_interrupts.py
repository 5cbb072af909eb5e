"""SIGTERM and SIGHUP turned into an orderly stop (burnout_tui.interrupts), in this process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from burnout_tui.interrupts import (
    TERMINATION_SIGNALS,
    Interrupted,
    Termination,
    detach_lost_terminal,
    on_termination,
    raise_on_termination,
)


@pytest.fixture(autouse=True)
def own_handlers() -> Iterator[None]:
    """Whatever a test installs, pytest gets its own handlers back."""
    saved = {signum: signal.getsignal(signum) for signum in TERMINATION_SIGNALS}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", TERMINATION_SIGNALS, ids=lambda s: s.name)
def test_a_termination_signal_raises_once(signum: signal.Signals) -> None:
    restore = raise_on_termination()
    with pytest.raises(Interrupted) as raised:
        signal.raise_signal(signum)
    assert str(raised.value) == f"interrupted by {signum.name}"
    assert raised.value.exit_code == 128 + signum
    signal.raise_signal(signum)  # a second one, during the rollback, is ignored
    restore()
    assert signal.getsignal(signum) is not None


def test_interrupted_is_not_an_exception() -> None:
    """`except Exception` on the way up must not swallow it."""
    assert not issubclass(Interrupted, Exception)


def test_a_sighup_ignored_at_start_stays_ignored() -> None:
    """`nohup burnout-tui …` keeps running when the terminal goes."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    seen: list[Termination] = []
    on_termination(seen.append)
    signal.raise_signal(signal.SIGHUP)
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    assert seen == []


def test_the_handler_hears_which_signal_and_that_the_terminal_stayed() -> None:
    seen: list[Termination] = []
    on_termination(seen.append)
    signal.raise_signal(signal.SIGTERM)
    signal.raise_signal(signal.SIGHUP)
    assert seen == [Termination(signal.SIGTERM, terminal_lost=False)]


def test_a_hung_up_terminal_is_swapped_for_dev_null() -> None:
    master, hung_up = os.openpty()
    live_master, live = os.openpty()
    try:
        os.close(master)  # what sshd does when the connection drops
        assert detach_lost_terminal([hung_up, live]) == [hung_up]
        assert os.path.samestat(os.fstat(hung_up), os.stat(os.devnull))
        assert os.write(hung_up, b"the cleanup may still print") > 0
        assert os.isatty(live), "a terminal that answers keeps its stream"
    finally:
        for fd in (hung_up, live_master, live):
            os.close(fd)
