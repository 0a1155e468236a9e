"""Issue 10.7: a full disk, a closed pipe, duplicate input keys and a killed writer's leftovers
end cleanly: one line (or silence), no traceback, nothing lost, nothing counted twice."""

from __future__ import annotations

import copy
import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import app
from configuration.settings import cache_dir, settings_path
from data.jira.fetcher import fetch_project
from data.jira.sample_project import write_sample
from data.storage.cache_file import CacheError
from data.storage.persistence import atomic_write_bytes, save_settings, sweep_leftovers
from tests.jira_emulator import JiraEmulator
from tests.jira_emulator.fixtures import FAST_LIMIT
from tests.jira_emulator.fixtures import settings_for as emulator_settings

PROJECT = Path(__file__).resolve().parent.parent.parent


def cache_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in cache_dir(root).glob("issues-*")}


class FullDisk:
    """A staging file on a disk that is full: every write fails with ENOSPC."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def write(self, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


@pytest.fixture
def disk_fills_while_pages_are_written(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.fdopen

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real(fd, *args, **kwargs)
        if ".staging-" in os.readlink(f"/proc/self/fd/{fd}"):
            return FullDisk(handle)
        return handle

    monkeypatch.setattr(os, "fdopen", fdopen)


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_full_disk_while_pages_are_written_is_one_line_and_keeps_the_old_cache(
    data_dir: Path, flavor: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture
) -> None:
    with JiraEmulator(flavor=flavor, issues=250, seed=3) as jira:
        settings = emulator_settings(jira, rate_limit=FAST_LIMIT)
        fetch_project(data_dir, settings)
        before = cache_bytes(data_dir)
        save_settings(data_dir, settings)
        request.getfixturevalue("disk_fills_while_pages_are_written")
        with pytest.raises(CacheError, match="free some disk space"):
            fetch_project(data_dir, settings, full=True)
        capsys.readouterr()
        assert app.main(["--data-dir", str(data_dir), "fetch", "--full"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Cannot write the cache")
    assert cache_bytes(data_dir) == before
    assert not list(cache_dir(data_dir).glob("*.staging-*"))


def test_metrics_into_a_closed_pipe_exits_quietly(tmp_path: Path, data_dir: Path) -> None:
    sample = tmp_path / "sample.json"
    write_sample(sample, issues=300, seed=4)
    reader = subprocess.Popen(  # `metrics --format csv | head -1`
        [sys.executable, str(PROJECT / "app.py"), "metrics", "--input", str(sample),
         "--format", "csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # the reader went away before the report was written
    stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 0
    assert stderr == ""


def test_duplicate_input_keys_are_merged_newest_wins_with_a_warning(
    tmp_path: Path, data_dir: Path
) -> None:
    sample = tmp_path / "sample.json"
    write_sample(sample, issues=200, seed=5)
    payload = json.loads(sample.read_text())
    older = copy.deepcopy(payload["issues"][:30])
    for issue in older:  # stale copies: older `updated`, and no longer done
        issue["fields"]["updated"] = "2000-01-01T00:00:00.000+0000"
        issue["fields"]["resolutiondate"] = None
    doubled = tmp_path / "doubled.json"
    doubled.write_text(json.dumps({**payload, "issues": older + payload["issues"]}))

    def report(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(PROJECT / "app.py"), "metrics", "--input", str(path),
             "--period", "365d"],
            capture_output=True, text=True, timeout=120, cwd=PROJECT,
            env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
        )  # fmt: skip

    plain, merged = report(sample), report(doubled)
    assert merged.returncode == 0, merged.stderr
    assert "30 issue key(s) more than once" in merged.stderr
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "dataset"}  # noqa: E731
    assert strip(merged.stdout) == strip(plain.stdout)
    assert json.loads(merged.stdout)["dataset"]["issues"] == 200


def test_temporary_files_of_a_killed_writer_are_removed_at_the_next_start(
    data_dir: Path,
) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead_pid = victim.pid
    victim.kill()
    victim.wait()
    tables = cache_dir(data_dir) / "tables"
    tables.mkdir(parents=True)
    leftovers = [
        data_dir / f".settings.json.{dead_pid}-abc123.tmp",
        cache_dir(data_dir) / f".issues-x.json.staging-{dead_pid}-beef.jsonl",
        tables / f".issues-x.npz.{dead_pid}-q1w2.tmp",
        cache_dir(data_dir) / ".issues-y.json.oldstyle.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half a file")
    old = time.time() - 3600
    os.utime(leftovers[-1], (old, old))
    alive = cache_dir(data_dir) / f".issues-z.json.{os.getpid()}-live.tmp"  # a live writer
    alive.write_bytes(b"being written")
    settings_path(data_dir).write_text("{}")

    assert sweep_leftovers(data_dir) == len(leftovers)
    assert [p for p in leftovers if p.exists()] == []
    assert alive.exists() and settings_path(data_dir).exists()


def test_a_start_sweeps_leftovers(data_dir: Path, tmp_path: Path) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "pass"])
    victim.wait()
    leftover = data_dir / f".settings.json.{victim.pid}-zz.tmp"
    leftover.write_bytes(b"{")
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), "sample", "--issues", "5",
         "--out", str(tmp_path / "s.json")],
        capture_output=True, text=True, timeout=120, cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not leftover.exists()


def test_atomic_writes_name_their_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(Path(a).name), real(a, b)))
    atomic_write_bytes(tmp_path / "x.json", b"{}")
    assert seen and seen[0].startswith(f".x.json.{os.getpid()}-")
