"""Package names that are imported on first use (PEP 562), for packages whose `__init__`
must stay light: importing any module of a package runs its `__init__` first, so one that
imported its heavy classes up front would load them for every light module too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name in `homes` is imported from its home
    module the first time it is asked for, then kept in the package's `namespace`."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
