"""Sample-generator datasets for the benchmarks, generated once per session, and quick mode.

`sample_issues(n)` are the generator's full issues (about 8 status transitions each).
`cached_issues(n)` are the same issues as the app stores them: `jira_parser.lean_issue` over
the fields the mappings need, exactly as the fetcher applies it to every page.
`sample_cache(n)` is a data folder holding them in a real issue cache file, written by
`data.storage.cache_manager`; `sample_project(n)` is the ProjectData its reader hands the engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from configuration.settings import default_settings
from data.jira.jira_parser import lean_issue
from data.jira.sample_project import fields, generate_issues, statuses
from data.storage.cache_manager import IssueCache, fields_for_mappings, load_project
from data.storage.cache_memory import clear_memory
from data.storage.project_data import ProjectData

#: `BENCHMARKS=quick` (CI): every benchmark runs once on a small project, so that none of
#: them rots; the size-bound targets are then not judged. The README's figures come from full
#: runs (`BENCHMARKS=1`).
QUICK = os.environ.get("BENCHMARKS", "").strip().lower() == "quick"
QUICK_ISSUES = 1_000


def bench_sizes(*full: int) -> list[int]:
    """The project sizes a benchmark runs at: `full`, or the one small size in quick mode."""
    return [QUICK_ISSUES] if QUICK else list(full)


def bench_rounds(full: int) -> int:
    """Timed rounds: `full`, or one in quick mode."""
    return 1 if QUICK else full


def bench_warmup(full: int) -> int:
    """Warm-up rounds: `full`, or none in quick mode."""
    return 0 if QUICK else full


def judged() -> bool:
    """Whether a speed or size target is checked (not in quick mode: the sizes are small)."""
    return not QUICK


#: A fixed `now`, so every run measures the same data and the same 90-day window.
BENCH_NOW = datetime(2024, 6, 1, tzinfo=UTC)
BENCH_SEED = 20240601
#: The generator's rework chance that gives about 8 status transitions per issue.
BENCH_REWORK = 0.6
#: Settings of the benchmark "site": default mappings, UTC.
BENCH_SETTINGS: dict[str, Any] = {
    **default_settings(),
    "time_zone": "UTC",
    "jira": {**default_settings()["jira"], "url": "https://bench.example", "jql": "project = DEMO"},
}


@pytest.fixture(scope="session")
def sample_issues() -> Callable[[int], list[dict]]:
    """`sample_issues(n)`: n full sample issues (about 8 status transitions each), made once."""
    made: dict[int, list[dict]] = {}

    def get(count: int) -> list[dict]:
        if count not in made:
            made[count] = generate_issues(count, BENCH_SEED, now=BENCH_NOW, rework=BENCH_REWORK)
        return made[count]

    return get


@pytest.fixture(scope="session")
def cached_issues(sample_issues: Callable[[int], list[dict]]) -> Callable[[int], list[dict]]:
    """`cached_issues(n)`: the sample issues in the shape the issue cache stores."""
    wanted = fields_for_mappings(BENCH_SETTINGS["mappings"])
    made: dict[int, list[dict]] = {}

    def get(count: int) -> list[dict]:
        if count not in made:
            made[count] = [lean_issue(issue, wanted) for issue in sample_issues(count)]
        return made[count]

    return get


@pytest.fixture(scope="session")
def sample_cache(
    cached_issues: Callable[[int], list[dict]], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[int], Path]:
    """`sample_cache(n)`: a data folder whose issue cache (for BENCH_SETTINGS) holds n issues,
    written through `IssueCache.begin_update` / `commit` like a full fetch."""
    made: dict[int, Path] = {}

    def get(count: int) -> Path:
        if count not in made:
            root = tmp_path_factory.mktemp(f"bench-data-{count}")
            issues = cached_issues(count)
            with IssueCache.for_settings(root, BENCH_SETTINGS).begin_update("full") as update:
                for start in range(0, len(issues), 1000):  # pages, as a fetch writes them
                    update.add_issues(issues[start : start + 1000])
                update.commit(BENCH_NOW, statuses(), fields(), "UTC")
            made[count] = root
        return made[count]

    return get


@pytest.fixture(scope="session")
def sample_project(sample_cache: Callable[[int], Path]) -> Callable[[int], ProjectData]:
    """`sample_project(n)`: the ProjectData `load_project` reads from the sample cache."""
    made: dict[int, ProjectData] = {}

    def get(count: int) -> ProjectData:
        if count not in made:
            clear_memory()
            project = load_project(sample_cache(count), BENCH_SETTINGS)
            assert project is not None and len(project.issues) == count
            made[count] = project
        return made[count]

    return get
