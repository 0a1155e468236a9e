"""Redaction: no secret survives in any log file or the console; ordinary text stays intact."""

from __future__ import annotations

import base64
import json
import logging
import random
import string
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from configuration.logging_config import setup_logging, shutdown_logging
from configuration.sensitive_data_filter import (
    SensitiveDataFilter,
    forget_secrets,
    redact_text,
    redact_value,
    register_secret,
)
from configuration.settings import default_settings

RNG = random.Random(20261128)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def rand(chars: str, n: int) -> str:
    return "".join(RNG.choice(chars) for _ in range(n))


def jwt() -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    claims = {"sub": rand(ALNUM, 10), "iat": RNG.randint(1_600_000_000, 1_800_000_000)}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{rand(ALNUM + '-_', 43)}"


def private_key(kind: str) -> str:
    body = "\n".join(rand(B64, 64) for _ in range(4))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


EMAIL = "jane.doe@example.com"
CONFIGURED_TOKEN = "ATATT3xFfGF0" + rand(ALNUM + "-_", 170) + "=" + rand("0123456789ABCDEF", 8)
CONFIGURED_PASSWORD = "s3cr3t P@ss/word&more"
BASIC = base64.b64encode(f"{EMAIL}:{CONFIGURED_TOKEN}".encode()).decode()

# (secret, a realistic line holding it); each secret must vanish, wherever it sits.
CORPUS: list[tuple[str, str]] = [
    (CONFIGURED_TOKEN, f"using token {CONFIGURED_TOKEN} for the site"),
    (quote(CONFIGURED_TOKEN, safe=""), f"GET /x?t={quote(CONFIGURED_TOKEN, safe='')}"),
    (BASIC, f"sent header Basic {BASIC}"),
    (BASIC, f"creds blob {BASIC} cached"),
    (CONFIGURED_PASSWORD, f"login with {CONFIGURED_PASSWORD} refused"),
    (quote(CONFIGURED_PASSWORD), f"form body user=jane&pw={quote(CONFIGURED_PASSWORD)}"),
]
for _ in range(3):
    token = "ATATT3xFfGF0" + rand(ALNUM + "-_", 180)
    CORPUS.append((token, f"Atlassian API token {token} rejected"))
for _ in range(3):
    legacy = rand(ALNUM, 24)
    CORPUS.append((legacy, f"legacy api token: {legacy}"))
for _ in range(3):
    pat = rand(B64, 44)
    CORPUS.append((pat, f"Data Center PAT {pat} expired"))
for _ in range(3):
    value = jwt()
    CORPUS.append((value, f"session jwt {value} decoded"))
for kind in ("RSA ", "EC ", "OPENSSH ", ""):
    key = private_key(kind)
    CORPUS.append((key.splitlines()[2], f"loaded key:\n{key}\ndone"))
