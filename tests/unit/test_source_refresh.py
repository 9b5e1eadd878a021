"""Refreshing a stored source with a newer export (models.sources): the overlapping dates are
replaced, older dates kept, nothing counted twice, and the change is said in words."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from models.sources import content_key, merge_refresh


def _daily(first: date, days: int, spend: float, platforms=("facebook",)) -> pl.DataFrame:
    """One row per day and platform, `spend` each."""
    rows = [{"date": first + timedelta(days=i), "platform": p, "campaign": "Spring", "spend": spend}
            for i in range(days) for p in platforms]
    return pl.DataFrame(rows, schema={"date": pl.Date, "platform": pl.String, "campaign": pl.String,
                                      "spend": pl.Float64})


def _spend_by_day(frame: pl.DataFrame) -> dict:
    out: dict = {}
    for day, spend in zip(frame["date"].to_list(), frame["spend"].to_list()):
        out[day] = out.get(day, 0.0) + spend
    return out


JAN = date(2026, 1, 1)


def test_weekly_export_replaces_the_overlap_and_keeps_older_days():
    stored = _daily(JAN, 10, 1.0)  # 1-10 January
    newer = _daily(JAN + timedelta(days=7), 7, 2.0)  # 8-14 January, revised figures

    result = merge_refresh(stored, newer)

    by_day = _spend_by_day(result.frame)
    assert sorted(by_day) == [JAN + timedelta(days=i) for i in range(14)]
    assert all(by_day[JAN + timedelta(days=i)] == 1.0 for i in range(7))  # kept
    assert all(by_day[JAN + timedelta(days=i)] == 2.0 for i in range(7, 14))  # replaced or added, once
    assert result.frame["spend"].sum() == 7 * 1.0 + 7 * 2.0
    change = result.change
    assert (change.days_added, change.days_replaced, change.days_kept, change.days_dropped) == (4, 3, 7, 0)
    assert (change.rows_before, change.rows_after) == (10, 14)
    assert (change.first_date, change.last_date) == (date(2026, 1, 8), date(2026, 1, 14))
    assert change.describe() == "+4 days, 3 days replaced"


def test_the_same_export_again_changes_no_figure():
    stored = _daily(JAN, 7, 3.0, platforms=("facebook", "instagram"))
    result = merge_refresh(stored, stored)
    assert result.frame.height == stored.height
    assert result.frame["spend"].sum() == stored["spend"].sum() == 42.0
    assert result.change.describe() == "7 days replaced"


def test_a_day_inside_the_new_range_without_rows_loses_its_old_rows_and_says_so():
    stored = _daily(JAN, 5, 1.0)  # 1-5
    newer = pl.concat([_daily(JAN, 2, 4.0), _daily(JAN + timedelta(days=3), 2, 4.0)])  # 1, 2, 4, 5 (no 3rd)
    result = merge_refresh(stored, newer)
    assert JAN + timedelta(days=2) not in _spend_by_day(result.frame)
    assert result.frame["spend"].sum() == 16.0
    assert result.change.days_dropped == 1
    assert result.change.describe() == "4 days replaced, 1 day emptied (the new file has no rows for them)"


def test_a_backfill_of_older_days_adds_them():
    stored = _daily(JAN + timedelta(days=9), 11, 1.0)  # 10-20
    newer = _daily(JAN, 5, 5.0)  # 1-5
    result = merge_refresh(stored, newer)
    assert result.frame["spend"].sum() == 11 * 1.0 + 5 * 5.0
    assert (result.change.days_added, result.change.days_replaced, result.change.days_kept) == (5, 0, 11)
    assert result.change.describe() == "+5 days"


def test_every_row_of_a_replaced_day_goes_whatever_its_platform_or_campaign():
    stored = _daily(JAN, 3, 1.0, platforms=("facebook", "instagram", "x"))
    newer = _daily(JAN + timedelta(days=2), 1, 10.0, platforms=("facebook",))  # 3 January, one platform now
    result = merge_refresh(stored, newer)
    third = result.frame.filter(pl.col("date") == JAN + timedelta(days=2))
    assert third["platform"].to_list() == ["facebook"] and third["spend"].to_list() == [10.0]
    assert result.frame.height == 2 * 3 + 1


def _with_undated(frame: pl.DataFrame, spends: list[float]) -> pl.DataFrame:
    undated = pl.DataFrame({"date": [None] * len(spends), "platform": ["facebook"] * len(spends),
                            "campaign": ["Lifetime"] * len(spends), "spend": spends},
                           schema=frame.schema)
    return pl.concat([frame, undated])


def test_undated_rows_of_the_new_file_replace_all_old_undated_rows():
    stored = _with_undated(_daily(JAN, 2, 1.0), [100.0, 200.0])
    newer = _with_undated(_daily(JAN, 0, 0.0), [250.0])  # only an undated row
    result = merge_refresh(stored, newer)
    assert sorted(result.frame.filter(pl.col("date").is_null())["spend"].to_list()) == [250.0]
    assert result.frame.filter(pl.col("date").is_not_null()).height == 2  # dated rows untouched
    assert result.change.describe() == "2 undated rows replaced by 1"


def test_old_undated_rows_stay_when_the_new_file_has_none():
    stored = _with_undated(_daily(JAN, 2, 1.0), [100.0])
    newer = _daily(JAN + timedelta(days=1), 2, 2.0)
    result = merge_refresh(stored, newer)
    assert result.frame.filter(pl.col("date").is_null())["spend"].to_list() == [100.0]
    assert result.frame["spend"].sum() == 1.0 + 2 * 2.0 + 100.0
    assert result.change.describe() == "+1 day, 1 day replaced"


def test_an_empty_new_file_changes_nothing():
    stored = _daily(JAN, 3, 1.0)
    result = merge_refresh(stored, stored.clear())
    assert result.frame.height == 3 and result.change.describe() == "no rows changed"


def test_the_result_has_the_canonical_columns():
    from metrics.schema import CANONICAL_SCHEMA

    result = merge_refresh(_daily(JAN, 1, 1.0), _daily(JAN, 1, 2.0))
    assert result.frame.schema == pl.Schema(CANONICAL_SCHEMA)
    assert result.frame["impressions"].is_null().all()  # never filled with 0


@pytest.mark.parametrize("change", ["another hash", "another id", "one less", "one more"])
def test_content_key_changes_with_the_enabled_sources_content(change):
    sources = [(1, "a" * 64), (2, "b" * 64)]
    base = content_key(7, sources)
    assert content_key(7, list(reversed(sources))) == base  # order does not matter
    changed = {
        "another hash": [(1, "a" * 64), (2, "c" * 64)],
        "another id": [(1, "a" * 64), (3, "b" * 64)],
        "one less": [(1, "a" * 64)],
        "one more": [*sources, (4, "d" * 64)],
    }[change]
    assert content_key(7, changed) != base
    assert content_key(8, sources) != base  # another workspace with the same rows is another dataset


def test_overlapping_rows_between_two_sources_are_counted():
    from metrics.ingest import overlapping_rows
    from metrics.schema import conform

    a = conform(_daily(JAN, 5, 1.0, platforms=("facebook", "x")))
    b = conform(_daily(JAN + timedelta(days=3), 4, 1.0, platforms=("facebook",)))  # 4-7 Jan, facebook
    assert overlapping_rows(b, a) == 2  # 4 and 5 January on facebook
    assert overlapping_rows(a, b) == 2
    other_campaign = b.with_columns(pl.lit("Autumn").alias("campaign"))
    assert overlapping_rows(other_campaign, a) == 0
