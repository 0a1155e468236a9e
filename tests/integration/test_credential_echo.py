"""Issue 10.3: a JIRA that echoes the Authorization header in a 400 body leaks no credential
form to the CLI's stderr or to the Test connection result."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from configuration.sensitive_data_filter import forget_secrets
from data.errors import UserError
from data.services.settings_service import check_connection_form

PROJECT = Path(__file__).resolve().parent.parent.parent
EMAIL = "me@example.com"
TOKEN = "EchoedTok3n-7c1f0a9b2d4e6f80"


class EchoingJira(BaseHTTPRequestHandler):
    """A Cloud JIRA whose search answers 400 quoting the request's Authorization header."""

    def _send(self, status: int, value: object) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/rest/api/2/serverInfo"):
            self._send(200, {"deploymentType": "Cloud", "serverTitle": "Echo", "version": "1"})
        elif self.path.startswith("/rest/api/2/myself"):
            self._send(200, {"accountId": "1", "displayName": "Me", "timeZone": "UTC"})
        else:
            self._send(200, [])

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        blob = auth.split(" ", 1)[-1]
        messages = [
            f"Bad request header Authorization: {auth}",
            f"raw {blob} url {quote(blob, safe='')} hex {base64.b64decode(blob).hex()}",
        ]
        self._send(400, {"errorMessages": messages, "errors": {"jql": f"token {TOKEN}"}})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_jira() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingJira)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def credential_forms() -> list[str]:
    blob = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    return [TOKEN, blob, quote(blob, safe=""), f"{EMAIL}:{TOKEN}".encode().hex(), TOKEN[:12]]


def test_cli_fetch_error_line_holds_no_credential_form(echo_jira: str, data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(PROJECT / "app.py"), "fetch", "--jira-url", echo_jira,
         "--email", EMAIL, "--jql", "project = DEMO"],
        capture_output=True, text=True, timeout=120, cwd=PROJECT,
        env={**os.environ, "FLOWDASH_DATA_DIR": str(data_dir), "FLOWDASH_JIRA_TOKEN": TOKEN},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "JQL" in done.stderr
    assert [form for form in credential_forms() if form in done.stderr + done.stdout] == []


def test_test_connection_message_holds_no_credential_form(echo_jira: str, data_dir: Path) -> None:
    forget_secrets()  # a fresh server process: nothing registered before the check
    form = {"url": echo_jira, "auth": "basic", "email": EMAIL, "token": TOKEN, "jql": "x = 1"}
    with pytest.raises(UserError) as caught:
        check_connection_form(data_dir, form)
    message = str(caught.value)
    assert "JIRA rejected the JQL" in message
    assert [form for form in credential_forms() if form in message] == []
