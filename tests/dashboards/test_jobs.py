"""The dashboard's background jobs: one job per key, errors as one line, finished jobs kept LRU, close cancels.

Jobs are held with threading.Event, so nothing here sleeps: every wait waits for a sign.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from najma.dashboards import _jobs
from najma.dashboards._jobs import STOPPED, Jobs, report_progress
from najma.errors import InvalidParameterError

WAIT = 10.0  # seconds a test waits for a sign before it fails


@pytest.fixture
def jobs() -> Iterator[Jobs]:
    pool = Jobs(workers=1)
    yield pool
    pool.close(timeout=WAIT)


def held(started: threading.Event, release: threading.Event, value: object = "answer") -> object:
    """A job that says it started, then waits to be released."""
    started.set()
    assert release.wait(WAIT)
    return value


def test_the_same_key_shares_one_job(jobs: Jobs):
    started, release, calls = threading.Event(), threading.Event(), []

    def counted() -> str:
        calls.append(1)
        return str(held(started, release))

    first = jobs.submit(("project", "passport"), counted)
    assert started.wait(WAIT)
    second = jobs.submit(("project", "passport"), counted)
    assert not first.done and not second.done
    assert second.progress == "running" and second.started > 0
    release.set()
    assert jobs.wait(("project", "passport"), WAIT).value == "answer"
    assert jobs.submit(("project", "passport"), counted).value == "answer"  # kept: answered at once
    assert calls == [1]
    assert jobs.state(("project", "licence")) is None


def test_a_queued_job_says_so_and_reports_progress(jobs: Jobs):
    started, release, reported = threading.Event(), threading.Event(), threading.Event()
    jobs.submit("first", held, started, release)
    assert started.wait(WAIT)
    assert jobs.submit("second", lambda: 1).progress == "queued"  # one worker, busy
    release.set()

    def talking() -> int:
        report_progress("rating 3 of 9 services")
        reported.set()
        assert release2.wait(WAIT)
        return 3

    release2 = threading.Event()
    jobs.submit("talking", talking)
    assert reported.wait(WAIT)
    assert jobs.state("talking").progress == "rating 3 of 9 services"
    release2.set()
    assert jobs.wait("talking", WAIT).progress == "done"


def test_errors_become_one_line_and_are_logged(jobs: Jobs, caplog: pytest.LogCaptureFixture):
    def broken() -> None:
        raise ValueError("no plan\nsecond line of detail")

    jobs.submit("broken", broken)
    state = jobs.wait("broken", WAIT)
    assert (state.done, state.value, state.error, state.progress) == (True, None, "ValueError: no plan", "failed")

    def refused() -> None:
        raise InvalidParameterError("the plan removes every activity", parameter="plan")

    jobs.submit("refused", refused)
    assert jobs.wait("refused", WAIT).error == "the plan removes every activity"  # a NajmaError says it plainly
    logged = [r.getMessage() for r in caplog.records if r.name == "najma.dashboards"]
    assert logged == ["a background job failed", "a background job failed: the plan removes every activity"]


def test_a_failure_is_shown_to_one_poll_then_the_next_submit_tries_again(jobs: Jobs):
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("the disk was full")
        return "fixed"

    jobs.submit("flaky", flaky)
    assert jobs.wait("flaky", WAIT).error == "ValueError: the disk was full"  # a script's wait is not a page's read
    seen = jobs.submit("flaky", flaky)  # a page polling by submitting sees the failure, and stops polling
    assert (seen.done, seen.error, calls) == (True, "ValueError: the disk was full", [1])
    assert jobs.state("flaky") is None  # forgotten once seen
    jobs.submit("flaky", flaky)  # the next ask tries again
    assert jobs.wait("flaky", WAIT).value == "fixed" and calls == [1, 1]
    assert jobs.state("flaky").value == "fixed" and jobs.state("flaky").value == "fixed"  # answers are kept


def test_an_owners_replaced_queued_job_is_cancelled(jobs: Jobs):
    started, release = threading.Event(), threading.Event()
    jobs.submit("running", held, started, release, owner="page-1")
    assert started.wait(WAIT)
    jobs.submit("first plan", str.upper, "a", owner="page-1")  # the running one is not cancelled: it cannot be
    jobs.submit("shared plan", str.upper, "b", owner="page-1")
    jobs.submit("shared plan", str.upper, "b", owner="page-2")
    assert jobs.state("first plan") is None  # queued and replaced by its only owner: cancelled and forgotten
    jobs.submit("second plan", str.upper, "c", owner="page-1")
    assert jobs.state("shared plan").progress == "queued"  # page 2 still waits for it
    assert jobs.busy()
    release.set()
    assert jobs.wait("running", WAIT).value == "answer"
    assert (jobs.wait("shared plan", WAIT).value, jobs.wait("second plan", WAIT).value) == ("B", "C")
    assert not jobs.busy()


def test_finished_jobs_are_kept_least_recently_used_first_forgotten(jobs: Jobs, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(_jobs, "KEPT", 2)
    for key in ("a", "b"):
        jobs.submit(key, str.upper, key)
        jobs.wait(key, WAIT)
    assert jobs.state("a").value == "A"  # read: "a" is now the most recently used
    jobs.submit("c", str.upper, "c")
    jobs.wait("c", WAIT)
    jobs.submit("d", str.upper, "d")  # a fourth: the oldest finished one beyond KEPT goes
    jobs.wait("d", WAIT)
    jobs.submit("e", str.upper, "e")
    assert jobs.state("b") is None and jobs.state("a") is None
    assert (jobs.state("c").value, jobs.state("d").value) == ("C", "D")


def test_a_running_job_is_never_forgotten(jobs: Jobs, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(_jobs, "KEPT", 0)
    started, release = threading.Event(), threading.Event()
    jobs.submit("long", held, started, release)
    assert started.wait(WAIT)
    jobs.submit("other", str.upper, "x")
    assert jobs.state("long") is not None
    release.set()
    assert jobs.wait("long", WAIT).value == "answer"


def test_close_cancels_queued_jobs_and_lets_the_running_one_finish():
    jobs = Jobs(workers=1)
    started, release = threading.Event(), threading.Event()
    jobs.submit("running", held, started, release)
    assert started.wait(WAIT)
    jobs.submit("queued", str.upper, "never")
    results: list[bool] = []
    closing = threading.Thread(target=lambda: results.append(jobs.close(timeout=WAIT)))
    closing.start()
    assert jobs.wait("queued", WAIT).error == "cancelled"
    assert jobs.submit("late", str.upper, "x").error == STOPPED
    assert not jobs.state("running").done  # close waits for it
    release.set()
    closing.join(WAIT)
    assert results == [True]
    assert jobs.state("running").value == "answer"


def test_close_says_when_a_job_is_still_running():
    jobs = Jobs(workers=1)
    started, release = threading.Event(), threading.Event()
    jobs.submit("running", held, started, release)
    assert started.wait(WAIT)
    assert jobs.close(timeout=0) is False
    release.set()
    assert jobs.wait("running", WAIT).done
