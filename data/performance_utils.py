"""Timing of operations into `performance.log`: one context manager that is also a decorator.

    with timed("metric", metric="flow_time", period="30d") as t:
        result = compute()
        t.fields["n"] = result["n"]

    @timed("normalize")
    def normalize(...): ...

On exit one INFO record goes to the `performance` logger (which `setup_logging` routes to
performance.log and app.log) with `operation`, `duration_ms`, `status` and the fields.
Exceptions propagate; the record then says `status: failed` and names the error class.
Expected control flow (Dash's PreventUpdate, a cancelled fetch) says `status: stopped`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from contextvars import ContextVar
from time import perf_counter
from types import TracebackType
from typing import Any

PERFORMANCE_LOGGER = "performance"

log = logging.getLogger(PERFORMANCE_LOGGER)

#: Exception class names (anywhere in the class hierarchy) that end an operation on purpose.
EXPECTED_STOPS = frozenset({"PreventUpdate", "CancelledError", "FetchCancelled", "Cancelled"})

# Field names LogRecord owns; passing them as `extra` would raise, so they get a "_field" suffix.
_RESERVED = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName", "operation", "duration_ms", "status"}
)


class timed(ContextDecorator):
    """Times a block or a function and logs one performance record on exit."""

    __slots__ = ("_start", "duration_ms", "fields", "operation")

    def __init__(self, operation: str, /, **fields: Any) -> None:
        self.operation = operation
        self.fields: dict[str, Any] = fields
        self.duration_ms: float | None = None
        self._start = 0.0

    def _recreate_cm(self) -> timed:
        # A decorated function gets a fresh timer per call, so fields never leak between calls.
        return timed(self.operation, **self.fields)

    def __enter__(self) -> timed:
        self._start = perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.duration_ms = round((perf_counter() - self._start) * 1000.0, 3)
        if not log.isEnabledFor(logging.INFO):
            return
        extra: dict[str, Any] = {"operation": self.operation, "duration_ms": self.duration_ms}
        if exc_type is None:
            extra["status"] = "ok"
        elif any(cls.__name__ in EXPECTED_STOPS for cls in exc_type.__mro__):
            extra["status"] = "stopped"
        else:
            extra["status"] = "failed"
            extra["error"] = exc_type.__name__
        fields = self.fields
        if fields.keys() & _RESERVED:
            fields = {(f"{k}_field" if k in _RESERVED else k): v for k, v in fields.items()}
        extra.update(fields)
        log.info("%s %s", self.operation, extra["status"], extra=extra)


_counting_lookups: ContextVar[bool] = ContextVar("flowdash_counting_lookups", default=True)


def counting_lookups() -> bool:
    """Whether cache lookups made now count in the hit statistics (see `uncounted`)."""
    return _counting_lookups.get()


@contextmanager
def uncounted() -> Iterator[None]:
    """Cache lookups inside are left out of the hit statistics.

    Warming a cache (computing what a view will probably ask for next) is work, not a view's
    lookup; counting it would blur the hit rate that the statistics report.
    """
    token = _counting_lookups.set(False)
    try:
        yield
    finally:
        _counting_lookups.reset(token)