CORPUS += [
    (bearer := rand(ALNUM + "-._~", 40), f"Authorization: Bearer {bearer}"),
    (
        bearer2 := rand(B64, 44),
        f"headers={{'Authorization': 'Bearer {bearer2}', 'Accept': 'json'}}",
    ),
    (
        basic2 := base64.b64encode(b"bob@corp.example:pw-" + rand(ALNUM, 12).encode()).decode(),
        f'{{"headers": {{"Authorization": "Basic {basic2}"}}}}',
    ),
    (digest := rand(ALNUM, 20), f"Proxy-Authorization: Digest {digest}"),
    (gh := "ghp_" + rand(ALNUM, 36), f"git token {gh}"),
    (gl := "glpat-" + rand(ALNUM, 20), f"gitlab {gl} used"),
    (slack := "xoxb-" + rand("0123456789", 12) + "-" + rand(ALNUM, 24), f"notify via {slack}"),
    (aws := "AKIA" + rand(string.ascii_uppercase + string.digits, 16), f"aws key {aws}"),
    (
        pw1 := "hunter2-" + rand(ALNUM, 6),
        f"https://jira.example.com/login?user=x&password={pw1}&x=1",
    ),
    (pw2 := rand(ALNUM, 14), f'{{"username": "x", "password": "{pw2}"}}'),
    (pw3 := rand(ALNUM, 14), f"{{'password': '{pw3}', 'user': 'x'}}"),
    (pw4 := rand(ALNUM, 14), f"password={pw4} user=x"),
    (pw5 := rand(ALNUM, 10) + " with spaces", f'db_password = "{pw5}"'),
    (tok1 := rand(ALNUM, 16), f"/rest/api?token={tok1}"),
    (tok2 := rand(ALNUM, 16), f'{{"token": "{tok2}"}}'),
    (tok3 := rand(ALNUM, 16), f"jira_token={tok3}"),
    (key1 := rand(ALNUM, 16), f"https://api.example.com/v1?api_key={key1}"),
    (key2 := rand(ALNUM, 16), f'{{"apiKey": "{key2}"}}'),
    (key3 := rand(ALNUM, 16), f"X-API-Key: {key3}"),
    (sec1 := rand(ALNUM, 16), f"client_secret={sec1}&grant_type=client_credentials"),
    (sec2 := rand(ALNUM, 16), f"{{'secret': '{sec2}'}}"),
    (acc1 := rand(ALNUM, 16), f"?access_token={acc1}#frag"),
    (acc2 := rand(ALNUM, 16), f'{{"access_token": "{acc2}", "expires_in": 3600}}'),
    (ref1 := rand(ALNUM, 16), f'{{"refresh_token": "{ref1}"}}'),
    (
        esc := rand(ALNUM, 8) + '"q' + rand(ALNUM, 6),
        json.dumps({"password": "x" + "y"}) + f' {{"token": {json.dumps(esc)}}}',
    ),
    (up1 := "p4ss-" + rand(ALNUM, 8), f"https://admin:{up1}@jira.internal.example.com/rest"),
    (up2 := rand(ALNUM, 12), f"postgresql://flow:{up2}@db:5432/metrics"),
    ("ann.lee@corp.example.org", "assignee ann.lee@corp.example.org moved PROJ-9"),
    ("o'neil+jira@mail.example.io", "reporter=o'neil+jira@mail.example.io"),
    ("x.y%40example.com", "GET /rest/api/2/user?username=x.y%40example.com"),
    ("dev-team@company.co.uk", "cc: dev-team@company.co.uk"),
    (EMAIL, f"email {EMAIL} used for Basic auth"),
    (cookie := rand(ALNUM, 30), f"Cookie: JSESSIONID={cookie}; atlassian.xsrf.token=abc"),
]

# issue 10.3: the unquoted and upper-case forms, and `pass` / `credentials` keys
CORPUS += [
    (pw6 := rand(ALNUM, 14), f"config dump PASSWORD: {pw6}"),
    (pw7 := rand(ALNUM, 14), f"env PASSWORD={pw7} set"),
    (pw8 := rand(ALNUM, 14), f"db_pass={pw8}&host=db"),
    (cr1 := rand(ALNUM, 14), f"credentials={cr1}"),
    (cr2 := rand(ALNUM, 14), f'{{"credentials": "{cr2}"}}'),
    (sec3 := rand(ALNUM, 14), f"client_secret: {sec3}"),
]

# issue 10.3: encodings of the configured token that must vanish once it is registered
ENCODED = [
    CONFIGURED_TOKEN.encode().hex(),
    CONFIGURED_TOKEN.encode().hex().upper(),
    quote(BASIC, safe=""),
    f"{EMAIL}:{CONFIGURED_TOKEN}".encode().hex(),
]
EXTRA_SECRETS = {
    key: rand(ALNUM, 12) for key in ("pass", "passwd", "credentials", "secret", "api_key")
}

ORDINARY = (
    "PROJ-123 moved to Done on 2024-05-01T10:00:00+02:00 (week 2024-W18); commit "
    "3f2a9c1e5b7d4e6f8a0b1c2d3e4f5a6b7c8d9e0f, id 123e4567-e89b-12d3-a456-426614174000, "
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, "
    "GET https://jira.example.com/rest/api/3/search/jql?jql=project%20%3D%20PROJ"
    "&maxResults=100 -> 200 in 123.4 ms, /rest/api/2/issue/PROJ-123/changelog, "
    "token_env=FLOWDASH_JIRA_TOKEN tokens=5 nextPageToken=3 Basic authentication failed, "
    "X-RateLimit-Remaining=99 ConcurrentRotatingFileHandler test_refresh_costs_two_calls"
)


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    shutdown_logging()
    forget_secrets()
    yield
    shutdown_logging()
    forget_secrets()


