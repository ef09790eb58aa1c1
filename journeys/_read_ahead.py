"""Prepare the next batch of a source in a background thread while the current one is stored.

Reading Parquet or CSV, cleaning text and pseudonymising run in Arrow and in a separate DuckDB
connection, all of which release the GIL; the insert into the store runs meanwhile in the store's
own connection. The two overlap on a machine with more than one core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")
R = TypeVar("R")

_POLL_SECONDS = 0.1


def read_ahead(items: Iterable[T], prepare: Callable[[T], R], *, depth: int = 1) -> Iterator[R]:
    """Yield ``prepare(item)`` for each of `items`, working up to `depth` items ahead in a thread.

    The results come in the order of `items`. An exception raised while reading or preparing is
    raised here, in the caller's thread, where the item would have been. When the caller stops
    early (an error, an interrupt, or simply not reading on), the thread stops too and the
    iterator over `items` is closed.

    Examples
    --------
    >>> list(read_ahead(range(4), lambda n: n * n))
    [0, 1, 4, 9]
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(value: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not offer(("value", prepare(item))):
                    return
            offer(("done", None))
        except BaseException as exc:  # handed to the caller's thread, raised there
            offer(("error", exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="najma-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()
