"""Logging set-up: a human console, JSON-lines files, rotation, retention and redaction.

`setup_logging()` is the only place that configures logging; importing any module
configures nothing. It installs on the root logger:

- the console (stderr, human-readable, at the configured level; timing records left out);
- `app.log` (JSON lines, everything at the configured level);
- `errors.log` (JSON lines, ERROR and above, with stack traces);
- `performance.log` (JSON lines, only records of the `performance` logger, see
  `data.performance_utils.timed`).

Files rotate by size through `concurrent_log_handler.ConcurrentRotatingFileHandler`, which
takes a file lock around each write and each rotation, so the CLI, the server and Dash
background-callback processes can share the files without lost or interleaved lines.
`SensitiveDataFilter` sits on every handler. If the folder cannot be written, logging falls
back to the console and says so once; the app still starts. Exceptions nobody caught (in the
main thread or any other) are logged, redacted, to errors.log instead of printed raw.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import threading
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from concurrent_log_handler import ConcurrentRotatingFileHandler

from configuration.sensitive_data_filter import (
    STANDARD_RECORD_FIELDS,
    SensitiveDataFilter,
    register_secret,
)
from configuration.settings import PRIVATE_FILE_MODE, jira_token, make_private_dir

log = logging.getLogger(__name__)

#: Logger that `data.performance_utils.timed` writes to; its records go to performance.log.
PERFORMANCE_LOGGER = "performance"

APP_LOG = "app.log"
ERRORS_LOG = "errors.log"
PERFORMANCE_LOG = "performance.log"
LIVE_LOGS = (APP_LOG, ERRORS_LOG, PERFORMANCE_LOG)

#: Environment variables that override the `logging` settings.
ENV_LEVEL = "LOG_LEVEL"
ENV_FOLDER = "FLOWDASH_LOG_DIR"
ENV_MAX_BYTES = "FLOWDASH_LOG_MAX_BYTES"
ENV_BACKUPS = "FLOWDASH_LOG_BACKUPS"
ENV_RETENTION_DAYS = "FLOWDASH_LOG_RETENTION_DAYS"

DEFAULTS: dict[str, Any] = {
    "level": "INFO",
    "max_bytes": 10 * 1024 * 1024,
    "backups": 5,
    "retention_days": 30,
}

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# app.log, app.log.3, errors.log.1.gz: the files retention may delete (never lock files).
_LOG_FILE = re.compile(r"^[\w.-]+\.log(?:\.\d+)?(?:\.gz)?$")

_installed: list[logging.Handler] = []
_current_key: tuple[Any, ...] | None = None
_previous_hooks: list[Any] = []  # sys.excepthook and threading.excepthook before ours


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, extras, exception.

    Written by hand over orjson (python-json-logger is not a dependency; orjson already is,
    and is the fastest encoder available): a dozen lines, no configuration surface.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON; never raises on odd extra values."""
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in STANDARD_RECORD_FIELDS and not key.startswith("_"):
                entry[f"extra_{key}" if key in entry else key] = value
        entry["process"] = record.process
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        try:
            return orjson.dumps(
                entry,
                default=str,
                option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
            ).decode()
        except (TypeError, orjson.JSONEncodeError):  # e.g. an int beyond 64 bits
            return json.dumps(entry, default=str, ensure_ascii=False)


def _timestamp(created: float) -> str:
    """ISO 8601 in the machine's zone, with milliseconds and offset."""
    return dt.datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


class ConsoleFormatter(logging.Formatter):
    """`12:00:01 INFO    app: start-up  operation=start_up version=0.1.0`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """The standard line plus the extra fields as key=value."""
        line = super().format(record)
        extras = [
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in STANDARD_RECORD_FIELDS and not key.startswith("_")
        ]
        if not extras:
            return line
        head, sep, tail = line.partition("\n")
        return f"{head}  {' '.join(extras)}{sep}{tail}"


class _ConsoleHandler(logging.StreamHandler[Any]):
    """Writes to whatever `sys.stderr` is at the time (it may be replaced, e.g. by pytest)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _NotForConsole(logging.Filter):
    """Drops timing records and records flagged `extra={"_console": False}`.

    The flag is for a message the caller also prints itself (app.py's one-line error), so the
    files get it once and the terminal does not get it twice.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep everything else."""
        if record.name == PERFORMANCE_LOGGER or record.name.startswith(PERFORMANCE_LOGGER + "."):
            return False
        return getattr(record, "_console", True) is not False


class _OnlyLogger(logging.Filter):
    """Passes the records of one logger (and its children) only."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.prefix = name + "."
        self.logger = name

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep by logger name."""
        return record.name == self.logger or record.name.startswith(self.prefix)


def log_options(settings: dict[str, Any], folder: Path) -> tuple[dict[str, Any], list[str]]:
    """The effective options (settings, then environment overrides) and any problems found.

    A bad value never stops the app: the default is used and the problem is returned as a
    one-line message that `setup_logging` logs as a warning.
    """
    configured = {**DEFAULTS, **(settings.get("logging") or {})}
    env = os.environ
    problems: list[str] = []
    level = str(env.get(ENV_LEVEL) or configured["level"]).strip().upper()
    if level not in LEVELS:
        problems.append(
            f"log level {level!r} is not one of {', '.join(LEVELS)}; using {DEFAULTS['level']}"
        )
        level = DEFAULTS["level"]
    options: dict[str, Any] = {
        "level": level,
        "folder": Path(env.get(ENV_FOLDER) or folder).expanduser(),
    }
    for key, name in (
        ("max_bytes", ENV_MAX_BYTES),
        ("backups", ENV_BACKUPS),
        ("retention_days", ENV_RETENTION_DAYS),
    ):
        raw = env.get(name) or configured[key]
        try:
            value = int(raw)
            if value < 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(
                f"logging setting {key} must be a whole number >= 0, not {raw!r}; "
                f"using {DEFAULTS[key]}"
            )
            value = DEFAULTS[key]
        options[key] = value
    return options, problems


