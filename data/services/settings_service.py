"""The logic behind the settings panel and the field-mapping dialog (no Dash here).

The settings callbacks call one function of this module each:

- `connection_form_values(settings)`: what the panel shows; never the token itself.
- `save_connection_form(root, form)`: validate the JIRA connection form, merge it into the
  saved settings (an empty token field keeps the saved token) and save (mode 0600).
- `check_connection_form(root, form)`: the same validation, then ask JIRA who we are.
- `mapping_dialog_model(root)`: everything the mapping dialog shows: the fields from JIRA's
  `/field` with their types (incompatible ones disabled per mapping), the status -> state and
  type -> flow type tables, and which metrics the current mappings cannot compute, and why.
  When JIRA is not reachable or not configured, the lists come from the current project.
- `save_mappings_form(root, form)`: validate the mapping form (a date mapping takes only date
  or datetime fields, ...), merge it into the settings and save.

Every refusal raises `SettingsFormError` (a `UserError`) with a one-line message; nothing is
saved then.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from configuration.metric_defaults import (
    DEFAULT_TIER_YEAR,
    FLOW_TYPES,
    STATES,
    default_mappings,
)
from configuration.settings import (
    DEFAULT_TOKEN_ENV,
    jira_configured,
    jira_token,
    merge_settings,
    token_fits,
    token_scope,
)
from configuration.site_url import site_url
from data.errors import UserError
from data.services.metrics_service import LABELS, tier_year_of
from data.storage.persistence import (
    keep_invalid_copy,
    load_settings,
    load_settings_for_repair,
    problems_text,
    save_settings,
)

log = logging.getLogger(__name__)

#: The choice in the type table that makes a type "not a flow item".
NOT_FLOW = "none"
#: The "(none)" choice of an optional field mapping (a native select cannot hold "").
NO_FIELD = "__none__"
#: How long the field and status lists fetched from JIRA are reused by the dialog.
SOURCES_TTL_SECONDS = 300.0


class SettingsFormError(UserError):
    """The settings form holds something that cannot be saved; the message says what."""


@dataclass(frozen=True)
class FieldRule:
    """Which JIRA field types a field mapping accepts, and which metrics depend on it."""

    label: str
    kinds: frozenset[str]
    kinds_text: str
    metrics: tuple[str, ...]
    #: lower-case fragments of a JIRA field's name that suggest this mapping (`field_offers`)
    hints: tuple[str, ...] = ()


DATE_KINDS = frozenset({"date", "datetime"})

#: mapping key -> rule. Kinds are JIRA schema types; arrays are written `array:<items>`.
FIELD_RULES: dict[str, FieldRule] = {
    "deployment_time_field": FieldRule(
        "Deployment time",
        DATE_KINDS,
        "date or datetime",
        ("deployment_frequency", "change_failure_rate", "lead_time_for_changes"),
    ),
    "environment_field": FieldRule(
        "Environment",
        frozenset({"option", "string", "array:option", "array:string"}),
        "option, text or list",
        ("deployment_frequency", "change_failure_rate", "lead_time_for_changes"),
        ("environment",),
    ),
    "deployment_success_field": FieldRule(
        "Deployment success",
        frozenset({"option", "string", "boolean"}),
        "option, text or yes/no",
        ("change_failure_rate",),
        ("deployment success", "deployment result", "deployment status", "deploy success"),
    ),
    "production_impact_field": FieldRule(
        "Production impact",
        frozenset({"option", "string", "number", "boolean", "array:option", "array:string"}),
        "option, text, number or checkbox",
        ("failed_deployment_recovery_time", "recovery_time", "change_failure_rate"),
        ("production impact",),
    ),
    "incident_detected_field": FieldRule(
        "Incident detected",
        DATE_KINDS,
        "date or datetime",
        ("failed_deployment_recovery_time", "recovery_time", "change_failure_rate"),
        ("detected",),
    ),
    "incident_resolved_field": FieldRule(
        "Incident resolved",
        DATE_KINDS,
        "date or datetime",
        ("failed_deployment_recovery_time", "recovery_time"),
        ("incident resolved", "recovered", "restored"),
    ),
    "rework_field": FieldRule(
        "Rework",
        frozenset({"option", "string", "boolean", "array:option", "array:string"}),
        "option, text, yes/no or list",
        ("deployment_rework_rate",),
        ("rework",),
    ),
    "commit_date_field": FieldRule(
        "Commit date", DATE_KINDS, "date or datetime", ("lead_time_for_changes",), ("commit",)
    ),
    "deployed_date_field": FieldRule(
        "Deployed date", DATE_KINDS, "date or datetime", ("lead_time_for_changes",), ("deployed",)
    ),
    "story_points_field": FieldRule(
        "Story points", frozenset({"number"}), "number", (), ("story point",)
    ),
    "flagged_field": FieldRule(
        "Flagged",
        frozenset({"option", "string", "boolean", "array:option", "array:string"}),
        "checkbox, option, text or list",
        (),
    ),
}

#: metric key -> the name the dashboard gives it
METRIC_LABELS: dict[str, str] = {key: label for key, (label, _, _) in LABELS.items()}
COMPLETION_METRICS = ("flow_velocity", "flow_time", "flow_efficiency", "flow_distribution")
#: The metrics that count deployments: no deployment, none of them.
DEPLOYMENT_METRICS = (
    "deployment_frequency",
    "change_failure_rate",
    "deployment_rework_rate",
    "failed_deployment_recovery_time",
)

# --------------------------------------------------------------------------- fields


def field_kind(jira_field: Mapping[str, Any]) -> str:
    """A field's type from its `/field` schema: `datetime`, `number`, `array:option`, ...

    Fields without a schema (e.g. `issuekey`, `thumbnail`) are `unknown`.
    """
    schema = jira_field.get("schema") or {}
    kind = schema.get("type")
    if not kind:
        return "unknown"
    if kind == "array":
        return f"array:{schema.get('items') or 'any'}"
    return str(kind)


def kind_text(kind: str) -> str:
    """A field type as the dialog writes it: `array:option` -> `list of option`."""
    return f"list of {kind.split(':', 1)[1]}" if kind.startswith("array:") else kind


def field_accepts(mapping_key: str, kind: str) -> bool:
    """True when the mapping `mapping_key` may take a field of type `kind`."""
    return kind in FIELD_RULES[mapping_key].kinds


def field_options(
    mapping_key: str, fields: Iterable[Mapping[str, Any]], current: str | None
) -> list[dict[str, Any]]:
    """One field mapping's choices: every field with its type; incompatible ones disabled.

    Optional mappings start with a "(none)" choice (value `NO_FIELD`); a saved field that the
    list does not hold stays selectable, marked "not found", so opening the dialog loses nothing.
    """
    options: list[dict[str, Any]] = []
    if mapping_key != "deployment_time_field":
        options.append({"label": "(none)", "value": NO_FIELD})
    seen: set[str] = set()
    for jira_field in sorted(fields, key=lambda f: (str(f.get("name", "")).lower(), f["id"])):
        kind = field_kind(jira_field)
        seen.add(jira_field["id"])
        options.append(
            {
                "label": f"{jira_field.get('name', jira_field['id'])} ({jira_field['id']}) · "
                f"{kind_text(kind)}",
                "value": jira_field["id"],
                "disabled": not field_accepts(mapping_key, kind),
            }
        )
    if current and current not in seen:
        options.insert(1, {"label": f"{current} · not found in JIRA", "value": current})
    return options


def _field_problem(mapping_key: str, field_id: str, by_id: Mapping[str, Mapping[str, Any]]) -> str:
    """Why a mapped field cannot be used ("" when it can); needs the field list."""
    rule = FIELD_RULES[mapping_key]
    jira_field = by_id.get(field_id)
    if jira_field is None:
        return f"{rule.label}: field {field_id} does not exist in JIRA"
    kind = field_kind(jira_field)
    if field_accepts(mapping_key, kind):
        return ""
    name = jira_field.get("name", field_id)
    return (
        f"{rule.label}: {name} ({field_id}) is a {kind_text(kind)} field; "
        f"this mapping takes only {rule.kinds_text} fields"
    )


def field_offers(
    mappings: Mapping[str, Any], fields: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """JIRA custom fields the mappings could use but do not: for each unmapped field mapping,
    the first custom field whose name suggests it (`FieldRule.hints`) and whose type it takes,
    and no mapping uses yet. `[{"key", "mapping", "field_id", "field_name", "metrics"}]`, with
    `metrics` the names of the metrics mapping it would change."""
    used = {value for key in FIELD_RULES if (value := mappings.get(key))}
    custom = sorted(
        (f for f in fields if str(f.get("id", "")).startswith("customfield_")),
        key=lambda f: str(f["id"]),
    )
    offers = []
    for key, rule in FIELD_RULES.items():
        if mappings.get(key) or not rule.hints:
            continue
        for jira_field in custom:
            name = str(jira_field.get("name") or "")
            if (
                jira_field["id"] not in used
                and any(hint in name.lower() for hint in rule.hints)
                and field_accepts(key, field_kind(jira_field))
            ):
                used.add(jira_field["id"])
                offers.append(
                    {
                        "key": key,
                        "mapping": rule.label,
                        "field_id": jira_field["id"],
                        "field_name": name,
                        # story points break no metric when missing, but add points to velocity
                        "metrics": [
                            METRIC_LABELS[metric] for metric in rule.metrics or ("flow_velocity",)
                        ],
                    }
                )
                break
    return offers


# --------------------------------------------------------------------------- statuses and types


def status_category(status: Mapping[str, Any]) -> str:
    """The JIRA status category key of a `/status` entry (`new`, `indeterminate`, `done`)."""
    return str((status.get("statusCategory") or {}).get("key") or "indeterminate")


def status_rows(
    statuses: Iterable[Mapping[str, Any]], mappings: Mapping[str, Any]
) -> list[dict[str, str]]:
    """One row per status: name, category, the state it maps to now, and its default state."""
    from data.engine.field_mapper import default_state

    overrides = {k.lower(): v for k, v in (mappings.get("status_states") or {}).items()}
    rows: dict[str, dict[str, str]] = {}
    for status in statuses:
        name = str(status.get("name", "")).strip()
        if not name or name.lower() in rows:
            continue
        category = status_category(status)
        default = default_state(category=category, name=name)
        rows[name.lower()] = {
            "name": name,
            "category": category,
            "default": default,
            "state": overrides.get(name.lower(), default),
        }
    return sorted(rows.values(), key=lambda r: (STATES.index(r["default"]), r["name"].lower()))


def flow_choice(type_name: str, mappings: Mapping[str, Any]) -> str:
    """What an issue type maps to now: a flow type, `Other`, or `none` (not a flow item)."""
    name = type_name.lower()
    flow_types = {k.lower(): v for k, v in (mappings.get("flow_types") or {}).items()}
    if name in flow_types:
        return str(flow_types[name])
    if name in {t.lower() for t in mappings.get("non_flow_types") or []}:
        return NOT_FLOW
    return "Other"


def type_rows(type_names: Iterable[str], mappings: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per issue type: name and the flow type it maps to now."""
    unique = {name.lower(): name for name in type_names if name}
    return [
        {"name": name, "flow": flow_choice(name, mappings)} for _, name in sorted(unique.items())
    ]


