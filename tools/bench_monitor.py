"""The real monitor in tmux, measured from outside as a person would see it.

Three measurements share one way of running it: key press → screen latency while it
captures with `--fast`; frames dropped when it plays a file at the file's own rate; and
the CPU and database rows a long session costs at a given `--rate`. CPU and memory are
those of the whole process tree under the tmux pane (`bench_proc`), so a capture child
process counts with the UI.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from burnout_tui.store import open_database
from tools.bench_proc import TreeSampler

TMUX_SESSION = "burnout-tui-bench"
SCREEN_SIZE = ("100", "30")
SCREEN_POLL_S = 0.002
READY_TIMEOUT_S = 120.0
"""Start-up (imports, models, first face) on a loaded 2-core machine stays well inside."""
END_MARGIN_S = 60.0
"""Past the clip's own length, how long to wait for the monitor to say it ended."""
EXIT_TIMEOUT_S = 60.0

KEY_PRESSES = 40
"""Presses timed (pause and resume alternate); the median and the worst are reported."""

READY_TEXT = "face: found"
ENDED_TEXT = "ENDED"
DROPPED = re.compile(r"dropped (\d+)")


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _screen() -> str:
    return _tmux("capture-pane", "-p", "-t", TMUX_SESSION)


def wait_screen(predicate: Callable[[str], bool], timeout_s: float) -> float:
    """Seconds until the tmux pane shows what `predicate` wants."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if predicate(_screen()):
            return time.perf_counter() - start
        time.sleep(SCREEN_POLL_S)
    raise TimeoutError(f"the monitor did not draw what was expected; screen:\n{_screen()}")


def showing(text: str) -> Callable[[str], bool]:
    return lambda screen: text in screen


def _alive() -> bool:
    command = ["tmux", "has-session", "-t", TMUX_SESSION]
    return subprocess.run(command, check=False, capture_output=True).returncode == 0


@contextmanager
def monitor_in_tmux(arguments: list[str], db: Path) -> Iterator[TreeSampler]:
    """The monitor running in a detached tmux pane, sampled from launch; killed at the end
    if it did not quit by itself."""
    command = shlex.join([sys.executable, "-m", "burnout_tui.cli", *arguments, "--db", str(db)])
    width, height = SCREEN_SIZE
    _tmux("new-session", "-d", "-s", TMUX_SESSION, "-x", width, "-y", height, command)
    try:
        pid = int(_tmux("display-message", "-p", "-t", TMUX_SESSION, "#{pane_pid}"))
        yield TreeSampler(pid).start()
    finally:
        kill = ["tmux", "kill-session", "-t", TMUX_SESSION]
        subprocess.run(kill, check=False, capture_output=True)


def quit_monitor() -> None:
    """Press q and wait for the monitor to finalise its session and exit."""
    _tmux("send-keys", "-t", TMUX_SESSION, "q")
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while _alive() and time.monotonic() < deadline:
        time.sleep(0.1)


def keypress_latency(video: Path, config_path: Path | None = None) -> list[float] | None:
    """Key press to screen change, in ms, over KEY_PRESSES presses.

    The monitor runs on the clip with `--fast`, so capture uses all the CPU it can; space
    pauses and resumes, each press timed until the status line shows it. (Not Escape:
    terminals cannot tell a lone Escape from the start of a key sequence, so every
    terminal program waits on it on purpose.) None without tmux.
    """
    if not tmux_available():
        return None
    options = [] if config_path is None else ["--config", str(config_path)]
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        arguments = [*options, "monitor", "--fast", "--source", str(video)]
        with monitor_in_tmux(arguments, Path(tmp) / "latency.duckdb"):
            wait_screen(showing(READY_TEXT), READY_TIMEOUT_S)
            for _ in range(KEY_PRESSES // 2):
                for shown in ("PAUSED", "RUNNING"):
                    _tmux("send-keys", "-t", TMUX_SESSION, "space")
                    latencies.append(1000 * wait_screen(showing(shown), READY_TIMEOUT_S))
    return latencies


@dataclass(frozen=True, slots=True)
class MonitorRun:
    """One monitor session measured from outside."""

    analysed: int
    """Frames analysed with a face (rows in `frames`, one per face and frame)."""
    dropped: int
    media_s: float
    """Source time the session covered, from its first to its last stored frame."""
    cores: float
    """CPU used from the first face on the screen until the measurement ended."""
    peak_rss_mb: float
    """Of the whole process tree, from launch to exit."""

    @property
    def rows_per_hour(self) -> float:
        return self.analysed / self.media_s * 3600.0 if self.media_s > 0 else 0.0


def monitor_run(source: Path, extra: list[str], seconds: float | None) -> MonitorRun | None:
    """The monitor on `source` at its native rate, for `seconds` after the first face, or
    to the end of the file when None; then quit. None without tmux."""
    if not tmux_available():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "monitor.duckdb"
        with monitor_in_tmux(["monitor", "--source", str(source), *extra], db) as sampler:
            wait_screen(showing(READY_TEXT), READY_TIMEOUT_S)
            cpu_start, wall_start = sampler.snapshot()
            if seconds is None:
                wait_screen(
                    lambda screen: ENDED_TEXT in screen, _clip_seconds(source) + END_MARGIN_S
                )
            else:
                time.sleep(seconds)
            cpu_end, wall_end = sampler.snapshot()
            found = DROPPED.search(_screen())
            dropped = int(found.group(1)) if found else -1
            quit_monitor()
            usage = sampler.stop()
        con = open_database(db)
        try:
            row = con.execute("SELECT count(*), max(ts) - min(ts) FROM frames").fetchone()
        finally:
            con.close()
    analysed, media_s = (0, 0.0) if row is None else (int(row[0]), float(row[1] or 0.0))
    cores = (cpu_end - cpu_start) / (wall_end - wall_start)
    return MonitorRun(analysed, dropped, media_s, cores, usage.peak_rss_mb)


def _clip_seconds(source: Path) -> float:
    import cv2

    capture = cv2.VideoCapture(str(source))
    try:
        frames = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    finally:
        capture.release()
    return float(frames / fps)


__all__ = [
    "KEY_PRESSES",
    "MonitorRun",
    "keypress_latency",
    "monitor_run",
    "tmux_available",
]
