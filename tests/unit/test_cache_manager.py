"""The issue cache, its validation, incremental merge, the in-memory layer and the metric cache.

Real files in the test's own data directory; nothing is mocked.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import sys
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from configuration.settings import PROJECT_ROOT, cache_dir, default_settings
from data.services.project import current_project
from data.storage.cache_file import SCHEMA_VERSION, CacheError
from data.storage.cache_manager import (
    SYSTEM_FIELDS,
    IssueCache,
    cache_status,
    fields_for_mappings,
    is_stale,
    issue_cache_key,
    load_project,
)
from data.storage.cache_memory import (
    clear_memory,
    metric_cache_for,
    project_cache_stats,
    session_cache_stats,
)
from data.storage.metric_cache import MetricCache, metric_cache_key

SITE = "https://example.atlassian.net"
JQL = "project = DEMO ORDER BY created"
STATUSES = [{"id": "1", "name": "To Do", "statusCategory": {"key": "new"}}]
FIELDS = [{"id": "customfield_10016", "name": "Story Points"}]


def make_issue(key: str, updated: str = "2024-01-10T10:00:00.000+0000", **extra: object) -> dict:
    """A raw JIRA issue as the search endpoint returns it (only what the cache looks at)."""
    return {"id": key.split("-")[1], "key": key, "fields": {"updated": updated, **extra}}


@pytest.fixture(autouse=True)
def _fresh_memory():
    clear_memory()
    yield
    clear_memory()


@pytest.fixture
def settings() -> dict:
    value = default_settings()
    value["jira"]["url"] = SITE
    value["jira"]["jql"] = JQL
    return value


@pytest.fixture
def cache(data_dir: Path, settings: dict) -> IssueCache:
    return IssueCache.for_settings(data_dir, settings)


def commit_full(cache: IssueCache, issues: list[dict], **kwargs: object):
    with cache.begin_update("full") as update:
        update.add_issues(issues)
        return update.commit(
            kwargs.get("cursor", "2024-01-11T00:00:00+00:00"),
            kwargs.get("statuses", STATUSES),
            kwargs.get("fields", FIELDS),
            kwargs.get("tz", "Europe/Berlin"),
        )


# -- keys and fields ----------------------------------------------------------------------------


def test_key_changes_with_site_jql_and_fields():
    fields = ["status", "created"]
    base = issue_cache_key(SITE, JQL, fields)
    assert issue_cache_key("https://other.atlassian.net", JQL, fields) != base
    assert issue_cache_key(SITE, "project = OTHER", fields) != base
    assert issue_cache_key(SITE, JQL, [*fields, "customfield_1"]) != base


def test_key_ignores_field_order_jql_spacing_and_trailing_slash():
    base = issue_cache_key(SITE, JQL, ["status", "created"])
    assert issue_cache_key(SITE, JQL, ["created", "status"]) == base
    assert issue_cache_key(
        SITE, "  project  =   DEMO\n ORDER BY\tcreated ", ["status", "created"]
    ) == (base)
    assert issue_cache_key(SITE + "/", JQL, ["status", "created"]) == base
    assert issue_cache_key("HTTPS://Example.Atlassian.NET", JQL, ["status", "created"]) == base
    assert len(base) == 64 and int(base, 16) >= 0


def test_fields_for_default_mappings_are_the_system_fields():
    assert fields_for_mappings(default_settings()["mappings"]) == [
        "summary",
        "issuetype",
        "status",
        "created",
        "updated",
        "resolutiondate",
        "resolution",
        "fixVersions",
        "labels",
        "issuelinks",
    ]


def test_fields_for_mappings_add_every_mapped_custom_field_once():
    mappings = default_settings()["mappings"]
    mappings.update(
        environment_field="customfield_1",
        deployment_success_field="customfield_2",
        production_impact_field="customfield_3",
        incident_detected_field="customfield_4",
        incident_resolved_field="customfield_5",
        commit_date_field="customfield_6",
        deployed_date_field="customfield_7",
        story_points_field="customfield_8",
        deployment_time_field="customfield_9",
    )
    fields = fields_for_mappings(mappings)
    assert fields[len(SYSTEM_FIELDS) :] == [f"customfield_{n}" for n in range(1, 10)]
    mappings["story_points_field"] = "customfield_1"
    assert fields_for_mappings(mappings).count("customfield_1") == 1


def test_mapping_a_new_custom_field_moves_to_another_cache(data_dir: Path, settings: dict):
    before = IssueCache.for_settings(data_dir, settings)
    settings["mappings"]["story_points_field"] = "customfield_10016"
    after = IssueCache.for_settings(data_dir, settings)
    assert before.path != after.path
    settings["mappings"]["failure_by_time_window"] = False  # not a field: same cache
    assert IssueCache.for_settings(data_dir, settings).path == after.path


# -- round trip ---------------------------------------------------------------------------------


def test_round_trip_returns_exactly_what_was_committed(cache: IssueCache):
    issues = [make_issue(f"DEMO-{n}", summary=f"é ü {n}", points=n / 3) for n in range(1, 51)]
    written = commit_full(cache, issues)
    loaded = cache.load()
    assert loaded is not None
    assert loaded.issues == issues
    assert loaded.statuses == STATUSES and loaded.fields == FIELDS
    assert loaded.meta == written.meta
    assert loaded.meta["issue_count"] == 50
    assert loaded.meta["sync_mode"] == "full"
    assert loaded.sync_cursor == "2024-01-11T00:00:00+00:00"
    assert loaded.user_time_zone == "Europe/Berlin"
    assert loaded.meta["site"] == SITE and loaded.meta["jql"] == JQL
    assert cache.path.name == f"issues-{cache.key[:16]}.json"
    assert cache.path.parent == cache_dir(cache.root)


def test_cache_file_is_private_to_the_user(cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1", assignee={"displayName": "Ada Lovelace"})])
    assert cache.path.stat().st_mode & 0o777 == 0o600


def test_dataset_version_changes_with_content_and_not_without(cache: IssueCache):
    first = commit_full(cache, [make_issue("DEMO-1")]).version
    again = commit_full(cache, [make_issue("DEMO-1")]).version
    changed = commit_full(cache, [make_issue("DEMO-1", "2024-02-01T00:00:00.000+0000")]).version
    other_statuses = commit_full(cache, [make_issue("DEMO-1")], statuses=[]).version
    assert first == again
    assert len({first, changed, other_statuses}) == 3


def test_datetime_sync_cursor_is_stored_as_iso(cache: IssueCache):
    cursor = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    commit_full(cache, [make_issue("DEMO-1")], cursor=cursor)
    assert cache.load().sync_cursor == "2024-03-01T12:30:00+00:00"


def test_no_file_loads_as_none_without_warning(cache: IssueCache, caplog):
    with caplog.at_level(logging.WARNING):
        assert cache.load() is None
    assert caplog.records == []


def test_credentials_in_the_site_url_never_reach_the_key_or_the_file(data_dir: Path):
    cache = IssueCache.for_query(
        data_dir, "https://bob:s3cr3t-T0ken@example.atlassian.net", JQL, []
    )
    assert cache.key == issue_cache_key(SITE, JQL, [])
    commit_full(cache, [make_issue("DEMO-1")])
    assert b"s3cr3t" not in cache.path.read_bytes()
    assert cache.read_meta()["site"] == SITE


def test_read_meta_copes_with_metadata_larger_than_the_head_it_reads(cache: IssueCache):
    warnings = [f"warning {n}: " + "w" * 1000 for n in range(1500)]  # 1.5 MB of metadata
    with cache.begin_update("full") as update:
        update.add_issues([make_issue("DEMO-1")])
        update.commit(None, [], [], None, warnings=warnings)
    assert cache.read_meta()["warnings"] == warnings
    clear_memory()
    assert cache.load().to_project().warnings == tuple(warnings)


def test_read_meta_gives_the_metadata_without_the_issues(cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1"), make_issue("DEMO-2")])
    meta = cache.read_meta()
    assert meta == cache.load().meta
    assert "issues" not in meta


# -- validation ---------------------------------------------------------------------------------


def _truncate(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _not_json(raw: bytes) -> bytes:
    return b"{this is not json" + raw


def _old_schema(raw: bytes) -> bytes:
    current = f'"schema_version":{SCHEMA_VERSION}'.encode()
    # 4 had no rework field, 3 no flag changes, 2 no summary, 1 was not lean
    assert SCHEMA_VERSION == 5 and current in raw
    return raw.replace(current, b'"schema_version":4', 1)


def _edited_issue(raw: bytes) -> bytes:
    # still valid JSON, same length: only the checksum can tell
    return raw.replace(b'"DEMO-2"', b'"DEMO-9"', 1)


def _dropped_issue(raw: bytes) -> bytes:
    document = orjson.loads(raw)
    document["issues"].pop()
    return orjson.dumps(document)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_not_json, "not valid JSON"),
        (_truncate, "not valid JSON"),
        (_old_schema, "schema version 4, expected 5 (an older format"),
        (_edited_issue, "checksum mismatch"),
        (_dropped_issue, "not valid JSON"),  # its issues no longer end where the head says
    ],
    ids=["corrupt-json", "truncated", "wrong-schema", "bad-checksum", "wrong-count"],
)
def test_bad_file_is_set_aside_logged_and_replaced_by_the_next_commit(
    cache: IssueCache, caplog, damage, reason
):
    commit_full(cache, [make_issue("DEMO-1"), make_issue("DEMO-2"), make_issue("DEMO-3")])
    bad = damage(cache.path.read_bytes())
    cache.path.write_bytes(bad)
    clear_memory()  # found by a new process (this one would serve the copy it validated)

    with caplog.at_level(logging.WARNING, logger="data.storage.cache_manager"):
        assert cache.load() is None

    aside = list(cache.path.parent.glob(f"{cache.path.name}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == bad
    assert not cache.path.exists()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and reason in warnings[0].getMessage()
    assert reason in warnings[0].reason  # the structured field carries it too

    commit_full(cache, [make_issue("DEMO-4")])
    assert [i["key"] for i in cache.load().issues] == ["DEMO-4"]


def test_a_file_replaced_while_being_validated_is_not_set_aside(cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1")])
    bad_signature = (1, 2, 3)  # what a reader saw before a writer replaced the file
    cache._set_aside("checksum mismatch", bad_signature)
    assert list(cache.path.parent.glob("*.corrupt-*")) == []
    assert [i["key"] for i in cache.load().issues] == ["DEMO-1"]


def test_a_file_written_for_another_key_is_not_trusted(data_dir: Path, cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1")])
    impostor = IssueCache(data_dir, cache.key[:16] + "0" * 48)
    assert impostor.path == cache.path
    assert impostor.load() is None


def test_only_a_few_set_aside_files_are_kept(cache: IssueCache):
    for _ in range(6):
        commit_full(cache, [make_issue("DEMO-1")])
        cache.path.write_bytes(b"garbage")
        clear_memory()
        assert cache.load() is None
    assert len(list(cache.path.parent.glob("*.corrupt-*"))) == 3


# -- updates: staging, incremental merge, abort -------------------------------------------------


def test_pages_are_staged_on_disk_as_they_arrive(cache: IssueCache):
    with cache.begin_update("full") as update:
        update.add_issues([make_issue("DEMO-1"), make_issue("DEMO-2")])
        update.add_issues([make_issue("DEMO-3")])
        lines = update.staging_path.read_bytes().splitlines()
        assert [orjson.loads(line)["key"] for line in lines] == ["DEMO-1", "DEMO-2", "DEMO-3"]
        assert not cache.path.exists()
        update.commit(None, [], [], None)
    assert not update.staging_path.exists()
    assert cache.load().meta["issue_count"] == 3


def test_incremental_merge_newer_updated_wins_and_removed_keys_go(cache: IssueCache):
    commit_full(
        cache,
        [
            make_issue("DEMO-1", "2024-01-10T10:00:00.000+0000", summary="old one"),
            make_issue("DEMO-2", "2024-01-10T10:00:00.000+0000", summary="old two"),
            make_issue("DEMO-3", "2024-01-10T10:00:00.000+0000", summary="three"),
        ],
    )
    created = cache.load().meta["created"]
    with cache.begin_update("incremental") as update:
        update.add_issues(
            [
                make_issue("DEMO-1", "2024-01-12T09:00:00.000+0100", summary="new one"),
                # an older copy than the cached one never replaces it
                make_issue("DEMO-2", "2024-01-09T10:00:00.000+0000", summary="stale two"),
                make_issue("DEMO-4", "2024-01-12T10:00:00.000+0000", summary="four"),
            ]
        )
        update.remove_keys(["DEMO-3"])
        merged = update.commit("2024-01-12T11:00:00+00:00", None, None, "Europe/Berlin")

    loaded = cache.load()
    assert loaded.issues == merged.issues
    assert [(i["key"], i["fields"]["summary"]) for i in loaded.issues] == [
        ("DEMO-1", "new one"),
        ("DEMO-2", "old two"),
        ("DEMO-4", "four"),
    ]
    assert loaded.statuses == STATUSES and loaded.fields == FIELDS  # None keeps them
    assert loaded.meta["sync_mode"] == "incremental"
    assert loaded.meta["created"] == created and loaded.meta["syncs"] == 2
    assert loaded.sync_cursor == "2024-01-12T11:00:00+00:00"


def test_same_issue_twice_in_one_sync_keeps_the_newer_copy(cache: IssueCache):
    with cache.begin_update("full") as update:
        update.add_issues([make_issue("DEMO-1", "2024-01-12T00:00:00.000+0000", summary="new")])
        update.add_issues([make_issue("DEMO-1", "2024-01-11T00:00:00.000+0000", summary="old")])
        update.commit(None, [], [], None)
    assert [i["fields"]["summary"] for i in cache.load().issues] == ["new"]


def test_abort_leaves_the_old_cache_byte_identical(cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1")])
    before = cache.path.read_bytes()
    update = cache.begin_update("incremental")
    update.add_issues([make_issue("DEMO-2")])
    update.remove_keys(["DEMO-1"])
    update.abort()
    assert cache.path.read_bytes() == before
    assert not update.staging_path.exists()
    with pytest.raises(RuntimeError):
        update.add_issues([make_issue("DEMO-3")])


def test_an_exception_inside_the_update_aborts_it(cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1")])
    before = cache.path.read_bytes()
    with pytest.raises(ConnectionError), cache.begin_update("full") as update:
        update.add_issues([make_issue("DEMO-2")])
        raise ConnectionError("JIRA went away")
    assert cache.path.read_bytes() == before
    assert not update.staging_path.exists()
    assert list(cache.path.parent.glob(".*staging*")) == []


def test_incremental_update_without_a_cache_asks_for_a_full_one(cache: IssueCache):
    with cache.begin_update("incremental") as update:
        update.add_issues([make_issue("DEMO-1")])
        with pytest.raises(CacheError, match="run a full update"):
            update.commit(None, [], [], None)
    assert not cache.path.exists()
    assert not update.staging_path.exists()


def test_a_cache_that_cannot_be_written_is_a_one_line_error_and_keeps_nothing(
    cache: IssueCache,
):
    cache.path.mkdir(parents=True)  # something in the way of the final rename
    with cache.begin_update("full") as update:
        update.add_issues([make_issue("DEMO-1")])
        with pytest.raises(CacheError, match=r"Cannot write the cache in .*data folder") as caught:
            update.commit(None, [], [], None)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in cache.path.parent.iterdir()) == [cache.path.name]


def test_a_data_folder_that_cannot_hold_a_cache_is_a_one_line_error(data_dir: Path, settings):
    (data_dir / "cache").write_text("not a folder")
    with pytest.raises(CacheError, match="Cannot write the cache"):
        IssueCache.for_settings(data_dir, settings).begin_update("full")


def test_an_issue_without_a_key_is_refused(cache: IssueCache):
    with cache.begin_update("full") as update, pytest.raises(ValueError, match="'key'"):
        update.add_issues([{"fields": {}}])


def test_staging_left_by_a_dead_writer_is_swept(cache: IssueCache):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    folder = cache.path.parent
    folder.mkdir(parents=True, exist_ok=True)
    orphan = folder / f".{cache.path.name}.staging-{dead.stdout.strip()}-abcd.jsonl"
    orphan.write_bytes(b"{}\n")
    abandoned = folder / f".{cache.path.name}.staging-{os.getppid()}-efgh.jsonl"
    abandoned.write_bytes(b"{}\n")
    os.utime(abandoned, (0, 0))  # untouched for decades: its pid was reused
    live = folder / f".{cache.path.name}.staging-{os.getppid()}-ijkl.jsonl"
    live.write_bytes(b"{}\n")  # a live writer's (the pid exists, recently written)
    with cache.begin_update("full") as update:
        assert not orphan.exists()
        assert not abandoned.exists()
        assert live.exists()
        assert update.staging_path.exists()  # our own is kept
        assert update.staging_path.stat().st_mode & 0o777 == 0o600
        update.abort()


# -- the in-memory layer ------------------------------------------------------------------------


def test_unchanged_file_is_read_once(data_dir: Path, settings: dict):
    commit_full(IssueCache.for_settings(data_dir, settings), [make_issue("DEMO-1")])
    clear_memory()  # as a fresh process would be

    first = load_project(data_dir, settings)
    second = load_project(data_dir, settings)
    assert second is first
    assert project_cache_stats()["loads"] == 1
    assert project_cache_stats()["hits"] == 1
    assert first.source == "jira" and first.time_zone == "Europe/Berlin"
    assert [i["key"] for i in first.issues] == ["DEMO-1"]
    assert first.version == IssueCache.for_settings(data_dir, settings).load().version


def test_a_file_replaced_by_another_process_is_read_again(
    data_dir: Path, tmp_path: Path, settings: dict
):
    cache = IssueCache.for_settings(data_dir, settings)
    commit_full(cache, [make_issue("DEMO-1")])
    clear_memory()
    first = load_project(data_dir, settings)

    elsewhere = IssueCache.for_settings(tmp_path / "elsewhere", settings)
    commit_full(elsewhere, [make_issue("DEMO-1"), make_issue("DEMO-2")])
    shutil.copyfile(elsewhere.path, cache.path.with_name("incoming"))
    os.replace(cache.path.with_name("incoming"), cache.path)

    second = load_project(data_dir, settings)
    assert second is not first
    assert [i["key"] for i in second.issues] == ["DEMO-1", "DEMO-2"]
    assert second.version != first.version


def test_a_commit_in_this_process_needs_no_reread(data_dir: Path, settings: dict):
    cache = IssueCache.for_settings(data_dir, settings)
    commit_full(cache, [make_issue("DEMO-1")])
    clear_memory()
    load_project(data_dir, settings)
    commit_full(cache, [make_issue("DEMO-1"), make_issue("DEMO-2")])
    project = load_project(data_dir, settings)
    assert len(project.issues) == 2
    assert project_cache_stats()["loads"] == 1


NO_CHANGE_SYNC = """
import sys
from pathlib import Path
from data.storage.cache_manager import IssueCache

