"""Modules imported at their first use, so that importing najma's own modules stays quick."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    """Stands for a module until one of its attributes is read; then imports it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported at first use>"


def lazy_module(name: str) -> Any:
    """The module `name`, imported when one of its attributes is first read.

    Unlike ``lazy_loader.load``, a submodule (``pyarrow.compute``) stays unimported too, with its
    package, until it is used.

    Examples
    --------
    >>> pc = lazy_module("pyarrow.compute")
    >>> pc.sum([1, 2, 3]).as_py()
    6
    """
    return _LazyModule(name)
