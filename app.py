"""Entry point. `python app.py` serves the dashboard; subcommands give the same numbers headless.

    python app.py [--data-dir DIR] [--host H] [--port P]      serve at http://127.0.0.1:8050
    python app.py metrics [--input FILE] --period 30d ...     print every metric (json|csv)
    python app.py report [--input FILE] --period 30d --out F  write the offline HTML report
    python app.py sample --issues N --seed S --out FILE       write a sample project
    python app.py fetch [--jira-url URL] [--jql JQL] ...      fetch JIRA into the cache
    python app.py forecast how-many --until DATE | when --items N   Monte Carlo forecasts
    python app.py items --metric M --period 30d [--week W]    the items behind a figure
    python app.py quality [--format json|csv]                 the data-quality report
    python app.py workspaces                                  list the workspaces
Every command takes --workspace NAME (default: the workspace the dashboard shows).

User errors (bad argument, missing file, unreachable JIRA) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configuration.settings import (
    DATA_DIR_ENV,
    VERSION,
    data_dir,
    log_dir,
    secure_data_dir,
    settings_path,
)
from data.errors import UserError

if TYPE_CHECKING:
    from data.services.source_options import SourceOptions

log = logging.getLogger("app")

SAMPLE_NOTE = (
    "note: no JIRA configured: computed on the bundled sample project, as the dashboard shows "
    "(configure JIRA in the page's Settings or with `python app.py fetch`)."
)


def build_parser() -> argparse.ArgumentParser:
    """The command line: global options, then one optional subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help=f"folder for settings, caches and logs (default: ${DATA_DIR_ENV} or the project)",
    )
    common.add_argument(
        "--workspace",
        default=argparse.SUPPRESS,
        metavar="NAME",
        help="the workspace to use (default: the one the dashboard shows)",
    )
    parser = argparse.ArgumentParser(
        prog="app.py", description="DORA and Flow metrics from JIRA.", parents=[common]
    )
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8050)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME",
        help="host name browsers may use besides 127.0.0.1/localhost (needed with a LAN --host)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    sub = parser.add_subparsers(dest="command")

    metrics = sub.add_parser("metrics", parents=[common], help="print every metric")
    _source_options(metrics, tiers=True)
    metrics.add_argument(
        "--all-workspaces",
        action="store_true",
        help="every workspace's metrics for the same period (as the Compare view)",
    )

    items = sub.add_parser("items", parents=[common], help="list the items behind a figure")
    items.add_argument("--metric", required=True, help="metric key, e.g. lead_time_for_changes")
    items.add_argument("--week", help="one weekly point: an ISO week such as 2026-W45")
    items.add_argument("--excluded", help="the items left out for a reason, e.g. canceled")
    _source_options(items)

    quality = sub.add_parser("quality", parents=[common], help="print the data-quality report")
    _source_options(quality, period=False)

    report = sub.add_parser(
        "report", parents=[common], help="write the offline HTML report of a period"
    )
    _source_options(report, tiers=True, output_format=False)
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
    fetch.add_argument(
        "--all-workspaces",
        action="store_true",
        help="update every workspace in turn (one at a time per JIRA site)",
    )
    add_forecast_parser(sub, common)

    spaces = sub.add_parser("workspaces", parents=[common], help="list the workspaces")
    spaces.add_argument("--format", choices=["text", "json"], default="text")
    spaces.add_argument("--export", metavar="NAME", help="write this workspace to --out")
    spaces.add_argument("--out", help="the file --export writes")
    spaces.add_argument("--with-data", action="store_true", help="--export its fetched issues too")
    spaces.add_argument("--import", dest="import_file", metavar="FILE", help="add a workspace")
    spaces.add_argument("--name", help="the name --import gives it (default: the file's)")
    return parser


