"""Redaction of secrets and personal data from every log record, before any handler writes it.

`SensitiveDataFilter` sits on every handler that `configuration.logging_config` installs. It
rewrites the record in place (message with its arguments merged, extra fields, exception and
stack text), so whichever handler sees the record first, every handler writes the same
redacted text. What it removes, each replaced by a readable marker such as `[REDACTED:token]`:

- registered exact values (the configured token or password), also URL-encoded, JSON-escaped,
  hex-encoded and inside any base64 blob such as a Basic `Authorization` header (URL-encoded
  too);
- `Authorization` headers and bare `Basic`/`Bearer` credentials, JWTs, private-key blocks,
  Atlassian API tokens and other prefixed tokens, long random-looking tokens (Data Center PATs);
- values of secret-named keys (`password`, `pass`, `credentials`, `token`, `api_key`, `secret`,
  `access_token`, ...) in query strings, JSON, Python dict reprs and `key=value` text, and
  `PASSWORD: value` for password, secret and API-key names; a secret used as a key;
- credentials in URLs (`https://user:pass@host`) and e-mail addresses.

Ordinary text stays: issue keys, dates, hex hashes, UUIDs, URLs without credentials.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import string
import threading
import traceback
from typing import Any
from urllib.parse import quote, quote_plus

MARK = "[REDACTED:{}]"

#: LogRecord attributes that are not extra fields (plus ones Formatter and 3.12 add).
STANDARD_RECORD_FIELDS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)

#: Registered values shorter than this are not redacted: they would eat ordinary words.
MIN_SECRET_LENGTH = 4

_B64_CHARS = r"A-Za-z0-9+/_\-"

# A key whose value is a secret: the word may end a longer name (jira_token, x-api-key,
# client_secret) but not start one (token_env, tokens, password_hint are not secrets), and a
# page cursor (nextPageToken) is not one.
# `pass`, `credentials` and `creds` only as a whole word or after a separator (db_pass), so
# that `bypass` or `compass` stay.
_SECRET_KEY_NAME = re.compile(
    r"[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|pwd|secret|(?<!page)token|api[_-]?key"
    r"|apikey|access[_-]?key|private[_-]?key|session[_-]?id|cookie|authorization)"
    r"|(?:[A-Za-z0-9_.-]*[_.-])?(?:pass|credentials?|creds)",
    re.IGNORECASE,
)
# Lower-case words, one of which any secret-named key holds (a cheap test before the rules).
_SECRET_WORDS = (
    "pass", "pwd", "secret", "token", "key", "session", "cookie", "authorization", "cred",
)  # fmt: skip
# Keys whose unquoted `KEY: value` form (a config dump, a server's echo) holds a secret. Not
# `token` or `credentials`: "No token: type one" and "Wrong credentials: ..." are messages.
_COLON_KEY = (
    r"(?:[A-Za-z0-9_.-]*[_.-])?(?:password|passwd|passphrase|pwd|pass|secret|api[_-]?key"
    r"|apikey)"
)

#: Each rule: (substrings of the lower-cased text, one of which must be present; pattern;
#: replacement). The substring test skips a rule on the usual line at almost no cost.
_RULES: list[tuple[tuple[str, ...], re.Pattern[str], Any]] = []


def _rule(needles: tuple[str, ...], pattern: str, replacement: Any, flags: int = 0) -> None:
    _RULES.append((needles, re.compile(pattern, flags), replacement))


def _keep_prefix(kind: str, *, named: bool = False) -> Any:
    """Replace group `val` by a marker, keep `pre` and `post`; with `named`, only secret keys."""
    mark = MARK.format(kind)

    def replace(match: re.Match[str]) -> str:
        if match.group("val").startswith("[REDACTED"):
            return match.group(0)
        if named and not _SECRET_KEY_NAME.fullmatch(match.group("key")):
            return match.group(0)
        return match.group("pre") + mark + (match.groupdict().get("post") or "")

    return replace


# Order matters: whole blocks and headers first, then URL credentials before e-mails.
_rule(
    ("private key",),
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    MARK.format("private_key"),
    re.DOTALL,
)
_rule(
    ("authorization",),
    r"(?P<pre>\b(?:proxy-)?authorization\\?[\"']?\s*[:=]\s*\\?[\"']?"
    r"(?:(?:basic|bearer|token|digest|negotiate|jwt|sso-jwt)\s+)?)"
    r"(?P<val>[^\s\"',;}\]\\]+)",
    _keep_prefix("auth"),
    re.IGNORECASE,
)
_rule(
    ("basic", "bearer"),
    r"(?P<pre>\b(?:Basic|Bearer)\s+)"
    r"(?P<val>(?=[A-Za-z0-9._~+/-]*[0-9+/=])[A-Za-z0-9._~+/-]{8,}=*)",
    _keep_prefix("auth"),
)
_rule(("eyj",), r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", MARK.format("jwt"))
_rule(
    ("@",),
    r"(?P<pre>\b[a-z][a-z0-9+.-]*://)(?P<val>[^\s/:@\"']+:[^\s/@\"']*)(?P<post>@)",
    _keep_prefix("credentials"),
    re.IGNORECASE,
)
# "key": "value" and 'key': 'value' (JSON, dict reprs), also with escaped quotes.
_rule(
    _SECRET_WORDS,
    r"(?P<pre>(?P<q1>\\?[\"'])(?P<key>[A-Za-z0-9_.-]+)(?P=q1)\s*:\s*(?P<q2>\\?[\"']))"
    r"(?P<val>(?:\\.|.)*?)(?P<post>(?P=q2))",
    _keep_prefix("secret", named=True),
)
# key=value, ?key=value&..., key = "value"
_rule(
    _SECRET_WORDS,
    r"(?P<pre>(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z0-9_.-]+)\s*=\s*)"
    r"(?P<val>\"[^\"]*\"|'[^']*'|[^\s&;,'\")}\]]+)",
    _keep_prefix("secret", named=True),
)
# PASSWORD: value, secret: value (unquoted, after a colon)
_rule(
    ("pass", "pwd", "secret", "key"),
    rf"(?P<pre>(?<![A-Za-z0-9_.-]){_COLON_KEY}\s*:[ \t]*)(?P<val>(?![\"'\[])[^\s,;'\")}}\]]+)",
    _keep_prefix("secret"),
    re.IGNORECASE,
)
_rule(
    ("api-key", "auth-token", "access-token", "private-token", "cookie"),
    r"(?P<pre>\b(?:x-api-key|api-key|x-auth-token|x-access-token|private-token|cookie"
    r"|set-cookie)\s*:\s*)(?P<val>[^\r\n,'\"}]+)",
    _keep_prefix("secret"),
    re.IGNORECASE,
)
_rule(
    ("atatt3", "atctt3", "atstt3", "atoat3", "atbb", "gh", "glpat-", "xox", "akia"),
    r"\b(?:(?:ATATT|ATCTT|ATSTT|ATOAT)3[A-Za-z0-9_=-]{20,}|ATBB[A-Za-z0-9]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}\b)",
    MARK.format("token"),
)


def _looks_random(text: str) -> bool:
    """True for a mixed-case, digit-bearing string that switches character class often.

    Base64 and alphanumeric tokens switch between upper, lower and digit about every second
    character; words, CamelCase names, paths and hex hashes switch far less often.
    """
    if text.islower() or text.isupper():  # one case only: paths, hex hashes, constants
        return False
    upper = lower = digits = switches = length = 0
    previous = 0
    for char in text:
        if char.isupper():
            kind = 1
            upper += 1
        elif char.islower():
            kind = 2
            lower += 1
        elif char.isdigit():
            kind = 3
            digits += 1
        else:
            continue
        length += 1
        if previous and kind != previous:
            switches += 1
        previous = kind
    return upper >= 2 and lower >= 2 and digits >= 1 and switches * 3 >= length


def _generic_token(match: re.Match[str]) -> str:
    text = match.group(0)
    return MARK.format("token") if _looks_random(text[:256]) else text


_LONG_RUN = re.compile(rf"[{_B64_CHARS}]{{24}}")
_GENERIC_TOKEN = re.compile(
    rf"(?<![{_B64_CHARS}%])[{_B64_CHARS}]{{24,}}={{0,2}}(?![{_B64_CHARS}=@])"
)
_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b"
)

_lock = threading.Lock()
_secrets: set[str] = set()
_exact: re.Pattern[str] | None = None


def _base64_fragments(value: str) -> set[str]:
    """The base64 text that `value` produces at each of the three byte alignments.

    A secret inside any base64 blob (e.g. `email:token` in a Basic header) always yields
    one of these fragments, whatever precedes it.
    """
    raw = value.encode()
    fragments: set[str] = set()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * offset + raw).decode()
            start = -(-8 * offset // 6)
            end = 8 * (offset + len(raw)) // 6
            if end - start >= 6:
                fragments.add(text[start:end])
    return fragments


def _compile_exact() -> re.Pattern[str] | None:
    if not _secrets:
        return None
    literals: set[str] = set()
    fragments: set[str] = set()
    hexes: set[str] = set()
    for value in _secrets:
        raw = value.encode()
        literals.update(
            {value, quote(value), quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        )
        hexes |= {raw.hex(), raw.hex().upper()}  # a hex dump of a request
        if len(value) >= 6:
            pieces = _base64_fragments(value)
            # a Basic header's blob URL-encoded ('+', '/', '=' as %2B, %2F, %3D)
            fragments |= pieces | {quote(piece, safe="") for piece in pieces}
    alternatives = [re.escape(v) for v in sorted(literals, key=len, reverse=True)]
    if fragments:
        inner = "|".join(re.escape(f) for f in sorted(fragments, key=len, reverse=True))
        alternatives.insert(0, f"(?P<b64>{inner})")
    if hexes:
        alternatives.insert(0, "(?P<hex>{})".format("|".join(sorted(hexes))))
    return re.compile("|".join(alternatives))


_BASE64_SET = frozenset(string.ascii_letters + string.digits + "+/_-%")


def _redact_exact(text: str, pattern: re.Pattern[str]) -> str:
    """Mask every registered value; a base64 fragment (or a hex dump) masks the whole blob.

    The blob is widened by hand rather than by the pattern: a pattern starting with a
    repeated character class would be quadratic on a long base64 body.
    """
    spans: list[list[int]] = []
    for match in pattern.finditer(text):
        start, end = match.span()
        if match.lastgroup == "b64":
            while start > 0 and text[start - 1] in _BASE64_SET:
                start -= 1
            while end < len(text) and (text[end] in _BASE64_SET or text[end] == "="):
                end += 1
        elif match.lastgroup == "hex":  # the whole dump, e.g. hex of `email:token`
            while start > 0 and text[start - 1] in string.hexdigits:
                start -= 1
            while end < len(text) and text[end] in string.hexdigits:
                end += 1
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    if not spans:
        return text
    mark = MARK.format("token")
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], mark]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def register_secret(value: str) -> None:
    """Redact this exact value from now on (a token or password the user configured).

    Values shorter than MIN_SECRET_LENGTH are ignored: they would redact ordinary words.
    """
    global _exact
    if not isinstance(value, str):
        return
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        _exact = _compile_exact()


def forget_secrets() -> None:
    """Drop every registered value (tests; a token the user removed)."""
    global _exact
    with _lock:
        _secrets.clear()
        _exact = None


def redact_text(text: str) -> str:
    """`text` with every secret and e-mail address replaced by a marker."""
    exact = _exact
    if exact is not None:
        text = _redact_exact(text, exact)
    low = text.lower()
    for needles, pattern, replacement in _RULES:
        for needle in needles:
            if needle in low:
                text = pattern.sub(replacement, text)
                break
    if _LONG_RUN.search(text):
        text = _GENERIC_TOKEN.sub(_generic_token, text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub(MARK.format("email"), text)
    return text


def redact_value(value: Any, key: str | None = None) -> Any:
    """A redacted copy of an extra field: strings redacted, containers walked, numbers kept.

    A string under a secret-named key (`token`, `password`, `Authorization`) is replaced
    whole; any other object becomes its redacted `str()`, since a formatter would print that.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if key is not None and value and _SECRET_KEY_NAME.fullmatch(key):
            return MARK.format("secret")
        return redact_text(value)
    if isinstance(value, dict):
        return {
            _redacted_key(k): redact_value(v, k if isinstance(k, str) else None)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    return redact_text(str(value))


def _redacted_key(key: Any) -> Any:
    """A dict key as written: a secret used as a key (`{token: 1}`) is redacted like a value."""
    return redact_text(key) if isinstance(key, str) else redact_text(str(key))


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # bad %-arguments must not lose the line
        return f"{record.msg} (unformatted arguments: {record.args!r})"


class SensitiveDataFilter(logging.Filter):
    """Redacts a record in place: message and arguments, extra fields, exception, stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact once (the record is shared by all handlers); never drops a record."""
        if getattr(record, "_redacted", False):
            return True
        record.msg = redact_text(_message(record))
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in STANDARD_RECORD_FIELDS and not key.startswith("_"):
                cleaned, name = redact_value(value, key), _redacted_key(key)
                if name != key:  # the field's name itself is a secret
                    del record.__dict__[key]
                record.__dict__[name] = cleaned
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        record._redacted = True
        return True
