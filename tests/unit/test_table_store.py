"""The normalized issue table kept on disk: a restart reads it instead of normalizing, and
only for the issues, mappings and zone it was built for.

Real cache files in the test's own data directory, written the way a fetch writes them.
"""

from __future__ import annotations

import logging
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from configuration.settings import default_settings
from data.engine import dataset as dataset_module
from data.engine.dataset import build_dataset
from data.engine.issue_table import IssueTable
from data.jira.sample_project import fields as sample_fields
from data.jira.sample_project import generate_issues, statuses
from data.services.metrics_service import report_for_project
from data.storage.cache_manager import IssueCache, load_project
from data.storage.cache_memory import clear_memory
from data.storage.table_store import load_table, save_table

NOW = datetime(2024, 6, 1, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def settings() -> dict:
    value = default_settings()
    value["jira"]["url"] = "https://example.atlassian.net"
    value["jira"]["jql"] = "project = DEMO"
    value["time_zone"] = "UTC"
    return value


@pytest.fixture
def data_dir(tmp_path: Path, settings: dict) -> Path:
    """A data folder whose issue cache holds 300 sample issues, as a fetch writes it."""
    with IssueCache.for_settings(tmp_path, settings).begin_update("full") as update:
        update.add_issues(generate_issues(300, 5, now=NOW))
        update.commit(NOW, statuses(), sample_fields(), "UTC")
    return tmp_path


@pytest.fixture(autouse=True)
def fresh_process() -> None:
    clear_memory()
    dataset_module.clear_caches()


def restart() -> None:
    """What a new process starts with: nothing in memory."""
    clear_memory()
    dataset_module.clear_caches()


def assert_tables_equal(first: object, second: object) -> None:
    for spec in fields(first):
        a, b = getattr(first, spec.name), getattr(second, spec.name)
        if is_dataclass(a):
            assert_tables_equal(a, b)
        else:
            assert a.dtype == b.dtype, spec.name
            if a.dtype == object:
                assert a.tolist() == b.tolist(), spec.name
            else:
                np.testing.assert_array_equal(a, b, err_msg=spec.name)  # NaN equals NaN


def test_a_restart_reads_the_table_instead_of_normalizing(data_dir: Path, settings: dict) -> None:
    project = load_project(data_dir, settings)
    first = build_dataset(project, settings["mappings"], UTC_ZONE)
    assert first.records_built == 300
    assert project.table_file is not None and project.table_file.exists()
    restart()
    again = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    assert again.records_built == 0
    assert again.version == first.version
    assert_tables_equal(again.table, first.table)


def test_a_restart_with_the_kept_table_never_parses_the_issues(data_dir, settings) -> None:
    build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    restart()
    project = load_project(data_dir, settings)
    assert len(project.issues) == 300 and not project.issues.is_parsed
    report = report_for_project(project, settings, "90d", now=NOW)
    assert report["dataset"]["issues"] == 300
    assert not project.issues.is_parsed  # the numbers came from the kept table alone
    assert project.issues[0]["key"] and project.issues.is_parsed  # parsed when asked for


def test_a_table_survives_the_round_trip_with_every_column(tmp_path: Path, data_dir, settings):
    table = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE).table
    assert isinstance(table, IssueTable) and None in table.flow_type.tolist()
    path = tmp_path / "copy.npz"
    header = {"project_version": "v1", "context": "c1", "rows": len(table)}
    save_table(path, table, header)
    loaded, stored = load_table(path, header)
    assert_tables_equal(loaded, table)
    assert stored["project_version"] == "v1"


def test_a_table_is_used_only_for_its_project_version_context_and_size(
    tmp_path, data_dir, settings
):
    table = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE).table
    path = tmp_path / "table.npz"
    header = {"project_version": "v1", "context": "c1", "rows": len(table)}
    save_table(path, table, header)
    for other in ({"project_version": "v2"}, {"context": "c2"}, {"rows": len(table) + 1}):
        assert load_table(path, {**header, **other}) is None


