"""Long work of the dashboard (projections, conformance, warming caches) on threads of its own, never on the
threads serving clicks.

A page submits a job under a key made of the request's arguments and returns at once; it then polls
the job's state until it is done. The same key submitted twice shares one job, and finished jobs are
kept (the last :data:`KEPT` of them) so that the next analyst who asks gets the answer at once. A
failure (or a cancelled job) is kept only until a page has read it once, by :meth:`Jobs.state` or
:meth:`Jobs.submit`: a page that submits on every poll sees it and stops polling, and the next submit
tries again. A submit may name its `owner` (a page view): the owner's previous job, when still
queued and wanted by no other owner, is cancelled, so an analyst who changes their mind never leaves
work queued that nobody reads. A job may say what it is doing with :func:`report_progress`.

Examples
--------
>>> jobs = Jobs(workers=1)
>>> state = jobs.submit(("square", 3), lambda x: x * x, 3)
>>> jobs.wait(("square", 3)).value
9
>>> jobs.close()
True
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

from najma.errors import NajmaError

__all__ = ["Jobs", "JobState", "KEPT", "STOPPED", "report_progress"]

#: How many finished jobs are kept with their answers.
KEPT = 256

#: The error of a job submitted after :meth:`Jobs.close`.
STOPPED = "the dashboard is stopping"

_log = logging.getLogger("najma.dashboards")
_running = threading.local()  # the job the current worker thread runs


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
        self.owners: set[Hashable] = set()  # the page views waiting for it


class Jobs:
    """A pool of worker threads for long work, with the answers kept by key.

    Parameters
    ----------
    workers : int, default 2
        Threads that run jobs; clicks are served by the web server's own threads.

    Attributes
    ----------
    closing : threading.Event
        Set by :meth:`close`; a long job made of steps checks it between them to stop early.
    """

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="najma-job")
        self._jobs: OrderedDict[Hashable, _Job] = OrderedDict()
        self._owned: dict[Hashable, Hashable] = {}  # an owner's latest key
        self._lock = threading.Lock()  # held only to look up and file jobs, never while one runs
        self.closing = threading.Event()

    def submit(self, key: Hashable, function: Callable[..., object], *args: object,
               owner: Hashable | None = None) -> JobState:
        """Start ``function(*args)`` unless a job of `key` is known; return its state.

        Parameters
        ----------
        key : hashable
            What the job answers (the request's arguments); a job of a known key is not started again.
        function : callable
            The work, called as ``function(*args)`` on a job thread.
        *args : object
            Its arguments.
        owner : hashable, optional
            Who asks (a page view's id): the previous job this owner asked for, when still queued and
            asked for by no other owner, is cancelled.

        Returns
        -------
        JobState
            The job's state now; a failure of a known key returned here is forgotten (a page polling by
            submitting has read it), so that the next submit tries again.
        """
        with self._lock:
            if self.closing.is_set():
                return JobState(True, None, STOPPED, "cancelled", 0.0)
            if owner is not None:
                self._disown(owner, key)
            job = self._jobs.get(key)
            known = job is not None
            if job is None:
                self._forget_old()
                job = _Job()
                job.future = self._pool.submit(_run, job, function, args)
                self._jobs[key] = job
            if owner is not None:
                job.owners.add(owner)
                self._owned[owner] = key
            return self._read(key, job) if known else _state(job)  # a new job: its poll shows an early failure

    def state(self, key: Hashable) -> JobState | None:
        """The state of the job of `key`, as a page's poll reads it.

        Parameters
        ----------
        key : hashable
            The key it was submitted under.

        Returns
        -------
        JobState or None
            None when it was never submitted, or forgotten (a failure read once, an old answer).
        """
        with self._lock:
            job = self._jobs.get(key)
            return None if job is None else self._read(key, job)

    def wait(self, key: Hashable, timeout: float | None = None) -> JobState:
        """Block until the job of `key` is done or `timeout` seconds passed (for scripts and tests; pages poll).

        Unlike :meth:`state`, it does not count as a page's reading: a failure waited for is still shown
        to the next poll.

        Parameters
        ----------
        key : hashable
            The key it was submitted under.
        timeout : float, optional
            Seconds to wait at most; None waits as long as it takes.

        Returns
        -------
        JobState
            Its state at the end of the wait (not done when the time ran out).

        Raises
        ------
        KeyError
            For a key never submitted, or forgotten.
        """
        with self._lock:
            job = self._jobs[key]
        assert job.future is not None
        _settle([job.future], timeout)
        return _state(job)

    def close(self, timeout: float | None = None) -> bool:
        """Stop taking jobs, cancel the queued ones and wait for the running ones.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the running jobs at most; None waits as long as it takes.

        Returns
        -------
        bool
            Whether every job is done (False: one still runs and may still use the data).
        """
        with self._lock:
            self.closing.set()
            running = [job.future for job in self._jobs.values() if job.future is not None]
        self._pool.shutdown(wait=False, cancel_futures=True)
        return _settle(running, timeout)

    def busy(self) -> bool:
        """Whether a job is queued or running (the warm-up of the caches gives way meanwhile)."""
        with self._lock:
            return any(job.future is not None and not job.future.done() for job in self._jobs.values())

    def _read(self, key: Hashable, job: _Job) -> JobState:
        """The state of `job` as a page reads it: kept in use, forgotten when it failed or was cancelled."""
        state = _state(job)
        if state.done and state.error is not None:
            del self._jobs[key]  # shown once; the next submit tries again
        else:
            self._jobs.move_to_end(key)
        return state

    def _disown(self, owner: Hashable, key: Hashable) -> None:
        """`owner` now asks for `key`: cancel its previous job if still queued and nobody else asks for it."""
        previous = self._owned.pop(owner, None)
        job = None if previous is None or previous == key else self._jobs.get(previous)
        if job is None:
            return
        job.owners.discard(owner)
        if not job.owners and job.future is not None and job.future.cancel():
            del self._jobs[previous]

    def _forget_old(self) -> None:
        done = [key for key, job in self._jobs.items() if job.future is not None and job.future.done()]
        for key in done[: max(0, len(done) - KEPT)]:
            del self._jobs[key]
        for owner in [owner for owner, key in self._owned.items() if key not in self._jobs or self._jobs[key].future.done()]:
            del self._owned[owner]  # only queued or running jobs can be cancelled


def _settle(futures: list[Future], timeout: float | None) -> bool:
    """Wait up to `timeout` seconds in all for `futures` to be done; say whether they are.

    (``concurrent.futures.wait`` never sees a future cancelled by the pool's shutdown, so each is awaited.)
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    for future in futures:
        try:
            future.result(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - not done in time, cancelled or failed: its state says which
            pass
    return all(future.done() for future in futures)


def report_progress(progress: str) -> None:
    """Say what the job running on this thread is doing (shown by its page while it polls); nothing elsewhere."""
    job = getattr(_running, "job", None)
    if job is not None:
        job.progress = progress


def _run(job: _Job, function: Callable[..., object], args: tuple[object, ...]) -> object:
    job.started = time.monotonic()
    job.progress = "running"
    _running.job = job
    try:
        return function(*args)
    except NajmaError as error:  # a refused request: one line is the whole story
        _log.warning("a background job failed: %s", _one_line(error))
        raise
    except Exception:
        _log.exception("a background job failed")  # the page shows one line, the server's log the whole story
        raise
    finally:
        _running.job = None


def _state(job: _Job) -> JobState:
    future = job.future
    if future is None or not future.done():
        return JobState(False, None, None, job.progress, job.started)
    if future.cancelled():
        return JobState(True, None, "cancelled", "cancelled", job.started)
    error = future.exception()
    if error is not None:
        return JobState(True, None, _one_line(error), "failed", job.started)
    return JobState(True, future.result(), None, "done", job.started)


def _one_line(error: BaseException) -> str:
    """The error as one line: a NajmaError's own message, anything else with its type."""
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    if isinstance(error, NajmaError):
        return message or type(error).__name__
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
