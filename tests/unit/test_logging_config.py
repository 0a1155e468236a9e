"""setup_logging: console plus JSON-lines files, idempotent, rotated, retained, fail-safe."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from configuration import logging_config
from configuration.logging_config import delete_old_logs, setup_logging, shutdown_logging
from configuration.settings import default_settings


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    shutdown_logging()
    yield
    shutdown_logging()


def settings(**logging_options: object) -> dict:
    chosen = default_settings()
    chosen["logging"].update(logging_options)
    return chosen


def flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def lines(path: Path) -> list[dict]:
    flush()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def ours() -> list[logging.Handler]:
    return list(logging_config._installed)


def test_three_json_lines_files_and_a_console_are_installed(tmp_path: Path):
    setup_logging(settings(), tmp_path / "logs")

    assert {p.name for p in (tmp_path / "logs").glob("*.log")} == {
        "app.log",
        "errors.log",
        "performance.log",
    }
    assert len(ours()) == 4
    assert all(h in logging.getLogger().handlers for h in ours())


def test_every_entry_has_timestamp_with_offset_level_logger_message_and_extras(tmp_path: Path):
    setup_logging(settings(), tmp_path)
    logging.getLogger("data.jira.fetcher").info(
        "fetch done", extra={"operation": "fetch", "issues": 12, "duration_ms": 3.5}
    )

    entry = lines(tmp_path / "app.log")[-1]
    assert entry["level"] == "INFO"
    assert entry["logger"] == "data.jira.fetcher"
    assert entry["message"] == "fetch done"
    assert (entry["operation"], entry["issues"], entry["duration_ms"]) == ("fetch", 12, 3.5)
    stamp = entry["timestamp"]
    assert stamp[:4].isdigit() and "T" in stamp
    assert stamp[-6] in "+-" and stamp[-3] == ":"  # ISO 8601 with an offset


def test_percent_arguments_of_any_type_keep_one_parsable_line(tmp_path: Path):
    setup_logging(settings(), tmp_path)
    root = logging.getLogger()
    saved = root.handlers
    root.handlers = ours()  # only the product's handlers, as in production
    try:  # (pytest's own capture handler fails the test on a bad %d)
        log = logging.getLogger("tests")
        log.info("count %d", 5)
        log.info("values %s and %r", {"a": [1, 2]}, Path("/x"))
        log.info("count %d", "five")  # wrong type: still a line, arguments kept
        log.info("multi\nline %s", "text")
        log.info({"not": "a string"})
    finally:
        root.handlers = saved

    messages = [e["message"] for e in lines(tmp_path / "app.log")][-5:]
    assert messages[0] == "count 5"
    assert messages[1] == "values {'a': [1, 2]} and PosixPath('/x')"
    assert "count %d" in messages[2] and "five" in messages[2]
    assert messages[3] == "multi\nline text"
    assert messages[4] == "{'not': 'a string'}"


def test_odd_extra_values_are_written_as_text(tmp_path: Path):
    setup_logging(settings(), tmp_path)
    logging.getLogger("tests").info(
        "odd", extra={"path": Path("/tmp/x"), "big": 2**70, "when": time.gmtime(0)[:3]}
    )

    entry = lines(tmp_path / "app.log")[-1]
    assert entry["path"] == "/tmp/x"
    assert entry["big"] == 2**70
    assert entry["when"] == [1970, 1, 1]


def test_extra_named_like_an_entry_key_does_not_overwrite_it(tmp_path: Path):
    setup_logging(settings(), tmp_path)
    logging.getLogger("tests").warning("clash", extra={"level": "custom", "timestamp": "t"})

    entry = lines(tmp_path / "app.log")[-1]
    assert entry["level"] == "WARNING"
    assert entry["extra_level"] == "custom"
    assert entry["extra_timestamp"] == "t"


def test_errors_log_holds_only_errors_with_their_stack_trace(tmp_path: Path):
    setup_logging(settings(), tmp_path)
    log = logging.getLogger("tests")
    log.warning("just a warning")
    try:
        {}["missing"]
    except KeyError:
        log.exception("lookup failed", extra={"operation": "lookup"})

    [entry] = lines(tmp_path / "errors.log")
    assert entry["message"] == "lookup failed"
    assert entry["level"] == "ERROR"
    assert "Traceback (most recent call last)" in entry["exception"]
    assert "KeyError: 'missing'" in entry["exception"]


def test_performance_log_holds_only_timing_records(tmp_path: Path):
    setup_logging(settings(), tmp_path)
    logging.getLogger("tests").info("ordinary")
    logging.getLogger("performance").info("timing", extra={"operation": "x", "duration_ms": 1})

    assert [e["message"] for e in lines(tmp_path / "performance.log")] == ["timing"]
    assert "ordinary" in [e["message"] for e in lines(tmp_path / "app.log")]


def test_console_is_human_readable_with_extras(tmp_path: Path, capsys: pytest.CaptureFixture):
    setup_logging(settings(), tmp_path)
    logging.getLogger("tests").info("hello %s", "world", extra={"operation": "greet"})

    err = capsys.readouterr().err
    line = next(row for row in err.splitlines() if "hello world" in row)
    assert "INFO" in line and "tests: hello world" in line and "operation=greet" in line
    assert not line.startswith("{")


def test_level_comes_from_settings_and_log_level_env_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    setup_logging(settings(level="WARNING"), tmp_path / "a")
    logging.getLogger("tests").info("hidden")
    assert "hidden" not in (tmp_path / "a" / "app.log").read_text()

    monkeypatch.setenv("LOG_LEVEL", "debug")
    setup_logging(settings(level="WARNING"), tmp_path / "b")
    logging.getLogger("tests").debug("shown")
    assert "shown" in [e["message"] for e in lines(tmp_path / "b" / "app.log")]


def test_bad_level_falls_back_to_info_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    setup_logging(settings(), tmp_path)

    warnings = [e for e in lines(tmp_path / "app.log") if e["level"] == "WARNING"]
    assert len(warnings) == 1
    assert "'LOUD'" in warnings[0]["message"] and "using INFO" in warnings[0]["message"]
    assert logging.getLogger().level == logging.INFO


def test_folder_and_sizes_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FLOWDASH_LOG_DIR", str(tmp_path / "env_logs"))
    monkeypatch.setenv("FLOWDASH_LOG_MAX_BYTES", "2000")
    monkeypatch.setenv("FLOWDASH_LOG_BACKUPS", "2")
    setup_logging(settings(), tmp_path / "ignored")

    assert not (tmp_path / "ignored").exists()
    for i in range(200):
        logging.getLogger("tests").info("line %d with some padding to fill the file", i)
    flush()
    names = sorted(p.name for p in (tmp_path / "env_logs").glob("app.log*"))
    assert names == ["app.log", "app.log.1", "app.log.2"]


def test_second_identical_call_adds_no_handler(tmp_path: Path):
    setup_logging(settings(), tmp_path)
    before = list(logging.getLogger().handlers)
    setup_logging(settings(), tmp_path)

    assert logging.getLogger().handlers == before
    logging.getLogger("tests").info("once")
    assert [e["message"] for e in lines(tmp_path / "app.log")].count("once") == 1


def test_call_with_another_folder_moves_logging_there_without_duplicates(tmp_path: Path):
    setup_logging(settings(), tmp_path / "first")
    first = ours()
    setup_logging(settings(), tmp_path / "second")

    assert len(ours()) == 4
    assert not set(first) & set(logging.getLogger().handlers)
    logging.getLogger("tests").info("moved")
    assert "moved" in [e["message"] for e in lines(tmp_path / "second" / "app.log")]
    assert "moved" not in (tmp_path / "first" / "app.log").read_text()


def test_handlers_added_by_others_are_left_alone(tmp_path: Path):
    foreign = logging.NullHandler()
    logging.getLogger().addHandler(foreign)
    try:
        setup_logging(settings(), tmp_path / "a")
        setup_logging(settings(), tmp_path / "b")
        shutdown_logging()
        assert foreign in logging.getLogger().handlers
    finally:
        logging.getLogger().removeHandler(foreign)


def test_size_rotation_keeps_the_configured_number_of_backups(tmp_path: Path):
    setup_logging(settings(max_bytes=1000, backups=3), tmp_path)
    for i in range(300):
        logging.getLogger("tests").info("rotation line %04d padded to take some room", i)
    flush()

    names = sorted(p.name for p in tmp_path.glob("app.log*"))
    assert names == ["app.log", "app.log.1", "app.log.2", "app.log.3"]
    newest = lines(tmp_path / "app.log")[-1]
    assert newest["message"] == "rotation line 0299 padded to take some room"
    for backup in names[1:]:
        assert all(json.loads(line) for line in (tmp_path / backup).read_text().splitlines())


def age(path: Path, days: float) -> None:
    old = time.time() - days * 86400
    os.utime(path, (old, old))


def test_start_up_deletes_rotated_logs_older_than_retention_only(tmp_path: Path):
    tmp_path.joinpath("app.log").write_text("")
    for name in ("app.log.1", "errors.log.2", "performance.log.3.gz", "old.log"):
        tmp_path.joinpath(name).write_text("{}\n")
        age(tmp_path / name, 31)
    tmp_path.joinpath("app.log.2").write_text("{}\n")
    age(tmp_path / "app.log.2", 29)
    tmp_path.joinpath("notes.txt").write_text("keep")
    age(tmp_path / "notes.txt", 400)
    age(tmp_path / "app.log", 400)  # the live file: another process may hold it open

    setup_logging(settings(retention_days=30), tmp_path)

    left = sorted(p.name for p in tmp_path.iterdir() if p.is_file() and p.name[0] != ".")
    assert left == ["app.log", "app.log.2", "errors.log", "notes.txt", "performance.log"]
    [configured] = [e for e in lines(tmp_path / "app.log") if e["message"] == "logging configured"]
    assert configured["deleted_old_logs"] == 4


def test_retention_never_deletes_lock_files_and_zero_keeps_everything(tmp_path: Path):
    lock = tmp_path / ".__app.lock"
    lock.write_text("")
    backup = tmp_path / "app.log.1"
    backup.write_text("")
    age(lock, 90)
    age(backup, 90)

    assert delete_old_logs(tmp_path, 0) == 0
    assert delete_old_logs(tmp_path, 30) == 1
    assert lock.exists() and not backup.exists()


def test_unwritable_folder_falls_back_to_console_and_says_so_once(
    tmp_path: Path, capsys: pytest.CaptureFixture
):
    blocker = tmp_path / "afile"
    blocker.write_text("a file where a folder should be")
    folder = blocker / "logs"

    setup_logging(settings(), folder)
    setup_logging(settings(), folder)
    logging.getLogger("tests").info("still logged")

    err = capsys.readouterr().err
    assert err.count("cannot be written") == 1
    assert "logging to the console only" in err
    assert "still logged" in err
    assert len(ours()) == 1


def test_start_up_line_records_the_log_settings(tmp_path: Path):
    setup_logging(settings(level="DEBUG", max_bytes=5000, backups=2, retention_days=7), tmp_path)

    [entry] = [e for e in lines(tmp_path / "app.log") if e["message"] == "logging configured"]
    assert entry["folder"] == str(tmp_path)
    assert (entry["log_level"], entry["max_bytes"], entry["backups"]) == ("DEBUG", 5000, 2)
    assert entry["retention_days"] == 7


def test_importing_modules_configures_nothing():
    import subprocess
    import sys

    code = (
        "import logging, configuration.logging_config, configuration.sensitive_data_filter, "
        "data.performance_utils; print(len(logging.getLogger().handlers), "
        "logging.getLogger().level)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split()
    assert out == ["0", str(logging.WARNING)]


def test_record_flagged_not_for_console_reaches_the_files_only(
    tmp_path: Path, capsys: pytest.CaptureFixture
):
    setup_logging(settings(), tmp_path)
    logging.getLogger("app").error("fetch failed: printed by the caller", extra={"_console": False})

    assert "printed by the caller" not in capsys.readouterr().err
    [entry] = lines(tmp_path / "errors.log")
    assert entry["message"] == "fetch failed: printed by the caller"
    assert "_console" not in entry


def test_uncaught_exception_is_logged_redacted_with_its_trace(tmp_path: Path):
    import sys

    setup_logging(settings(), tmp_path)
    try:
        raise RuntimeError("boom for https://bob:hunter2@jira.example.com")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())

    [entry] = lines(tmp_path / "errors.log")
    assert entry["level"] == "CRITICAL" and entry["message"] == "uncaught RuntimeError"
    assert "Traceback" in entry["exception"]
    assert "hunter2" not in entry["exception"]
    assert "[REDACTED:credentials]@jira.example.com" in entry["exception"]


def test_exception_ending_a_thread_is_logged_to_errors_log(tmp_path: Path):
    import threading

    setup_logging(settings(), tmp_path)

    def crash() -> None:
        raise ValueError("worker broke")

    worker = threading.Thread(target=crash, name="fetch-worker")
    worker.start()
    worker.join()

    [entry] = lines(tmp_path / "errors.log")
    assert entry["message"] == "uncaught ValueError in thread fetch-worker"
    assert "ValueError: worker broke" in entry["exception"]


def test_shutdown_gives_back_the_exception_hooks_it_found(tmp_path: Path):
    import sys
    import threading

    before = (sys.excepthook, threading.excepthook)
    setup_logging(settings(), tmp_path / "a")
    setup_logging(settings(), tmp_path / "b")  # a reconfiguration keeps the first originals
    assert sys.excepthook is not before[0]
    shutdown_logging()
    assert (sys.excepthook, threading.excepthook) == before
