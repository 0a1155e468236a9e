"""Pytest fixtures for tests that need a JIRA: a started emulator per test, stopped after.

Use them from a conftest: `from tests.jira_emulator.fixtures import cloud_jira, dc_jira`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
