"""Leaderboard: minimum volume, direction, nulls never ranked best or worst."""

from __future__ import annotations

import polars as pl

from metrics.leaderboard import leaderboard

SUMMARY = pl.DataFrame({
    "campaign": ["tiny", "big", "mid", "organic"],
    "clicks": [3.0, 5000.0, 800.0, None],
    "conversions": [2.0, 100.0, 40.0, None],
    "cvr": [2 / 3, 0.02, 0.05, None],
    "cpa": [1.0, 50.0, 20.0, None],
})


def test_tiny_campaign_tops_without_a_threshold_and_is_left_out_with_one():
    assert leaderboard(SUMMARY, "cvr", key="campaign")["campaign"].to_list() == ["tiny", "mid", "big", "organic"]
    board = leaderboard(SUMMARY, "cvr", key="campaign", volume="clicks", min_volume=100)
    assert board["campaign"].to_list() == ["mid", "big"]
    assert board["rank"].to_list() == [1, 2]


def test_lower_is_better_and_worst_n():
    best = leaderboard(SUMMARY, "cpa", key="campaign", lower_is_better=True, volume="clicks", min_volume=100)
    assert best["campaign"].to_list() == ["mid", "big"]
    worst = leaderboard(SUMMARY, "cpa", key="campaign", lower_is_better=True, n=1, best=False)
    assert worst["campaign"].to_list() == ["big"] and worst["rank"].to_list() == [3]


def test_zero_threshold_keeps_null_volume_rows_last():
    board = leaderboard(SUMMARY, "cvr", key="campaign", volume="clicks", min_volume=0, n=2)
    assert board["campaign"].to_list() == ["tiny", "mid"]
    assert leaderboard(SUMMARY, "cvr", key="campaign", best=False)["campaign"].to_list()[-1] == "tiny"
