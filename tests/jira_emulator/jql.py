"""Just enough JQL for the emulator: what the app sends, and JIRA's 400 for anything else.

Grammar: clauses `field op value` joined by AND / OR / NOT and parentheses, then an optional
`ORDER BY field [ASC|DESC], ...`. Fields: project, key (issuekey), id, issuetype (type),
status, statusCategory, parent ("Epic Link"), labels, created, updated, resolved
(resolutiondate); `key =` and `parent =` refuse a key that does not exist, as JIRA does.
Operators: = != > >= < <=, IN / NOT IN lists, IS / IS NOT EMPTY|NULL. Dates:
"yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd", "yyyy-MM-dd" read in the user's time
zone, or periods like "-5d", "-2h", "-1w".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|=|>|<|~|!~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!<>~]+)
    )""",
    re.VERBOSE,
)

FIELD_ALIASES = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "id": "id",
    "issuetype": "issuetype",
    "type": "issuetype",
    "status": "status",
    "statuscategory": "statuscategory",
    "parent": "parent",
    "epic link": "parent",
    "labels": "labels",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
    "resolved": "resolved",
    "resolutiondate": "resolved",
}
#: statusCategory by key, read as its name (what the records hold)
CATEGORY_KEYS = {"new": "to do", "indeterminate": "in progress"}
DATE_FIELDS = {"created", "updated", "resolved"}
RESERVED = {"and", "or", "not", "order", "by", "in", "is", "empty", "null", "asc", "desc"}
SORTABLE = {"key", "id", "issuetype", "status", "created", "updated", "resolved", "project"}
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_PERIOD = re.compile(r"^([-+]?)((?:\d+[wdhm]\s*)+)$")
_PERIOD_PART = re.compile(r"(\d+)([wdhm])")
_PERIOD_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}


class JqlError(ValueError):
    """JQL the emulator (like JIRA) refuses; the message is JIRA's wording."""


@dataclass
class Token:
    kind: str
    text: str
    value: str
    position: int  # 1-based character, as JIRA reports it


@dataclass(frozen=True)
class Query:
    """A parsed query: a predicate over issue records and the sort order."""

    predicate: Callable[[Any], bool]
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def tokenize(text: str) -> list[Token]:
    """Split JQL into strings, operators, punctuation and words; a stray character is a 400."""
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(
                f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL "
                "character. You must enclose it in a string or use the escape "
                f"'\\u{ord(text[pos]):04x}' instead. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        start = match.start(kind) + 1
        value = raw
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, value, start))
        pos = match.end()
    return tokens


