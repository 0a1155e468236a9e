"""The project the dashboard shows: the JIRA cache when JIRA is configured, else the sample.

`ProjectData` is the hand-over between fetching (the cache) and calculating (the dataset):
raw JIRA issues in the search response's shape, plus the `/status` and `/field` lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProjectData:
    """Raw issues of one project and what is needed to interpret them.

    `version` changes whenever the issues change (it keys the metric cache); `source` is
    "sample" or "jira"; `time_zone` is the JIRA user's zone when known.
    """

    issues: list[dict[str, Any]]
    statuses: list[dict[str, Any]] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    version: str = ""
    source: str = "sample"
    time_zone: str | None = None
    warnings: tuple[str, ...] = ()
