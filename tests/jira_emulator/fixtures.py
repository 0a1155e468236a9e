"""Pytest fixtures for tests that need a JIRA: a started emulator per test, stopped after.

Use them from a conftest: `from tests.jira_emulator.fixtures import cloud_jira, dc_jira`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from configuration.settings import default_settings
from tests.jira_emulator.server import CLOUD, DATACENTER, JiraEmulator

#: Small enough to start in a blink, large enough to page (the page cap is 100).
FIXTURE_ISSUES = 120


@pytest.fixture
def cloud_jira() -> Iterator[JiraEmulator]:
    """A started JIRA Cloud emulator with 120 sample issues (seed 42)."""
    with JiraEmulator(CLOUD, issues=FIXTURE_ISSUES) as jira:
        yield jira


@pytest.fixture
def dc_jira() -> Iterator[JiraEmulator]:
    """A started JIRA Data Center emulator with 120 sample issues (seed 42)."""
    with JiraEmulator(DATACENTER, issues=FIXTURE_ISSUES) as jira:
        yield jira


#: A client bucket and retry policy that never slow a test down.
FAST_LIMIT = {"requests": 2000, "per_seconds": 1, "burst": 2000, "max_attempts": 4,
              "max_backoff_seconds": 0.05, "workers": 4}  # fmt: skip


def settings_for(
    emulator: JiraEmulator, *, rate_limit: dict[str, Any] | None = None, **jira: Any
) -> dict[str, Any]:
    """The app's default settings pointed at `emulator` with its credentials.

    `jira` overrides keys of `settings["jira"]` (e.g. `token="wrong"`); `rate_limit` replaces
    the client's bucket and retry policy (tests pass FAST_LIMIT).
    """
    settings = default_settings()
    settings["jira"].update(
        {
            "url": emulator.url,
            "auth": "basic" if emulator.flavor == "cloud" else "bearer",
            "email": emulator.email,
            "token": emulator.token,
            "jql": f"project = {emulator.jql_project}",
            "timeout_seconds": 10,
            **jira,
        }
    )
    if rate_limit is not None:
        settings["rate_limit"] = dict(rate_limit)
    return settings
