"""Issue 10.8: logs are 0600; the data directory and every folder below it 0700."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from configuration.settings import make_private_dir, secure_data_dir
from data.storage.persistence import atomic_write_bytes

PROJECT = Path(__file__).resolve().parent.parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_command_leaves_private_logs_and_folders(tmp_path: Path) -> None:
    from data.jira.sample_project import write_sample

    sample_file = tmp_path / "sample.json"
    write_sample(sample_file, issues=60, seed=1)
    root = tmp_path / "fresh" / "data"
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), "metrics", "--input", str(sample_file)],
        capture_output=True, text=True, timeout=120, cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(root), "LOG_LEVEL": "INFO"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert mode(root) == 0o700
    assert mode(root / "logs") == 0o700
    logs = sorted((root / "logs").glob("*.log"))
    assert {p.name for p in logs} >= {"app.log", "errors.log", "performance.log"}
    assert {p.name: mode(p) for p in logs} == {p.name: 0o600 for p in logs}


def test_existing_wide_folders_and_logs_are_narrowed_at_start(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "cache" / "tables").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "logs" / "app.log").write_text("")
    for path in (root, root / "cache", root / "cache" / "tables", root / "logs"):
        os.chmod(path, 0o755)
    os.chmod(root / "logs" / "app.log", 0o644)
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), "sample", "--issues", "5",
         "--out", str(tmp_path / "s.json")],
        capture_output=True, text=True, timeout=120, cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(root)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for path in (root, root / "cache", root / "cache" / "tables", root / "logs"):
        assert mode(path) == 0o700, path
    assert mode(root / "logs" / "app.log") == 0o600


def test_folders_the_cache_writer_creates_are_private(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    target = tmp_path / "new" / "cache" / "tables" / "x.npz"
    atomic_write_bytes(target, b"x")
    for folder in (target.parent, target.parent.parent, target.parent.parent.parent):
        assert mode(folder) == 0o700, folder
    assert mode(tmp_path) == 0o755  # an existing folder keeps its own mode


def test_secure_data_dir_creates_a_missing_data_directory_private(tmp_path: Path) -> None:
    root = make_private_dir(tmp_path / "a" / "b")
    secure_data_dir(root)
    assert mode(root) == 0o700 and mode(tmp_path / "a") == 0o700
