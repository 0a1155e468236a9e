"""Monte Carlo forecasts over a daily throughput history, and their track record.

Pure NumPy on plain arrays (one count of completed items per day, oldest first): no dataset,
no dates, no settings. `data/services/forecast_service.py` builds those arrays from the normalized
dataset and turns day counts back into dates.

- `how_many`: total items per trial over `days` days, each day sampled with replacement
  from the history.
- `days_needed`: per trial, the first day on which the running total reaches `items`.
- `items_at_least` / `days_within`: the likelihood levels read off the trials.
- `stability`: the two halves of the history compared.
- `track_record_*`: the same forecast replayed at past anchors, scored against what happened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Likelihood levels shown, in percent.
LIKELIHOODS: tuple[int, ...] = (50, 70, 85, 95)
#: Trials per forecast.
TRIALS = 10_000
#: A "when" forecast gives up after this many (working) days: ten years.
MAX_DAYS = 3_650
#: Replays start this many days apart.
REPLAY_STEP_DAYS = 7
#: Halves whose daily rates differ by this factor or more make the history a poor guide.
UNSTABLE_RATIO = 1.5
#: Fewer completed items than this in the history: the range is wide.
FEW_ITEMS = 10


def how_many(daily: np.ndarray, days: int, trials: int, rng: np.random.Generator) -> np.ndarray:
    """Items completed in `days` sampled days, one total per trial (int64).

    Day positions are drawn as int16 and the counts gathered as int32 (a window holds at most
    a few hundred days): half the time of int64, the same draws' distribution."""
    history = np.asarray(daily, dtype=np.int32)
    kind = np.int16 if len(history) < np.iinfo(np.int16).max else np.int64
    picks = rng.integers(0, len(history), (trials, days), dtype=kind)
    totals: np.ndarray = history[picks].sum(axis=1, dtype=np.int64)
    return totals


def days_needed(
    daily: np.ndarray,
    items: int,
    trials: int,
    rng: np.random.Generator,
    max_days: int = MAX_DAYS,
) -> np.ndarray:
    """Per trial, the 1-based day on which `items` are done; `max_days + 1` if never by then.

    Days are drawn in blocks sized from the history's mean, so a typical forecast needs one
    or two blocks; only the trials still running draw the next block."""
    history = np.asarray(daily, dtype=np.int64)
    result = np.full(trials, max_days + 1, dtype=np.int64)
    mean = float(history.mean()) if len(history) else 0.0
    if mean <= 0:
        return result
    block = int(min(max_days, max(8, math.ceil(items / mean * 1.25))))
    running = np.arange(trials)
    remaining = np.full(trials, items, dtype=np.int64)
    offset = 0
    while len(running) and offset < max_days:
        width = min(block, max_days - offset)
        totals = np.cumsum(history[rng.integers(0, len(history), (len(running), width))], axis=1)
        reached = totals >= remaining[:, None]
        done = reached[:, -1]
        result[running[done]] = offset + np.argmax(reached[done], axis=1) + 1
        remaining = remaining[~done] - totals[~done, -1]
        running = running[~done]
        offset += width
    return result


def items_at_least(totals: np.ndarray, likelihoods: tuple[int, ...] = LIKELIHOODS) -> list[int]:
    """For each likelihood p: the largest N such that at least p % of the trials reach N."""
    ordered = np.sort(totals)
    size = len(ordered)
    return [int(ordered[size - math.ceil(p * size / 100)]) for p in likelihoods]


def days_within(needed: np.ndarray, likelihoods: tuple[int, ...] = LIKELIHOODS) -> list[int]:
    """For each likelihood p: the fewest days within which at least p % of the trials finish."""
    ordered = np.sort(needed)
    return [int(ordered[math.ceil(p * len(ordered) / 100) - 1]) for p in likelihoods]


@dataclass(frozen=True)
class Stability:
    """The history's two halves compared (the older half first), and what to say about it."""

    first_half_per_day: float
    second_half_per_day: float
    ratio: float | None  # larger rate / smaller rate; None when a half has no completions
    stable: bool
    warnings: tuple[str, ...]