class Parser:
    """Recursive descent over the tokens; `context` knows the names that exist."""

    def __init__(self, text: str, context: Any) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.context = context

    # -- helpers --
    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def peek_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.value.lower() in words

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise JqlError(
                "Error in the JQL Query: Expecting either a value, list or function but got "
                f"'<EOF>'. (line 1, character {len(self.text) + 1})"
            )
        self.i += 1
        return token

    def fail(self, expected: str, token: Token | None) -> JqlError:
        got = "<EOF>" if token is None else token.text
        where = len(self.text) + 1 if token is None else token.position
        return JqlError(
            f"Error in the JQL Query: Expecting {expected} but got '{got}'. "
            f"(line 1, character {where})"
        )

    # -- grammar --
    def parse(self) -> Query:
        predicate: Callable[[Any], bool] = _always
        if self.peek() is not None and not self.peek_word("order"):
            predicate = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.peek_word("order"):
            self.next()
            if not self.peek_word("by"):
                raise self.fail("'BY'", self.peek())
            self.next()
            while True:
                token = self.next()
                name = token.value.lower()
                field = FIELD_ALIASES.get(name)
                if field not in SORTABLE:
                    raise JqlError(f"Not able to sort using field '{token.value}'.")
                descending = False
                if self.peek_word("asc", "desc"):
                    descending = self.next().value.lower() == "desc"
                order.append((field, descending))
                token = self.peek()
                if token is not None and token.kind == "punct" and token.value == ",":
                    self.next()
                    continue
                break
        if self.peek() is not None:
            raise self.fail("either 'OR' or 'AND'", self.peek())
        return Query(predicate, tuple(order))

    def or_expr(self) -> Callable[[Any], bool]:
        parts = [self.and_expr()]
        while self.peek_word("or"):
            self.next()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda r: any(p(r) for p in parts)

    def and_expr(self) -> Callable[[Any], bool]:
        parts = [self.unary()]
        while self.peek_word("and"):
            self.next()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda r: all(p(r) for p in parts)

    def unary(self) -> Callable[[Any], bool]:
        token = self.peek()
        if token is not None and token.kind == "word" and token.value.lower() == "not":
            self.next()
            inner = self.unary()
            return lambda r: not inner(r)
        if token is not None and token.kind == "punct" and token.value == "(":
            self.next()
            inner = self.or_expr()
            close = self.peek()
            if close is None or close.value != ")" or close.kind != "punct":
                raise self.fail("')'", close)
            self.next()
            return inner
        return self.clause()

    def clause(self) -> Callable[[Any], bool]:
        token = self.next()
        reserved = token.kind == "word" and token.value.lower() in RESERVED
        if token.kind not in ("word", "string") or reserved:
            raise self.fail("a field name", token)
        field = FIELD_ALIASES.get(token.value.lower())
        if field is None:
            raise JqlError(
                f"Field '{token.value}' does not exist or you do not have permission to view it."
            )
        op = self.operator()
        if op in ("is", "is not"):
            value_token = self.next()
            if value_token.value.lower() not in ("empty", "null"):
                raise self.fail("EMPTY or NULL", value_token)
            empty = op == "is"
            return lambda r: (_field_value(r, field) in (None, set(), "")) == empty
        if op in ("in", "not in"):
            values = self.value_list()
            if field in DATE_FIELDS:
                raise JqlError(
                    f"The operator '{op.upper()}' is not supported by the '{field}' field."
                )
            wanted = {self.check_value(field, v) for v in values}
            if field == "labels":
                hit: Callable[[Any], bool] = lambda r: bool(r.labels & wanted)  # noqa: E731
            else:
                hit = lambda r: _field_value(r, field) in wanted  # noqa: E731
            return hit if op == "in" else (lambda r: not hit(r))
        value_token = self.next()
        if value_token.kind not in ("word", "string"):
            raise self.fail("either a value, list or function", value_token)
        if field in DATE_FIELDS:
            bound = self.date_value(field, value_token.value)
            return _compare_date(field, op, bound)
        value = self.check_value(field, value_token)
        if op == "=" and field in ("key", "parent") and not self.context.issue_exists(value):
            raise JqlError(f"An issue with key '{value}' does not exist for field '{field}'.")
        if op in ("=", "!="):
            if field == "labels":
                eq: Callable[[Any], bool] = lambda r: value in r.labels  # noqa: E731
            else:
                eq = lambda r: _field_value(r, field) == value  # noqa: E731
            return eq if op == "=" else (lambda r: not eq(r))
        if field in ("key", "id"):
            return _compare_ordered(field, op, value)
        raise JqlError(f"The operator '{op}' is not supported by the '{token.value}' field.")

    def operator(self) -> str:
        token = self.next()
        if token.kind == "op":
            if token.value in ("~", "!~"):
                raise JqlError("The operator '~' is not supported by the emulator's fields.")
            return token.value
        word = token.value.lower()
        if word == "in":
            return "in"
        if word == "is":
            if self.peek_word("not"):
                self.next()
                return "is not"
            return "is"
        if word == "not" and self.peek_word("in"):
            self.next()
            return "not in"
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got '{token.text}'. The valid "
            "operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' "
            f"and 'IS NOT'. (line 1, character {token.position})"
        )

    def value_list(self) -> list[Token]:
        opening = self.next()
        if opening.kind != "punct" or opening.value != "(":
            raise self.fail("'('", opening)
        values = []
        while True:
            token = self.next()
            if token.kind not in ("word", "string"):
                raise self.fail("either a value or function", token)
            values.append(token)
            sep = self.next()
            if sep.kind == "punct" and sep.value == ")":
                return values
            if sep.kind != "punct" or sep.value != ",":
                raise self.fail("')'", sep)

    def check_value(self, field: str, token: Token) -> Any:
        value = token.value
        known = self.context.known_values(field)
        if field in ("key", "parent"):
            return value.upper()
        if field == "statuscategory":
            value = CATEGORY_KEYS.get(value.lower(), value)
        if field == "id":
            if not value.isdigit():
                raise JqlError(f"The issue key '{value}' for field 'id' is invalid.")
            return int(value)
        if known is not None and value.lower() not in known:
            raise JqlError(f"The value '{value}' does not exist for the field '{field}'.")
        return value.lower()

    def date_value(self, field: str, text: str) -> int:
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
            except ValueError:
                continue
            local = moment.replace(tzinfo=ZoneInfo(self.context.time_zone))
            return int(local.timestamp() * 1000)
        period = _PERIOD.match(text.strip())
        if period:
            length = sum(
                int(n) * _PERIOD_MS[unit] for n, unit in _PERIOD_PART.findall(period.group(2))
            )
            sign = -1 if period.group(1) == "-" else 1
            return self.context.now_ms() + sign * length
        raise JqlError(
            f"Date value '{text}' for field '{field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )


def _always(_record: Any) -> bool:
    return True


def _field_value(record: Any, field: str) -> Any:
    if field == "labels":
        return record.labels
    return getattr(record, field)


def _compare_date(field: str, op: str, bound: int) -> Callable[[Any], bool]:
    def check(record: Any) -> bool:
        value = getattr(record, field)
        if value is None:
            return False
        return _OPS[op](value, bound)

    return check


def _compare_ordered(field: str, op: str, value: Any) -> Callable[[Any], bool]:
    if field == "key":
        project, _, number = value.rpartition("-")
        if not number.isdigit():
            raise JqlError(f"The issue key '{value}' for field 'key' is invalid.")
        bound = (project, int(number))
        return lambda r: r.project_key == project and _OPS[op]((r.project_key, r.number), bound)
    return lambda r: _OPS[op](r.id, value)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def parse_jql(text: str, context: Any) -> Query:
    """Parse `text`; `context` gives `known_values(field)`, `time_zone` and `now_ms()`."""
    if not text or not text.strip():
        return Query(_always, ())
    return Parser(text, context).parse()


def sort_key(field: str) -> Callable[[Any], Any]:
    """A sort key for ORDER BY `field` over issue records (missing values sort last)."""
    if field == "key":
        return lambda r: (r.project_key, r.number)
    if field in DATE_FIELDS:
        return lambda r: (getattr(r, field) is None, getattr(r, field) or 0)
    if field == "project":
        return lambda r: r.project
    return lambda r: getattr(r, field)
