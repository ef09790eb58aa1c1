"""Exceptions raised by najma: each also inherits the builtin it refines."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["NajmaError", "InvalidParameterError", "InvalidEventLogError", "SourceReadError", "StoreError", "OutdatedStoreError", "CatalogueError", "RatingConfigError", "AccessError"]


class NajmaError(Exception):
    """Base class of every error najma raises on purpose.

    Parameters
    ----------
    *args
        The message, as for any exception.
    parameter : str, optional
        The parameter of najma's API the error is about (``"mapping"``, ``"tz"``, ``"store"``,
        ``"token"``), so that a front end can name its own option for it.
    """

    def __init__(self, *args: object, parameter: str | None = None) -> None:
        super().__init__(*args)
        self.parameter = parameter


class InvalidParameterError(NajmaError, ValueError):
    """A parameter of najma's API is not valid: a value out of its range, an unknown choice, data a model cannot use."""


class InvalidEventLogError(NajmaError, ValueError):
    """An argument describing an event log (a mapping, an option) is not valid."""


class SourceReadError(NajmaError, ValueError):
    """A source file cannot be read at all; nothing of it was loaded.

    Parameters
    ----------
    source : str
        The file (or ``<DataFrame>``) that failed.
    problem : str
        What is wrong with it, in one sentence.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class StoreError(NajmaError, RuntimeError):
    """The event store cannot be opened or is not in the expected state."""


class OutdatedStoreError(StoreError):
    """The store was written by an earlier najma: it is brought up to date when opened for writing.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    path : path-like
        The store.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str]) -> None:
        super().__init__(message, parameter="store")
        self.path = Path(path)


class CatalogueError(NajmaError, ValueError):
    """A service catalogue is not valid; the message lists every problem found."""


class RatingConfigError(NajmaError, ValueError):
    """A rating configuration is not valid; the message lists every problem found."""


class AccessError(NajmaError, ValueError):
    """The dashboard cannot be served safely as asked (no authentication off loopback, a bad users file)."""
