"""Long work of the dashboard (projections, conformance) on threads of its own, never on the threads serving clicks.

A page submits a job under a key made of the request's arguments and returns at once; it then polls
the job's state until it is done. The same key submitted twice shares one job, and finished jobs are
kept (the last :data:`KEPT` of them) so that the next analyst who asks gets the answer at once.

Examples
--------
>>> jobs = Jobs(workers=1)
>>> state = jobs.submit(("square", 3), lambda x: x * x, 3)
>>> jobs.wait(("square", 3)).value
9
>>> jobs.close()
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

__all__ = ["Jobs", "JobState", "KEPT"]

#: How many finished jobs are kept with their answers.
KEPT = 256


class JobState(NamedTuple):
    """Where a job stands."""

    done: bool
    value: object
    error: str | None
    progress: str
    started: float


class _Job:
    def __init__(self) -> None:
        self.future: Future | None = None
        self.progress = "queued"
        self.started = 0.0


class Jobs:
    """A pool of worker threads for long work, with the answers kept by key.

    Parameters
    ----------
    workers : int, default 2
        Threads that run jobs; clicks are served by the web server's own threads.
    """

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="najma-job")
        self._jobs: OrderedDict[Hashable, _Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, key: Hashable, function: Callable[..., object], *args: object) -> JobState:
        """Start ``function(*args)`` unless a job of `key` is known; return the state of the job of `key`."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = _Job()
                job.future = self._pool.submit(self._run, job, function, args)
                self._forget_old()
            else:
                self._jobs.move_to_end(key)
        return _state(job)

    def state(self, key: Hashable) -> JobState | None:
        """The state of the job of `key`, or None when it was never submitted (or long forgotten)."""
        with self._lock:
            job = self._jobs.get(key)
        return None if job is None else _state(job)

    def wait(self, key: Hashable, timeout: float | None = None) -> JobState:
        """Block until the job of `key` is done (for scripts and tests; pages poll :meth:`state` instead)."""
        with self._lock:
            job = self._jobs[key]
        assert job.future is not None
        try:
            job.future.result(timeout)
        except Exception:  # noqa: BLE001 - the state carries the error
            pass
        return _state(job)

    def close(self) -> None:
        """Stop taking jobs; jobs already running finish, queued ones are cancelled."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _run(job: _Job, function: Callable[..., object], args: tuple[object, ...]) -> object:
        job.started = time.monotonic()
        job.progress = "running"
        return function(*args)

    def _forget_old(self) -> None:
        done = [key for key, job in self._jobs.items() if job.future is not None and job.future.done()]
        for key in done[: max(0, len(done) - KEPT)]:
            del self._jobs[key]


def _state(job: _Job) -> JobState:
    future = job.future
    if future is None or not future.done():
        return JobState(False, None, None, job.progress, job.started)
    if future.cancelled():
        return JobState(True, None, "cancelled", "cancelled", job.started)
    error = future.exception()
    if error is not None:
        return JobState(True, None, f"{type(error).__name__}: {error}".splitlines()[0], "failed", job.started)
    return JobState(True, future.result(), None, "done", job.started)
