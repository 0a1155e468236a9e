"""The field-mapping dialog: which fields, statuses and types mean what to the metrics.

Built from the plain model of `data.services.settings_service.mapping_dialog_model`. Every control
has a pattern-matching id so that one callback reads the whole form:
`{"type": "mapping", "key": <mapping key>}` (field selects, name lists, switches, zone),
`{"type": "status-state", "name": <status>}` and `{"type": "type-flow", "name": <issue type>}`.
Static ids: `mapping-dialog` (the modal), `mapping-body`, `mapping-save`, `mapping-cancel`,
`mapping-result`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from configuration.metric_defaults import DEFAULT_TIER_YEAR, STATES, TIER_YEARS

#: Field mappings in the order the dialog shows them, with their label and help text.
FIELD_SECTIONS: dict[str, list[tuple[str, str, str]]] = {
    "Deployments": [
        ("deployment_time_field", "Deployment time", "when a deployment issue happened"),
        ("environment_field", "Environment field", "none: every deployment is production"),
        ("deployment_success_field", "Success field", "'failed', 'no' or false = failed"),
        ("rework_field", "Rework field", "true or 'yes' = a rework deployment"),
    ],
    "Incidents": [
        ("production_impact_field", "Production-impact field", "true makes any issue an incident"),
        ("incident_detected_field", "Detected", "none: created"),
        ("incident_resolved_field", "Resolved", "none: resolution date"),
    ],
    "Changes and velocity": [
        ("commit_date_field", "Commit date", "none: the item's work start"),
        ("deployed_date_field", "Deployed date", "none: release or linked deployment"),
        ("story_points_field", "Story points", "velocity in points too"),
        ("flagged_field", "Flagged (blocked)", "none: JIRA's own Flagged field, by name"),
    ],
}


def mapping_dialog() -> dbc.Modal:
    """The dialog, empty and closed; its body is filled when it opens."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Field mappings")),
            dbc.ModalBody(
                [
                    html.Div(id="mapping-body"),
                    html.Div(id="mapping-result", className="mt-3"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id="mapping-cancel", color="secondary", outline=True),
                    dbc.Button("Save mappings", id="mapping-save", color="primary"),
                ]
            ),
        ],
        id="mapping-dialog",
        size="xl",
        scrollable=True,
        is_open=False,
    )


def _mid(key: str) -> dict[str, str]:
    return {"type": "mapping", "key": key}


def _row(label: str, control: Any, help_text: str = "") -> dbc.Row:
    return dbc.Row(
        [
            dbc.Label(label, width=4, class_name="small fw-semibold"),
            dbc.Col(
                [control, dbc.FormText(help_text)] if help_text else control,
                width=8,
            ),
        ],
        class_name="mb-2 align-items-center",
    )


def _field_select(key: str, options: list[dict[str, Any]], value: str) -> dbc.Select:
    return dbc.Select(id=_mid(key), options=options, value=value, size="sm")


def _checklist(key: str, names: Sequence[str], chosen: Sequence[str]) -> dbc.Checklist:
    lower = {c.lower() for c in chosen}
    return dbc.Checklist(
        id=_mid(key),
        options=[{"label": name, "value": name.lower()} for name in names],
        value=[name.lower() for name in names if name.lower() in lower],
        inline=True,
        class_name="small",
    )


def _section(title: str, rows: list[Any]) -> html.Div:
    return html.Div([html.H6(title, className="mt-3 mb-2 text-primary"), *rows])