def test_other_mappings_normalize_again_and_replace_the_kept_table(data_dir, settings) -> None:
    build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    restart()
    mappings = {**settings["mappings"], "status_states": {"in review": "Waiting"}}
    other = build_dataset(load_project(data_dir, settings), mappings, UTC_ZONE)
    assert other.records_built == 300
    restart()
    assert build_dataset(load_project(data_dir, settings), mappings, UTC_ZONE).records_built == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a zip file"),
        lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
        lambda path: path.write_bytes(b""),
    ],
    ids=["garbage", "half-written", "empty"],
)
def test_a_damaged_table_is_normalized_again_and_rewritten(
    data_dir: Path, settings: dict, damage, caplog: pytest.LogCaptureFixture
) -> None:
    project = load_project(data_dir, settings)
    first = build_dataset(project, settings["mappings"], UTC_ZONE)
    damage(project.table_file)
    restart()
    with caplog.at_level(logging.WARNING):
        again = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    assert again.records_built == 300
    assert again.version == first.version
    assert any(getattr(r, "operation", "") == "table_load" for r in caplog.records)
    restart()
    healed = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    assert healed.records_built == 0


def test_a_table_with_inconsistent_columns_is_not_used(tmp_path: Path, data_dir, settings) -> None:
    table = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE).table
    table.spans.row = table.spans.row[::-1].copy()  # child rows out of order
    path = tmp_path / "table.npz"
    header = {"project_version": "v1", "context": "c1", "rows": len(table)}
    save_table(path, table, header)
    assert load_table(path, header) is None


def test_the_sample_project_keeps_no_table(settings) -> None:
    from data.services.project import sample_project

    project = sample_project(NOW)
    assert project.table_file is None
    assert build_dataset(project, settings["mappings"], UTC_ZONE).issues == len(project.issues)
    assert np.all(build_dataset(project, settings["mappings"], UTC_ZONE).table.created > 0)


def test_a_table_kept_under_an_earlier_format_is_normalized_again(
    data_dir: Path, settings: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from data.storage import table_store

    current = table_store.TABLE_FORMAT
    monkeypatch.setattr(table_store, "TABLE_FORMAT", current - 1)  # as an older release wrote
    build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    restart()
    monkeypatch.setattr(table_store, "TABLE_FORMAT", current)
    again = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    assert again.records_built == 300


def test_a_report_stored_under_an_earlier_format_is_not_served(
    data_dir: Path, settings: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from data.engine.field_mapper import full_mappings, mappings_hash
    from data.engine.periods import parse_period
    from data.services import metrics_service
    from data.storage.cache_memory import metric_cache_for

    project = load_project(data_dir, settings)
    digest = mappings_hash(full_mappings(settings["mappings"]))
    per = parse_period("90d", NOW, UTC_ZONE)
    current = metrics_service.STORED_REPORT_FORMAT
    monkeypatch.setattr(metrics_service, "STORED_REPORT_FORMAT", current - 1)
    old_key = metrics_service._stored_key(project, digest, UTC_ZONE, per)
    metric_cache_for(data_dir).put(old_key, {"stale": True})
    # under the old format the stale report is what a view gets ...
    assert report_for_project(project, settings, "90d", now=NOW, root=data_dir) == {"stale": True}
    metrics_service.clear_report_cache()
    restart()
    # ... under the current one it is computed afresh
    monkeypatch.setattr(metrics_service, "STORED_REPORT_FORMAT", current)
    fresh = report_for_project(
        load_project(data_dir, settings), settings, "90d", now=NOW, root=data_dir
    )
    assert "stale" not in fresh and fresh["dataset"]["issues"] == 300


def test_two_projects_built_in_turn_each_read_their_own_kept_table(
    tmp_path: Path, data_dir: Path, settings: dict
) -> None:
    """Switching workspaces: the last build of another project is no base for this one."""
    other_root = tmp_path / "other"
    with IssueCache.for_settings(other_root, settings).begin_update("full") as update:
        update.add_issues(generate_issues(200, 9, now=NOW))
        update.commit(NOW, statuses(), sample_fields(), "UTC")
    first = build_dataset(load_project(data_dir, settings), settings["mappings"], UTC_ZONE)
    second = build_dataset(load_project(other_root, settings), settings["mappings"], UTC_ZONE)
    assert (first.records_built, second.records_built) == (300, 200)
    dataset_module.clear_caches()  # the datasets are gone, the tables are kept on disk
    for root, issues in ((data_dir, 300), (other_root, 200), (data_dir, 300)):
        again = build_dataset(load_project(root, settings), settings["mappings"], UTC_ZONE)
        assert (again.issues, again.records_built) == (issues, 0)
