"""The settings panel: JIRA connection, JQL, "Test connection" and the mapping dialog's button.

Component ids (the contract with `callbacks/settings.py` and the browser tests):
`open-settings` (header button), `settings-panel` (the offcanvas), `conn-url`, `conn-auth`,
`conn-email`, `conn-token` (type=password, never filled by the server), `conn-jql`,
`conn-test`, `conn-save`, `conn-result` (test / save outcome), `open-mappings`,
`mapping-warnings` (metrics the mappings cannot compute), the service level `settings-sle-percent`,
`settings-sle-days`, `settings-sle-save`, `settings-sle-result`, and the dialog of
`ui.mapping_dialog`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from configuration.sensitive_data_filter import redact_text

AUTH_OPTIONS = [
    {"label": "E-mail + API token (Cloud)", "value": "basic"},
    {"label": "Personal access token (Data Center)", "value": "bearer"},
]


def settings_button() -> dbc.Button:
    """The header button (id "open-settings") that opens the settings panel."""
    return dbc.Button("Settings", id="open-settings", color="secondary", outline=True, size="sm")


#: The page's name of `jira.verify_tls`; the TLS error message names it.
VERIFY_TLS_LABEL = "Check the site's TLS certificate"


def _field(label: str, control: Any, help_text: str = "") -> html.Div:
    children = [dbc.Label(label, html_for=getattr(control, "id", None)), control]
    if help_text:
        children.append(dbc.FormText(help_text))
    return html.Div(children, className="mb-3")


def connection_form() -> html.Div:
    """URL, authentication, e-mail, token and JQL, with Test connection and Save."""
    return html.Div(
        [
            html.H5("JIRA connection", className="mb-3"),
            _field(
                "JIRA URL",
                dbc.Input(
                    id="conn-url",
                    type="url",
                    placeholder="https://example.atlassian.net",
                    autocomplete="off",
                ),
                "Leave empty to look at the bundled sample project.",
            ),
            _field("Authentication", dbc.RadioItems(id="conn-auth", options=AUTH_OPTIONS)),
            _field(
                "E-mail",
                dbc.Input(id="conn-email", type="email", placeholder="you@example.com"),
            ),
            _field(
                "Token",
                dbc.Input(
                    id="conn-token",
                    type="password",
                    autocomplete="new-password",
                    placeholder="API token or personal access token",
                ),
                "Write-only: it is never shown again. Stored in settings.json (mode 0600), "
                "or set $FLOWDASH_JIRA_TOKEN instead.",
            ),
            _field(
                "JQL",
                dbc.Textarea(
                    id="conn-jql",
                    placeholder="project = DEMO ORDER BY created",
                    rows=2,
                    spellcheck="false",
                ),
            ),
            _field(
                "TLS",
                dbc.Checkbox(id="conn-verify-tls", label=VERIFY_TLS_LABEL, value=True),
                "Untick only for a site with a self-signed certificate (jira.verify_tls).",
            ),
            html.Div(
                [
                    dbc.Button("Test connection", id="conn-test", color="secondary", outline=True),
                    dbc.Button("Save", id="conn-save", color="primary"),
                ],
                className="d-flex gap-2 mb-3",
            ),
            dbc.Spinner(html.Div(id="conn-result"), size="sm", color="secondary"),
        ]
    )


def service_level_form() -> html.Div:
    """The service-level expectation ("85 % of items within N days") of the flow analytics,
    the same setting as the controls beside the section title. Text inputs, so that a bad
    value reaches the server and gets its message."""
    return html.Div(
        [
            html.H5("Service level", className="mb-2"),
            html.Div(
                [
                    dbc.Label(
                        "Service level percent",
                        html_for="settings-sle-percent",
                        class_name="visually-hidden",
                    ),
                    dbc.Input(id="settings-sle-percent", type="text", size="sm", value="85"),
                    html.Span("% of items within", className="small"),
                    dbc.Input(id="settings-sle-days", type="text", size="sm", placeholder="N"),
                    html.Span("days", className="small"),
                    dbc.Button("Save", id="settings-sle-save", size="sm", color="primary"),
                ],
                className="sle-controls d-flex flex-wrap align-items-center gap-2",
            ),
            dbc.FormText("Drawn and scored on the cycle-time scatter. Empty days: none."),
            html.Div(id="settings-sle-result", className="small mt-2", role="status"),
        ]
    )


def settings_panel() -> dbc.Offcanvas:
    """The settings panel, closed until "open-settings" is clicked; its "Edit field mappings"
    opens the mapping dialog (`ui.mapping_dialog`, placed in the page beside the panel)."""
    return dbc.Offcanvas(
        [
            connection_form(),
            html.Hr(),
            html.H5("Metric mappings", className="mb-2"),
            html.P(
                "Which fields, statuses and issue types mean deployments, incidents, "
                "changes and flow items.",
                className="small text-muted",
            ),
            dbc.Button("Edit field mappings", id="open-mappings", color="secondary", outline=True),
            html.Div(id="mapping-warnings", className="mt-3"),
            html.Hr(),
            service_level_form(),
            html.Hr(),
            html.P(
                "The dashboard listens on 127.0.0.1 only, unless started with --host.",
                className="small text-muted mb-0",
            ),
        ],
        id="settings-panel",
        title=html.Span("Settings", id="settings-title"),
        labelledby="settings-title",
        placement="end",
        is_open=False,
        style={"width": "32rem", "maxWidth": "100vw"},
    )


def test_result_view(result: Mapping[str, Any]) -> dbc.Alert:
    """What "Test connection" found: server title, flavor, user and matching issues."""
    flavor = {"cloud": "Cloud", "datacenter": "Data Center"}.get(
        str(result.get("flavor")), str(result.get("flavor"))
    )
    matching = result.get("matching_issues")
    rows = [
        ("Server", result.get("server_title") or "-"),
        ("Flavor", flavor),
        ("User", result.get("user") or "-"),
        ("Matching issues", f"{matching:,}" if isinstance(matching, int) else "unknown"),
    ]
    zone = result.get("time_zone")
    facts = [
        item for label, value in rows for item in (html.Dt(label), html.Dd(redact_text(str(value))))
    ]
    facts.append(html.Dt("Your JIRA time zone"))
    facts.append(html.Dd(zone or "not given", id="conn-tz"))
    offer = None
    if zone and zone != result.get("dashboard_time_zone"):
        offer = html.Div(
            [
                html.Span(
                    f"The dashboard's weeks and dates use {result.get('dashboard_time_zone')}."
                ),
                dbc.Button(
                    f"Use {zone}", id="conn-use-tz", size="sm", color="success", class_name="ms-2"
                ),
            ],
            className="mt-2 small",
        )
    return dbc.Alert(
        [
            html.Strong("Connected."),
            html.Dl(facts, className="connection-facts mb-0 mt-2", id="conn-facts"),
            offer,
            html.Div(id="conn-tz-result"),
        ],
        color="success",
        class_name="mb-0",
    )


def message_view(text: str, color: str = "danger") -> dbc.Alert:
    """A one-line outcome: an error (red) or a confirmation (green); redacted as the log is."""
    return dbc.Alert(redact_text(str(text)), color=color, class_name="mb-0")


def mappings_saved_view(
    warnings: Sequence[Mapping[str, str]], new_fields: Sequence[str]
) -> list[Any]:
    """After saving mappings: a confirmation (and the fields to fetch), then the warnings."""
    if new_fields:
        note = message_view(
            f"Mappings saved. They need {', '.join(new_fields)} from JIRA: "
            "click Update data to fetch it.",
            "info",
        )
    else:
        note = message_view("Mappings saved; the metrics are recomputed.", "success")
    note.id = "mappings-saved"
    return [note, warnings_view(warnings)]


def warnings_view(warnings: Sequence[Mapping[str, str]]) -> dbc.Alert | None:
    """The metrics the current mappings cannot compute, each with why; nothing when none."""
    if not warnings:
        return None
    return dbc.Alert(
        [
            html.Strong("These metrics cannot be computed with the current mappings:"),
            html.Ul(
                [html.Li([html.B(w["label"]), f": {w['reason']}."]) for w in warnings],
                className="mb-0 mt-1",
            ),
        ],
        color="warning",
        class_name="mb-0 mt-2 small",
        id="unavailable-metrics",
    )
