"""The read-ahead thread of ingest: order kept, errors raised where they belong, early stops clean."""

from __future__ import annotations

import threading

import pytest

from najma.journeys._read_ahead import read_ahead


def test_results_come_in_order_and_are_prepared_in_another_thread():
    threads = set()

    def prepare(n: int) -> int:
        threads.add(threading.current_thread().name)
        return n * 10

    assert list(read_ahead(range(50), prepare)) == [n * 10 for n in range(50)]
    assert threads == {"najma-read-ahead"}


def test_an_error_while_reading_is_raised_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("truncated file")

    seen = []
    with pytest.raises(ValueError, match="truncated file"):
        for value in read_ahead(items(), lambda n: n):
            seen.append(value)
    assert seen == [1, 2]


def test_stopping_early_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def items():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    results = read_ahead(items(), lambda n: n)
    assert next(results) == 1
    results.close()
    assert closed.wait(5)
    assert not any(t.name == "najma-read-ahead" for t in threading.enumerate())
