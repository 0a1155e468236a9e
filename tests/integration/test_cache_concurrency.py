"""One fetch at a time (real threads, real processes) and readers that share one file read."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from configuration.settings import PROJECT_ROOT, default_settings
from data.storage.cache_manager import IssueCache, load_project
from data.storage.cache_memory import clear_memory, project_cache_stats
from data.storage.locks import FetchInProgressError, fetch_lock, is_fetch_running

HOLDER_SCRIPT = """
import sys
from pathlib import Path
from data.storage.locks import fetch_lock

lock = fetch_lock(Path(sys.argv[1]))
assert lock.try_acquire()
print("locked", flush=True)
sys.stdin.readline()  # hold until told to go
lock.release()
print("released", flush=True)
"""


@pytest.fixture
def holder_process(data_dir: Path):
    """A separate Python process holding the fetch lock until its stdin gets a line."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, str(data_dir)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "locked"
    yield child
    if child.poll() is None:
        child.kill()
    child.wait(timeout=30)


def run_in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


# -- threads ------------------------------------------------------------------------------------


def test_second_thread_is_told_an_update_is_running(data_dir: Path):
    taken, done = threading.Event(), threading.Event()

    def hold():
        lock = fetch_lock(data_dir)
        assert lock.try_acquire()
        taken.set()
        done.wait(30)
        lock.release()

    worker = run_in_thread(hold)
    assert taken.wait(30)
    assert fetch_lock(data_dir).try_acquire() is False
    assert is_fetch_running(data_dir) is True
    assert fetch_lock(data_dir).holder()["pid"] == os.getpid()

    done.set()
    worker.join(30)
    assert is_fetch_running(data_dir) is False
    assert fetch_lock(data_dir).holder() is None
    lock = fetch_lock(data_dir)
    assert lock.try_acquire() is True
    lock.release()


def test_asking_whether_an_update_runs_never_blocks_one_from_starting(data_dir: Path):
    stop = threading.Event()

    def keep_asking():
        while not stop.is_set():
            is_fetch_running(data_dir)

    asker = run_in_thread(keep_asking)
    try:
        for _ in range(300):
            lock = fetch_lock(data_dir)
            assert lock.try_acquire()
            lock.release()
    finally:
        stop.set()
        asker.join(30)


def test_a_dead_holder_in_the_lock_file_is_not_running(data_dir: Path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    path = fetch_lock(data_dir).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'{{"pid": {dead.stdout.strip()}, "started": "2024-01-01T00:00:00+00:00"}}')
    assert is_fetch_running(data_dir) is False
    path.write_text(f'{{"pid": {os.getppid()}, "started": "2024-01-01T00:00:00+00:00"}}')
    assert is_fetch_running(data_dir) is False  # a live pid that does not hold the lock


def test_waiting_thread_runs_once_the_holder_releases(data_dir: Path):
    holder = fetch_lock(data_dir)
    assert holder.acquire()
    events: list[str] = []
    waiter_started = threading.Event()

    def wait_for_it():
        waiter_started.set()
        lock = fetch_lock(data_dir)
        assert lock.acquire(timeout=30)
        events.append("waiter got the lock")
        lock.release()

    waiter = run_in_thread(wait_for_it)
    assert waiter_started.wait(30)
    events.append("holder releases")
    holder.release()
    waiter.join(30)
    assert events == ["holder releases", "waiter got the lock"]


def test_wait_with_a_timeout_gives_up_while_held(data_dir: Path):
    holder = fetch_lock(data_dir)
    assert holder.try_acquire()
    try:
        assert fetch_lock(data_dir).acquire(timeout=0.2) is False
        with (
            pytest.raises(FetchInProgressError, match="already running"),
            fetch_lock(data_dir, timeout=0.1),
        ):
            pass
    finally:
        holder.release()
    with fetch_lock(data_dir, timeout=0.1) as lock:
        assert lock.held


def test_many_threads_never_hold_the_lock_together(data_dir: Path):
    inside = 0
    most_inside = 0
    turns = 0
    guard = threading.Lock()
    start = threading.Barrier(8)

    def work():
        nonlocal inside, most_inside, turns
        start.wait(30)
        for _ in range(5):
            with fetch_lock(data_dir, timeout=60):
                with guard:
                    inside += 1
                    most_inside = max(most_inside, inside)
                    turns += 1
                with guard:
                    inside -= 1

    threads = [run_in_thread(work) for _ in range(8)]
    for thread in threads:
        thread.join(60)
    assert turns == 40
    assert most_inside == 1


# -- processes ----------------------------------------------------------------------------------


def test_another_process_holding_the_lock_means_an_update_is_running(
    data_dir: Path, holder_process
):
    assert fetch_lock(data_dir).try_acquire() is False
    assert is_fetch_running(data_dir) is True
    assert fetch_lock(data_dir).holder()["pid"] == holder_process.pid


def test_waiting_process_side_gets_the_lock_after_the_other_releases(
    data_dir: Path, holder_process
):
    got: list[bool] = []
    waiter = run_in_thread(lambda: got.append(fetch_lock(data_dir).acquire(timeout=60)))
    holder_process.stdin.write("go\n")
    holder_process.stdin.flush()
    assert holder_process.stdout.readline().strip() == "released"
    waiter.join(60)
    assert got == [True]


def test_lock_of_a_killed_process_is_free_again(data_dir: Path, holder_process):
    os.kill(holder_process.pid, signal.SIGKILL)
    holder_process.wait(timeout=30)
    lock = fetch_lock(data_dir)
    assert lock.try_acquire() is True
    lock.release()


# -- readers ------------------------------------------------------------------------------------


def test_concurrent_first_loads_share_one_file_read(data_dir: Path):
    settings = default_settings()
    settings["jira"].update(url="https://example.atlassian.net", jql="project = DEMO")
    cache = IssueCache.for_settings(data_dir, settings)
    with cache.begin_update("full") as update:
        update.add_issues(
            [
                {"key": f"DEMO-{n}", "fields": {"updated": "2024-01-01T00:00:00.000+0000"}}
                for n in range(2000)
            ]
        )
        update.commit(None, [], [], None)
    clear_memory()

    results = []
    start = threading.Barrier(8)

    def read():
        start.wait(30)
        results.append(load_project(data_dir, settings))

    threads = [run_in_thread(read) for _ in range(8)]
    for thread in threads:
        thread.join(60)
    assert len(results) == 8
    assert all(project is results[0] for project in results)
    assert project_cache_stats()["loads"] == 1
    clear_memory()


def test_a_child_forked_during_a_parse_has_free_locks_and_gc_on(data_dir: Path):
    from data import gc_pause
    from data.storage import locks

    # another thread of the parent is between the two halves of acquire() and parsing
    half_taken = locks._thread_lock_for(fetch_lock(data_dir).path)
    half_taken.acquire()
    read, write = os.pipe()
    try:
        with gc_pause.gc_paused():
            pid = os.fork()
            if pid == 0:  # the child reports and leaves without running the parent's cleanup
                lock = fetch_lock(data_dir)
                answer = f"{int(gc.isenabled())}{int(lock.acquire(timeout=0.2))}"
                os.write(write, answer.encode())
                os._exit(0)
    finally:
        half_taken.release()
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert os.read(read, 10) == b"11"  # GC on, and the lock free in the child
