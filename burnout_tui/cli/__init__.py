"""The `burnout-tui` command line: `main` (the console script) and its click group `cli`.

`main` holds the group and every command's options; the other modules hold the command
bodies, imported only inside the command that runs them, so `burnout-tui --help` stays
cheap. `context` carries `CliState` from the group to its commands.
"""

from burnout_tui.cli.main import cli, main

__all__ = ["cli", "main"]
