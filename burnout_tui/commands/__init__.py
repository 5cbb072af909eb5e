"""The bodies of CLI commands, kept out of `cli.py` so that importing the CLI stays cheap."""