cache = IssueCache.for_query(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].split(","))
with cache.begin_update("incremental") as update:
    update.commit("2024-02-01T00:00:00+00:00", None, None, "Europe/Berlin")
"""


def test_a_sync_that_changed_nothing_elsewhere_costs_a_head_read(data_dir: Path, settings: dict):
    cache = IssueCache.for_settings(data_dir, settings)
    commit_full(cache, [make_issue(f"DEMO-{n}") for n in range(1, 200)])
    clear_memory()
    before = load_project(data_dir, settings)

    subprocess.run(
        [sys.executable, "-c", NO_CHANGE_SYNC, str(data_dir), SITE, JQL, ",".join(cache.fields)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        check=True,
    )
    after = load_project(data_dir, settings)
    assert after.issues is before.issues  # not parsed again
    assert after.version == before.version
    assert cache.load().sync_cursor == "2024-02-01T00:00:00+00:00"
    assert cache.load().meta["syncs"] == 2
    assert project_cache_stats()["loads"] == 1
    assert project_cache_stats()["refreshes"] == 1


def test_incremental_commit_reuses_the_loaded_cache(cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1")])
    clear_memory()
    assert cache.load() is not None
    with cache.begin_update("incremental") as update:
        update.add_issues([make_issue("DEMO-2")])
        update.commit(None, None, None, "Europe/Berlin")
    assert project_cache_stats()["loads"] == 1
    assert [i["key"] for i in cache.load().issues] == ["DEMO-1", "DEMO-2"]


def test_deleted_cache_is_forgotten(data_dir: Path, settings: dict):
    cache = IssueCache.for_settings(data_dir, settings)
    commit_full(cache, [make_issue("DEMO-1")])
    assert load_project(data_dir, settings) is not None
    cache.path.unlink()
    assert load_project(data_dir, settings) is None


def test_current_project_is_the_cache_when_jira_is_configured(data_dir: Path, settings: dict):
    commit_full(IssueCache.for_settings(data_dir, settings), [make_issue("DEMO-7")])
    project = current_project(data_dir, settings)
    assert project.source == "jira"
    assert [i["key"] for i in project.issues] == ["DEMO-7"]


def test_current_project_is_empty_when_jira_is_configured_but_not_fetched(
    data_dir: Path, settings: dict
):
    project = current_project(data_dir, settings)
    assert project.source == "jira"
    assert project.issues == []


def test_current_project_is_the_sample_without_jira(data_dir: Path):
    project = current_project(data_dir, default_settings())
    today = datetime.now(UTC).date().isoformat()
    assert project.source == "sample"
    assert len(project.issues) == 1500
    assert project.version == f"sample-{today}-1500-42"
    assert project.statuses and project.fields
    assert current_project(data_dir, default_settings()) is project


# -- status and staleness -----------------------------------------------------------------------


def test_status_without_a_cache_says_so_and_is_stale(data_dir: Path, settings: dict):
    status = cache_status(data_dir, settings)
    assert status["exists"] is False
    assert status["issues"] == 0
    assert status["last_sync"] is None
    assert status["stale"] is True


def test_status_counts_issues_and_ages_against_the_ttl(data_dir: Path, settings: dict):
    commit_full(IssueCache.for_settings(data_dir, settings), [make_issue("DEMO-1")] * 1)
    synced = datetime.fromisoformat(cache_status(data_dir, settings)["last_sync"])

    fresh = cache_status(data_dir, settings, now=synced + timedelta(hours=23))
    assert fresh["exists"] is True and fresh["issues"] == 1
    assert fresh["age_hours"] == 23.0 and fresh["stale"] is False
    assert fresh["sync_mode"] == "full"

    old = cache_status(data_dir, settings, now=synced + timedelta(hours=24))
    assert old["stale"] is True

    settings["cache"]["ttl_hours"] = 48
    assert cache_status(data_dir, settings, now=synced + timedelta(hours=24))["stale"] is False


def test_is_stale_rules():
    now = datetime(2024, 5, 2, 12, tzinfo=UTC)
    assert is_stale("2024-05-01T12:00:01+00:00", 24, now=now) is False
    assert is_stale("2024-05-01T12:00:00+00:00", 24, now=now) is True
    assert is_stale(None, 24, now=now) is True
    assert is_stale("2020-01-01T00:00:00+00:00", None, now=now) is False


# -- the metric result cache --------------------------------------------------------------------


def test_metric_key_depends_on_each_part():
    base = metric_cache_key("v1", "m1", "30d")
    assert metric_cache_key("v1", "m1", "30d") == base
    assert (
        len(
            {
                base,
                metric_cache_key("v2", "m1", "30d"),
                metric_cache_key("v1", "m2", "30d"),
                metric_cache_key("v1", "m1", "90d"),
            }
        )
        == 4
    )


def test_metric_results_survive_a_restart(data_dir: Path):
    key = metric_cache_key("v1", "m1", "30d")
    report = {"deployment_frequency": {"values": {"per_day": 1.25}, "n": 5}}
    first = MetricCache(data_dir)
    assert first.get(key) is None
    first.put(key, report)
    assert first.get(key) == report

    restarted = MetricCache(data_dir)
    assert restarted.get(key) == report
    assert restarted.stats() == {"hits": 1, "misses": 0, "puts": 0, "hit_rate": 1.0}
    assert first.stats() == {"hits": 1, "misses": 1, "puts": 1, "hit_rate": 0.5}


def test_corrupt_metric_entry_is_a_miss_and_is_removed(data_dir: Path, caplog):
    key = metric_cache_key("v1", "m1", "7d")
    MetricCache(data_dir).put(key, {"x": 1})
    entry = cache_dir(data_dir) / "metrics" / f"{key}.json"
    entry.write_bytes(b'{"key": "')
    fresh = MetricCache(data_dir)
    with caplog.at_level(logging.WARNING, logger="data.storage.cache_manager"):
        assert fresh.get(key) is None
    assert not entry.exists()
    assert "unreadable" in caplog.text
    assert fresh.stats()["misses"] == 1


def test_metric_cache_keeps_a_bounded_number_of_entries(data_dir: Path):
    cache = MetricCache(data_dir, max_entries=5)
    keys = [metric_cache_key("v", "m", f"{n}d") for n in range(12)]
    for key in keys:
        cache.put(key, {"n": 1})
    assert len(list((cache_dir(data_dir) / "metrics").glob("*.json"))) == 5


def test_metric_cache_refuses_keys_it_did_not_make(data_dir: Path):
    with pytest.raises(ValueError):
        MetricCache(data_dir).get("../../settings")


def test_metric_cache_for_a_data_directory_is_shared(data_dir: Path, tmp_path: Path):
    shared = metric_cache_for(data_dir)
    assert metric_cache_for(data_dir) is shared
    assert metric_cache_for(tmp_path) is not shared


def test_issues_are_parsed_on_first_use_and_a_wrong_count_then_says_what_to_do(cache):
    commit_full(cache, [make_issue("DEMO-1"), make_issue("DEMO-2"), make_issue("DEMO-3")])
    raw = cache.path.read_bytes()
    assert raw.count(b'"issue_count":3') == 1
    cache.path.write_bytes(raw.replace(b'"issue_count":3', b'"issue_count":4'))
    clear_memory()
    loaded = cache.load()  # the bytes match their checksum: the file is accepted
    assert loaded is not None and not loaded.issues.is_parsed and len(loaded.issues) == 4
    with pytest.raises(CacheError, match="click Update data to fetch it again"):
        list(loaded.issues)


def test_loaded_issues_are_kept_out_of_garbage_collections(cache: IssueCache):
    commit_full(cache, [make_issue(f"DEMO-{n}") for n in range(1, 201)])
    clear_memory()
    frozen_before = gc.get_freeze_count()
    loaded = cache.load()
    assert loaded.issues[0]["key"] == "DEMO-1"  # parsed on first use, then frozen
    # each issue is two dicts (the issue and its fields): all in the permanent generation
    assert gc.get_freeze_count() - frozen_before >= 2 * 200
    assert not any(obj is loaded.issues.parsed() for obj in gc.get_objects())


def test_parsing_issues_never_freezes_garbage_that_was_waiting_for_a_collection(
    cache: IssueCache,
):
    commit_full(cache, [make_issue(f"DEMO-{n}") for n in range(1, 51)])
    clear_memory()
    loaded = cache.load()

    class Node:
        pass

    cycle = Node()
    cycle.self = cycle  # only the cyclic collector can free it
    gone = weakref.ref(cycle)
    del cycle
    assert loaded.issues[0]["key"] == "DEMO-1"  # the parse, then the freeze
    gc.collect()
    assert gone() is None


def test_loading_leaves_garbage_collection_as_it_was(cache: IssueCache):
    commit_full(cache, [make_issue("DEMO-1")])
    clear_memory()
    assert gc.isenabled()
    assert cache.load() is not None
    assert gc.isenabled()
    cache.path.write_bytes(b"[1, 2")
    clear_memory()
    assert cache.load() is None  # a failed parse too
    assert gc.isenabled()
    gc.disable()
    try:
        commit_full(cache, [make_issue("DEMO-1")])
        clear_memory()
        assert cache.load() is not None
        assert not gc.isenabled()  # not switched on behind the caller's back
    finally:
        gc.enable()


def test_session_hit_rate_counts_issue_and_metric_cache_lookups(data_dir: Path, settings: dict):
    commit_full(IssueCache.for_settings(data_dir, settings), [make_issue("DEMO-1")])
    clear_memory()  # a fresh session
    metrics = MetricCache(data_dir)
    key = metric_cache_key(load_project(data_dir, settings).version, "m", "30d")  # miss
    metrics_shared = metric_cache_for(data_dir)
    assert metrics_shared.get(key) is None  # miss
    metrics_shared.put(key, {"n": 1})
    for _ in range(3):
        load_project(data_dir, settings)  # hits
        assert metrics_shared.get(key) == {"n": 1}  # hits
    stats = session_cache_stats(data_dir)
    assert (stats["hits"], stats["lookups"]) == (6, 8)
    assert stats["hit_rate"] == 0.75
    assert metrics.stats()["hits"] == 0  # another instance counts on its own


def test_a_metric_result_that_cannot_be_stored_is_still_served(data_dir: Path, caplog):
    cache_dir(data_dir).mkdir(parents=True)
    (cache_dir(data_dir) / "metrics").write_text("not a folder")
    cache = MetricCache(data_dir)
    key = metric_cache_key("v1", "m1", "30d")
    with caplog.at_level(logging.WARNING, logger="data.storage.cache_manager"):
        cache.put(key, {"n": 3})
    assert "metric result not stored" in caplog.text
    assert cache.get(key) == {"n": 3}
