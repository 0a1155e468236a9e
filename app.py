"""Entry point. `python app.py` serves the dashboard; subcommands give the same numbers headless.

    python app.py [--data-dir DIR] [--host H] [--port P]      serve at http://127.0.0.1:8050
    python app.py metrics [--input FILE] --period 30d ...     print every metric (json|csv)
    python app.py report [--input FILE] --period 30d --out F  write the offline HTML report
    python app.py sample --issues N --seed S --out FILE       write a sample project
    python app.py fetch [--jira-url URL] [--jql JQL] ...      fetch JIRA into the cache

User errors (bad argument, missing file, unreachable JIRA) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from configuration.settings import DATA_DIR_ENV, VERSION, data_dir, log_dir, settings_path
from data.errors import UserError

log = logging.getLogger("app")


def build_parser() -> argparse.ArgumentParser:
    """The command line: global options, then one optional subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help=f"folder for settings, caches and logs (default: ${DATA_DIR_ENV} or the project)",
    )
    parser = argparse.ArgumentParser(
        prog="app.py", description="DORA and Flow metrics from JIRA.", parents=[common]
    )
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8050)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    sub = parser.add_subparsers(dest="command")

    metrics = sub.add_parser("metrics", parents=[common], help="print every metric")
    _report_options(metrics)
    metrics.add_argument("--format", choices=["json", "csv"], default="json")

    report = sub.add_parser(
        "report", parents=[common], help="write the offline HTML report of a period"
    )
    _report_options(report)
    report.add_argument("--out", required=True, help="the HTML file to write")

    sample = sub.add_parser("sample", parents=[common], help="write a sample project")
    sample.add_argument("--issues", type=int, default=1500)
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--out", required=True)

    fetch = sub.add_parser("fetch", parents=[common], help="fetch JIRA issues into the cache")
    fetch.add_argument("--jira-url")
    fetch.add_argument("--jql")
    fetch.add_argument("--email")
    fetch.add_argument("--token-env", help="environment variable holding the token")
    fetch.add_argument("--auth", choices=["basic", "bearer"])
    fetch.add_argument("--full", action="store_true", help="ignore the cache and fetch all")
    return parser


def _report_options(command: argparse.ArgumentParser) -> None:
    """The options that choose a report's data and period (`metrics`, `report`)."""
    command.add_argument("--input", help="JIRA search response or list of issues (JSON)")
    command.add_argument("--period", default="30d", help="7d, 30d, 90d or YYYY-MM-DD:YYYY-MM-DD")
    command.add_argument("--now", help="ISO timestamp taken as now (default: the clock)")
    command.add_argument("--tz", help="IANA time zone for weeks and dates (default: local)")
    command.add_argument("--deployments", choices=["issues", "fixversions"])
    command.add_argument(
        "--tiers",
        choices=["2023", "2024"],
        help="DORA report year of the tiers (default: settings)",
    )


def start_up(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """Resolve the data directory, load settings and set up logging (once, for any command)."""
    from configuration.logging_config import setup_logging
    from data.persistence import load_settings

    root = data_dir(getattr(args, "data_dir", None))
    settings = load_settings(root)
    quiet_console = args.command and not os.environ.get("LOG_LEVEL")
    setup_logging(settings, log_dir(root), console_level="WARNING" if quiet_console else None)
    log.info(
        "start-up",
        extra={
            "operation": "start_up",
            "version": VERSION,
            "data_dir": str(root),
            "settings_path": str(settings_path(root)),
            "command": args.command or "serve",
        },
    )
    return root, settings


def run_metrics(args: argparse.Namespace, root: Path, settings: dict[str, Any]) -> int:
    """`metrics`: print every metric for a period, from a file or from the cache."""
    from data.metrics_service import metrics_report_for_cli

    print(metrics_report_for_cli(args, root, settings))
    return 0


def run_report(args: argparse.Namespace, root: Path, settings: dict[str, Any]) -> int:
    """`report`: write the self-contained HTML report of a period (the page's "Download
    report"), with the numbers `metrics` prints for the same options."""
    from data.persistence import atomic_write_bytes
    from data.shared_report import shared_report_for_cli
    from ui.html_report import report_html

    started = time.perf_counter()
    content = report_html(shared_report_for_cli(args, root, settings)).encode("utf-8")
    out = Path(args.out)
    try:
        atomic_write_bytes(out, content, durable=False)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - started
    print(f"wrote {out} ({len(content) / 1e6:.1f} MB) in {seconds:.2f} s")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    """`sample`: write a deterministic sample project."""
    from data.sample_project import write_sample

    count = write_sample(Path(args.out), issues=args.issues, seed=args.seed)
    print(f"wrote {count} issues to {args.out}")
    return 0


def run_fetch(args: argparse.Namespace, root: Path, settings: dict[str, Any]) -> int:
    """`fetch`: fetch into the cache and print one summary line."""
    from data.fetcher import fetch_for_cli

    print(fetch_for_cli(args, root, settings))
    return 0


def serve(args: argparse.Namespace, root: Path, settings: dict[str, Any]) -> int:
    """Serve the dashboard with waitress."""
    import waitress

    from callbacks.dashboard_app import create_app

    host = args.host or settings["server"]["host"]
    port = args.port or settings["server"]["port"]
    dash_app = create_app(root)
    print(f"Dashboard at http://{host}:{port}  (Ctrl+C to stop)")
    log.info("serving", extra={"operation": "serve", "host": host, "port": port})
    waitress.serve(dash_app.server, host=host, port=port, threads=8)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors become one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        root, settings = start_up(args)
        if args.command == "sample":
            return run_sample(args)
        if args.command == "metrics":
            return run_metrics(args, root, settings)
        if args.command == "report":
            return run_report(args, root, settings)
        if args.command == "fetch":
            return run_fetch(args, root, settings)
        return serve(args, root, settings)
    except UserError as exc:
        if log.hasHandlers():  # into errors.log too; the console gets the printed line only
            command = args.command or "serve"
            log.error(
                "%s failed: %s",
                command,
                exc,
                extra={"operation": command, "error": type(exc).__name__, "_console": False},
            )
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
