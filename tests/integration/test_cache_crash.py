"""A writer killed with SIGKILL at random moments never leaves a torn cache behind.

A child process writes a large cache over and over (full syncs and incremental merges, each
version distinguishable); the test kills it at random moments, several rounds, while this
process keeps loading. Every load is exactly one complete version, old or new.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from configuration.settings import PROJECT_ROOT
from data.storage.cache_manager import IssueCache

pytestmark = pytest.mark.slow

ISSUES = 3000
SITE = "https://example.atlassian.net"
JQL = "project = CRASH"
FIELDS = ["status", "updated", "customfield_1"]


def timestamp(version: int) -> str:
    """The `updated` of every issue at `version` (later versions are newer)."""
    moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=version)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def issues_of(version: int, count: int = ISSUES) -> list[dict]:
    """Version `version` of the cached issues: every issue says which version it belongs to."""
    return [
        {
            "id": str(n),
            "key": f"CRASH-{n}",
            "fields": {
                "updated": timestamp(version),
                "customfield_1": version,
                "description": f"issue {n} at version {version} " + "x" * 600,
            },
        }
        for n in range(count)
    ]


def write_forever(root: Path, start: int) -> None:
    """The writer child: full and incremental syncs of growing versions, until killed."""
    cache = IssueCache.for_query(root, SITE, JQL, FIELDS)
    version = start
    while True:
        version += 1
        mode = "full" if version % 2 or cache.load() is None else "incremental"
        with cache.begin_update(mode) as update:
            page = issues_of(version)
            for at in range(0, len(page), 500):
                update.add_issues(page[at : at + 500])
            update.commit(timestamp(version), [{"id": "1"}], [{"id": "customfield_1"}], "UTC")
        print(version, flush=True)


WRITER = (
    "import sys; from pathlib import Path\n"
    "from tests.integration.test_cache_crash import write_forever\n"
    "write_forever(Path(sys.argv[1]), int(sys.argv[2]))\n"
)


def assert_one_complete_version(cache: IssueCache) -> int:
    """The cache loads and equals exactly one version the writer produced; returns it."""
    loaded = cache.load()
    assert loaded is not None, "a killed writer left no loadable cache"
    version = loaded.issues[0]["fields"]["customfield_1"]
    assert loaded.issues == issues_of(version)
    assert loaded.meta["issue_count"] == ISSUES
    return version


def test_kill_9_during_writes_never_leaves_a_torn_cache(data_dir: Path):
    cache = IssueCache.for_query(data_dir, SITE, JQL, FIELDS)
    rng = random.Random(int.from_bytes(os.urandom(4)))
    last_version = 0
    seen_versions: set[int] = set()
    stop_reading = threading.Event()
    reader_errors: list[BaseException] = []
    reads = 0

    def read_while_writing():
        nonlocal reads
        while not stop_reading.is_set():
            try:
                if cache.path.exists():
                    seen_versions.add(assert_one_complete_version(cache))
                    reads += 1
            except BaseException as exc:
                reader_errors.append(exc)
                return

    reader = threading.Thread(target=read_while_writing, daemon=True)
    reader.start()
    try:
        for _ in range(6):
            writer = subprocess.Popen(
                [sys.executable, "-c", WRITER, str(data_dir), str(last_version)],
                cwd=PROJECT_ROOT,
                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                stdout=subprocess.PIPE,
                text=True,
            )
            first = writer.stdout.readline()  # at least one commit per round
            assert first.strip().isdigit(), "writer failed before its first commit"
            time.sleep(rng.uniform(0.0, 1.5))
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=30)
            committed = [int(first)] + [int(line) for line in writer.stdout.read().split()]

            version = assert_one_complete_version(cache)
            # the last reported commit or the one after it (killed after os.replace)
            assert committed[-1] <= version <= committed[-1] + 1
            last_version = version
    finally:
        stop_reading.set()
        reader.join(60)

    assert reader_errors == []
    assert reads > 0
    assert list(cache.path.parent.glob("*.corrupt-*")) == []  # nothing was ever torn
    # the dead writers' staging files are swept by the next writer
    with cache.begin_update("full") as update:
        leftovers = list(cache.path.parent.glob(f".{cache.path.name}.staging-*"))
        assert leftovers == [update.staging_path]
        update.abort()
