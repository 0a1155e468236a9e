"""Update every workspace in turn: one fetch at a time per JIRA site, sites side by side.

Each workspace is fetched by the same job as its own *Update data* (`data.jira.fetcher`), so its
progress, cancel and cache are that workspace's; fetches of one site share that site's rate
limiter (`data.rate_limiter.limiter_for`), and running them one after another keeps a team's
JIRA from seeing several full fetches at once. A workspace without JIRA (the sample) is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configuration.settings import jira_configured
from configuration.site_url import site_url
from data.errors import UserError
from data.jira.fetcher import start_update, update_progress, wait_for_update
from data.storage.persistence import load_settings
from data.storage.workspaces import Workspace, list_workspaces

log = logging.getLogger(__name__)


@dataclass
class _Run:
    """One "update all": the workspaces in it, by slug, with what happened to each."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)


_runs: dict[str, _Run] = {}
_runs_lock = threading.Lock()


_Queue = list[tuple[Workspace, dict[str, Any]]]  # workspaces of one site, with their settings


def _by_site(spaces: list[Workspace]) -> tuple[dict[str, _Queue], list[tuple[Workspace, str]]]:
    """The JIRA workspaces grouped by site, and the skipped ones with the reason."""
    groups: dict[str, _Queue] = defaultdict(list)
    skipped: list[tuple[Workspace, str]] = []
    for space in spaces:
        try:
            settings = load_settings(space.root)
        except UserError as exc:
            skipped.append((space, f"not updated: {exc}"))
            continue
        if not jira_configured(settings):
            skipped.append((space, "sample project: nothing to fetch"))
            continue
        groups[site_url(settings["jira"]["url"])].append((space, settings))
    return groups, skipped


def _update_site(run: _Run, queue: _Queue) -> None:
    """The workspaces of one site, one after another."""
    for space, settings in queue:
        row = run.rows[space.slug]
        row.update(state="running", started=time.monotonic())
        try:
            if not start_update(space.root, settings):  # already running: follow that one
                row["message"] = "an update was already running; followed it"
            progress = wait_for_update(space.root)
        except Exception as exc:  # a bug: the next workspaces still run
            log.exception("update of a workspace crashed", extra={"operation": "update_all"})
            progress = {"state": "failed", "message": f"failed ({exc.__class__.__name__})"}
        row.update(
            state=progress.get("state", "failed"),
            message=progress.get("message") or row.get("message", ""),
            issues=progress.get("issues", 0),
            finished=time.monotonic(),
        )


def _row(space: Workspace, site: str, state: str, message: str) -> dict[str, Any]:
    return {"name": space.name, "site": site, "state": state, "message": message, "issues": 0,
            "root": space.root}  # fmt: skip


def start_update_all(data_root: Path) -> bool:
    """Start updating every JIRA workspace in the background; False when a run is going on."""
    key = str(Path(data_root).resolve())
    with _runs_lock:
        if key in _runs and _runs[key].alive():
            return False
        groups, skipped = _by_site(list_workspaces(data_root))
        run = _Run()
        for space, message in skipped:
            run.rows[space.slug] = _row(space, "", "skipped", message)
        for site, queue in sorted(groups.items()):
            for space, _ in queue:
                run.rows[space.slug] = _row(space, site, "queued", "")
            run.threads.append(
                threading.Thread(
                    target=_update_site, args=(run, queue), name="update-all", daemon=True
                )
            )
        _runs[key] = run
        for thread in run.threads:
            thread.start()
    log.info("update of all workspaces started", extra={"operation": "update_all",
             "sites": len(groups), "workspaces": sum(len(q) for q in groups.values())})  # fmt: skip
    return True


def update_all_progress(data_root: Path) -> dict[str, Any]:
    """`{"state": idle|running|finished, "workspaces": [row, ...]}`; a running workspace's row
    carries its live progress (issues so far, the fetch's message)."""
    with _runs_lock:
        run = _runs.get(str(Path(data_root).resolve()))
    if run is None:
        return {"state": "idle", "workspaces": []}
    rows = []
    for slug, row in run.rows.items():
        shown = {k: v for k, v in row.items() if k not in ("started", "finished", "root")}
        if row["state"] == "running":
            live = update_progress(row["root"])
            shown.update(issues=live.get("issues", 0), message=live.get("message", ""))
        rows.append({"slug": slug, **shown})
    return {"state": "running" if run.alive() else "finished", "workspaces": rows}


def wait_for_all(data_root: Path, timeout: float | None = None) -> dict[str, Any]:
    """Block until the run ends (the CLI and tests); its progress."""
    with _runs_lock:
        run = _runs.get(str(Path(data_root).resolve()))
    for thread in run.threads if run else []:
        thread.join(timeout)
    return update_all_progress(data_root)


def run_times(data_root: Path) -> dict[str, tuple[float, float]]:
    """Each updated workspace's (started, finished) monotonic seconds in the last run."""
    with _runs_lock:
        run = _runs.get(str(Path(data_root).resolve()))
    rows = run.rows if run else {}
    return {s: (r["started"], r["finished"]) for s, r in rows.items() if "finished" in r}


def start_update_all_view(data_root: Path) -> dict[str, Any]:
    """The page's *Update all*: start a run (or follow the one going on) and its progress."""
    start_update_all(data_root)
    return update_all_progress(data_root)


def update_all_status(data_root: Path) -> dict[str, Any]:
    """What the page's poll shows: the progress, and once the run is over the workspace list
    (`data.services.workspace_views.workspace_summaries`: their "updated" times changed)."""
    from data.services.workspace_views import workspace_summaries

    progress = update_all_progress(data_root)
    if progress["state"] != "running":
        progress["summaries"] = workspace_summaries(data_root)
    return progress


def update_all_for_cli(data_root: Path) -> str:
    """`python app.py fetch --all-workspaces`: one line per workspace once all are done."""
    start_update_all(data_root)
    result = wait_for_all(data_root)
    return "\n".join(
        f"{row['name']}: {row['state']}" + (f" ({row['message']})" if row["message"] else "")
        for row in result["workspaces"]
    )
