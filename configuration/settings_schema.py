"""The schema of `settings.json` (pydantic): a wrong type anywhere is found on load, by name.

`settings_problems(settings)` lists what is wrong as `key.path: what is expected (got ...)`
lines; `repaired(settings)` resets exactly those keys to their defaults, so that the page can
still open (and save) the settings while the file is wrong. Unknown keys are kept: a newer
version's file still loads.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from configuration.settings import default_settings

NonNegative = Field(ge=0)


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")


class TokenScope(_Section):
    url: str
    auth: str


class JiraSettings(_Section):
    url: str
    auth: Literal["basic", "bearer"]
    email: str
    token: str
    token_for: TokenScope | None = None
    token_env: str
    jql: str
    verify_tls: bool
    timeout_seconds: float = Field(gt=0, le=600)


class MappingSettings(_Section):
    status_states: dict[str, str]
    canceled_resolutions: list[str]
    flow_types: dict[str, str]
    flow_type_labels: dict[str, str]
    non_flow_types: list[str]
    deployment_source: Literal["issues", "fixversions"]
    deployment_types: list[str]
    deployment_time_field: str
    environment_field: str | None
    production_values: list[str]
    deployment_success_field: str | None
    failure_by_time_window: bool
    incident_types: list[str]
    production_impact_field: str | None
    incident_detected_field: str | None
    incident_resolved_field: str | None
    commit_date_field: str | None
    deployed_date_field: str | None
    story_points_field: str | None
    rework_field: str | None
    rework_labels: list[str]
    hotfix_version_pattern: str | None  # compiled by the mapping form, which refuses a bad one
    flagged_field: str | None = None


class CacheSettings(_Section):
    ttl_hours: float = Field(ge=0)


class RateLimitSettings(_Section):
    requests: int = Field(gt=0)
    per_seconds: float = Field(gt=0)
    burst: int = Field(gt=0)
    max_attempts: int = Field(ge=1, le=100)
    max_backoff_seconds: float = Field(ge=0)
    workers: int = Field(ge=1, le=64)


class LoggingSettings(_Section):
    level: str
    max_bytes: int = Field(gt=0)
    backups: int = Field(ge=0)
    retention_days: float = Field(ge=0)


class ServerSettings(_Section):
    host: str
    port: int = Field(ge=0, le=65535)
    allowed_hosts: list[str]


class ForecastSettings(_Section):
    history_weeks: int = Field(ge=1, le=104)
    seed: int = Field(ge=0)
    working_days: list[str]  # names checked by data.engine.forecast_options
    flow_types: list[str]


class AnalyticsSettings(_Section):
    sle_days: float | None = Field(default=None, gt=0)
    sle_percent: float = Field(default=85, ge=1, le=100)


class Settings(_Section):
    jira: JiraSettings
    mappings: MappingSettings
    time_zone: str | None
    tier_year: Literal[2023, 2024]
    cache: CacheSettings
    rate_limit: RateLimitSettings
    logging: LoggingSettings
    server: ServerSettings
    forecast: ForecastSettings
    analytics: AnalyticsSettings = AnalyticsSettings()


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _problems(error: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """(key path, one line) per problem, each path once."""
    found: dict[tuple[Any, ...], str] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if loc not in found:
            name = ".".join(str(part) for part in loc)
            what = re.sub(r" or instance of \w+", "", item["msg"].lower())
            found[loc] = f"{name}: {what} (got {_shown(item.get('input'))})"
    return list(found.items())


def settings_problems(settings: dict[str, Any]) -> list[str]:
    """What is wrong with `settings` (merged over the defaults), one line each; [] when valid."""
    try:
        Settings.model_validate(settings)
    except ValidationError as exc:
        return [line for _, line in _problems(exc)]
    return []


def repaired(settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`settings` with every invalid key reset to its default, and the problems found."""
    fixed = copy.deepcopy(settings)
    defaults = default_settings()
    problems: list[str] = []
    for _ in range(20):  # each round resets what the last validation named
        try:
            Settings.model_validate(fixed)
            return fixed, problems
        except ValidationError as exc:
            found = _problems(exc)
        for loc, line in found:
            problems.append(line)
            _reset(fixed, defaults, loc)
    return default_settings(), problems


def _reset(target: dict[str, Any], defaults: dict[str, Any], loc: tuple[Any, ...]) -> None:
    """Put the default back at `loc`, or at the deepest part of `loc` that has a default."""
    path = list(loc)
    while path:
        node: Any = defaults
        for part in path:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            parent = target
            for part in path[:-1]:
                if not isinstance(parent.get(part), dict):
                    parent[part] = {}
                parent = parent[part]
            parent[path[-1]] = copy.deepcopy(node)
            return
        path.pop()
