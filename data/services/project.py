"""The project the dashboard shows: the JIRA cache when JIRA is configured, else the sample.

`ProjectData` is the hand-over between fetching (the cache) and calculating (the dataset):
raw JIRA issues in the search response's shape, plus the `/status` and `/field` lists.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from configuration.settings import jira_configured
from data.lru import LRU
from data.storage.cache_manager import load_project
from data.storage.project_data import ProjectData

SAMPLE_ISSUES = 1500
SAMPLE_SEED = 42


_sample_memo: LRU[str, ProjectData] = LRU(1)  # one day at a time
_sample_guard = threading.Lock()


def current_project(root: Path, settings: dict[str, Any]) -> ProjectData:
    """The project to show: the JIRA cache when JIRA is configured, else the bundled sample.

    JIRA configured but nothing cached yet gives an empty project with source "jira" (the page
    then says "no data yet: click Update data"); a bad cache file is set aside and also gives
    the empty project. Memoized: an unchanged cache or sample is never rebuilt.
    """
    if jira_configured(settings):
        project = load_project(root, settings)
        if project is not None:
            return project
        return ProjectData(issues=[], source="jira", version="jira-empty")
    return sample_project()


def sample_project(now: datetime | None = None) -> ProjectData:
    """The deterministic sample project for today's UTC date (built once per day)."""
    from data.jira import sample_project as sample

    moment = now or datetime.now(UTC)
    day = moment.astimezone(UTC).date()
    version = f"sample-{day.isoformat()}-{SAMPLE_ISSUES}-{SAMPLE_SEED}"
    with _sample_guard:
        cached = _sample_memo.get(version)
        if cached is None:
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            cached = ProjectData(
                issues=sample.generate_issues(SAMPLE_ISSUES, SAMPLE_SEED, now=midnight),
                statuses=sample.statuses(),
                fields=sample.fields(),
                version=version,
                source="sample",
            )
            _sample_memo.put(version, cached)
        return cached
