"""The forecast options (`forecast.*` settings, or the page's and CLI's overrides), checked.

One place reads and checks them, with a message that says what to use: the history window
in whole weeks (1-104), the seed (>= 0), working days (Mon..Sun, empty = every day) and flow
types (empty = all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from configuration.metric_defaults import FLOW_TYPES
from configuration.settings import default_settings
from data.errors import UserError

#: Weekday names as settings and forms spell them, Monday first (date.weekday() order).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_HISTORY_WEEKS = 104


@dataclass(frozen=True)
class ForecastOptions:
    """The forecast settings (`forecast.*`), checked: empty tuples mean every day / type."""

    history_weeks: int
    seed: int
    working_days: tuple[int, ...]  # date.weekday() numbers
    flow_types: tuple[str, ...]

    def as_settings(self) -> dict[str, Any]:
        """The options as `settings["forecast"]` holds them."""
        return {
            "history_weeks": self.history_weeks,
            "seed": self.seed,
            "working_days": [WEEKDAYS[day] for day in self.working_days],
            "flow_types": list(self.flow_types),
        }


def whole_number(value: Any, name: str) -> int:
    """`value` (a number or its text) as an int; UserError naming `name` otherwise."""
    if isinstance(value, bool):
        raise UserError(f"{name} must be a whole number, not {value!r}.")
    try:
        number = value if isinstance(value, int) else float(str(value).strip())
        whole = int(number)
    except (ValueError, OverflowError):
        raise UserError(f"{name} must be a whole number, not {value!r}.") from None
    if number != whole:
        raise UserError(f"{name} must be a whole number, not {value!r}.")
    return whole


def forecast_options(saved: Mapping[str, Any] | None, **overrides: Any) -> ForecastOptions:
    """The options from `settings["forecast"]` with the non-None `overrides` on top, checked."""
    merged = {**default_settings()["forecast"], **(saved or {})}
    merged.update({key: value for key, value in overrides.items() if value is not None})
    weeks = whole_number(merged["history_weeks"], "The history window (weeks)")
    if not 1 <= weeks <= MAX_HISTORY_WEEKS:
        raise UserError(f"The history window must be 1 to {MAX_HISTORY_WEEKS} weeks, not {weeks}.")
    seed = whole_number(merged["seed"], "The seed")
    if seed < 0:
        raise UserError(f"The seed must be 0 or more, not {seed}.")
    names = {name.lower(): index for index, name in enumerate(WEEKDAYS)}
    days = []
    for day in merged.get("working_days") or []:
        if str(day)[:3].lower() not in names:
            raise UserError(f"Unknown working day {day!r}: use {', '.join(WEEKDAYS)}.")
        days.append(names[str(day)[:3].lower()])
    types = []
    for kind in merged.get("flow_types") or []:
        known = {name.lower(): name for name in FLOW_TYPES}
        if str(kind).lower() not in known:
            raise UserError(f"Unknown flow type {kind!r}: use {', '.join(FLOW_TYPES)}.")
        types.append(known[str(kind).lower()])
    ordered_types = tuple(name for name in FLOW_TYPES if name in types)
    return ForecastOptions(weeks, seed, tuple(sorted(set(days))), ordered_types)