def _fields_column(model: Mapping[str, Any]) -> html.Div:
    mappings = model["mappings"]
    options = model["field_options"]
    values = model["field_values"]
    types = model["type_names"]
    deployments = [
        _row(
            "Source",
            dbc.RadioItems(
                id=_mid("deployment_source"),
                options=[
                    {"label": "Deployment issues", "value": "issues"},
                    {"label": "Released fixVersions", "value": "fixversions"},
                ],
                value=mappings["deployment_source"],
                inline=True,
                class_name="small",
            ),
        ),
        _row(
            "Deployment types",
            _checklist("deployment_types", types, mappings.get("deployment_types") or []),
        ),
    ]
    sections = {
        "Deployments": deployments,
        "Incidents": [
            _row(
                "Incident types",
                _checklist("incident_types", types, mappings.get("incident_types") or []),
            )
        ],
        "Changes and velocity": [],
    }
    for title, entries in FIELD_SECTIONS.items():
        for key, label, help_text in entries:
            sections[title].append(
                _row(label, _field_select(key, options[key], values[key]), help_text)
            )
        if title == "Deployments":
            sections[title] += [
                _row(
                    "Production values",
                    dbc.Input(
                        id=_mid("production_values"),
                        value=", ".join(mappings.get("production_values") or []),
                        size="sm",
                    ),
                    "comma-separated environment values",
                ),
                _row(
                    "Rework labels",
                    dbc.Input(
                        id=_mid("rework_labels"),
                        value=", ".join(mappings.get("rework_labels") or []),
                        size="sm",
                    ),
                    "comma-separated labels of rework deployments",
                ),
                _row(
                    "Hotfix version pattern",
                    dbc.Input(
                        id=_mid("hotfix_version_pattern"),
                        value=mappings.get("hotfix_version_pattern") or "",
                        placeholder="empty: no version is a hotfix",
                        size="sm",
                    ),
                    "regular expression on fixVersion names (default: a patch above 0, 1.4.1)",
                ),
                _row(
                    "Failure window",
                    dbc.Switch(
                        id=_mid("failure_by_time_window"),
                        value=bool(mappings.get("failure_by_time_window", True)),
                        label="an incident before the next deployment fails it",
                    ),
                ),
            ]
    other = [
        _row(
            "Canceled resolutions",
            _checklist(
                "canceled_resolutions",
                model["resolutions"],
                mappings.get("canceled_resolutions") or [],
            ),
        ),
        _row(
            "Time zone",
            dbc.Input(
                id=_mid("time_zone"),
                value=model.get("time_zone") or "",
                placeholder="machine's zone, e.g. Europe/Berlin",
                size="sm",
            ),
            "IANA name; weeks start Monday 00:00 there",
        ),
        _row(
            "Tier year",
            dbc.RadioItems(
                id=_mid("tier_year"),
                options=[{"label": str(year), "value": year} for year in TIER_YEARS],
                value=model.get("tier_year") or DEFAULT_TIER_YEAR,
                inline=True,
                class_name="small",
            ),
            "DORA report whose clusters give the tiers (2024: nearest cluster for change "
            "failure rate)",
        ),
    ]
    return html.Div(
        [*(_section(title, rows) for title, rows in sections.items()), _section("Other", other)]
    )


def _status_table(rows: Sequence[Mapping[str, str]]) -> html.Div:
    body = [
        html.Tr(
            [
                html.Td(row["name"]),
                html.Td(row["category"], className="text-muted"),
                html.Td(
                    dbc.Select(
                        id={"type": "status-state", "name": row["name"]},
                        options=[{"label": s, "value": s} for s in STATES],
                        value=row["state"],
                        size="sm",
                    )
                ),
            ]
        )
        for row in rows
    ]
    return _section(
        "Status → state",
        [
            dbc.Table(
                [
                    html.Thead(html.Tr([html.Th("Status"), html.Th("Category"), html.Th("State")])),
                    html.Tbody(body),
                ],
                size="sm",
                class_name="small mb-0 align-middle",
            )
            if rows
            else html.P("No statuses known yet.", className="small text-muted")
        ],
    )


def _type_table(rows: Sequence[Mapping[str, str]], choices: list[dict[str, str]]) -> html.Div:
    body = [
        html.Tr(
            [
                html.Td(row["name"]),
                html.Td(
                    dbc.Select(
                        id={"type": "type-flow", "name": row["name"]},
                        options=choices,
                        value=row["flow"],
                        size="sm",
                    )
                ),
            ]
        )
        for row in rows
    ]
    return _section(
        "Issue type → flow type",
        [
            dbc.Table(
                [
                    html.Thead(html.Tr([html.Th("Issue type"), html.Th("Flow type")])),
                    html.Tbody(body),
                ],
                size="sm",
                class_name="small mb-0 align-middle",
            )
        ],
    )


def mapping_dialog_body(model: Mapping[str, Any]) -> html.Div:
    """The dialog's form for the plain model of `settings_service.mapping_dialog_model`."""
    return html.Div(
        [
            html.P(model.get("source_note", ""), className="small text-muted mb-1"),
            dbc.Row(
                [
                    dbc.Col(_fields_column(model), lg=7),
                    dbc.Col(
                        [
                            _status_table(model["statuses"]),
                            _type_table(model["types"], model["flow_choices"]),
                        ],
                        lg=5,
                    ),
                ]
            ),
        ]
    )


def mapping_form(
    keys: Sequence[Mapping[str, str]],
    values: Sequence[Any],
    status_ids: Sequence[Mapping[str, str]],
    states: Sequence[str],
    type_ids: Sequence[Mapping[str, str]],
    flows: Sequence[str],
) -> dict[str, Any]:
    """The plain form dict `settings_service.save_mappings_form` takes, from the dialog's values."""
    form: dict[str, Any] = {key["key"]: value for key, value in zip(keys, values, strict=True)}
    form["status_states"] = {i["name"]: s for i, s in zip(status_ids, states, strict=True)}
    form["type_flows"] = {i["name"]: f for i, f in zip(type_ids, flows, strict=True)}
    return form
