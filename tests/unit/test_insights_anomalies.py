"""Anomaly flags: injected spikes are found (and only they), a clean weekly series raises none."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from metrics.insights.anomalies import MIN_DAYS, scan_anomalies, scan_series
from metrics.schema import conform

START = date(2024, 1, 1)  # a Monday
WEEKDAY = np.array([1.0, 1.05, 1.1, 1.08, 1.0, 0.8, 0.75])


def dates(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def seasonal(n: int = 90, seed: int = 11, noise: float = 0.05, level: float = 1000.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level * WEEKDAY[t % 7] * (1 + noise * rng.standard_normal(n))


def flagged(scan) -> list[date]:
    return [a.date for a in scan.anomalies]


def test_a_clean_seasonal_series_raises_no_flag():
    scan = scan_series(dates(90), seasonal(seed=11).tolist(), metric="spend")
    assert scan.reason is None
    assert flagged(scan) == []
    band = scan.band
    assert band.height == 90 and band["judged"].all()
    # The band follows the weekday pattern: Saturdays expect less than Wednesdays.
    expected = dict(zip(band["date"], band["expected"]))
    assert expected[date(2024, 3, 9)] < 0.85 * expected[date(2024, 3, 6)]


def test_false_flags_on_clean_series_are_rare():
    # At medium a clean 90-day series gets a flag about 1 % of the time (module docstring).
    with_flags = sum(bool(scan_series(dates(90), seasonal(seed=seed).tolist(), metric="spend").anomalies)
                     for seed in range(100, 140))
    assert with_flags <= 2


def test_injected_spikes_and_dips_are_flagged_and_only_they():
    values = seasonal()
    values[40] *= 1.6   # a Saturday spike in the middle
    values[77] *= 0.5   # a dip
    values[89] *= 1.6   # yesterday's spike, at the very end of the series
    scan = scan_series(dates(90), values.tolist(), metric="spend")
    assert flagged(scan) == [dates(90)[40], dates(90)[77], dates(90)[89]]
    assert [a.direction for a in scan.anomalies] == ["above", "below", "above"]
    for anomaly in scan.anomalies:
        assert not anomaly.lower <= anomaly.value <= anomaly.upper
        assert abs(anomaly.score) > 4.5


def test_a_huge_spike_does_not_drag_its_neighbours_out_of_the_band():
    values = seasonal()
    values[50] *= 10
    assert flagged(scan_series(dates(90), values.tolist(), metric="spend")) == [dates(90)[50]]


def test_a_budget_change_is_a_level_shift_not_a_run_of_anomalies():
    values = seasonal()
    values[60:] *= 1.2
    assert flagged(scan_series(dates(90), values.tolist(), metric="spend")) == []


def test_sensitivity_sets_the_band_width():
    values = seasonal()
    values[45] *= 1.21  # between 4.5 and 5.5 robust standard deviations of this series' noise
    found = {level: dates(90)[45] in flagged(scan_series(dates(90), values.tolist(), metric="spend",
                                                         sensitivity=level))
             for level in ("low", "medium", "high")}
    assert found == {"low": False, "medium": True, "high": True}


def test_too_short_or_gappy_series_are_not_judged_and_say_so():
    short = scan_series(dates(MIN_DAYS - 1), seasonal(MIN_DAYS - 1).tolist(), metric="cpa")
    assert short.anomalies == () and short.band.is_empty()
    assert short.reason == "CPA has 20 days with a value; anomalies need at least 21 (three weeks) to learn the " \
                           "weekday pattern."
    values = seasonal(MIN_DAYS)
    values[10] *= 3
    assert flagged(scan_series(dates(MIN_DAYS), values.tolist(), metric="spend")) == [dates(MIN_DAYS)[10]]

    gappy = seasonal(60).tolist()
    for i in range(0, 60, 4):
        gappy[i] = None
    # The series starts on its first value (2 January); 14 of the 59 days from there have none.
    assert scan_series(dates(60), gappy, metric="spend").reason == (
        "Spend has no value on 24% of the days of 2 Jan – 29 Feb 2024; anomalies need values on at least "
        "80% of them.")


def test_a_missing_day_is_interpolated_for_the_fit_and_never_flagged():
    values = seasonal().tolist()
    values[30] = None
    kept = [(d, v) for d, v in zip(dates(90), values) if d != dates(90)[31]]  # and one date absent altogether
    scan = scan_series([d for d, _ in kept], [v for _, v in kept], metric="spend")
    assert scan.band.height == 90
    rows = scan.band.filter(pl.col("date").is_in([dates(90)[30], dates(90)[31]]))
    assert rows["value"].to_list() == [None, None] and rows["judged"].to_list() == [False, False]
    assert flagged(scan) == []


def test_ratio_days_with_too_little_volume_are_not_judged():
    n = 60
    rng = np.random.default_rng(5)
    impressions = np.full(n, 20_000.0)
    clicks = rng.poisson(impressions * 0.01 * WEEKDAY[np.arange(n) % 7]).astype(float)
    impressions[20], clicks[20] = 300.0, 9.0   # CTR 3 % from 9 clicks: 3 clicks expected, too few to judge
    clicks[40] = 20.0                          # CTR collapses on a day of normal impressions: judged, flagged
    ctr = (clicks / impressions).tolist()
    scan = scan_series(dates(n), ctr, metric="ctr", events=clicks.tolist(), exposure=impressions.tolist())
    assert flagged(scan) == [dates(n)[40]]
    assert scan.low_volume_days == 1
    row = scan.band.filter(pl.col("date") == dates(n)[20])
    assert row["judged"].to_list() == [False] and row["upper"].to_list() == [None]
    # Without the volume rule the 3 % day would be flagged: the rule is what keeps it out.
    assert dates(n)[20] in flagged(scan_series(dates(n), ctr, metric="ctr"))


def test_scan_anomalies_learns_from_history_and_flags_only_the_window():
    n = 90
    spend = seasonal(n)
    spend[30] *= 2  # before the window: not reported
    spend[80] *= 2
    frame = conform(pl.DataFrame({"date": dates(n), "platform": ["facebook"] * n, "spend": spend,
                                  "impressions": np.full(n, 100_000.0), "clicks": np.full(n, 1000.0)}))
    scans = scan_anomalies(frame, ["spend", "cpm", "conversions"], judge_from=dates(n)[62], judge_to=dates(n)[-1])
    by_metric = {s.metric: s for s in scans}
    assert set(by_metric) == {"spend", "cpm"}  # conversions are not reported
    assert flagged(by_metric["spend"]) == [dates(n)[80]]
    assert flagged(by_metric["cpm"]) == [dates(n)[80]]
    assert by_metric["spend"].to_dict()["anomalies"][0]["label"] == "Spend"


def test_bands_of_amounts_stop_at_zero_but_roi_may_go_negative():
    noisy = seasonal(noise=0.6, level=10.0).clip(min=0.0).tolist()
    spend = scan_series(dates(90), noisy, metric="spend")
    assert spend.band["lower"].min() == 0.0
    roi = scan_series(dates(90), [v - 8.0 for v in noisy], metric="roi")
    assert roi.band["lower"].min() < 0
