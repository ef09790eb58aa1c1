"""The dashboard reads its own copy of the store, so that it never holds the store against the programme's commands.

DuckDB lets one process write a store, or several read it, never both at once. A dashboard that kept
the store open would make ``najma ingest``, ``najma rate`` and ``najma catalogue use`` fail for as
long as it runs. So the dashboard copies the store when it starts, holding it read-only only for the
length of the copy, and serves from the copy. A :class:`FollowedStore` watches the store: when a
command has changed it, it copies it again in the background, builds what the dashboard shows from
the new copy, and hands that over; requests already running finish on the old one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypeVar

from najma.errors import NajmaError
from najma.journeys import Store, build_journeys

__all__ = ["FollowedStore", "copy_store", "REFRESH_SECONDS"]

#: Seconds between two looks at the store for changes, by default.
REFRESH_SECONDS = 5.0

Shown = TypeVar("Shown")
#: The dashboard's copies live in a temporary folder named after it and its process id.
_PREFIX = "najma-dashboard-"
Signature = tuple[tuple[int, int] | None, ...]


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _signature(path: Path) -> Signature:
    """When the store's file and its write-ahead log last changed, and their sizes (None for a missing file)."""
    def stat(file: Path) -> tuple[int, int] | None:
        try:
            found = file.stat()
        except FileNotFoundError:
            return None
        return found.st_mtime_ns, found.st_size
    return stat(path), stat(_wal(path))


def copy_store(path: Path, target: Path) -> Signature:
    """Copy the store at `path` to `target` as it stands, with journeys that show all its events.

    The store is opened read-only for the length of the copy, so that no command changes it
    meanwhile. Journeys the store holds stale (events loaded with ``build=False``) are built in the
    copy, never in the store.

    Returns
    -------
    tuple
        The store's signature at the time of the copy, to tell a later change by.

    Raises
    ------
    StoreError
        If the store cannot be opened, or another program keeps writing to it.
    """
    with Store(path, read_only=True):  # no other process writes to the file while it is copied
        signature = _signature(path)
        shutil.copyfile(path, target)
        if signature[1] is not None:
            shutil.copyfile(_wal(path), _wal(target))
    with Store(target) as copy:
        if copy.journeys_stale():
            build_journeys(copy)
    return signature


class FollowedStore(Generic[Shown]):
    """What the dashboard shows, made from a copy of a store and made again when the store changes.

    Parameters
    ----------
    path : Path
        The store.
    make : callable
        Makes what is shown (e.g. :class:`~najma.dashboards.DashboardData`) from the path of a copy.
    every : float, default REFRESH_SECONDS
        Seconds between two looks at the store's file.
    say : callable, optional
        Told, in one line, when a newer store is picked up or cannot be read.

    Attributes
    ----------
    current : object
        What is shown now, made from the latest copy.
    """

    def __init__(self, path: Path, make: Callable[[Path], Shown], *, every: float = REFRESH_SECONDS,
                 say: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self._make = make
        self._every = every
        self._say = say or (lambda _line: None)
        _sweep_abandoned_copies()
        self._folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        self._number = 0  # of the latest copy made, or being made
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[Shown], None]] = []
        self._told: str | None = None  # the last failure said, so that it is said once
        try:
            self._copy, self._signature, self.current = self._fresh()
        except BaseException:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        self._retired: tuple[Path, Shown] | None = None

    def _fresh(self) -> tuple[Path, Signature, Shown]:
        self._number += 1
        copy = self._folder / f"{self.path.stem}-{self._number}.duckdb"
        signature = copy_store(self.path, copy)
        return copy, signature, self._make(copy)

    def follow(self, listener: Callable[[Shown], None]) -> None:
        """Start watching the store in the background; `listener` gets what is shown each time it is made again."""
        self._listeners.append(listener)
        self._thread = threading.Thread(target=self._watch, name="najma-store-follower", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self._every):
            if _signature(self.path) != self._signature:
                self.refresh()

    def refresh(self) -> bool:
        """Copy the store again and make what is shown from the copy; say whether it was picked up."""
        try:
            copy, signature, shown = self._fresh()
        except Exception as exc:  # a command still writing to it, a full disk: try again at the next look
            for file in self._folder.glob(f"*-{self._number}.duckdb*"):
                file.unlink(missing_ok=True)
            cause = exc if isinstance(exc, NajmaError) else f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
            told = f"the dashboard keeps showing the store as it was: {cause}"
            if told != self._told:  # said once, not at every look while a long command holds the store
                self._say(told)
            self._told = told
            return False
        self._told = None
        previous = (self._copy, self.current)
        self._copy, self._signature, self.current = copy, signature, shown
        for listener in self._listeners:
            listener(shown)
        self._retire(previous)
        self._say(f"the dashboard now shows {self.path} as changed at {_when(signature)}")
        return True

    def _retire(self, previous: tuple[Path, Shown]) -> None:
        """Close the copy before the previous one: requests still running on the previous one finish on it."""
        if self._retired is not None:
            self._discard(*self._retired)
        self._retired = previous

    @staticmethod
    def _discard(copy: Path, shown: Shown) -> None:
        close = getattr(shown, "close", None)
        if close is not None:
            close()
        for file in (copy, _wal(copy)):
            file.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop watching, close what is shown and remove the copies."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)  # a copy being rated is abandoned: its files go with the folder
        for held in (self._retired, (self._copy, self.current)):
            if held is not None:
                self._discard(*held)
        shutil.rmtree(self._folder, ignore_errors=True)

    def abandon(self) -> None:
        """Stop watching and remove the copies without closing what is shown, as the process is about to exit
        with work still running on it (on Linux, files removed while open stay readable until closed)."""
        self._stop.set()
        shutil.rmtree(self._folder, ignore_errors=True)


def _sweep_abandoned_copies() -> None:
    """Remove the copies of dashboards whose process is gone (killed before it could clean up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        pid = folder.name[len(_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _when(signature: Signature) -> str:
    changed = max(stamp[0] for stamp in signature if stamp is not None)
    return f"{datetime.fromtimestamp(changed / 1e9, UTC):%Y-%m-%d %H:%M:%S} UTC"
