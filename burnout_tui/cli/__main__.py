"""`python -m burnout_tui.cli`: the console script, for tests and for running from a checkout."""

from burnout_tui.cli.main import main

main()
