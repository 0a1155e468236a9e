"""Several processes writing the same log files across rotations: no line lost, none torn."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from configuration.logging_config import setup_logging, shutdown_logging
from configuration.settings import default_settings

PROJECT = Path(__file__).resolve().parents[2]
LINES = 1500
MAX_BYTES = 40_000
BACKUPS = 60  # room for every line, so a missing line means a lost one
SIZES = (str(MAX_BYTES), str(BACKUPS))

WRITER = """
import logging, sys, time
from pathlib import Path
from configuration.logging_config import setup_logging
from configuration.settings import default_settings

folder, name, lines, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
settings = default_settings()
settings["logging"].update({"max_bytes": int(sys.argv[5]), "backups": int(sys.argv[6])})
setup_logging(settings, folder)
while not go.exists():
    time.sleep(0.005)
log = logging.getLogger("writer")
for seq in range(lines):
    log.info("line %d from %s %s", seq, name, "x" * (seq % 90),
             extra={"writer": name, "seq": seq})
    if seq % 100 == 0:
        log.error("error %d from %s", seq, name, extra={"writer": name, "seq": seq})
"""


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    shutdown_logging()
    yield
    shutdown_logging()


def read_all(folder: Path, base: str) -> list[dict]:
    """Every line of the file and its backups, each parsed (a torn line fails here)."""
    entries = []
    for path in folder.glob(f"{base}*"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"{path.name} line {number + 1} is not one JSON object: {line[:120]}")
    return entries


def by_writer(entries: list[dict]) -> Counter:
    return Counter((e["writer"], e["seq"]) for e in entries if "writer" in e)


@pytest.mark.slow
def test_two_processes_writing_across_rotations_lose_and_tear_no_line(tmp_path: Path):
    folder = tmp_path / "logs"
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), name, str(LINES), str(go), *SIZES],
            cwd=PROJECT,
            stderr=subprocess.DEVNULL,
        )
        for name in ("cli", "server")
    ]
    time.sleep(0.5)  # both have set up logging and wait for the start signal
    go.touch()
    assert [w.wait(timeout=120) for w in writers] == [0, 0]

    app = read_all(folder, "app.log")
    counts = by_writer(app)
    expected = {(name, seq) for name in ("cli", "server") for seq in range(LINES)}
    assert set(counts) == expected
    assert max(counts.values()) <= 2  # an INFO line, and at most one ERROR line, per seq
    assert len([e for e in app if "writer" in e]) == 2 * LINES + 2 * (LINES // 100)
    assert len(list(folder.glob("app.log.*"))) >= 5, "the run must cross several rotations"
    pids = {e["process"] for e in app if "writer" in e}
    assert len(pids) == 2

    errors = read_all(folder, "errors.log")
    assert by_writer(errors) == Counter(
        {(name, seq): 1 for name in ("cli", "server") for seq in range(0, LINES, 100)}
    )


def _child(count: int) -> None:
    log = logging.getLogger("child")
    for seq in range(count):
        log.info("child line %d", seq, extra={"writer": "child", "seq": seq})


@pytest.mark.slow
def test_forked_child_like_a_background_callback_shares_the_files_safely(tmp_path: Path):
    settings = default_settings()
    settings["logging"].update({"max_bytes": MAX_BYTES, "backups": BACKUPS})
    setup_logging(settings, tmp_path)
    child = multiprocessing.get_context("fork").Process(target=_child, args=(LINES,))
    child.start()
    log = logging.getLogger("parent")
    for seq in range(LINES):
        log.info("parent line %d", seq, extra={"writer": "parent", "seq": seq})
    child.join(timeout=120)
    assert child.exitcode == 0
    for handler in logging.getLogger().handlers:
        handler.flush()

    counts = by_writer(read_all(tmp_path, "app.log"))
    assert counts == Counter(
        {(name, seq): 1 for name in ("parent", "child") for seq in range(LINES)}
    )
    assert list(tmp_path.glob("app.log.*")), "the run must cross a rotation"


def run_app(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_start_up_logs_version_paths_and_log_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FLOWDASH_JIRA_TOKEN", "cli-token-Zx81Qw")
    out = tmp_path / "sample.json"
    done = run_app(
        "sample",
        "--issues",
        "5",
        "--out",
        str(out),
        "--data-dir",
        str(tmp_path / "d"),
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr

    entries = read_all(tmp_path / "d" / "logs", "app.log")
    [start] = [e for e in entries if e["message"] == "start-up"]
    assert start["version"] and start["command"] == "sample"
    assert start["data_dir"] == str(tmp_path / "d")
    assert start["settings_path"] == str(tmp_path / "d" / "settings.json")
    [configured] = [e for e in entries if e["message"] == "logging configured"]
    assert configured["folder"] == str(tmp_path / "d" / "logs")
    assert configured["log_level"] == "INFO" and configured["backups"] == 5
    assert "cli-token-Zx81Qw" not in (tmp_path / "d" / "logs" / "app.log").read_text()
    assert json.loads(out.read_text())  # the command itself did its work


def test_cli_with_an_unwritable_log_folder_still_runs_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FLOWDASH_LOG_DIR", str(blocker / "logs"))
    out = tmp_path / "sample.json"
    done = run_app("sample", "--issues", "5", "--out", str(out), env=dict(os.environ))

    assert done.returncode == 0
    assert done.stderr.count("cannot be written") == 1
    assert "logging to the console only" in done.stderr
    assert out.exists()


@pytest.mark.slow
def test_failed_cli_fetch_is_diagnosable_from_errors_log_and_no_log_holds_a_secret(
    tmp_path: Path,
):
    from tests.jira_emulator import JiraEmulator

    wrong_token = "wrong-token-Qz81Lk27"
    with JiraEmulator(flavor="cloud", issues=20, seed=3) as jira:
        jira.set_faults(error_503_every=2)  # retries get logged too
        env = {
            **os.environ,
            "FLOWDASH_DATA_DIR": str(tmp_path),
            "MY_TOKEN": wrong_token,
            "LOG_LEVEL": "DEBUG",  # the most there is to leak: urllib3 lines included
        }
        flags = ["--jira-url", jira.url, "--jql", "project = DEMO", "--email", jira.email,
                 "--token-env", "MY_TOKEN", "--auth", "basic"]  # fmt: skip
        done = run_app("fetch", *flags, env=env)
        email = jira.email

    assert done.returncode == 2
    failed = [line for line in done.stderr.splitlines() if "Wrong credentials" in line]
    assert len(failed) == 1 and failed[0].startswith("error: ")  # printed once
    [failure] = read_all(tmp_path / "logs", "errors.log")
    assert failure["operation"] == "fetch"
    assert failure["message"] == "fetch failed: " + failed[0].removeprefix("error: ")
    assert failure["error"].endswith("Error")  # the exception class, for a search
    written = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log")) + done.stderr
    assert "jira_retry" in written and "urllib3" in written
    assert wrong_token not in written
    assert email not in written
