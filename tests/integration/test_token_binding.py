"""Issue 10.2: a saved token goes only to the site (and auth type) it was saved for.

The dashboard is served by waitress as `python app.py` serves it; forged callbacks point the
connection at a listener that records every credential that reaches it."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from configuration.settings import default_settings, jira_token
from data.jira import fetcher
from data.storage.persistence import load_settings, save_settings
from tests.served_dashboard import ServedDashboard, served_dashboard

SAVED_TOKEN = "Zq8sAVEDtoken-4f1c9e77b2d04a55"
SAVED_SITE = "https://jira.example.com"


class Listener:
    """An HTTP server that answers 401 to everything and keeps every request's headers."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
                length = int(self.headers.get("Content-Length") or 0)
                recorder.seen[-1]["body"] = self.rfile.read(length).decode("latin-1")
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def credentials_seen(self) -> str:
        """Every header and body received, joined: whatever a thief would have."""
        return "\n".join(f"{k}: {v}" for request in self.seen for k, v in request.items())


@pytest.fixture
def listener() -> Iterator[Listener]:
    thief = Listener()
    yield thief
    thief.server.shutdown()


@pytest.fixture
def served(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedDashboard]:
    monkeypatch.delenv("FLOWDASH_JIRA_TOKEN", raising=False)
    settings = default_settings()
    settings["jira"].update(
        url=SAVED_SITE, auth="bearer", jql="project = DEMO", token=SAVED_TOKEN,
        token_for={"url": SAVED_SITE, "auth": "bearer"},
    )  # fmt: skip
    save_settings(data_dir, settings)
    with served_dashboard(data_dir) as dashboard:
        yield dashboard


def form(url: str, auth: str = "bearer", token: str = "") -> dict[str, str]:
    return {
        "conn-url.value": url,
        "conn-auth.value": auth,
        "conn-email.value": "me@example.com",
        "conn-token.value": token,
        "conn-jql.value": "project = DEMO",
    }


def leaked(listener: Listener) -> bool:
    seen = listener.credentials_seen()
    encoded = base64.b64encode(f"me@example.com:{SAVED_TOKEN}".encode()).decode()
    return SAVED_TOKEN in seen or encoded in seen


def test_test_connection_to_another_site_asks_for_the_token(
    served: ServedDashboard, listener: Listener
) -> None:
    answer = served.callback("conn-test.n_clicks", form(listener.url))
    assert answer.status_code == 200
    assert "type the token" in answer.text
    assert listener.seen == [] and not leaked(listener)


def test_test_connection_with_another_auth_type_asks_for_the_token(
    served: ServedDashboard, listener: Listener
) -> None:
    answer = served.callback("conn-test.n_clicks", form(SAVED_SITE, auth="basic"))
    assert "type the token" in answer.text


def test_save_with_another_site_then_update_sends_no_saved_token(
    served: ServedDashboard, listener: Listener, data_dir: Path
) -> None:
    saved = served.callback("conn-save.n_clicks", form(listener.url))
    assert "type the token" in saved.text
    assert load_settings(data_dir)["jira"]["url"] == SAVED_SITE  # nothing was saved
    served.callback("update-data.n_clicks", {})
    _wait_for_update(data_dir)
    assert not leaked(listener)


def test_a_hand_edited_url_gets_no_saved_token(
    served: ServedDashboard, listener: Listener, data_dir: Path
) -> None:
    settings = load_settings(data_dir)
    settings["jira"]["url"] = listener.url  # the file edited, the token still bound to SAVED_SITE
    save_settings(data_dir, settings)
    assert jira_token(load_settings(data_dir)) == ""
    served.callback("update-data.n_clicks", {})
    _wait_for_update(data_dir)
    assert not leaked(listener)


def test_a_token_typed_for_the_new_site_is_sent_there(
    served: ServedDashboard, listener: Listener
) -> None:
    typed = "Typed4NewSite-9a8b7c6d5e4f"
    served.callback("conn-test.n_clicks", form(listener.url, token=typed))
    assert any(r.get("authorization") == f"Bearer {typed}" for r in listener.seen)
    assert not leaked(listener)


def test_a_token_saved_before_binding_is_bound_to_the_site_beside_it(data_dir: Path) -> None:
    settings = default_settings()
    settings["jira"].update(url=SAVED_SITE + "/", auth="bearer", token=SAVED_TOKEN)
    del settings["jira"]["token_for"]
    save_settings(data_dir, settings)
    loaded = load_settings(data_dir)
    assert jira_token(loaded) == SAVED_TOKEN
    loaded["jira"]["url"] = "https://elsewhere.example"
    assert jira_token(loaded) == ""


def _wait_for_update(root: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if fetcher.update_progress(root).get("state") != "running":
            return
        time.sleep(0.1)
    raise AssertionError("the update did not end")
