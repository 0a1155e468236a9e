"""A token bucket per JIRA site, shared by every thread that talks to that site.

JIRA Cloud limits requests per user and site; hitting the limit costs a 429 and a wait. The
bucket spaces requests out before JIRA has to complain: `acquire()` waits for a token (it never
fails), and `pause_until(t)` makes every thread wait when the server said `Retry-After`. When
JIRA still answers 429, `slow_down()` learns its limit: the rate and the burst halve (once per
round of 429s) until the server stops complaining.

Tokens are *reserved*: a caller takes a token even when the bucket is empty and is told how
long to wait for it. That keeps callers in arrival order and needs no wake-up signalling.

    bucket = limiter_for("https://acme.atlassian.net", settings["rate_limit"])
    waited = bucket.acquire()          # seconds slept, 0.0 when a token was free
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from data.site_url import site_url

DEFAULT_REQUESTS = 100
DEFAULT_PER_SECONDS = 10.0
#: The slowest a bucket learns to go after repeated 429s: one request per 20 s.
MIN_RATE = 0.05


def _validated(requests: int, per_seconds: float, burst: int | None) -> tuple[float, float]:
    """(tokens per second, capacity) for a rate limit; rejects a rate that is not positive."""
    if requests <= 0 or per_seconds <= 0:
        raise ValueError("rate limit needs requests > 0 and per_seconds > 0")
    return requests / per_seconds, float(max(1, burst if burst is not None else requests))


class TokenBucket:
    """A thread-safe token bucket: `requests` per `per_seconds`, at most `burst` saved up.

    `clock` must be monotonic; tests pass a fake one. Times given to `pause_until` are on the
    same clock.
    """

    def __init__(
        self,
        requests: int = DEFAULT_REQUESTS,
        per_seconds: float = DEFAULT_PER_SECONDS,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._rate, self._burst = _validated(requests, per_seconds, burst)
        self._tokens = self._burst
        self._stamp = clock()
        self._paused_until = 0.0
        self.configured = (self._rate, self._burst)
        self._slowed_at = float("-inf")

    def configure(self, requests: int, per_seconds: float, burst: int | None = None) -> None:
        """Change the rate (e.g. after the settings changed); saved tokens are kept, capped.
        What the bucket learned from 429s is forgotten: the new settings are the user's word."""
        rate, capacity = _validated(requests, per_seconds, burst)
        with self._lock:
            self._refill(self._clock())
            self._rate, self._burst = rate, capacity
            self._tokens = min(self._tokens, self._burst)
            self.configured = (rate, capacity)
            self._slowed_at = float("-inf")

    def now(self) -> float:
        """The bucket's clock: when a request is sent, for `slow_down`."""
        return self._clock()

    def slow_down(self, sent_at: float, limit: int | None = None) -> bool:
        """A 429 answered a request sent at `sent_at`: halve the rate and the burst (at most
        `limit`, the server's X-RateLimit-Limit) and spend the saved tokens, so that every
        thread slows at once. A 429 to a request sent before the last slow-down teaches nothing
        new (the old rate caused it) and returns False; True when the rate was lowered."""
        with self._lock:
            if sent_at < self._slowed_at:
                return False
            now = self._clock()
            self._refill(now)
            self._rate = max(MIN_RATE, self._rate / 2)
            cap = self._burst if limit is None or limit < 1 else min(self._burst, float(limit))
            self._burst = max(1.0, float(int(cap // 2)))
            self._tokens = min(self._tokens, 0.0)
            self._slowed_at = now
            return True

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    @property
    def burst(self) -> float:
        """The most tokens the bucket holds."""
        return self._burst

    def _refill(self, now: float) -> None:
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._stamp = now

    def reserve(self) -> float:
        """Take one token now; return how many seconds the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            return max(wait, self._paused_until - now, 0.0)

    def acquire(self, cancel: threading.Event | None = None) -> float:
        """Wait for a token; return the seconds waited. A set `cancel` event cuts the wait short."""
        wait = self.reserve()
        if wait > 0:
            if cancel is not None:
                cancel.wait(wait)
            else:
                self._sleep(wait)
        return wait

    def pause_until(self, until: float) -> None:
        """Make every caller wait until `until` (clock time), e.g. after a 429 with Retry-After."""
        with self._lock:
            self._paused_until = max(self._paused_until, until)

    def pause_for(self, seconds: float) -> float:
        """`pause_until(now + seconds)`; returns the resulting clock time."""
        until = self._clock() + max(0.0, seconds)
        self.pause_until(until)
        return until

    def paused_for(self) -> float:
        """Seconds left of a server-imposed pause (0.0 when none)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())


def site_key(url: str) -> str:
    """The identity of a JIRA site for rate limiting: the normalized URL's scheme, host and
    port (one bucket per server, whatever the context path)."""
    parts = urlsplit(site_url(url))
    return f"{parts.scheme}://{parts.netloc}"


_registry: dict[str, TokenBucket] = {}
_registry_lock = threading.Lock()


def limiter_for(url: str, rate_limit: Mapping[str, Any] | None = None) -> TokenBucket:
    """The one bucket for the site of `url`, created on first use, reconfigured when the
    settings (`settings["rate_limit"]`: requests, per_seconds, burst) changed."""
    cfg = rate_limit or {}
    requests = int(cfg.get("requests", DEFAULT_REQUESTS))
    per_seconds = float(cfg.get("per_seconds", DEFAULT_PER_SECONDS))
    burst = cfg.get("burst", requests)
    key = site_key(url)
    with _registry_lock:
        bucket = _registry.get(key)
        if bucket is None:
            bucket = _registry[key] = TokenBucket(requests, per_seconds, burst)
            return bucket
    if bucket.configured != _validated(requests, per_seconds, burst):
        bucket.configure(requests, per_seconds, burst)
    return bucket