def add_forecast_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`forecast how-many --until DATE` and `forecast when --items N | --jql JQL | --epic KEY`."""
    shared = argparse.ArgumentParser(add_help=False, parents=[common])
    shared.add_argument("--input", help="JIRA search response (default: the dashboard's data)")
    shared.add_argument("--now", help="ISO timestamp taken as now (default: the clock)")
    shared.add_argument("--history-weeks", type=int, help="history window in weeks")
    shared.add_argument("--seed", type=int, help="random seed (default: the settings')")
    shared.add_argument("--format", choices=["text", "json"], default="text")
    forecast = sub.add_parser("forecast", parents=[common], help="Monte Carlo forecasts")
    modes = forecast.add_subparsers(dest="forecast_mode", required=True)
    how_many = modes.add_parser("how-many", parents=[shared], help="items done by a date")
    how_many.add_argument("--until", required=True, help="last day forecast, YYYY-MM-DD")
    when = modes.add_parser("when", parents=[shared], help="when N items will be done")
    what = when.add_mutually_exclusive_group(required=True)
    what.add_argument("--items", type=int, help="number of items to finish")
    what.add_argument("--jql", help="finish the open issues this JQL matches (asks JIRA)")
    what.add_argument("--epic", help="finish the open children of this epic")


def _source_options(
    command: argparse.ArgumentParser,
    *,
    period: bool = True,
    tiers: bool = False,
    output_format: bool = True,
) -> None:
    """The input, period, clock, zone, deployment source, tier year and format options of
    `metrics` (and of `items`, `quality`, `report`, each with what it needs)."""
    command.add_argument("--input", help="JIRA search response or list of issues (JSON)")
    if period:
        command.add_argument(
            "--period", default="30d", help="7d, 30d, 90d or YYYY-MM-DD:YYYY-MM-DD"
        )
        command.add_argument("--now", help="ISO timestamp taken as now (default: the clock)")
    command.add_argument("--tz", help="IANA time zone for weeks and dates (default: local)")
    command.add_argument("--deployments", choices=["issues", "fixversions"])
    if tiers:
        command.add_argument(
            "--tiers",
            choices=["2023", "2024"],
            help="DORA report year of the tiers (default: settings)",
        )
    if output_format:
        command.add_argument("--format", choices=["json", "csv"], default="json")


def start_up(args: argparse.Namespace) -> tuple[Path, Path, dict[str, Any]]:
    """Resolve the data directory and the workspace, load its settings and set up logging
    (once, for any command). Returns the data directory, the workspace's folder, its settings."""
    from configuration.logging_config import setup_logging
    from data.storage.persistence import (
        SettingsError,
        load_settings,
        load_settings_for_repair,
        sweep_leftovers,
    )
    from data.storage.workspaces import find_workspace, list_workspaces

    data_root = data_dir(getattr(args, "data_dir", None))
    secure_data_dir(data_root)
    root = find_workspace(data_root, getattr(args, "workspace", None)).root
    try:
        settings = load_settings(root)
    except SettingsError as exc:
        if args.command:  # a headless command must not run on settings it cannot read
            raise
        # the dashboard opens so that Settings can repair the file; the page says what is wrong
        settings, _ = load_settings_for_repair(root)
        print(f"warning: {exc}", file=sys.stderr)
    quiet_console = args.command and not os.environ.get("LOG_LEVEL")
    setup_logging(settings, log_dir(data_root), console_level="WARNING" if quiet_console else None)
    for space in list_workspaces(data_root):  # temporary files of a process that was killed
        sweep_leftovers(space.root)
    log.info(
        "start-up",
        extra={
            "operation": "start_up",
            "version": VERSION,
            "data_dir": str(data_root),
            "settings_path": str(settings_path(root)),
            "command": args.command or "serve",
        },
    )
    return data_root, root, settings


def source_options(args: argparse.Namespace) -> SourceOptions:
    """The `--input`, `--period`, `--now`, `--tz` and `--deployments` options as the one
    `SourceOptions` the headless commands in `data/` take (they never see an argparse.Namespace)."""
    from data.services.source_options import SourceOptions

    return SourceOptions(
        input_file=args.input,
        period=args.period,
        now=args.now,
        tz=args.tz,
        deployments=args.deployments,
    )


