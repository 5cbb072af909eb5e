"""Where the key of an encrypted database comes from, in a fixed order.

1. `BURNOUT_TUI_KEY`, for scripts, `--serve` (its browser tabs run without a terminal of
   their own) and tests;
2. the system keyring, when the optional `keyring` package is installed: service
   `burnout-tui`, username the database's absolute path (store it once with
   `keyring set burnout-tui /abs/path/sessions.duckdb`); it is only read, never written;
3. a hidden prompt on a terminal, asked twice when the database is being created, since
   a mistyped key would lock the data away for good.

Without any of them (no terminal: cron, CI, a pipe) opening fails with one line saying
how to provide the key; nothing is written. The key is a passphrase: DuckDB derives the
AES-256 key from it, so any length works, but only its strength protects a stolen file.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from burnout_tui.store.errors import StoreError

KEY_ENV = "BURNOUT_TUI_KEY"
KEYRING_SERVICE = "burnout-tui"


class StoreKeyError(StoreError):
    """No key for an encrypted database could be found, or the one given is wrong."""


def keyring_username(path: Path) -> str:
    return str(path.expanduser().resolve())


def database_key(path: Path, *, creating: bool) -> str:
    """The key for `path`, from the environment, the keyring or a prompt (see module)."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env
    from_keyring = _keyring_key(path)
    if from_keyring:
        return from_keyring
    if _on_a_terminal():
        return _prompt(path, creating)
    action = "create the encrypted database" if creating else "open the encrypted database"
    raise StoreKeyError(
        f"no key to {action} {path}: set {KEY_ENV}, store it in the system keyring "
        f"(service {KEYRING_SERVICE!r}, username {keyring_username(path)!r}), or run on a "
        "terminal to be asked"
    )


def _on_a_terminal() -> bool:
    """Someone can answer a prompt: both the input and where the prompt goes are a TTY."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _keyring_key(path: Path) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        found = keyring.get_password(KEYRING_SERVICE, keyring_username(path))
    except KeyringError:
        return None
    return str(found) if found else None


def _prompt(path: Path, creating: bool) -> str:
    key = getpass.getpass(f"Key for {path}: ", stream=sys.stderr)
    if not key:
        raise StoreKeyError(f"an empty key cannot protect {path}; nothing was opened")
    if creating and getpass.getpass("Repeat the key: ", stream=sys.stderr) != key:
        raise StoreKeyError(f"the two keys differ; {path} was not created")
    return key