# --------------------------------------------------------------------------- unavailable metrics


def unavailable_metrics(
    mappings: Mapping[str, Any],
    fields: Iterable[Mapping[str, Any]] | None = None,
    statuses: Iterable[Mapping[str, Any]] | None = None,
    issue_types: Iterable[str] | None = None,
) -> list[dict[str, str]]:
    """The metrics the mappings cannot compute, each with why: `[{"metric", "label", "reason"}]`.

    Checks the mappings themselves, and, when the lists are given, the mapped fields against
    JIRA's fields (missing or of the wrong type), the status table (nothing Done, nothing
    Active or Waiting) and the issue types (none is a flow item).
    """
    problems: list[tuple[str, str]] = []
    if fields is not None:
        by_id = {f["id"]: f for f in fields}
        for key, rule in FIELD_RULES.items():
            value = mappings.get(key)
            problem = _field_problem(key, value, by_id) if value else ""
            problems.extend((metric, problem) for metric in rule.metrics if problem)

    from_issues = mappings.get("deployment_source", "issues") == "issues"
    if from_issues and not mappings.get("deployment_types"):
        reason = "no issue type is mapped as a deployment"
        problems += [(metric, reason) for metric in DEPLOYMENT_METRICS]
    if from_issues and mappings.get("environment_field") and not mappings.get("production_values"):
        reason = "an environment field is mapped but no value means production"
        problems += [(metric, reason) for metric in DEPLOYMENT_METRICS]

    has_incidents = bool(mappings.get("incident_types") or mappings.get("production_impact_field"))
    if not has_incidents:
        reason = "no incident types and no production-impact field are mapped"
        problems += [("failed_deployment_recovery_time", reason), ("recovery_time", reason)]
    if not from_issues and not mappings.get("failure_by_time_window", True):
        problems.append(
            (
                "change_failure_rate",
                "with fixVersion deployments failures come only from the incident time window, "
                "which is turned off",
            )
        )
    elif not has_incidents and not (from_issues and mappings.get("deployment_success_field")):
        problems.append(
            ("change_failure_rate", "neither incidents nor a deployment success field are mapped")
        )

    if issue_types is not None:
        types = list(issue_types)
        flows = {flow_choice(name, mappings) for name in types}
        if types and flows <= {NOT_FLOW}:
            reason = "no issue type is mapped to a flow type"
            problems += [(m, reason) for m in (*COMPLETION_METRICS, "flow_load")]
        elif types and not flows & {"Feature", "Defect"}:
            problems.append(
                ("lead_time_for_changes", "no issue type is mapped to Feature or Defect")
            )

    if statuses is not None:
        states = {row["state"] for row in status_rows(statuses, mappings)}
        if states and "Done" not in states:
            reason = "no status is mapped to Done"
            problems += [(m, reason) for m in COMPLETION_METRICS]
        if states and not states & {"Active", "Waiting"}:
            reason = "no status is mapped to Active or Waiting"
            problems += [("flow_load", reason), ("flow_efficiency", reason)]

    seen: set[tuple[str, str]] = set()
    result = []
    for metric, reason in problems:
        if (metric, reason) not in seen:
            seen.add((metric, reason))
            result.append({"metric": metric, "label": METRIC_LABELS[metric], "reason": reason})
    return result


