"""Issue 10.1: the served dashboard answers only its own host names and origins (real waitress)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from callbacks.request_guard import allowed_hosts, check_bind
from data.errors import UserError
from tests.served_dashboard import ServedDashboard, served_dashboard

ROUTES = ["/", "/_dash-layout", "/_dash-dependencies", "/assets/bootstrap.min.css"]


@pytest.fixture
def served(data_dir: Path) -> Iterator[ServedDashboard]:
    with served_dashboard(data_dir) as dashboard:
        yield dashboard


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_refuses_a_foreign_host_header(served: ServedDashboard, route: str) -> None:
    # DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends its own name
    answer = requests.get(
        served.url.rstrip("/") + route, headers={"Host": f"evil.example:{served.port}"}, timeout=30
    )
    assert answer.status_code == 403
    assert "evil" not in answer.text


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
def test_own_host_names_with_the_port_are_served(served: ServedDashboard, name: str) -> None:
    answer = requests.get(served.url, headers={"Host": f"{name}:{served.port}"}, timeout=30)
    assert answer.status_code == 200


def test_own_host_name_on_another_port_is_refused(served: ServedDashboard) -> None:
    answer = requests.get(served.url, headers={"Host": f"127.0.0.1:{served.port + 1}"}, timeout=30)
    assert answer.status_code == 403


def test_a_callback_posted_from_a_foreign_origin_is_refused(served: ServedDashboard) -> None:
    answer = served.callback(
        "open-settings.n_clicks", {}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403


def test_a_callback_with_a_foreign_referer_and_no_origin_is_refused(
    served: ServedDashboard,
) -> None:
    spec = {"output": "x.children", "inputs": [], "changedPropIds": [], "state": []}
    answer = requests.post(
        served.url + "_dash-update-component",
        json=spec,
        headers={"Referer": "http://evil.example/page.html"},
        timeout=30,
    )
    assert answer.status_code == 403


def test_a_null_origin_is_refused(served: ServedDashboard) -> None:
    answer = served.callback("open-settings.n_clicks", {}, headers={"Origin": "null"})
    assert answer.status_code == 403


def test_a_callback_from_the_page_itself_is_answered(served: ServedDashboard) -> None:
    answer = served.callback("open-settings.n_clicks", {})
    assert answer.status_code == 200
    assert answer.json()["response"]["settings-panel"]["is_open"] is True


def test_an_allowed_lan_name_is_served(data_dir: Path) -> None:
    with served_dashboard(data_dir, allowed=("my-laptop.lan",)) as served:
        answer = requests.get(
            served.url, headers={"Host": f"My-Laptop.lan:{served.port}"}, timeout=30
        )
        assert answer.status_code == 200


def test_a_lan_bind_must_name_its_allowed_hosts() -> None:
    with pytest.raises(UserError, match="--allowed-host"):
        check_bind("0.0.0.0", [])
    check_bind("0.0.0.0", ["my-laptop.lan"])
    check_bind("127.0.0.1", [])


def test_a_wildcard_bind_allows_no_wildcard_host_header() -> None:
    hosts = allowed_hosts("0.0.0.0", 8050, ["box.lan"])
    assert "0.0.0.0:8050" not in hosts
    assert {"box.lan:8050", "localhost:8050", "[::1]:8050", "127.0.0.1:8050"} <= hosts
    assert "192.168.1.5:8050" in allowed_hosts("192.168.1.5", 8050, ["x"])
