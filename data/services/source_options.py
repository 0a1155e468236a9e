"""Where a headless command's data comes from: the options `app.py` passes to `data/`.

`app.py` builds one `SourceOptions` from the parsed command line (`--input`, `--period`,
`--now`, `--tz`, `--deployments`) and hands it to every command's service; each service takes
it plus the options only it has (`--tiers`, `--format`, `--metric` ...). It lives in
`data/services` because the functions taking it are the services the CLI calls (the layers
run one way: app.py -> ui -> data/services -> data/engine, data/storage, data/jira), and it
is a plain dataclass: `data/` never sees an argparse.Namespace.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceOptions:
    """`input_file` (`--input FILE`, else the cache), `period` (7d, 30d, 90d or
    YYYY-MM-DD:YYYY-MM-DD), `now` as ISO text (else the clock), `tz` (an IANA zone, else the
    settings' or the machine's) and `deployments` (`issues` or `fixversions`, else the
    settings')."""

    input_file: str | None = None
    period: str = "30d"
    now: str | None = None
    tz: str | None = None
    deployments: str | None = None
