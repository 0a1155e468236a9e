"""Fixtures of the hand-worked metric tests: one report function per engine under test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.issue_builder import statuses
from tests.reference_metrics import ENGINE_PARAMS, ENGINES

#: The clock of the hand-worked tests, after every period they use.
NOW = datetime(2024, 4, 15, tzinfo=UTC)
#: [Mar 1 00:00, Mar 29 00:00) in UTC: 28 days, 4 weeks.
MARCH = "2024-03-01:2024-03-28"


@pytest.fixture(params=ENGINE_PARAMS)
def report(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    """`report(issues, period=..., **options)` on the engine under test (reference, fast)."""
    engine = ENGINES[request.param]

    def run(issues, period=MARCH, *, tz="UTC", now=NOW, **options):
        return engine(issues, statuses(), period=period, now=now, tz=tz, **options)

    return run