# --------------------------------------------------------------------------- connection form


def token_placeholder(settings: Mapping[str, Any]) -> str:
    """What the empty token input says: "saved", "from $VAR", or what to type."""
    jira = settings.get("jira", {})
    if jira.get("token") and token_fits(dict(jira), jira.get("url", ""), jira.get("auth", "basic")):
        return "saved (leave empty to keep it)"
    env_name = jira.get("token_env") or DEFAULT_TOKEN_ENV
    if jira_token(settings):
        return f"from ${env_name} (leave empty to keep it)"
    return "API token or personal access token"


def connection_form_values(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The connection form's values for the page. Holds no token, by construction."""
    jira = settings.get("jira", {})
    return {
        "url": jira.get("url", ""),
        "auth": jira.get("auth", "basic"),
        "email": jira.get("email", ""),
        "jql": jira.get("jql", ""),
        "token_placeholder": token_placeholder(settings),
        "time_zone": settings.get("time_zone") or "",
        "verify_tls": bool(jira.get("verify_tls", True)),
    }


def display_name(name: str) -> str:
    """A lower-case mapping name as JIRA writes such names: "won't fix" -> "Won't Fix" (each
    word capitalized at its start only; `str.title` would give "Won'T Fix")."""
    return " ".join(word[:1].upper() + word[1:] for word in name.split(" "))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _clean(value: Any) -> str:
    return str(value or "").strip()


def merge_connection_form(settings: dict[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """Settings updated by the connection form, validated; an empty token keeps the saved one.

    An empty URL is allowed (the dashboard then shows the sample project). Raises
    `SettingsFormError` with one line naming the first problem.
    """
    url = _clean(form.get("url"))
    auth = _clean(form.get("auth")) or "basic"
    email = _clean(form.get("email"))
    jql = _clean(form.get("jql"))
    token = _clean(form.get("token"))
    if auth not in ("basic", "bearer"):
        raise SettingsFormError(f"Unknown authentication type {auth!r}: choose basic or bearer.")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsFormError(
                "JIRA URL must start with https:// (or http://) and name a host, "
                "e.g. https://example.atlassian.net."
            )
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise SettingsFormError(
                "JIRA URL has a port that is not a number, e.g. https://jira.example.com:8443."
            ) from None
        if parts.username or parts.password:
            raise SettingsFormError(
                "JIRA URL must not hold credentials; put the e-mail and token in their fields."
            )
        if auth == "basic" and not _EMAIL.match(email):
            raise SettingsFormError(
                "Basic authentication needs the account's e-mail address (user@example.com)."
            )
        if not jql:
            raise SettingsFormError(
                "JQL is empty: say which issues to fetch, e.g. project = DEMO ORDER BY created."
            )
    jira: dict[str, Any] = {"url": site_url(url), "auth": auth, "email": email, "jql": jql}
    if form.get("verify_tls") is not None:  # absent: the saved choice stays
        jira["verify_tls"] = bool(form["verify_tls"])
    saved = settings.get("jira", {})
    if token:
        jira["token"] = token
        jira["token_for"] = {"url": site_url(url), "auth": auth}
    elif saved.get("token") and url:
        if not token_fits(saved, url, auth):
            raise SettingsFormError(
                f"The JIRA site or authentication changed: type the token for {site_url(url)}; "
                "the saved token is sent only to the site it was saved for."
            )
        jira["token_for"] = token_scope(saved)
    return merge_settings(settings, {"jira": jira})


def _register_token(settings: Mapping[str, Any]) -> None:
    """Make sure the token in use is redacted from every log line from now on."""
    from configuration.sensitive_data_filter import register_secret

    token = jira_token(dict(settings))
    if token:
        register_secret(token)


def save_connection_form(root: Path, form: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and save the connection form; returns the saved settings."""
    current, problems = load_settings_for_repair(root)
    settings = merge_connection_form(current, form)
    _register_token(settings)
    if problems:  # the invalid values are replaced by their defaults; the old file is kept
        keep_invalid_copy(root)
    save_settings(root, settings)
    _SOURCES.clear()
    log.info(
        "connection settings saved",
        extra={
            "operation": "save_connection",
            "jira_configured": jira_configured(settings),
            "auth": settings["jira"]["auth"],
            "token_changed": bool(_clean(form.get("token"))),
        },
    )
    return settings


def use_time_zone(root: Path, name: str) -> str:
    """Save `name` (the JIRA user's zone, from Test connection) as the dashboard's time zone,
    the zone of its weeks and dates; UserError for an unknown or empty zone."""
    zone = _valid_time_zone(_clean(name))
    if zone is None:
        raise SettingsFormError("JIRA did not name a time zone to use.")
    settings = load_settings(root)
    settings["time_zone"] = zone
    save_settings(root, settings)
    log.info("time zone saved", extra={"operation": "use_time_zone", "time_zone": zone})
    return zone


def _client(settings: Mapping[str, Any], *, quick: bool = False) -> Any:
    """A JIRA client for these settings; `quick` gives up after 2 attempts of at most 10 s."""
    from data.jira.jira_client import client_from_settings

    if quick:
        timeout = min(float(settings["jira"].get("timeout_seconds") or 30), 10.0)
        settings = merge_settings(
            dict(settings),
            {"jira": {"timeout_seconds": timeout}, "rate_limit": {"max_attempts": 2}},
        )
    return client_from_settings(dict(settings))


def check_connection_form(root: Path, form: Mapping[str, Any]) -> dict[str, Any]:
    """Ask JIRA, with the unsaved form values, for title, flavor, user, the user's time zone
    and matching count; `dashboard_time_zone` is the zone the dashboard uses now."""
    settings = merge_connection_form(load_settings(root), form)
    if not jira_configured(settings):
        raise SettingsFormError("Enter the JIRA URL first.")
    if not jira_token(settings):
        raise SettingsFormError(
            "No token: type one, or set the environment variable "
            f"${settings['jira'].get('token_env') or DEFAULT_TOKEN_ENV}."
        )
    with _client(settings) as client:
        result = dict(client.test_connection(settings["jira"]["jql"]))
    from data.engine.periods import resolve_time_zone

    result["dashboard_time_zone"] = resolve_time_zone(settings.get("time_zone")).key
    return result


# --------------------------------------------------------------------------- mapping dialog


@dataclass
class MappingSources:
    """Field, status, type and resolution names the dialog offers, and where they came from."""

    fields: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    issue_types: list[str]
    resolutions: list[str]
    origin: str
    note: str = ""
    fetched_at: float = field(default_factory=time.monotonic)


_SOURCES: dict[tuple[Any, ...], MappingSources] = {}


def _names_in_issues(issues: Iterable[Mapping[str, Any]], field_id: str) -> list[str]:
    names = set()
    for issue in issues:
        value = (issue.get("fields") or {}).get(field_id)
        if isinstance(value, dict) and value.get("name"):
            names.add(value["name"])
    return sorted(names, key=str.lower)


def mapping_sources(root: Path, settings: Mapping[str, Any]) -> MappingSources:
    """Fields and statuses from JIRA when it answers, else from the current project.

    JIRA's answer is reused for a few minutes so that opening the dialog twice costs no API
    call; the project's lists are read afresh (they are memoized by the cache layer).
    """
    from data.services.project import current_project

    jira = settings.get("jira", {})
    key = (str(root), jira.get("url"), jira.get("auth"), jira.get("email"), jira.get("jql"))
    cached = _SOURCES.get(key)
    if cached and time.monotonic() - cached.fetched_at < SOURCES_TTL_SECONDS:
        return cached
    project = current_project(root, dict(settings))
    issues = project.issues
    sources = MappingSources(
        fields=list(project.fields),
        statuses=list(project.statuses),
        issue_types=_names_in_issues(issues, "issuetype"),
        resolutions=_names_in_issues(issues, "resolution"),
        origin=project.source,
        note=f"Fields and statuses known from the {project.source} project.",
    )
    if jira_configured(dict(settings)) and jira_token(dict(settings)):
        try:
            with _client(settings, quick=True) as client:
                sources.fields, sources.statuses = list(client.fields()), list(client.statuses())
            sources.origin, sources.note = "jira", "Fields and statuses from JIRA."
        except UserError as exc:
            sources.note = f"JIRA did not answer ({exc}); fields and statuses known from the cache."
            log.warning(
                "mapping sources from cache",
                extra={"operation": "mapping_sources", "error": str(exc)},
            )
    if sources.origin == "jira":  # the project's lists are cheap and change with each update
        _SOURCES[key] = sources
    return sources


def mapping_dialog_model(root: Path) -> dict[str, Any]:
    """All the mapping dialog shows, as plain data (see `ui.mapping_dialog.mapping_dialog_body`)."""
    settings = load_settings(root)
    mappings = settings["mappings"]
    sources = mapping_sources(root, settings)
    type_names = [
        *sources.issue_types,
        *(display_name(t) for t in mappings.get("deployment_types") or []),
        *(display_name(t) for t in mappings.get("incident_types") or []),
    ]
    resolutions = {r.lower(): r for r in sources.resolutions}
    for name in mappings.get("canceled_resolutions") or []:
        resolutions.setdefault(name.lower(), display_name(name))
    types = type_rows(type_names, mappings)
    return {
        "mappings": mappings,
        "time_zone": settings.get("time_zone") or "",
        "tier_year": settings.get("tier_year") or DEFAULT_TIER_YEAR,
        "field_options": {
            key: field_options(key, sources.fields, mappings.get(key)) for key in FIELD_RULES
        },
        "field_values": {key: mappings.get(key) or NO_FIELD for key in FIELD_RULES},
        "flow_choices": [
            *({"label": t, "value": t} for t in FLOW_TYPES),
            {"label": "not a flow item", "value": NOT_FLOW},
        ],
        "statuses": status_rows(sources.statuses, mappings),
        "types": types,
        "type_names": [row["name"] for row in types],
        "resolutions": sorted(resolutions.values(), key=str.lower),
        "source_note": sources.note,
        "warnings": unavailable_metrics(
            mappings, sources.fields or None, sources.statuses or None, type_names or None
        ),
    }


def panel_model(root: Path) -> dict[str, Any]:
    """What the settings panel shows on opening: the connection form and the mapping warnings.

    The warnings check the mappings against the current project's fields, statuses and issue
    types (sample or cache): no JIRA call, so opening the panel is instant. A settings file
    with invalid values still opens: `problem` names them and the form shows the defaults.
    """
    from data.services.project import current_project

    settings, problems = load_settings_for_repair(root)
    project = current_project(root, settings)
    types = _names_in_issues(project.issues, "issuetype")
    problem = (
        problems_text(root, problems) + " The form shows the defaults in their place; Save "
        "writes them (the old file is kept as settings.json.invalid)."
        if problems
        else ""
    )
    return {
        "problem": problem,
        "form": connection_form_values(settings),
        "warnings": unavailable_metrics(
            settings["mappings"], project.fields or None, project.statuses or None, types or None
        ),
    }


def _names(values: Iterable[str] | str | None) -> list[str]:
    """A list of lower-case names from a list or a comma-separated text; empties dropped."""
    if values is None:
        return []
    items = values.split(",") if isinstance(values, str) else values
    result: list[str] = []
    for item in items:
        name = str(item).strip().lower()
        if name and name not in result:
            result.append(name)
    return result


def merge_mappings_form(
    settings: dict[str, Any],
    form: Mapping[str, Any],
    fields: Iterable[Mapping[str, Any]],
    statuses: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Settings updated by the mapping form, validated against JIRA's field list.

    A status's state is saved only when it differs from its category's default (found in
    `statuses`), so that the default rule keeps applying to the others.

    `form` holds the mapping keys of `configuration.metric_defaults` (field ids, name lists or
    comma-separated text, `failure_by_time_window`), plus `status_states` ({status: state}),
    `type_flows` ({type: flow type, "Other" or "none"}) and `time_zone`. Keys it lacks keep
    their saved values. Raises `SettingsFormError` on the first problem.
    """
    mappings = merge_settings(default_mappings(), settings.get("mappings") or {})
    by_id = {f["id"]: f for f in fields}

    source = form.get("deployment_source", mappings["deployment_source"])
    if source not in ("issues", "fixversions"):
        raise SettingsFormError(f"Unknown deployment source {source!r}: issues or fixversions.")
    mappings["deployment_source"] = source

    for key in FIELD_RULES:
        if key not in form:
            continue
        value = _clean(form[key]).replace(NO_FIELD, "") or None
        if value is None and key == "deployment_time_field":
            raise SettingsFormError("Deployment time needs a field (resolutiondate by default).")
        if value and value != mappings.get(key) and by_id:
            problem = _field_problem(key, value, by_id)
            if problem:
                raise SettingsFormError(problem + ".")
        mappings[key] = value

    name_lists = (
        "deployment_types",
        "incident_types",
        "canceled_resolutions",
        "production_values",
        "rework_labels",
    )
    for key in name_lists:
        if key in form:
            mappings[key] = _names(form[key])
    if "hotfix_version_pattern" in form:
        mappings["hotfix_version_pattern"] = _valid_pattern(_clean(form["hotfix_version_pattern"]))
    if "failure_by_time_window" in form:
        mappings["failure_by_time_window"] = bool(form["failure_by_time_window"])

    if "status_states" in form:
        from data.engine.field_mapper import default_state

        categories = {str(s.get("name", "")).lower(): status_category(s) for s in statuses}
        overrides = {k.lower(): v for k, v in (mappings.get("status_states") or {}).items()}
        for name, state in (form["status_states"] or {}).items():
            if state not in STATES:
                raise SettingsFormError(
                    f"Status {name}: {state!r} is not one of {', '.join(STATES)}."
                )
            category = categories.get(name.lower())
            if category is not None and state == default_state(category=category, name=name):
                overrides.pop(name.lower(), None)
            else:
                overrides[name.lower()] = state
        mappings["status_states"] = overrides

    if "type_flows" in form:
        flow_types = {k.lower(): v for k, v in (mappings.get("flow_types") or {}).items()}
        non_flow = _names(mappings.get("non_flow_types"))
        for name, flow in (form["type_flows"] or {}).items():
            lower = name.lower()
            if flow not in (*FLOW_TYPES, NOT_FLOW):
                raise SettingsFormError(f"Issue type {name}: {flow!r} is not a flow type.")
            flow_types.pop(lower, None)
            if lower in non_flow:
                non_flow.remove(lower)
            if flow == NOT_FLOW:
                non_flow.append(lower)
            elif flow != "Other":
                flow_types[lower] = flow
        mappings["flow_types"], mappings["non_flow_types"] = flow_types, non_flow

    merged = merge_settings(settings, {})
    merged["mappings"] = mappings
    if "time_zone" in form:
        merged["time_zone"] = _valid_time_zone(_clean(form["time_zone"]))
    if "tier_year" in form:
        merged["tier_year"] = _valid_tier_year(form["tier_year"])
    return merged


def _valid_pattern(pattern: str) -> str | None:
    """The hotfix version pattern when it is a valid regular expression; None for empty (no
    version is a hotfix)."""
    if not pattern:
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        raise SettingsFormError(
            f"Hotfix version pattern {pattern!r} is not a valid regular expression: {exc}."
        ) from None
    return pattern


def _valid_tier_year(value: Any) -> int:
    """2023 or 2024 (the DORA report whose clusters give the tiers)."""
    try:
        return tier_year_of(value)
    except UserError as exc:
        raise SettingsFormError(str(exc)) from None


def _valid_time_zone(name: str) -> str | None:
    """The zone name when it is a known IANA zone; None for empty (the machine's zone)."""
    if not name:
        return None
    from data.engine.periods import resolve_time_zone

    resolve_time_zone(name)  # raises UserError with a clear line for an unknown zone
    return name


def save_mappings_form(root: Path, form: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and save the mapping form; returns `{"settings", "warnings", "new_fields"}`.

    `warnings` lists the metrics the new mappings cannot compute, and why. `new_fields` names
    the fields JIRA must now be asked for (none: the cached issues serve, no API call); with
    JIRA configured, the data for such a mapping comes with the next "Update data".
    """
    from data.storage.cache_manager import fields_for_mappings

    settings = load_settings(root)
    sources = mapping_sources(root, settings)
    merged = merge_mappings_form(settings, form, sources.fields, sources.statuses)
    save_settings(root, merged)
    type_names = [*sources.issue_types, *(form.get("type_flows") or {})]
    warnings = unavailable_metrics(
        merged["mappings"], sources.fields or None, sources.statuses or None, type_names or None
    )
    new_fields: list[str] = []
    if jira_configured(merged):
        before = set(fields_for_mappings(settings["mappings"]))
        new_fields = [f for f in fields_for_mappings(merged["mappings"]) if f not in before]
    log.info(
        "mappings saved",
        extra={
            "operation": "save_mappings",
            "unavailable_metrics": len(warnings),
            "new_fields": len(new_fields),
        },
    )
    return {"settings": merged, "warnings": warnings, "new_fields": new_fields}
