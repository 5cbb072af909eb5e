"""Stand-in for the login shell of an SSH connection, for the hangup test.

Usage: python forward_hangup.py EXIT_FILE COMMAND...

Runs COMMAND in the foreground of this terminal. When the terminal hangs up, the kernel
signals only the session leader (this process); an interactive shell then passes SIGHUP on
to its jobs and exits, which is what this does, writing COMMAND's exit status to EXIT_FILE
(the terminal is gone, so a file is the only place left to report it).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType


def main() -> None:
    exit_file, *command = sys.argv[1:]
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGHUP, forward)
    children.append(subprocess.Popen(command))
    code = children[0].wait()
    Path(exit_file).write_text(f"{code}\n")


if __name__ == "__main__":
    main()