def stability(daily: np.ndarray, day_word: str = "day") -> Stability:
    """Compare the halves of the history; warn when their rates differ by UNSTABLE_RATIO or
    more, or when the history holds fewer than FEW_ITEMS items."""
    history = np.asarray(daily, dtype=np.int64)
    half = len(history) // 2
    older, newer = history[: len(history) - half], history[len(history) - half :]
    first = float(older.mean()) if len(older) else 0.0
    second = float(newer.mean()) if len(newer) else 0.0
    low, high = min(first, second), max(first, second)
    ratio = high / low if low > 0 else None
    stable = ratio is not None and ratio < UNSTABLE_RATIO
    warnings = []
    if not stable:
        warnings.append(
            f"Throughput changed within the history: {first:.2f} items per {day_word} in its "
            f"first half, {second:.2f} in its second. The past may be a poor guide; consider "
            "a shorter or a different history window."
        )
    total = int(history.sum())
    if 0 < total < FEW_ITEMS:
        warnings.append(
            f"Only {total} items were completed in the history: the range is wide and the "
            "likelihoods are rough."
        )
    return Stability(round(first, 4), round(second, 4), _rounded(ratio), stable, tuple(warnings))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class TrackRecord:
    """How often the forecast held when replayed at past anchors.

    `held[i]` is the share of replays in which reality fell inside the forecast at
    `LIKELIHOODS[i]` (an 85 % forecast should hold about 85 % of the time); `anchors` are the
    day indices (into the series) the replays forecast from."""

    anchors: tuple[int, ...]
    held: tuple[float, ...]
    held_counts: tuple[int, ...]

    @property
    def replays(self) -> int:
        """How many past forecasts were scored."""
        return len(self.anchors)


def _anchors(series_days: int, window: int, horizon: int, step: int) -> list[int]:
    """Anchor days (forecasting from their start), newest first going back by `step`, each
    with a whole window before it and `horizon` observed days after it."""
    last = series_days - horizon
    return list(range(last, window - 1, -step))[::-1] if last >= window else []


def _hits(rows: list[np.ndarray]) -> np.ndarray:
    return np.array(rows, dtype=bool).reshape(len(rows), len(LIKELIHOODS))


def _scored(anchors: list[int], hits: np.ndarray) -> TrackRecord:
    counts = hits.sum(axis=0) if len(anchors) else np.zeros(len(LIKELIHOODS), dtype=np.int64)
    shares = counts / len(anchors) if anchors else np.zeros(len(LIKELIHOODS))
    return TrackRecord(
        tuple(anchors), tuple(round(float(s), 4) for s in shares), tuple(int(c) for c in counts)
    )


def track_record_how_many(
    series: np.ndarray,
    window: int,
    days: int,
    trials: int,
    seed: int,
    step: int = REPLAY_STEP_DAYS,
) -> TrackRecord:
    """Replay "how many in `days` days" at every anchor that has `window` days before it and
    `days` observed days after it (anchors with no completion in their window are left out);
    a replay holds at p when the items actually completed
    reached the forecast "at least N, p % likely"."""
    history = np.asarray(series, dtype=np.int64)
    rng = np.random.default_rng(seed)
    anchors: list[int] = []
    rows: list[np.ndarray] = []
    for anchor in _anchors(len(history), window, days, step):
        past = history[anchor - window : anchor]
        if not past.any():
            continue
        levels = np.array(items_at_least(how_many(past, days, trials, rng)))
        anchors.append(anchor)
        rows.append(history[anchor : anchor + days].sum() >= levels)
    return _scored(anchors, _hits(rows))


def track_record_when(
    series: np.ndarray,
    window: int,
    items: int,
    trials: int,
    seed: int,
    step: int = REPLAY_STEP_DAYS,
) -> TrackRecord:
    """Replay "when will `items` be done" at every anchor with `window` days before it whose
    `items` were in fact done before the series ends (anchors with no completion in their
    window are left out: no forecast was possible there); a replay holds at p when the
    actual day count was within the forecast's."""
    history = np.asarray(series, dtype=np.int64)
    done_by = np.cumsum(history)
    rng = np.random.default_rng(seed)
    anchors: list[int] = []
    rows: list[np.ndarray] = []
    for anchor in _anchors(len(history), window, 1, step):
        past = history[anchor - window : anchor]
        before = done_by[anchor - 1] if anchor else 0
        actual = int(np.searchsorted(done_by, before + items)) - anchor + 1
        if not past.any() or anchor + actual > len(history):
            continue
        levels = np.array(days_within(days_needed(past, items, trials, rng)))
        anchors.append(anchor)
        rows.append(actual <= levels)
    return _scored(anchors, _hits(rows))
