"""The dashboard served by waitress exactly as `python app.py` serves it (guard included),
and the Dash callback requests a browser (or a forger) would send to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import waitress

from callbacks.dashboard_app import create_app
from callbacks.request_guard import guard_server


@dataclass
class ServedDashboard:
    """A running dashboard: its port, base URL and a session that talks to it."""

    port: int
    url: str

    def dependencies(self) -> list[dict[str, Any]]:
        return requests.get(self.url + "_dash-dependencies", timeout=30).json()

    def callback(
        self,
        trigger: str,
        values: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST the callback fired by `trigger` ("id.prop") as the page would; `values`
        ({"id.prop": value}) gives its other inputs and its State values (default None; the
        trigger's own value defaults to 1, a click)."""
        spec = next(
            d
            for d in self.dependencies()
            if trigger in (f"{i['id']}.{i['property']}" for i in d["inputs"])
        )

        def entries(kind: str) -> list[dict[str, Any]]:
            result = []
            for item in spec[kind]:
                key = f"{item['id']}.{item['property']}"
                default = 1 if key == trigger else None
                result.append({**item, "value": values.get(key, default)})
            return result

        body = {
            "output": spec["output"],
            "outputs": _outputs(spec["output"]),
            "inputs": entries("inputs"),
            "changedPropIds": [trigger],
            "state": entries("state"),
        }
        return requests.post(
            self.url + "_dash-update-component",
            json=body,
            headers={"Origin": self.url.rstrip("/"), **(headers or {})},
            timeout=60,
        )


def _outputs(output: str) -> Any:
    parts = [p for p in output.strip(".").split("...") if p]
    specs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        specs.append({"id": component, "property": prop.split("@")[0]})
    return specs if output.startswith("..") else specs[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_dashboard(root: Path, allowed: tuple[str, ...] = ()) -> Iterator[ServedDashboard]:
    """`create_app(root)` behind the request guard, on a free 127.0.0.1 port, in a thread."""
    port = free_port()
    app = create_app(root)
    guard_server(app.server, "127.0.0.1", port, allowed)
    server = waitress.create_server(app.server, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield ServedDashboard(port=port, url=f"http://127.0.0.1:{port}/")
    finally:
        server.close()
        thread.join(timeout=5)
