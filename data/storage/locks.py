"""The fetch lock (one fetch at a time, across threads and processes) and the per-name thread locks.

Fetch lock (one fetch at a time, across threads and processes)
    lock = fetch_lock(root)
    lock.try_acquire() -> bool                         False: "an update is already running"
    lock.acquire(timeout=None) -> bool                 wait for the running one (None: forever)
    lock.release(); `with fetch_lock(root, timeout=...):` raises FetchInProgressError on timeout
    lock.holder() -> dict | None                       pid and start time of the holder
    is_fetch_running(root) -> bool
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import portalocker
import psutil

from configuration.settings import cache_dir, make_private_dir
from data.errors import UserError
from data.storage.cache_file import _iso, _utc_now


class FetchInProgressError(UserError):
    """Another update holds the fetch lock."""


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock_for(name: str | Path) -> threading.Lock:
    """The process-wide thread lock of one name (a lock file, or a cache file's reader)."""
    with _thread_locks_guard:
        return _thread_locks.setdefault(str(name), threading.Lock())


def _reset_after_fork() -> None:
    """A forked child starts with fresh thread locks: the threads that held them do not exist
    in the child (`data.gc_pause` and the in-memory layer reset their own state)."""
    global _thread_locks_guard
    _thread_locks.clear()
    _thread_locks_guard = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_reset_after_fork)


class FetchLock:
    """Only one fetch at a time: a thread lock in this process plus a file lock across
    processes (released by the system if the holder dies)."""

    def __init__(self, path: Path, *, timeout: float | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self._handle: Any = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._handle is not None

    def try_acquire(self) -> bool:
        """Take the lock if free; False means an update is already running."""
        return self.acquire(timeout=0)

    def acquire(self, timeout: float | None = None, *, poll_seconds: float = 0.05) -> bool:
        """Take the lock, waiting up to `timeout` seconds (None: as long as it takes)."""
        if self._handle is not None:
            raise RuntimeError("this FetchLock is already held")
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        thread_lock = _thread_lock_for(self.path)
        if timeout is None:
            got = thread_lock.acquire()
        elif timeout <= 0:
            got = thread_lock.acquire(blocking=False)
        else:
            got = thread_lock.acquire(timeout=timeout)
        if not got:
            return False
        handle = None
        try:
            make_private_dir(self.path.parent)
            handle = open(self.path, "a+b")  # noqa: SIM115 - kept open while held
            while True:
                try:
                    portalocker.lock(
                        handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
                    )
                    break
                except portalocker.AlreadyLocked:
                    if deadline is not None and time.monotonic() >= deadline:
                        handle.close()
                        thread_lock.release()
                        return False
                    time.sleep(poll_seconds)
            handle.seek(0)
            handle.truncate()
            handle.write(orjson.dumps({"pid": os.getpid(), "started": _iso(_utc_now())}))
            handle.flush()
        except BaseException:
            if handle is not None:
                handle.close()
            thread_lock.release()
            raise
        self._handle = handle
        return True

    def release(self) -> None:
        """Let the next fetch run; a no-op when not held."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.flush()
            portalocker.unlock(handle)
        finally:
            handle.close()
            _thread_lock_for(self.path).release()

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock (pid, started), as recorded in the lock file; None when free."""
        try:
            info = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return info if isinstance(info, dict) else None

    def __enter__(self) -> FetchLock:
        if not self.acquire(self.timeout):
            raise FetchInProgressError("An update is already running; wait for it to finish.")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def fetch_lock(root: Path, *, timeout: float | None = None) -> FetchLock:
    """The lock that lets one fetch run at a time for this data directory.

    `timeout` applies to the `with` form only.
    """
    return FetchLock(cache_dir(Path(root)) / "fetch.lock", timeout=timeout)


def is_fetch_running(root: Path) -> bool:
    """True when some thread or process holds (or waits in this process for) the fetch lock.

    Never takes the lock itself, so asking cannot make a starting fetch think another one
    is running. The lock file names its holder; a holder that died is not running.
    """
    lock = fetch_lock(root)
    if _thread_lock_for(lock.path).locked():
        return True
    holder = lock.holder()
    if not holder or not isinstance(holder.get("pid"), int) or not psutil.pid_exists(holder["pid"]):
        return False
    try:  # the pid may have been reused: ask the system whether the lock is really held
        with open(lock.path, "rb") as handle:
            portalocker.lock(
                handle, portalocker.LockFlags.SHARED | portalocker.LockFlags.NON_BLOCKING
            )
            portalocker.unlock(handle)
    except portalocker.AlreadyLocked:
        return True
    except OSError:
        return False
    return False
