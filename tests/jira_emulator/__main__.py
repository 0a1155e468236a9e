"""`python -m tests.jira_emulator --flavor cloud --issues 5000 --port 0`: serve by hand.

Prints the URL and the credentials, then serves until Ctrl+C (or SIGTERM).
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from tests.jira_emulator.server import CLOUD, DATACENTER, JiraEmulator


def parse_rate(text: str) -> tuple[int, float]:
    """ "100/10" -> (100, 10.0): requests per seconds."""
    try:
        requests, seconds = text.split("/")
        return int(requests), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected REQUESTS/SECONDS, e.g. 100/10, not {text!r}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.jira_emulator",
        description="An emulated JIRA serving a sample project.",
    )
    parser.add_argument("--flavor", choices=[CLOUD, DATACENTER], default=CLOUD)
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--email", default="user@example.com")
    parser.add_argument("--token", default="emulator-token-0123456789")
    parser.add_argument("--time-zone", default="Europe/Berlin", help="the JIRA user's zone")
    parser.add_argument("--rate-limit", type=parse_rate, default=None, help="e.g. 100/10")
    parser.add_argument("--max-results-cap", type=int, default=100)
    parser.add_argument("--project", default="DEMO", help="project key of the sample")
    args = parser.parse_args(argv)

    jira = JiraEmulator(
        args.flavor, issues=args.issues, seed=args.seed, email=args.email, token=args.token,
        user_time_zone=args.time_zone, rate_limit=args.rate_limit,
        max_results_cap=args.max_results_cap, jql_project=args.project, host=args.host,
        port=args.port,
    )  # fmt: skip

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    auth = "Basic (e-mail + token)" if args.flavor == CLOUD else "Bearer token"
    print(f"JIRA emulator ({args.flavor}, {jira.issue_count} issues) at {jira.url}")
    print(f"email: {jira.email}")
    print(f"token: {jira.token}")
    print(f"auth: {auth}; JQL: project = {args.project}; Ctrl+C stops", flush=True)
    try:
        jira.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        jira.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