def run_metrics(
    args: argparse.Namespace, data_root: Path, root: Path, settings: dict[str, Any]
) -> int:
    """`metrics`: print every metric for a period, from a file or from the cache; with
    `--all-workspaces`, every workspace's."""
    from configuration.settings import jira_configured

    if args.all_workspaces:
        from data.services.comparison import comparison_for_cli

        print(comparison_for_cli(data_root, source_options(args), output=args.format))
        return 0
    from data.services.metrics_service import metrics_report_for_cli

    if not args.input and not jira_configured(settings):
        print(SAMPLE_NOTE, file=sys.stderr)
    print(
        metrics_report_for_cli(
            root, settings, source_options(args), tiers=args.tiers, output=args.format
        )
    )
    return 0


def run_report(
    args: argparse.Namespace, data_root: Path, root: Path, settings: dict[str, Any]
) -> int:
    """`report`: write the self-contained HTML report of a period (the page's "Download
    report") for the workspace `--workspace` names (else the one the dashboard shows), with
    the numbers `metrics` prints for the same options."""
    from data.services.shared_report import shared_report_for_cli
    from data.storage.persistence import atomic_write_bytes
    from data.storage.workspaces import find_workspace
    from ui.html_report import report_html

    started = time.perf_counter()
    space = find_workspace(data_root, getattr(args, "workspace", None))
    shared = shared_report_for_cli(
        root, settings, source_options(args), tiers=args.tiers, workspace=space.name
    )
    content = report_html(shared).encode("utf-8")
    out = Path(args.out)
    try:
        atomic_write_bytes(out, content, durable=False)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - started
    print(f"wrote {out} ({len(content) / 1e6:.1f} MB) in {seconds:.2f} s")
    return 0


def run_items(args: argparse.Namespace, root: Path, settings: dict[str, Any]) -> int:
    """`items`: print the items behind one figure, as the page's item panel lists them."""
    from data.services.item_view import items_for_cli

    items = items_for_cli(
        root,
        settings,
        source_options(args),
        metric=args.metric,
        week=args.week,
        excluded=args.excluded,
        output=args.format,
    )
    print(items, end="")
    return 0


def run_quality(args: argparse.Namespace, root: Path, settings: dict[str, Any]) -> int:
    """`quality`: print the data-quality report."""
    from data.engine.quality import quality_for_cli

    report = quality_for_cli(
        root,
        settings,
        input_file=args.input,
        tz=args.tz,
        deployments=args.deployments,
        output=args.format,
    )
    print(report, end="")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    """`sample`: write a deterministic sample project."""
    from data.jira.sample_project import write_sample

    count = write_sample(Path(args.out), issues=args.issues, seed=args.seed)
    print(f"wrote {count} issues to {args.out}")
    return 0


def run_fetch(
    args: argparse.Namespace, data_root: Path, root: Path, settings: dict[str, Any]
) -> int:
    """`fetch`: fetch into the cache and print one summary line (with `--all-workspaces`, one
    line per workspace)."""
    if args.all_workspaces:
        from data.services.workspace_updates import update_all_for_cli

        print(update_all_for_cli(data_root))
        return 0
    from data.jira.fetcher import fetch_for_cli

    print(
        fetch_for_cli(
            root,
            settings,
            jira_url=args.jira_url,
            jql=args.jql,
            email=args.email,
            auth=args.auth,
            token_env=args.token_env,
            full=args.full,
        )
    )
    return 0


def warm_first_view(root: Path) -> None:
    """Load and normalize the project the page will show while the first browser connects,
    so that the first view costs a metric computation, not a project load."""
    from data.services.metrics_service import report_for_view

    # nothing to show yet (e.g. JIRA configured, not fetched): the page says so itself
    with contextlib.suppress(UserError):
        report_for_view(root, "30d", datetime.now(UTC).replace(second=0, microsecond=0))


