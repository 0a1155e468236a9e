"""The JIRA emulator: a real, threaded HTTP server on 127.0.0.1 speaking JIRA's REST API.

Every test and benchmark that talks to "JIRA" talks to this, serving the sample project from
`data.jira.sample_project`. Two flavors:

- **cloud**: `GET|POST /rest/api/3/search/jql` (`nextPageToken` / `isLast`, no `total`; only
  `id` unless `fields` is given; `expand=changelog` cuts histories to the newest 40 while
  `changelog.total` stays true), `POST /rest/api/3/search/approximate-count`,
  `GET /rest/api/3/issue/{key}/changelog` (paged, at most 100, oldest first); the old
  `/rest/api/{2,3}/search` answers 410 with JIRA's error body. Auth: Basic e-mail:token; a
  failure is 401 `text/plain` "Client must be authenticated to access this resource."
- **datacenter**: `GET|POST /rest/api/2/search` (`startAt`, `maxResults` silently capped at
  `max_results_cap` and echoed, `total`, full changelog). Auth: Bearer token; no credential
  is 401 JSON `errorMessages`, a wrong one a 401 HTML page with `X-Seraph-LoginReason`.
- Both: `/rest/api/2/serverInfo` (anonymous; `deploymentType` "Cloud" or "Server"),
  `/rest/api/2/myself` (with `timeZone`), `/rest/api/2/field`, `/rest/api/2/status`,
  `/rest/api/2/issue/{key}` (`fields`, `expand=changelog`); JQL (see `jql.py`) with 400
  `{"errorMessages": [...], "errors": {}}` for what it cannot parse; the `Date` header comes
  from the emulator's clock.

Python API::

    from tests.jira_emulator import JiraEmulator

    with JiraEmulator("cloud", issues=500, seed=42, rate_limit=(100, 10.0)) as jira:
        jira.url, jira.email, jira.token          # where and who
        jira.issue_count, jira.issue_keys(), jira.issue("DEMO-1")
        jira.set_faults(error_503_every=3)        # also slow_seconds=, slow_on=,
        jira.set_faults(drop_connection_on=2)     # drop_connection_on=, malformed_json_on=
        jira.clear_faults()                       # (request number, numbers, or predicate)
        jira.change_issues(5, seed=1)             # -> keys; updated bumps, one transition more
        jira.remove_issues(["DEMO-3"])            # leaves every JQL
        jira.lengthen_changelogs(["DEMO-4"], 100) # long changelogs for truncation tests
        jira.advance_clock(3600)                  # the emulator's clock, seconds
        jira.requests                             # [{number, method, path, query, jql, body,
                                                  #   status, bytes}, ...]
        jira.counters                             # {"total", "by_path", "by_status"}
        jira.reset_counters()

Pytest fixtures `cloud_jira` and `dc_jira` (started, 120 issues): import them in a conftest
with `from tests.jira_emulator.fixtures import cloud_jira, dc_jira`.

From a shell: `python -m tests.jira_emulator --flavor cloud --issues 5000 --port 0` prints the
URL and the credentials, and serves until Ctrl+C.
"""

from tests.jira_emulator.server import CLOUD, DATACENTER, JiraEmulator

__all__ = ["CLOUD", "DATACENTER", "JiraEmulator"]
