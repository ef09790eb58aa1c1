"""Time a step and its peak memory in a fresh child process, so that one step's freed memory
does not hide the next one's peak (resident memory rarely shrinks back after a large step)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

__all__ = ["in_child"]


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS: now, VmHWM: peak)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _run(step: Callable[..., Any], args: tuple, queue: multiprocessing.Queue) -> None:
    base = _status_kib("VmRSS")
    started = time.perf_counter()
    result = step(*args)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")  # this process's own peak (ru_maxrss may carry the parent's)
    queue.put((seconds, max(peak - base, 0) * 1024, result))


def in_child(step: Callable[..., Any], *args: Any) -> tuple[float, int, Any]:
    """Run ``step(*args)`` in a spawned process; return (seconds, peak extra bytes, result).

    `step` must be a module-level function and its result picklable. The baseline is the child's
    memory after importing, so imports are not counted.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_run, args=(step, args, queue))
    child.start()
    while True:  # a child that dies never puts its result: do not wait for it forever
        try:
            outcome = queue.get(timeout=1)
            break
        except Empty:
            if not child.is_alive():
                break
    child.join()
    if child.exitcode:
        raise RuntimeError(f"the benchmark step {step.__name__} failed with exit code {child.exitcode}")
    return outcome
