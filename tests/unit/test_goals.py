"""SMART goals: projection, pace, status rules (incl. lower-is-better), deadline passed, no data, JSON."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest

from metrics import goals
from metrics.goals import Goal, GoalError, evaluate, parse_goals, status_for
from metrics.schema import conform

START = date(2026, 1, 1)
DAYS = 28  # data 2026-01-01 .. 2026-01-28
LAST = START + timedelta(days=DAYS - 1)


def _frame(conversions=None, followers=None) -> pl.DataFrame:
    """Two platforms; per day in total: 1000 impressions, 100 clicks, 10 conversions, 50 spend."""
    rows = []
    for i in range(DAYS):
        day = START + timedelta(days=i)
        conv = 10.0 if conversions is None else float(conversions(i))
        for platform, share in (("facebook", 0.6), ("google_ads", 0.4)):
            rows.append({
                "date": day, "platform": platform, "campaign": "Always on",
                "impressions": 1000.0 * share, "clicks": 100.0 * share, "conversions": conv * share,
                "spend": 50.0 * share, "followers": None if followers is None else followers(i) * share,
            })
    return conform(pl.DataFrame(rows))


def _goal(**fields) -> dict:
    return {"metric": "conversions", "target": 500.0, "deadline": (LAST + timedelta(days=30)).isoformat()} | fields


def test_cumulative_projection_and_pace():
    result = evaluate(_goal(), _frame())
    assert result.as_of == LAST and result.start == START and result.days_left == 30
    assert result.current == pytest.approx(280.0)
    assert result.pace_recent == pytest.approx(10.0)
    assert result.projection == pytest.approx(280.0 + 10.0 * 30)
    assert result.pace_needed == pytest.approx((500.0 - 280.0) / 30)
    assert result.progress == pytest.approx(280 / 500)
    assert result.status == "on_track"


@pytest.mark.parametrize("target, status", [(580.0, "on_track"), (600.0, "at_risk"), (644.0, "at_risk"),
                                            (645.0, "off_track"), (700.0, "off_track")])
def test_status_thresholds_higher_is_better(target, status):
    # Projection is 580: at risk down to 90 % of the target (580 / 0.9 = 644.4).
    assert evaluate(_goal(target=target), _frame()).status == status


def test_projection_uses_the_last_14_days():
    result = evaluate(_goal(target=10_000.0), _frame(conversions=lambda i: i))  # 0, 1, ..., 27
    assert result.pace_recent == pytest.approx(sum(range(14, 28)) / 14)
    assert result.projection == pytest.approx(sum(range(28)) + 20.5 * 30)


@pytest.mark.parametrize("target, status", [(5.0, "on_track"), (4.6, "at_risk"), (4.0, "off_track")])
def test_lower_is_better_kpi_inverts_the_rule(target, status):
    result = evaluate(_goal(metric="cpa", target=target), _frame())  # CPA is 5 every day
    assert result.current == pytest.approx(5.0) and result.projection == pytest.approx(5.0)
    assert Goal.from_dict(_goal(metric="cpa", target=target)).lower_is_better
    assert result.status == status


def test_direction_can_be_overridden():
    assert evaluate(_goal(metric="cpa", target=4.0, direction="higher"), _frame()).status == "on_track"
    assert evaluate(_goal(metric="conversions", target=600.0, direction="lower"), _frame()).status == "on_track"


def test_rate_needed_over_the_remaining_days():
    result = evaluate(_goal(metric="ctr", target=0.12), _frame())
    # (target × (D + D_rem) − N) / D_rem with D = 28,000 impressions, D_rem = 30 × 1,000, N = 2,800 clicks.
    assert result.current == pytest.approx(0.1)
    assert result.pace_needed == pytest.approx((0.12 * 58_000 - 2_800) / 30_000)
    assert result.status == "off_track"


def test_deadline_passed_is_achieved_or_missed():
    deadline = (START + timedelta(days=19)).isoformat()  # 20 days → 200 conversions
    done = evaluate(_goal(target=150.0, deadline=deadline), _frame())
    assert done.status == "achieved" and done.days_left == 0 and done.pace_needed is None
    assert done.current == pytest.approx(200.0) and done.as_of == START + timedelta(days=19)
    assert evaluate(_goal(target=250.0, deadline=deadline), _frame()).status == "missed"
    assert evaluate(_goal(metric="cpa", target=4.0, deadline=deadline), _frame()).status == "missed"


def test_additive_goal_settles_early():
    assert evaluate(_goal(target=100.0), _frame()).status == "achieved"
    over_budget = evaluate(_goal(metric="spend", target=1000.0, direction="lower"), _frame())
    assert over_budget.current == pytest.approx(1400.0) and over_budget.status == "missed"


def test_start_date_and_scope():
    result = evaluate(_goal(start=(START + timedelta(days=14)).isoformat()), _frame())
    assert result.current == pytest.approx(140.0)
    facebook = evaluate(_goal(scope="platform", scope_value="facebook"), _frame())
    assert facebook.current == pytest.approx(280.0 * 0.6)


@pytest.mark.parametrize("fields", [
    {"scope": "platform", "scope_value": "tiktok"},
    {"start": "2027-01-01", "deadline": "2027-06-30"},
])
def test_no_data_in_scope(fields):
    result = evaluate(_goal(**fields), _frame())
    assert result.status == "no_data" and result.current is None and result.projection is None
    assert goals.timeline(result, _frame()).is_empty()


def test_unreported_metric_is_no_data_not_zero():
    result = evaluate(_goal(metric="leads"), _frame())
    assert result.status == "no_data" and result.current is None


def test_followers_level_projects_the_trend():
    result = evaluate(_goal(metric="followers", target=2_000.0), _frame(followers=lambda i: 1000 + 10 * i))
    assert result.current == pytest.approx(1270.0)
    assert result.pace_recent == pytest.approx(10.0)
    assert result.projection == pytest.approx(1270.0 + 300.0)
    assert result.pace_needed == pytest.approx(730.0 / 30)
    assert result.status == "off_track"


def test_timeline_points():
    result = evaluate(_goal(), _frame())
    points = goals.timeline(result, _frame())
    actual = points.filter(pl.col("series") == "Actual").sort("date")
    assert actual.height == DAYS and actual["value"][-1] == pytest.approx(280.0)
    needed = points.filter(pl.col("series") == "Needed pace")
    assert needed["value"].to_list() == [0.0, 500.0]
    projection = points.filter(pl.col("series") == "Projection")
    assert projection["value"].to_list() == pytest.approx([280.0, 580.0])


@pytest.mark.parametrize("current, projection, target, lower, days, expected", [
    (None, None, 10, False, 5, "no_data"),
    (5, 10, 10, False, 5, "on_track"),
    (5, 9, 10, False, 5, "at_risk"),
    (5, 8.9, 10, False, 5, "off_track"),
    (5, None, 5, False, 5, "on_track"),  # no trend: judged on the current value
    (12, 10, 10, True, 5, "on_track"),
    (12, 11, 10, True, 5, "at_risk"),
    (12, 11.5, 10, True, 5, "off_track"),
    (9, 20, 10, True, 0, "achieved"),
    (11, 0, 10, True, 0, "missed"),
    (-0.05, -0.05, -0.1, False, 5, "on_track"),  # negative targets use |target| for the tolerance
])
def test_status_rule_table(current, projection, target, lower, days, expected):
    assert status_for(current=current, projection=projection, target=target, lower_is_better=lower,
                      days_left=days) == expected


def test_goals_are_plain_json_and_round_trip():
    original = [Goal.from_dict(_goal(name="Q1 sales", start="2026-01-01")).to_dict(),
                Goal.from_dict(_goal(metric="cpa", target=30, scope="campaign", scope_value="=cmd()")).to_dict()]
    assert json.loads(json.dumps(original)) == original
    assert parse_goals(goals.dump_goals(original)) == original
    assert parse_goals(json.dumps({"goals": original}).encode("utf-8")) == original


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "not valid JSON"),
    ('{"a": 1}', "does not contain a list of goals"),
    ('[{"metric": "nonsense", "target": 1, "deadline": "2026-01-01"}]', "unknown metric"),
    ('[{"metric": "ctr", "target": "high", "deadline": "2026-01-01"}]', "no numeric target"),
    ('[{"metric": "ctr", "target": 0.1}]', "no deadline"),
    ('[{"metric": "ctr", "target": 0.1, "deadline": "31/12/2026"}]', "not a date"),
    ('[{"metric": "ctr", "target": 0.1, "deadline": "2026-01-01", "start": "2026-02-01"}]', "starts after"),
    ('[{"metric": "ctr", "target": 0.1, "deadline": "2026-01-01", "scope": "platform"}]', "which one"),
])
def test_invalid_goals_files_give_one_plain_sentence(text, fragment):
    with pytest.raises(GoalError) as error:
        parse_goals(text)
    message = str(error.value)
    assert fragment in message and message.endswith(".") and "\n" not in message


# --- targets already met, relative targets, monthly goals -------------------------------------------------


def test_a_stock_already_above_its_target_is_achieved_with_no_pace():
    # About 81,725 followers on the last day: a 60,000 goal is already reached, not "on track" with a pace down.
    result = evaluate(_goal(metric="followers", target=60_000.0), _frame(followers=lambda i: 80_000 + 63.9 * i))
    assert result.current == pytest.approx(80_000 + 63.9 * 27)
    assert result.status == "achieved" and result.pace_needed is None and result.progress == 1.0
    points = goals.timeline(result, _frame(followers=lambda i: 80_000 + 63.9 * i))
    assert points.filter(pl.col("series") == "Needed pace").is_empty()  # no line running down to 60,000


def test_a_relative_stock_target_grows_from_the_level_on_the_start_day():
    frame = _frame(followers=lambda i: 1000 + 10 * i)
    start = START + timedelta(days=7)  # level 1,070 that day
    result = evaluate(_goal(metric="followers", target=0.30, target_mode="relative", start=start.isoformat()), frame)
    assert result.base == pytest.approx(1070.0)
    assert result.target == pytest.approx(1070.0 * 1.3)
    assert result.current == pytest.approx(1270.0)
    assert result.progress == pytest.approx(1270.0 / 1391.0)
    assert result.pace_needed == pytest.approx((1391.0 - 1270.0) / 30)


def test_a_relative_total_compares_with_the_period_before_the_start():
    # Conversions 0, 1, 2, … a day; the goal runs 15–28 Jan (14 days), so the base is 1–14 Jan: 0 + … + 13.
    start, deadline = START + timedelta(days=14), LAST
    goal = _goal(target=0.5, target_mode="relative", start=start.isoformat(), deadline=deadline.isoformat())
    result = evaluate(goal, _frame(conversions=lambda i: i))
    assert result.base == pytest.approx(sum(range(14)))
    assert result.target == pytest.approx(sum(range(14)) * 1.5)
    assert result.current == pytest.approx(sum(range(14, 28)))
    assert result.status == "achieved"  # 287 ≥ 136.5, and the deadline is the last day of data


def test_a_relative_target_without_a_base_says_why():
    result = evaluate(_goal(target=0.3, target_mode="relative", start=START.isoformat()), _frame())
    assert result.status == "no_data" and "grow from" in result.note


def test_a_monthly_goal_judges_every_month():
    # 1 Jan – 28 Feb: 10 conversions a day in January, 3 a day in February.
    frame = pl.concat([_frame(), _frame(conversions=lambda i: 3).with_columns(pl.col("date") + timedelta(days=31))])
    goal = Goal.from_dict(_goal(target=200.0, recurrence="monthly", deadline="2026-03-31"))
    months = goals.monthly_progress(goal, frame)
    assert [m.month for m in months] == [date(2026, 1, 1), date(2026, 2, 1)]
    january, february = (m.progress for m in months)
    assert january.current == pytest.approx(280.0) and january.status == "achieved"
    # February (28 days of data = the whole month): 84 conversions, below 200.
    assert february.current == pytest.approx(84.0) and february.status == "missed"
    assert evaluate(goal, frame).current == pytest.approx(84.0)  # the goal shows its latest month
    assert goal.title == "Conversions ≥ 200 every month until Mar 2026"


def test_the_running_month_is_projected_to_its_end():
    goal = Goal.from_dict(_goal(target=300.0, recurrence="monthly", deadline="2026-06-30"))
    [january] = goals.monthly_progress(goal, _frame())  # data ends 28 Jan: three days to go
    assert january.progress.days_left == 3
    assert january.progress.projection == pytest.approx(280.0 + 3 * 10.0)
    assert january.progress.status == "on_track"


@pytest.mark.parametrize("fields, fragment", [
    ({"target_mode": "relative"}, "no start date"),
    ({"target_mode": "relative", "start": "2026-01-01", "target": -1.5}, "-100 %"),
    ({"target_mode": "relative", "start": "2026-01-01", "recurrence": "monthly"}, "absolute target"),
    ({"target_mode": "percent"}, "neither absolute nor relative"),
    ({"recurrence": "weekly"}, "monthly or not at all"),
])
def test_new_fields_are_validated(fields, fragment):
    with pytest.raises(GoalError, match=fragment):
        Goal.from_dict(_goal(**fields))


def test_new_fields_round_trip_and_old_goals_still_load():
    goal = Goal.from_dict(_goal(metric="followers", target=0.3, target_mode="relative", start="2026-01-10",
                                name="+30 % followers"))
    assert parse_goals(goals.dump_goals([goal.to_dict()])) == [goal.to_dict()]
    assert goal.to_dict()["target_mode"] == "relative" and goal.to_dict()["recurrence"] == "none"
    old = Goal.from_dict({"metric": "conversions", "target": 500, "deadline": "2026-03-01", "id": "abc"})
    assert (old.target_mode, old.recurrence) == ("absolute", "none")
    assert old.title == "Conversions ≥ 500 by 1 Mar 2026"


def test_current_value_for_someone_setting_a_goal():
    frame = _frame(followers=lambda i: 1000 + 10 * i)
    assert goals.current_value("followers", frame) == (pytest.approx(1270.0), START, LAST)
    value, first, last = goals.current_value("conversions", frame, days=7)
    assert (value, first, last) == (pytest.approx(70.0), LAST - timedelta(days=6), LAST)
    assert goals.current_value("conversions", frame, scope="platform", scope_value="tiktok") == (None, None, None)
