"""`ProjectData`: the hand-over from storage (the issue cache, the sample) to the engine: raw JIRA
issues in the search response's shape, plus the `/status` and `/field` lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProjectData:
    """Raw issues of one project and what is needed to interpret them.

    `version` changes whenever the issues change (it keys the metric cache); `source` is
    "sample" or "jira"; `time_zone` is the JIRA user's zone when known; `table_file` is where
    the normalized table of these issues is kept on disk (beside the issue cache), if anywhere.
    """

    issues: Sequence[dict[str, Any]]  # a list, or the cache's LazyIssues (parsed on first use)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    version: str = ""
    source: str = "sample"
    time_zone: str | None = None
    warnings: tuple[str, ...] = ()
    table_file: Path | None = None
