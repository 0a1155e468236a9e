"""Sample-generator datasets for the calculation benchmarks, generated once per session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from data.project import ProjectData
from data.sample_project import generate_issues, search_response, statuses

#: A fixed `now`, so every run measures the same data and the same 90-day window.
BENCH_NOW = datetime(2024, 6, 1, tzinfo=UTC)
BENCH_SEED = 20240601


@pytest.fixture(scope="session")
def sample_issues() -> Callable[[int], list[dict]]:
    """`sample_issues(n)`: n sample issues (about 8 status transitions each), made once."""
    made: dict[int, list[dict]] = {}

    def get(count: int) -> list[dict]:
        if count not in made:
            made[count] = generate_issues(count, BENCH_SEED, now=BENCH_NOW)
        return made[count]

    return get


@pytest.fixture(scope="session")
def sample_project(sample_issues: Callable[[int], list[dict]]) -> Callable[[int], ProjectData]:
    """`sample_project(n)`: the issues as the ProjectData the app hands to the engine."""
    made: dict[int, ProjectData] = {}

    def get(count: int) -> ProjectData:
        if count not in made:
            made[count] = ProjectData(sample_issues(count), statuses(), version=f"bench-{count}")
        return made[count]

    return get


@pytest.fixture(scope="session")
def sample_file(
    sample_issues: Callable[[int], list[dict]], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[int], Path]:
    """`sample_file(n)`: the issues written with orjson as a search response (the cold path)."""
    folder = tmp_path_factory.mktemp("bench-cache")
    made: dict[int, Path] = {}

    def get(count: int) -> Path:
        if count not in made:
            path = folder / f"issues-{count}.json"
            path.write_bytes(orjson.dumps(search_response(sample_issues(count))))
            made[count] = path
        return made[count]

    return get