def setup_logging(
    settings: dict[str, Any], folder: Path, *, console_level: str | None = None
) -> None:
    """Configure logging for the whole process; call once at start-up (idempotent).

    A second call with the same options does nothing; with other options (another folder,
    level, ...) it closes the handlers it installed before and installs new ones. The
    configured JIRA token is registered for redaction. `console_level` raises the console's
    threshold above the configured level (headless commands keep stdout and stderr for
    their output); the files still get everything at the configured level.
    """
    global _current_key
    options, problems = log_options(settings, folder)
    register_secret(jira_token(settings))
    register_secret((settings.get("jira") or {}).get("password") or "")
    key = (
        str(options["folder"].resolve()),
        options["level"],
        options["max_bytes"],
        options["backups"],
        options["retention_days"],
        console_level,
    )
    if key == _current_key and _installed:
        return
    shutdown_logging()
    root = logging.getLogger()
    level = getattr(logging, options["level"])
    root.setLevel(level)
    redact = SensitiveDataFilter()

    console = _ConsoleHandler()
    console.setLevel(max(level, getattr(logging, console_level or options["level"])))
    console.setFormatter(ConsoleFormatter())
    console.addFilter(_NotForConsole())
    handlers: list[logging.Handler] = [console]

    problem = _writable(options["folder"])
    deleted = 0
    if problem is None:
        deleted = delete_old_logs(options["folder"], options["retention_days"])
        handlers += _file_handlers(options, level)
    for handler in handlers:
        handler.addFilter(redact)
        root.addHandler(handler)
    _installed.extend(handlers)
    _current_key = key
    logging.captureWarnings(True)
    _previous_hooks[:] = [sys.excepthook, threading.excepthook]
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    for message in problems:
        log.warning(message, extra={"operation": "setup_logging"})
    if problem is not None:
        log.warning(
            "log folder %s cannot be written (%s); logging to the console only",
            options["folder"],
            problem,
            extra={"operation": "setup_logging", "folder": str(options["folder"])},
        )
    log.info(
        "logging configured",
        extra={
            "operation": "setup_logging",
            "folder": str(options["folder"]),
            "log_level": options["level"],
            "max_bytes": options["max_bytes"],
            "backups": options["backups"],
            "retention_days": options["retention_days"],
            "files": problem is None,
            "deleted_old_logs": deleted,
        },
    )


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """An exception nobody caught: logged (redacted, with its trace) instead of printed raw."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.critical(
        "uncaught %s", kind.__name__, exc_info=(kind, value, tb), extra={"operation": "crash"}
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """An exception that ended a thread (a fetch job, a worker): logged like any other."""
    if args.exc_type is SystemExit:
        return
    log.error(
        "uncaught %s in thread %s",
        args.exc_type.__name__,
        args.thread.name if args.thread else "?",
        # typeshed wants a non-None exception value; logging accepts the hook's tuple as it is
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
        extra={"operation": "crash"},
    )


def _file_handlers(options: dict[str, Any], level: int) -> list[logging.Handler]:
    folder: Path = options["folder"]
    formatter = JsonLinesFormatter()

    def rotating(name: str, handler_level: int) -> logging.Handler:
        handler = ConcurrentRotatingFileHandler(
            str(folder / name),
            maxBytes=options["max_bytes"],
            backupCount=options["backups"],
            encoding="utf-8",
            chmod=PRIVATE_FILE_MODE,
        )
        handler.setLevel(handler_level)
        handler.setFormatter(formatter)
        return handler

    app = rotating(APP_LOG, level)
    errors = rotating(ERRORS_LOG, max(level, logging.ERROR))
    performance = rotating(PERFORMANCE_LOG, level)
    performance.addFilter(_OnlyLogger(PERFORMANCE_LOGGER))
    return [app, errors, performance]


def _writable(folder: Path) -> str | None:
    """None when the log files can be created in `folder`, else the reason in a few words."""
    try:
        make_private_dir(folder)
        for name in LIVE_LOGS:  # created owner-only; an older, wider file is narrowed
            os.close(
                os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
            )
            os.chmod(folder / name, PRIVATE_FILE_MODE)
    except OSError as exc:
        return f"{exc.__class__.__name__}: {exc.strerror or exc}"
    return None


def delete_old_logs(folder: Path, retention_days: int, now: float | None = None) -> int:
    """Delete rotated log files not modified for `retention_days` (0 keeps all); the count.

    The live files (app.log, errors.log, performance.log) and the handler's lock files are
    never deleted: another process may hold them open.
    """
    if retention_days <= 0:
        return 0
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    deleted = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if name in LIVE_LOGS or not _LOG_FILE.match(name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                deleted += 1
        except OSError:
            continue  # gone already (another process) or not ours to delete
    return deleted


def shutdown_logging() -> None:
    """Remove and close the handlers `setup_logging` installed (tests, reconfiguration)."""
    global _current_key
    root = logging.getLogger()
    while _installed:
        handler = _installed.pop()
        root.removeHandler(handler)
        try:
            handler.close()
        except Exception as exc:  # a handler that fails to close must not stop the others
            warnings.warn(f"closing log handler failed: {exc}", stacklevel=2)
    if _current_key is not None:
        root.setLevel(logging.WARNING)
        logging.captureWarnings(False)
    if _previous_hooks:
        sys.excepthook, threading.excepthook = _previous_hooks
        _previous_hooks.clear()
    _current_key = None
