"""CPU and memory of a process tree, for `make bench`: cores used and peak RSS.

`cores` is CPU time over wall time, children included, so a program that keeps both
cores of a 2-core machine busy reads 2.0. The tree matters because the monitor may run its
capture in a child process: its memory target is for the UI and the child together, so
the RSS of every live process in the tree is summed at each poll and the peak is kept.
Linux only (it reads /proc); elsewhere `available` is False and the bench says so.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
POLL_S = 0.05
"""How often the tree is sampled: fine enough for a peak that lasts a few frames."""

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 1024.0 * 1024.0

STAT_UTIME = 11
"""Index of utime (field 14 of proc(5)) in /proc/PID/stat once the pid and the command
are cut off; stime, cutime and cstime follow it."""
STAT_PPID = 1
"""Index of the parent's pid (field 4) in the same cut."""
STATM_RSS = 1


@dataclass(frozen=True, slots=True)
class TreeUsage:
    cpu_s: float
    wall_s: float
    peak_rss_mb: float

    @property
    def cores(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def available() -> bool:
    return (PROC / "self" / "stat").is_file()


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _tree(root: int) -> list[int]:
    """`root` and its live descendants (from every process's parent id)."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                parents.setdefault(int(fields[STAT_PPID]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, ()))
    return found


def _cpu_s(pid: int) -> float:
    """The process's CPU time and that of its children it has waited for."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = sum(int(value) for value in fields[STAT_UTIME : STAT_UTIME + 4])
    return ticks / CLOCK_TICKS


def _rss_mb(pid: int) -> float:
    try:
        pages = int((PROC / str(pid) / "statm").read_text().split()[STATM_RSS])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * PAGE_BYTES / MB


class TreeSampler:
    """Samples a process tree on a thread from `start` until `stop`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._stop = threading.Event()
        self._cpu_start = 0.0
        self._cpu = 0.0
        self._peak = 0.0
        self._started = 0.0
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def start(self) -> TreeSampler:
        self._started = time.perf_counter()
        self._cpu_start = self._sample()
        self._thread.start()
        return self

    def snapshot(self) -> tuple[float, float]:
        """CPU seconds of the tree so far and the `time.perf_counter()` of that reading,
        for the cores used between two moments."""
        self._sample()
        return self._cpu, time.perf_counter()

    def stop(self) -> TreeUsage:
        """Stop sampling (take one last sample first) and return what was used."""
        self._stop.set()
        self._thread.join()
        self._sample()
        wall = time.perf_counter() - self._started
        return TreeUsage(self._cpu - self._cpu_start, wall, self._peak)

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self._sample()

    def _sample(self) -> float:
        pids = _tree(self.pid)
        cpu = sum(_cpu_s(pid) for pid in pids)
        self._cpu = max(self._cpu, cpu)
        self._peak = max(self._peak, sum(_rss_mb(pid) for pid in pids))
        return cpu


def run_measured(command: list[str]) -> tuple[str, TreeUsage]:
    """Run `command` to its end; its stdout and the usage of its process tree. CPU time
    is the kernel's own account of the finished children (`RUSAGE_CHILDREN`, which
    polling would undercount by the last moments); peak RSS is polled."""
    before = _children_cpu_s()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(process.pid).start()
    stdout, stderr = process.communicate()
    polled = sampler.stop()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, stdout, stderr)
    cpu = _children_cpu_s() - before
    return stdout, TreeUsage(cpu, polled.wall_s, polled.peak_rss_mb)


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


__all__ = ["TreeSampler", "TreeUsage", "available", "run_measured"]
