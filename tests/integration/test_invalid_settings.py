"""Issue 10.4: a settings file with a wrong type gives one line on the CLI and a message in the
page (served by waitress), never a traceback or an HTTP 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from configuration.settings import settings_path
from tests.served_dashboard import served_dashboard

PROJECT = Path(__file__).resolve().parent.parent.parent
BROKEN = {"rate_limit": {"requests": "many"}, "mappings": {"flow_types": "x"}}


@pytest.mark.parametrize("command", [["metrics"], ["fetch"]])
def test_cli_says_one_line_and_exits_2(data_dir: Path, command: list[str]) -> None:
    settings_path(data_dir).write_text(json.dumps(BROKEN))
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), *command],
        capture_output=True, text=True, timeout=120, cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "rate_limit.requests" in lines[0] and "mappings.flow_types" in lines[0]


def test_page_shows_the_problem_and_the_settings_panel_opens(data_dir: Path) -> None:
    settings_path(data_dir).write_text(json.dumps(BROKEN))
    with served_dashboard(data_dir) as served:
        panel = served.callback("open-settings.n_clicks", {})
        assert panel.status_code == 200
        response = panel.json()["response"]
        assert response["settings-panel"]["is_open"] is True
        assert "rate_limit.requests" in json.dumps(response["conn-result"])
        cards = served.callback("page-url.search", {"page-url.search": "?period=30d"})
        assert cards.status_code == 200
        assert "rate_limit.requests" in json.dumps(cards.json()["response"]["metrics-error"])
        for trigger in ("open-mappings.n_clicks", "update-data.n_clicks"):
            assert served.callback(trigger, {}).status_code in (200, 204)
