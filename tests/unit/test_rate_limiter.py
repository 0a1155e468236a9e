"""The token bucket: spacing, burst, server pauses, one bucket per site, real threads."""

from __future__ import annotations

import threading
import time

import pytest

from data.rate_limiter import TokenBucket, limiter_for, site_key


class FakeClock:
    """A clock that moves only when slept on, so waits can be asserted exactly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_bucket(requests: int = 10, per_seconds: float = 10.0, burst: int | None = None):
    clock = FakeClock()
    return TokenBucket(requests, per_seconds, burst, clock=clock, sleep=clock.sleep), clock


def test_full_bucket_serves_the_burst_without_waiting():
    bucket, clock = make_bucket(requests=10, per_seconds=10, burst=5)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == [0.0] * 5
    assert clock.slept == []


def test_after_the_burst_requests_are_spaced_at_the_rate():
    bucket, clock = make_bucket(requests=10, per_seconds=10, burst=2)  # one token per second
    bucket.acquire()
    bucket.acquire()
    assert bucket.acquire() == pytest.approx(1.0)
    assert bucket.acquire() == pytest.approx(1.0)
    assert clock.now == pytest.approx(1002.0)


def test_reservations_queue_up_in_arrival_order():
    bucket, _ = make_bucket(requests=2, per_seconds=1, burst=1)  # one token per 0.5 s
    assert bucket.reserve() == 0.0
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.5, 1.0, 1.5])


def test_idle_time_refills_up_to_the_burst_only():
    bucket, clock = make_bucket(requests=10, per_seconds=10, burst=3)
    for _ in range(3):
        bucket.acquire()
    clock.now += 100.0  # long idle: would be 100 tokens without the cap
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(1.0)


def test_pause_until_makes_every_caller_wait_for_the_server():
    bucket, clock = make_bucket(requests=100, per_seconds=10)
    bucket.pause_for(7.0)
    assert bucket.paused_for() == pytest.approx(7.0)
    assert bucket.reserve() == pytest.approx(7.0)
    assert bucket.reserve() == pytest.approx(7.0)
    clock.now += 7.0
    assert bucket.paused_for() == 0.0
    assert bucket.reserve() == 0.0


def test_an_earlier_pause_never_shortens_a_later_one():
    bucket, clock = make_bucket()
    bucket.pause_until(clock.now + 10)
    bucket.pause_until(clock.now + 3)
    assert bucket.paused_for() == pytest.approx(10.0)


def test_reconfiguring_changes_the_rate_and_caps_saved_tokens():
    bucket, _ = make_bucket(requests=100, per_seconds=10, burst=100)
    bucket.configure(1, 1, 2)
    assert bucket.rate == 1.0
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 1.0])


@pytest.mark.parametrize("requests, per_seconds", [(0, 10), (10, 0), (-1, 1)])
def test_a_rate_that_is_not_positive_is_refused(requests, per_seconds):
    with pytest.raises(ValueError):
        TokenBucket(requests, per_seconds)


def test_a_cancel_event_cuts_a_wait_short():
    bucket = TokenBucket(1, 60, 1)
    bucket.acquire()
    cancel = threading.Event()
    cancel.set()
    started = time.monotonic()
    assert bucket.acquire(cancel) == pytest.approx(60.0, abs=0.5)
    assert time.monotonic() - started < 5


def test_one_bucket_per_site_whatever_the_path_or_case():
    a = limiter_for("https://Acme.example.com/jira/rest", {"requests": 50, "per_seconds": 10})
    b = limiter_for("https://acme.example.com/other", {"requests": 50, "per_seconds": 10})
    c = limiter_for("https://acme.example.com:8443/", {"requests": 50, "per_seconds": 10})
    assert a is b
    assert a is not c
    assert site_key("HTTPS://Acme.example.com/x") == "https://acme.example.com"


def test_changed_settings_reconfigure_the_sites_bucket():
    first = limiter_for("http://reconfigure.example", {"requests": 100, "per_seconds": 10})
    again = limiter_for("http://reconfigure.example", {"requests": 20, "per_seconds": 10})
    assert first is again
    assert again.rate == pytest.approx(2.0)
    assert again.burst == 20.0


def test_real_threads_share_one_bucket_and_are_held_to_its_rate():
    """8 threads hammering one bucket: 40 tokens with 5 saved up at 50/s take >= 0.7 s.

    (Only a lower bound: a loaded machine can delay a thread, never make the bucket faster.)
    """
    bucket = TokenBucket(requests=50, per_seconds=1, burst=5)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            bucket.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(starts) == 40
    starts.sort()
    assert starts[-1] - began >= 35 / 50 - 0.02
    assert bucket.reserve() > 0  # the bucket is spent: the next caller waits
