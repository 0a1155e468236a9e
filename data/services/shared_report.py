"""What the offline HTML report holds besides the metrics: where the data came from, the
settings used, the flow analytics of the same period and the data-quality report. The page's
"Download report" and `python app.py report` both take it from here.

The context names the workspace the report was made for (`data/storage/workspaces.py`), where its
issues came from (the JIRA site, the bundled sample or the input file) and the JQL, never a
credential: only `jira.url` and `jira.jql` are read from the connection
settings. The metrics are the very report `app.py metrics` prints for the same options, so
the numbers in the file equal it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from configuration.metric_defaults import DEFAULT_MAPPINGS
from configuration.site_url import site_url
from data.engine.field_mapper import full_mappings
from data.engine.quality import quality_for_view, quality_report
from data.services.analytics_service import analytics_for_report
from data.services.export import csv_rows
from data.services.metrics_service import cli_project, cli_report, report_for_shown
from data.services.project import current_project
from data.services.source_options import SourceOptions
from data.storage.persistence import load_settings
from data.storage.workspaces import find_workspace


def _source(settings: dict[str, Any], source: str, input_file: str | None) -> dict[str, str]:
    """Where the issues came from, in words, and the JQL when they came from JIRA."""
    jira = settings.get("jira") or {}
    if input_file:
        return {"source": f"File {Path(input_file).name}", "jql": ""}
    if source == "sample":
        return {"source": "Bundled sample project (no JIRA configured)", "jql": ""}
    # the site's scheme, host and path only: credentials written into the URL stay out
    return {"source": site_url(str(jira.get("url") or "")), "jql": str(jira.get("jql") or "")}


def mappings_used(settings: dict[str, Any]) -> dict[str, Any]:
    """The mappings that differ from the defaults (what a reader needs to trust the numbers),
    plus the deployment source, always."""
    mappings = full_mappings(settings.get("mappings"))
    changed = {key: value for key, value in mappings.items() if DEFAULT_MAPPINGS.get(key) != value}
    return {"deployment_source": mappings["deployment_source"], **changed}


def share_context(
    settings: dict[str, Any], source: str, *, workspace: str, input_file: str | None = None
) -> dict[str, Any]:
    """The report's context: the workspace's name, where its data came from, the JQL, the
    mappings that differ from the defaults, and when the file was written (UTC)."""
    return {
        "workspace": workspace,
        **_source(settings, source, input_file),
        "mappings": mappings_used(settings),
        "written": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def shared_report_for_view(data_root: Path, shown: Any) -> dict[str, Any]:
    """The report on screen (the page's `shown-inputs` store) of the workspace the dashboard
    shows, its context (that workspace named), its statistics as rows (the CSV export's), the
    flow analytics of its period and the workspace's data-quality report, for the page's
    "Download report"; UserError for a store the page did not write."""
    space = find_workspace(data_root)
    report = report_for_shown(space.root, shown)
    settings = load_settings(space.root)
    context = share_context(settings, report["dataset"]["source"], workspace=space.name)
    return {
        "report": report,
        "context": context,
        "statistics": list(csv_rows(report)),
        "analytics": analytics_for_report(current_project(space.root, settings), settings, report),
        "quality": quality_for_view(space.root),
    }


def shared_report_for_cli(
    root: Path,
    settings: dict[str, Any],
    source: SourceOptions,
    *,
    tiers: str | None = None,
    workspace: str,
) -> dict[str, Any]:
    """The report the options choose, as `app.py metrics` computes it for the workspace at
    `root` (called `workspace`), its context, its statistics as rows, the flow analytics of
    its period and the project's data-quality report (`app.py quality`'s)."""
    project = cli_project(root, settings, source.input_file)
    report = cli_report(root, settings, source, tiers=tiers, project=project)
    context = share_context(
        settings, report["dataset"]["source"], workspace=workspace, input_file=source.input_file
    )
    quality = quality_report(
        project, settings, tz=report["period"]["time_zone"], deployment_source=source.deployments
    )
    return {
        "report": report,
        "context": context,
        "statistics": list(csv_rows(report)),
        "analytics": analytics_for_report(project, settings, report),
        "quality": quality,
    }