class EchoingJira(BaseHTTPRequestHandler):
    """Answers 401 with a body that echoes the request's headers, as a misbehaving proxy does."""

    def do_GET(self) -> None:
        body = json.dumps({"error": "unauthorized", "echo": dict(self.headers)}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingJira)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def everything_written(folder: Path, console: str) -> str:
    """Raw file text, the decoded JSON values (escapes undone), and the console."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    parts = [console]
    for path in sorted(folder.glob("*.log*")):
        raw = path.read_text(encoding="utf-8")
        parts.append(raw)
        parts += [repr(json.loads(line)) for line in raw.splitlines()]
    return "\n".join(parts)


def leaks(secret: str, text: str) -> bool:
    """The secret, or any 12-character piece of a long one, appears in the text."""
    if secret in text:
        return True
    if len(secret) >= 20:
        return any(secret[i : i + 12] in text for i in range(0, len(secret) - 11, 3))
    return False


def test_corpus_of_secrets_in_every_position_leaves_no_trace_in_any_log(
    tmp_path: Path, echo_server: str, capsys: pytest.CaptureFixture
):
    assert len({secret for secret, _ in CORPUS}) >= 50
    settings = default_settings()
    settings["jira"].update({"token": CONFIGURED_TOKEN, "email": EMAIL})
    setup_logging(settings, tmp_path / "logs")
    register_secret(CONFIGURED_PASSWORD)
    log = logging.getLogger("tests.redaction")

    for number, (_, line) in enumerate(CORPUS):
        log.info(line)  # in the message
        log.warning("step %d: %s", number, line)  # in an argument
        log.info("extra", extra={"detail": line, "nested": {"lines": [line]}, "n": number})
        try:
            raise RuntimeError(f"request failed: {line}")
        except RuntimeError:
            log.exception("failed step %s", number)  # in the exception text
    log.info("with stack %s", CORPUS[0][1], stack_info=True)
    log.info("secret-named fields", extra={"token": "short1", "password": "pw", "api_key": "k"})
    for form in ENCODED:
        log.info(f"wire dump {form} end", extra={"dump": form})
    log.info("named", extra=dict(EXTRA_SECRETS), stack_info=False)
    log.info("nested named", extra={"config": dict(EXTRA_SECRETS)})
    log.info("secret as key", extra={CONFIGURED_TOKEN: 1, "map": {CONFIGURED_TOKEN: "v"}})

    response = requests.get(f"{echo_server}/rest/api/3/myself", auth=(EMAIL, CONFIGURED_TOKEN))
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        log.exception("JIRA refused %s", response.url, extra={"body": response.text, "status": 401})
        try:
            raise RuntimeError(f"JIRA said {response.status_code}: {response.text}") from exc
        except RuntimeError:
            log.error("fetch failed", exc_info=True, extra={"operation": "fetch"})
    assert "Authorization" in response.text and BASIC in response.text  # the echo is real

    log.info(ORDINARY, extra={"note": ORDINARY})

    written = everything_written(tmp_path / "logs", capsys.readouterr().err)
    survivors = [secret for secret, _ in CORPUS if leaks(secret, written)]
    assert survivors == []
    assert [form for form in ENCODED if leaks(form, written)] == []
    assert [key for key, value in EXTRA_SECRETS.items() if value in written] == []
    assert not leaks(CONFIGURED_TOKEN, written)
    assert "short1" not in written
    assert ORDINARY in written
    errors = (tmp_path / "logs" / "errors.log").read_text()
    assert "JIRA said 401" in errors and "[REDACTED" in errors
    assert "Traceback" in errors


@pytest.mark.parametrize("secret,line", CORPUS[6:], ids=lambda v: v[:12] if len(v) > 12 else v)
def test_each_pattern_secret_is_redacted_without_registering_it(secret: str, line: str):
    assert not leaks(secret, redact_text(line))


def test_ordinary_text_is_left_exactly_as_it_was():
    assert redact_text(ORDINARY) == ORDINARY


def test_marker_names_what_was_removed():
    assert redact_text("mail jane@example.com") == "mail [REDACTED:email]"
    assert (
        redact_text("Authorization: Bearer abc123def456") == "Authorization: Bearer [REDACTED:auth]"
    )
    assert redact_text("https://u:p@host/x") == "https://[REDACTED:credentials]@host/x"
    assert redact_text("?token=abc&x=1") == "?token=[REDACTED:secret]&x=1"


def test_registered_value_is_redacted_plain_url_encoded_and_inside_base64():
    secret = "my/secret+value=42"
    register_secret(secret)
    blob = base64.b64encode(f"someone@example.com:{secret}".encode()).decode()

    assert redact_text(f"t {secret} end") == "t [REDACTED:token] end"
    assert redact_text(f"q={quote(secret, safe='')}") == "q=[REDACTED:token]"
    assert redact_text(f"blob {blob} end") == "blob [REDACTED:token] end"


def test_registered_value_inside_base64_at_every_alignment():
    secret = "Zq9-secret-Zq9"
    register_secret(secret)
    for prefix in ("", "a", "ab", "abc", "user@example.com:"):
        blob = base64.b64encode(f"{prefix}{secret}".encode()).decode()
        assert blob not in redact_text(f"x {blob} y"), prefix


def test_too_short_values_are_not_registered_so_words_survive():
    register_secret("ab")
    register_secret("")
    assert redact_text("ab abc") == "ab abc"


def test_extra_fields_are_redacted_by_value_and_by_secret_key_name():
    cleaned = redact_value(
        {
            "token": "short",
            "jira_token": "xyz",
            "nextPageToken": "page-3",
            "headers": {"Authorization": "Basic abc", "Accept": "application/json"},
            "urls": ["https://u:p@h/x", "https://h/y"],
            "count": 3,
            "ok": True,
            "path": Path("/home/jane@example.com/x"),
        }
    )
    assert cleaned == {
        "token": "[REDACTED:secret]",
        "jira_token": "[REDACTED:secret]",
        "nextPageToken": "page-3",
        "headers": {"Authorization": "[REDACTED:secret]", "Accept": "application/json"},
        "urls": ["https://[REDACTED:credentials]@h/x", "https://h/y"],
        "count": 3,
        "ok": True,
        "path": "/home/[REDACTED:email]/x",
    }


def test_filter_merges_arguments_redacts_once_and_keeps_the_record():
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "user %s count %d", ("a@b.example", 4), None
    )
    record.url = "https://u:p@h/"
    redactor = SensitiveDataFilter()

    assert redactor.filter(record) is True
    assert record.getMessage() == "user [REDACTED:email] count 4"
    assert record.url == "https://[REDACTED:credentials]@h/"
    record.msg = "changed after"
    assert redactor.filter(record) is True  # second handler: no second pass
    assert record.getMessage() == "changed after"


def test_filter_keeps_a_line_when_arguments_do_not_fit_the_format():
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "count %d", ("five",), None)
    SensitiveDataFilter().filter(record)
    assert record.getMessage() == "count %d (unformatted arguments: ('five',))"


def test_setup_logging_registers_the_configured_token(tmp_path: Path):
    settings = default_settings()
    settings["jira"]["token"] = "tok-" + rand(ALNUM, 10)
    setup_logging(settings, tmp_path)
    assert redact_text(f"x {settings['jira']['token']} y") == "x [REDACTED:token] y"


def test_token_from_the_environment_is_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    value = "env-" + rand(ALNUM, 10)
    monkeypatch.setenv("FLOWDASH_JIRA_TOKEN", value)
    setup_logging(default_settings(), tmp_path)
    assert value not in redact_text(f"x {value}")


def test_our_own_messages_with_a_colon_keep_their_words():
    for text in (
        "No token: type one, or set the environment variable $FLOWDASH_JIRA_TOKEN.",
        "Wrong credentials: JIRA rejected the e-mail and API token (401).",
        "X-RateLimit-Remaining: 99",
    ):
        assert redact_text(text) == text


def test_bypass_and_compass_keys_are_not_secrets():
    assert redact_value({"bypass": "yes", "compass": "north"}) == {
        "bypass": "yes",
        "compass": "north",
    }
