"""Issue 10.6: against a JIRA limited to 10 requests per 10 s, a fresh fetch with the default
settings succeeds every time: the client learns the limit from the 429s."""

from __future__ import annotations

from pathlib import Path

import pytest

from configuration.settings import default_settings
from data.jira.fetcher import fetch_project
from data.jira.jira_client import JiraClient, JiraRateLimitedError
from data.rate_limiter import TokenBucket
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import settings_for


@pytest.mark.parametrize("run", [1, 2])
@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_fresh_fetch_against_10_per_10_s_succeeds(tmp_path: Path, flavor: str, run: int) -> None:
    with JiraEmulator(flavor=flavor, issues=1200, seed=run, rate_limit=(10, 10.0)) as jira:
        settings = settings_for(jira, rate_limit=default_settings()["rate_limit"])
        summary = fetch_project(tmp_path / "data", settings)
        assert summary.issues == 1200
        assert jira.counters["by_status"].get(429, 0) >= 1  # the limit was really hit


def test_giving_up_names_the_setting_to_lower() -> None:
    with JiraEmulator(flavor="datacenter", issues=10, rate_limit=(1, 600.0)) as jira:
        limits = {**default_settings()["rate_limit"], "max_attempts": 1}
        client = JiraClient(jira.url, "bearer", token=jira.token, rate_limit=limits)
        client.request("GET", "/rest/api/2/serverInfo")  # spends the server's only token
        with pytest.raises(JiraRateLimitedError) as caught:
            client.request("GET", "/rest/api/2/myself")
    message = str(caught.value)
    assert "rate_limit.requests (now 100 per 10 s)" in message
    assert "rate_limit.workers (now 4)" in message


def test_a_429_halves_rate_and_burst_once_per_round() -> None:
    clock = [0.0]
    bucket = TokenBucket(100, 10, 100, clock=lambda: clock[0], sleep=lambda s: None)
    sent = bucket.now()
    clock[0] = 1.0
    assert bucket.slow_down(sent, limit=10) is True
    assert (bucket.rate, bucket.burst) == (5.0, 5.0)
    assert bucket.slow_down(sent, limit=10) is False  # sent before the slow-down: no news
    assert bucket.rate == 5.0
    assert bucket.reserve() > 0  # the saved tokens are spent: every thread slows at once
    clock[0] = 2.0
    assert bucket.slow_down(bucket.now()) is True
    assert (bucket.rate, bucket.burst) == (2.5, 2.0)


def test_new_settings_forget_what_the_bucket_learned() -> None:
    bucket = TokenBucket(100, 10, 100)
    bucket.slow_down(bucket.now())
    bucket.configure(50, 10, 50)
    assert (bucket.rate, bucket.burst) == (5.0, 50.0)