def run_forecast(args: argparse.Namespace, root: Path, settings: dict[str, Any]) -> int:
    """`forecast`: print a Monte Carlo forecast with its track record."""
    from data.services.forecast_service import forecast_for_cli

    print(
        forecast_for_cli(
            root,
            settings,
            "how_many" if args.forecast_mode == "how-many" else "when",
            until=getattr(args, "until", None),
            items=getattr(args, "items", None),
            jql=getattr(args, "jql", None),
            epic=getattr(args, "epic", None),
            input_file=args.input,
            now=args.now,
            history_weeks=args.history_weeks,
            seed=args.seed,
            output=args.format,
        )
    )
    return 0


def run_workspaces(args: argparse.Namespace, data_root: Path) -> int:
    """`workspaces`: list every workspace with its source and when it was last updated, or
    export one (`--export NAME --out FILE`) or import one (`--import FILE`)."""
    from data.services.workspace_views import workspace_transfer_for_cli, workspaces_for_cli

    if args.export or args.import_file:
        transfer = workspace_transfer_for_cli(
            data_root,
            export=args.export,
            out=args.out,
            with_data=args.with_data,
            import_file=args.import_file,
            name=args.name,
        )
        print(transfer)
    else:
        print(workspaces_for_cli(data_root, args.format))
    return 0


def serve(args: argparse.Namespace, data_root: Path, settings: dict[str, Any]) -> int:
    """Serve the dashboard with waitress; `--workspace` makes that workspace the one shown."""
    import waitress

    from callbacks.dashboard_app import create_app
    from callbacks.request_guard import check_bind, guard_server
    from data.storage.workspaces import active_root, switch_workspace

    if getattr(args, "workspace", None):
        switch_workspace(data_root, args.workspace)

    host = args.host or settings["server"]["host"]
    port = args.port or settings["server"]["port"]
    allowed = [*settings["server"]["allowed_hosts"], *(args.allowed_host or [])]
    check_bind(host, allowed)
    dash_app = create_app(data_root)
    guard_server(dash_app.server, host, port, allowed)
    try:
        server = waitress.create_server(dash_app.server, host=host, port=port, threads=8)
    except OSError as exc:  # the port is taken (or the address is not this machine's)
        reason = (
            "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        )
        raise UserError(
            f"port {port} on {host} {reason}: stop what listens there or start with --port N."
        ) from None
    print(f"Dashboard at http://{host}:{port}  (Ctrl+C to stop)")
    log.info("serving", extra={"operation": "serve", "host": host, "port": port})
    warm_root = active_root(data_root)
    threading.Thread(target=warm_first_view, args=(warm_root,), name="warm", daemon=True).start()
    server.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors become one line on stderr and exit code 2."""
    from configuration.sensitive_data_filter import redact_text

    args = build_parser().parse_args(argv)
    try:
        data_root, root, settings = start_up(args)
        if args.command == "sample":
            code = run_sample(args)
        elif args.command == "metrics":
            code = run_metrics(args, data_root, root, settings)
        elif args.command == "report":
            code = run_report(args, data_root, root, settings)
        elif args.command == "fetch":
            code = run_fetch(args, data_root, root, settings)
        elif args.command == "items":
            code = run_items(args, root, settings)
        elif args.command == "quality":
            code = run_quality(args, root, settings)
        elif args.command == "forecast":
            code = run_forecast(args, root, settings)
        elif args.command == "workspaces":
            code = run_workspaces(args, data_root)
        else:
            code = serve(args, data_root, settings)
        sys.stdout.flush()  # a closed pipe shows here, inside the try
        return code
    except UserError as exc:
        if log.hasHandlers():  # into errors.log too; the console gets the printed line only
            command = args.command or "serve"
            log.error(
                "%s failed: %s",
                command,
                exc,
                extra={"operation": command, "error": type(exc).__name__, "_console": False},
            )
        print(redact_text(f"error: {exc}"), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `metrics | head`: the reader left; nothing to say
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of a closed pipe stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
