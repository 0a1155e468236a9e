"""The Monte Carlo simulation, its likelihood levels, stability check and track record.

Hand-worked cases use a tiny history whose levels sit far from any sampling boundary, so the
expected numbers hold for the seed used (and would for any other): with 10,000 trials a
share's standard error is about 0.5 percentage point, the margins below are 3 points or more.
"""

from __future__ import annotations

import numpy as np
import pytest

from data.engine.forecast import (
    LIKELIHOODS,
    TRIALS,
    days_needed,
    days_within,
    how_many,
    items_at_least,
    stability,
    track_record_how_many,
    track_record_when,
)

#: One day in ten completes 0 items, one 2, two 5 and six 9.
TINY = np.array([0, 2, 5, 5, 9, 9, 9, 9, 9, 9])


def test_how_many_in_one_day_reads_the_levels_off_the_daily_distribution() -> None:
    # P(>= 9) = 0.6, P(>= 5) = 0.8, P(>= 2) = 0.9, P(>= 0) = 1:
    # 50 % -> 9 (0.6 >= 0.5), 70 % -> 5, 85 % -> 2, 95 % -> 0
    totals = how_many(TINY, 1, TRIALS, np.random.default_rng(7))
    assert items_at_least(totals) == [9, 5, 2, 0]


def test_how_many_over_two_days_sums_two_sampled_days() -> None:
    # P(>= 14) = P(9+9) + P(9+5) + P(5+9) = .36 + .12 + .12 = .60; P(>= 11) adds 9+2, 2+9:
    # .60 + .12 = .72; P(>= 9) adds 9+0, 0+9 and 5+5: .72 + .12 + .04 = .88; P(>= 7) adds
    # 5+2, 2+5: .88 + .04 = .92; P(>= 5) adds 5+0, 0+5: .96.
    # 50 % -> 14, 70 % -> 11, 85 % -> 9, 95 % -> 5
    totals = how_many(TINY, 2, TRIALS, np.random.default_rng(7))
    assert items_at_least(totals) == [14, 11, 9, 5]


def test_when_nine_items_counts_the_days_until_the_running_total_reaches_them() -> None:
    # Done on day 1: P(9) = .6. Not within 2 days: both draws from {0, 2, 5} summing below 9:
    # .12, so within 2 = .88. Not within 3: .026, so within 3 = .974.
    # 50 % -> 1 day, 70 % -> 2, 85 % -> 2, 95 % -> 3
    needed = days_needed(TINY, 9, TRIALS, np.random.default_rng(7))
    assert days_within(needed) == [1, 2, 2, 3]


def test_a_constant_history_forecasts_exactly_its_rate() -> None:
    rng = np.random.default_rng(1)
    assert items_at_least(how_many(np.full(84, 3), 10, TRIALS, rng)) == [30] * 4
    assert days_within(days_needed(np.full(84, 3), 31, TRIALS, rng)) == [11] * 4


def test_the_same_seed_gives_the_same_trials_and_another_seed_other_trials() -> None:
    history = np.random.default_rng(0).poisson(2.0, 84)
    first = how_many(history, 30, TRIALS, np.random.default_rng(5))
    again = how_many(history, 30, TRIALS, np.random.default_rng(5))
    other = how_many(history, 30, TRIALS, np.random.default_rng(6))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_days_with_no_completions_count_as_zeros() -> None:
    # half the days complete nothing: over 2 days P(0) = .25, P(>= 4) = .25 (4+4)
    totals = how_many(np.array([0, 4]), 2, TRIALS, np.random.default_rng(3))
    assert set(np.unique(totals)) == {0, 4, 8}
    assert 0.23 < np.mean(totals == 0) < 0.27


def test_a_history_without_any_completion_never_finishes() -> None:
    needed = days_needed(np.zeros(84, dtype=int), 5, 100, np.random.default_rng(1), max_days=50)
    assert (needed == 51).all()


def test_stability_warns_when_the_halves_differ_by_half_or_more() -> None:
    steady = stability(np.array([2, 1, 3, 2] * 22))
    assert steady.stable and not steady.warnings and steady.ratio == 1.0
    # first half 1 per day, second half 3 per day
    shifted = stability(np.array([1] * 42 + [3] * 42))
    assert not shifted.stable
    assert shifted.ratio == 3.0
    assert "poor guide" in shifted.warnings[0] and "1.00" in shifted.warnings[0]


def test_stability_warns_when_a_half_completed_nothing_and_when_few_items() -> None:
    result = stability(np.array([0] * 42 + [0] * 38 + [1, 1, 1, 1]))
    assert not result.stable and result.ratio is None
    assert any("Only 4 items" in warning for warning in result.warnings)


@pytest.mark.parametrize("mean", [0.6, 2.5])
def test_on_poisson_throughput_the_85_percent_forecasts_hold_80_to_90_percent_of_replays(
    mean: float,
) -> None:
    # A stationary Poisson throughput with a known mean over 6 years: the forecast from 12
    # weeks of it should be calibrated. Weekly replays: about 300 of each kind.
    series = np.random.default_rng(2024).poisson(mean, 6 * 365)
    how = track_record_how_many(series, 84, 14, 2_000, seed=1)
    when = track_record_when(series, 84, 20, 2_000, seed=1)
    eighty_five = LIKELIHOODS.index(85)
    assert how.replays > 280 and when.replays > 280
    assert 0.80 <= how.held[eighty_five] <= 0.90
    assert 0.80 <= when.held[eighty_five] <= 0.90
    # and the levels are ordered: a 95 % forecast holds at least as often as a 50 % one
    assert list(how.held) == sorted(how.held)
    assert list(when.held) == sorted(when.held)


def test_track_record_anchors_need_a_whole_window_before_and_the_horizon_after() -> None:
    series = np.ones(100, dtype=int)
    record = track_record_how_many(series, window=84, days=10, trials=100, seed=1)
    # anchors from day 90 (= 100 - 10) back by 7 while >= 84: 90, 83 is too early
    assert record.anchors == (90,)
    assert record.held == (1.0, 1.0, 1.0, 1.0)
    assert track_record_how_many(series, 84, 20, 100, 1).replays == 0


def test_track_record_when_scores_only_anchors_whose_items_were_in_fact_done() -> None:
    # 1 item a day for 100 days: from any anchor 10 items take 10 days. Weekly anchors back
    # from day 99: 99, 92, 85; only 85 sees its 10 done (days 85..94) before the series ends
    series = np.ones(100, dtype=int)
    record = track_record_when(series, window=84, items=10, trials=100, seed=1)
    assert record.anchors == (85,)
    assert record.held == (1.0, 1.0, 1.0, 1.0)
    assert record.held_counts == (1, 1, 1, 1)


def test_track_record_counts_a_forecast_that_missed() -> None:
    # 12 weeks at 3 a day, then a week at 1 a day: the forecast at day 84 for 7 days said
    # "at least 21" at every likelihood, 7 happened
    series = np.array([3] * 84 + [1] * 7)
    record = track_record_how_many(series, 84, 7, 100, 1)
    assert record.anchors == (84,)
    assert record.held == (0.0, 0.0, 0.0, 0.0)
