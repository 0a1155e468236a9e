"""`gc_paused` is the one switch for cyclic collection around large acyclic work."""

from __future__ import annotations

import gc
import threading

from data.gc_pause import gc_paused
from data.jira.sample_project import generate_issues


def test_pauses_nest_and_collection_comes_back_after_the_outermost():
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_in_another_thread_keeps_collection_off_until_both_ended():
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=other)
    worker.start()
    inside.wait(5)
    with gc_paused():
        pass
    assert not gc.isenabled()  # the other thread's pause is still running
    release.set()
    worker.join(5)
    assert gc.isenabled()


def test_collection_switched_off_by_the_caller_stays_off():
    gc.disable()
    try:
        assert len(generate_issues(5, 1)) == 5  # the sample generator pauses collection
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert len(generate_issues(5, 1)) == 5
    assert gc.isenabled()
