"""The `burnout-tui` command line: `main` (the console script) and its click group `cli`.

`main` holds the group and registers the commands; each command's click declaration sits
beside its body in a module of its own (`analyze`, `monitor`, `report`, ...), which imports
anything heavy only inside the function that runs, so `burnout-tui --help` stays cheap.
`options` declares the options several commands share; `context` carries `CliState` from
the group to its commands.
"""

from burnout_tui.cli.main import cli, main

__all__ = ["cli", "main"]
