"""SMART goals: progress, the pace needed, a projection at the deadline and a status.

A goal is a plain JSON-able dict (so snapshots can save it and people can export and
import it): `metric`, `target`, `deadline`, `scope` ("all" | "platform" | "campaign")
with `scope_value`, optional `start`, optional `name`, `direction` ("auto" | "higher" |
"lower"), `target_mode` ("absolute" | "relative"), `recurrence` ("none" | "monthly") and
an `id`. `Goal.from_dict` validates one and raises `GoalError` with one plain sentence when
it cannot be read; a dict saved before `target_mode`/`recurrence` existed reads as an
absolute, one-off goal.

Targets:

- **absolute**: `target` in the metric's unit (rates as fractions): 5,000 conversions.
- **relative**: `target` is a change from the value at the start date (a fraction: 0.30
  is "+30 %", -0.10 "-10 %"); `start` is required. The base is the level on the start
  date for a stock (followers), and the same metric over the period of equal length just
  before the start for everything else (so "+30 % conversions by 31 Jan" compares the
  goal period with the one before it). No base (no data then, or 0) → `no_data` with a note.
- **monthly** (`recurrence`): the same absolute target every calendar month from the start
  (or the first month of data) to the deadline's month; each month is judged on its own
  (`monthly_progress`), a finished month achieved or missed, the running one by its
  projection to the month's end.

How a goal is measured depends on the kind of metric:

- **cumulative** (additive measures such as conversions or spend, and the additive
  KPIs net follower growth and weighted engagement): the current value is the total
  since the start (the data's first day in scope when no start is set). The recent
  trend is the average per calendar day over the last 14 days of data; the projection
  is current + that average × the days left; the pace needed is (target − current) /
  days left, per day.
- **level** (followers, a stock): the current value is the latest; the recent trend is
  the least-squares slope per day over the last 14 days; projection = current + slope ×
  days left; pace needed = (target − current) / days left, per day.
- **rate** (every other KPI, a ratio of sums): the current value is the KPI over the
  whole goal period so far. The projection is the same KPI computed from the period's
  totals plus each measure's recent daily average × the days left (a ratio of sums,
  like everywhere else). The "pace" is the KPI value the remaining days must achieve
  for the whole period to land on the target (when the KPI is a plain ratio).

A KPI goal is measured on the rows that report every measure the KPI needs (coverage-matched,
SPEC §4; `kpis.rows_reporting`): its current value is the one `summarize` gives, and its totals,
recent averages, projection and chart are sums over those same rows — a file without conversions
adds nothing to a CPA goal. `GoalProgress.coverage` is the share of the scope's rows the value rests
on and `based_on` says which part ("based on 1 of 2 files") when it is not all of them. A money goal
(spend, revenue, CPA, ROAS, …) whose scope mixes currencies is not measured: its status is `no_data`
with a note naming the currencies and the fix (set the files' currencies or convert with rates).

"Today" is the last day of data in scope (never the wall clock: exports describe the
past), capped at the deadline. Status rule (`status_for`, tolerance 10 %):

- no data in scope and period → `no_data`;
- the deadline is covered by the data → `achieved` if the final value meets the target,
  else `missed`;
- a cumulative goal on an additive measure that already passed its target (higher is
  better) → `achieved`; one that already went over its ceiling (lower is better) → `missed`;
- a stock (followers) that already meets its target → `achieved`, with no pace needed (a
  followers goal of 60,000 on an account of 81,725 is reached, not "on track" with a
  downward pace);
- otherwise compare the projection (or the current value when there is no trend) with
  the target: higher is better → projection ≥ target is `on_track`, ≥ target − 10 % of
  |target| is `at_risk`, else `off_track`. Lower is better (CPA, CPC, unfollows, …) is
  the mirror image: ≤ target on track, ≤ target + 10 % of |target| at risk, else off track.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

import polars as pl

from metrics import currency as money
from metrics import display, kpis
from metrics.bounded import GOALS_LIMITS, BoundedJsonError
from metrics.schema import COLUMN_BY_NAME, MEASURES

Scope = Literal["all", "platform", "campaign"]
GoalDirection = Literal["auto", "higher", "lower"]
MetricKind = Literal["cumulative", "level", "rate"]
Status = Literal["on_track", "at_risk", "off_track", "achieved", "missed", "no_data"]

TargetMode = Literal["absolute", "relative"]
Recurrence = Literal["none", "monthly"]

SCOPES: tuple[Scope, ...] = ("all", "platform", "campaign")
TARGET_MODES: tuple[TargetMode, ...] = ("absolute", "relative")
RECURRENCES: tuple[Recurrence, ...] = ("none", "monthly")
DIRECTIONS: tuple[GoalDirection, ...] = ("auto", "higher", "lower")
RECENT_DAYS = 14
AT_RISK_TOLERANCE = 0.10
STATUS_LABELS: dict[str, str] = {
    "on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "achieved": "Achieved",
    "missed": "Missed", "no_data": "No data",
}
# KPIs that are the sum of their measures (they add up over days like a measure).
ADDITIVE_KPIS = ("net_follower_growth", "weighted_engagement")
# A rate KPI = factor × numerator / denominator, for the "rate needed over the remaining days".
RATE_PARTS: dict[str, tuple[str, str, float]] = {
    "ctr": ("clicks", "impressions", 1.0), "link_ctr": ("link_clicks", "impressions", 1.0),
    "cpc": ("spend", "clicks", 1.0), "cpm": ("spend", "impressions", 1000.0),
    "cpa": ("spend", "conversions", 1.0), "cpl": ("spend", "leads", 1.0), "cvr": ("conversions", "clicks", 1.0),
    "roas": ("revenue", "spend", 1.0), "aov": ("revenue", "conversions", 1.0),
    "frequency": ("impressions", "reach", 1.0), "engagement_rate": ("engagements", "reach", 1.0),
    "er_impressions": ("engagements", "impressions", 1.0),
    "cost_per_engagement": ("spend", "engagements", 1.0), "video_view_rate": ("video_views", "impressions", 1.0),
    "avg_first_response_min": ("response_minutes", "messages_answered", 1.0),
}
# Measures where less is better by default.
LOWER_IS_BETTER_MEASURES = ("unfollows",)


class GoalError(ValueError):
    """A goal (or a goals file) that cannot be read; the message is one plain sentence."""


def goal_metrics() -> tuple[str, ...]:
    """Every metric a goal can track: the measures of SPEC §2 and the KPIs of §4 (not the shares)."""
    return tuple(MEASURES) + tuple(kpis.KPI_BY_NAME)


def metric_label(metric: str) -> str:
    return display.label(metric)


def metric_kind(metric: str) -> MetricKind:
    if metric in MEASURES:
        return "level" if COLUMN_BY_NAME[metric].aggregation == "stock" else "cumulative"
    if metric in ADDITIVE_KPIS:
        return "cumulative"
    return "rate"


def default_direction(metric: str) -> Literal["higher", "lower"]:
    if metric in kpis.KPI_BY_NAME:
        return "lower" if kpis.KPI_BY_NAME[metric].direction == "lower" else "higher"
    return "lower" if metric in LOWER_IS_BETTER_MEASURES else "higher"


def _parse_date(value: object, what: str, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise GoalError(f"{label} has a {what} that is not a date like 2026-12-31.") from None


@dataclass(frozen=True)
class Goal:
    metric: str
    target: float
    deadline: date
    scope: Scope = "all"
    scope_value: str | None = None
    start: date | None = None
    name: str = ""
    direction: GoalDirection = "auto"
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    target_mode: TargetMode = "absolute"
    recurrence: Recurrence = "none"

    @property
    def lower_is_better(self) -> bool:
        return (default_direction(self.metric) if self.direction == "auto" else self.direction) == "lower"

    @property
    def kind(self) -> MetricKind:
        return metric_kind(self.metric)

    @property
    def relative(self) -> bool:
        return self.target_mode == "relative"

    @property
    def title(self) -> str:
        """The goal's name, or a generated one ("Conversions ≥ 5,000 by 31 Dec 2026", "Followers +30 % by
        31 Jan 2027", "Leads ≥ 50 every month")."""
        if self.name.strip():
            return self.name.strip()
        return f"{metric_label(self.metric)} {self.target_text()}"

    def target_text(self, currency: str | None = None) -> str:
        """The target as a person says it: '≥ 5,000 by 31 Dec 2026', '+30 % by 31 Jan 2027',
        '≥ 50 every month until Dec 2026'."""
        sign = "≤" if self.lower_is_better else "≥"
        if self.relative:
            wanted = f"{display.format_change(self.target)} from {display.format_date(self.start)}"
        else:
            wanted = f"{sign} {display.format_metric(self.metric, self.target, currency)}"
        if self.recurrence == "monthly":
            return f"{wanted} every month until {display.format_bucket(self.deadline, 'month')}"
        return f"{wanted} by {display.format_date(self.deadline)}"

    @property
    def scope_text(self) -> str:
        """'All data', 'Platform: Google Ads', 'Campaign: Spring Sale'."""
        if self.scope == "all" or not self.scope_value:
            return "All data"
        shown = display.platform_label(self.scope_value) if self.scope == "platform" else self.scope_value
        return f"{display.label(self.scope)}: {shown}"

    def filters(self) -> dict[str, list[str]]:
        if self.scope == "all" or not self.scope_value:
            return {}
        return {self.scope: [self.scope_value]}

    def to_dict(self) -> dict:
        """Plain JSON-able dict (dates as ISO strings)."""
        return {
            "id": self.id, "name": self.name, "metric": self.metric, "target": self.target,
            "deadline": self.deadline.isoformat(), "start": self.start.isoformat() if self.start else None,
            "scope": self.scope, "scope_value": self.scope_value, "direction": self.direction,
            "target_mode": self.target_mode, "recurrence": self.recurrence,
        }

    @classmethod
    def from_dict(cls, raw: Mapping, label: str = "The goal") -> Goal:
        """Validate a goal dict (as saved, exported or typed). Raises GoalError with one sentence."""
        if not isinstance(raw, Mapping):
            raise GoalError(f"{label} is not a set of fields such as metric, target and deadline.")
        metric = raw.get("metric")
        if metric not in goal_metrics():
            raise GoalError(f"{label} tracks an unknown metric {str(metric)[:40]!r}.")
        target = raw.get("target")
        try:
            target = float(target)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise GoalError(f"{label} has no numeric target.") from None
        if not math.isfinite(target) or isinstance(raw.get("target"), bool):
            raise GoalError(f"{label} has no numeric target.")
        if raw.get("deadline") in (None, ""):
            raise GoalError(f"{label} has no deadline.")
        deadline = _parse_date(raw.get("deadline"), "deadline", label)
        start = None if raw.get("start") in (None, "") else _parse_date(raw.get("start"), "start date", label)
        if start is not None and start > deadline:
            raise GoalError(f"{label} starts after its deadline.")
        scope = raw.get("scope") or "all"
        if scope not in SCOPES:
            raise GoalError(f"{label} has a scope other than all, platform or campaign.")
        scope_value = raw.get("scope_value")
        scope_value = None if scope_value in (None, "") else str(scope_value)
        if scope != "all" and scope_value is None:
            raise GoalError(f"{label} is scoped to a {scope} but does not say which one.")
        direction = raw.get("direction") or "auto"
        if direction not in DIRECTIONS:
            raise GoalError(f"{label} has a direction other than auto, higher or lower.")
        target_mode = raw.get("target_mode") or "absolute"
        if target_mode not in TARGET_MODES:
            raise GoalError(f"{label} has a target that is neither absolute nor relative.")
        recurrence = raw.get("recurrence") or "none"
        if recurrence not in RECURRENCES:
            raise GoalError(f"{label} repeats other than monthly or not at all.")
        if target_mode == "relative" and start is None:
            raise GoalError(f"{label} has a relative target but no start date to measure the change from.")
        if target_mode == "relative" and target <= -1:
            raise GoalError(f"{label} asks for a change of -100 % or less, which no metric can reach.")
        if target_mode == "relative" and recurrence == "monthly":
            raise GoalError(f"{label} repeats monthly; give it an absolute target (such as 50 leads a month).")
        name = raw.get("name")
        goal_id = raw.get("id")
        return cls(
            metric=str(metric), target=target, deadline=deadline, scope=scope,
            scope_value=scope_value if scope != "all" else None, start=start,
            name="" if name is None else str(name)[:200], direction=direction,
            id=str(goal_id)[:64] if goal_id not in (None, "") else uuid.uuid4().hex[:10],
            target_mode=target_mode, recurrence=recurrence,
        )


# --- JSON import / export -----------------------------------------------------------------


def dump_goals(goals: Sequence[Mapping]) -> str:
    """The goals as a JSON document (a list of goal dicts), for download."""
    return json.dumps([Goal.from_dict(g).to_dict() for g in goals], indent=2, ensure_ascii=False)


def parse_goals(text: bytes | str) -> list[dict]:
    """Goals from a JSON document: a list of goal dicts or {"goals": [...]}.

    Returns validated plain dicts. Raises GoalError (one plain sentence) on anything
    that cannot be read; nothing is imported partially.
    """
    try:
        document = GOALS_LIMITS.load(text, what="This goals file")
    except BoundedJsonError as error:
        if error.reason in ("syntax", "encoding"):
            raise GoalError("This file is not valid JSON; export goals from the Goals page and import that file.") \
                from None
        raise GoalError(str(error)) from None
    if isinstance(document, Mapping) and "goals" in document:
        document = document["goals"]
    if not isinstance(document, list):
        raise GoalError("This JSON file does not contain a list of goals.")
    return [Goal.from_dict(raw, label=f"Goal {index}").to_dict() for index, raw in enumerate(document, start=1)]


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalProgress:
    """Where a goal stands. Values are in the metric's unit (rates as fractions).

    - `current`: value so far (see the module docstring for each kind);
    - `projection`: expected value at the deadline from the recent trend (null without one);
    - `progress`: fraction 0..1 of the way to the target (for lower-is-better, target / current,
      1 when within the target);
    - `pace_needed`: per day still needed (cumulative, level) or the rate the remaining days
      must average (rate); null when the deadline is reached or it cannot be computed;
    - `pace_recent`: recent average per day (cumulative), slope per day (level) or the
      KPI over the last 14 days (rate);
    - `as_of`: the last day of data counted; `start`: the first day counted;
    - `target`: the value to reach (the goal's own target, or for a relative goal its base ×
      (1 + change)); `base`: the value a relative goal grows from; `note`: why a goal has no
      status, in one sentence, when the data alone does not say it;
    - `currency`: the ISO code of the scope's money (null when unknown or there is none);
    - `coverage`: for a KPI, the share of the scope's rows it is based on (1.0 = all of them);
      `based_on`: that in words when below 1 ("based on 1 of 2 files").
    """

    goal: Goal
    status: Status
    current: float | None = None
    projection: float | None = None
    progress: float | None = None
    pace_needed: float | None = None
    pace_recent: float | None = None
    as_of: date | None = None
    start: date | None = None
    days_left: int | None = None
    target: float | None = None
    base: float | None = None
    note: str | None = None
    currency: str | None = None
    coverage: float | None = None
    based_on: str | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def _finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def meets_target(value: float, target: float, lower_is_better: bool) -> bool:
    return value <= target if lower_is_better else value >= target


def status_for(
    *,
    current: float | None,
    projection: float | None,
    target: float,
    lower_is_better: bool,
    days_left: int,
    settled_when_passed: bool = False,
    tolerance: float = AT_RISK_TOLERANCE,
) -> Status:
    """The status rule of the module docstring. `settled_when_passed` marks an additive
    cumulative goal, whose total can only grow: passing the target settles it early."""
    if current is None:
        return "no_data"
    if days_left <= 0:
        return "achieved" if meets_target(current, target, lower_is_better) else "missed"
    if settled_when_passed:
        if not lower_is_better and current >= target:
            return "achieved"
        if lower_is_better and current > target:
            return "missed"
    value = projection if projection is not None else current
    slack = tolerance * abs(target)
    if lower_is_better:
        if value <= target:
            return "on_track"
        return "at_risk" if value <= target + slack else "off_track"
    if value >= target:
        return "on_track"
    return "at_risk" if value >= target - slack else "off_track"


def progress_fraction(current: float | None, target: float, lower_is_better: bool) -> float | None:
    if current is None:
        return None
    if lower_is_better:
        if current <= target:
            return 1.0
        return min(max(target / current, 0.0), 1.0) if current > 0 else 0.0
    if target > 0:
        return min(max(current / target, 0.0), 1.0)
    return 1.0 if current >= target else 0.0


def _slope_per_day(points: pl.DataFrame, column: str) -> float | None:
    """Least-squares slope of `column` against the day number; null with fewer than two days."""
    usable = points.filter(pl.col(column).is_not_null())
    if usable.height < 2:
        return None
    x = [(d - usable["date"][0]).days for d in usable["date"]]
    y = usable[column].to_list()
    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
    var_x = sum((xi - mean_x) ** 2 for xi in x)
    if var_x == 0:
        return None
    return sum((xi - mean_x) * (yi - mean_y) for xi, yi in zip(x, y)) / var_x


def _kpi_of(totals: Mapping[str, float | None], metric: str, extra_costs: float, weights) -> float | None:
    """A KPI from a dict of measure totals (the same formula `summarize` uses)."""
    frame = pl.DataFrame({name: [totals.get(name)] for name in MEASURES}, schema={m: pl.Float64 for m in MEASURES})
    expr = kpis.KPI_BY_NAME[metric].expr(pl.col, extra_costs=extra_costs, weights=weights)
    return _finite(frame.select(expr).item())


@dataclass(frozen=True)
class _Window:
    daily: pl.DataFrame  # summarize(grain="day") of the measured rows in scope, from start to as_of
    totals: dict  # summarize totals of the measured rows over [start, as_of]
    start: date
    as_of: date
    recent_from: date
    coverage: float | None  # the metric's coverage over all the scope's rows (KPIs only)
    currency: str | None  # the money currency of all the scope's rows

    @property
    def recent_days(self) -> int:
        return (self.as_of - self.recent_from).days + 1

    def recent(self) -> pl.DataFrame:
        return self.daily.filter(pl.col("date") >= self.recent_from)


def _measured_rows(metric: str, frame, weights) -> pl.LazyFrame:
    """The rows a goal on `metric` adds up: for a KPI those reporting every measure it needs (its
    numerator and denominator come from the same rows), for a measure all of them."""
    found = kpis.KPI_BY_NAME.get(metric)
    needs = found.measures(weights=weights)[0] if found is not None else ()
    return kpis.rows_reporting(frame, needs)


def mixed_money_note(goal: Goal, frame: pl.DataFrame | pl.LazyFrame) -> str | None:
    """Why a money goal cannot be measured when its scope's money is in several currencies (an unknown
    one counts as its own, SPEC §4), in one sentence; None when it can."""
    if not kpis.is_money(goal.metric):
        return None
    scoped = kpis.apply_filters(frame.lazy(), date_from=goal.start, date_to=goal.deadline,
                                filters=goal.filters() or None)
    mix = money.money_currencies(scoped)
    if mix.get_column("currency").n_unique() < 2:
        return None
    return (f"{metric_label(goal.metric)} cannot be measured for this goal: the money in its scope is in more than "
            f"one currency — {money.describe_mix(mix)} — and amounts in different currencies are never added up. "
            "Set each file's currency, or convert to one reporting currency with rates, on the Data page.")


def _window(goal: Goal, frame, as_of: date | None, extra_costs: float, weights) -> _Window | None:
    options = dict(filters=goal.filters() or None, extra_costs=extra_costs, weights=weights)
    measured = _measured_rows(goal.metric, frame, weights)
    daily = kpis.summarize(measured, (), grain="day", date_from=goal.start, date_to=goal.deadline, **options)
    daily = daily.filter(pl.col("date").is_not_null())
    if daily.is_empty():
        return None
    last = daily["date"].max()
    as_of = min(as_of or last, goal.deadline)
    start = goal.start or daily["date"].min()
    daily = daily.filter(pl.col("date") <= as_of)
    if daily.is_empty() or as_of < start:
        return None
    totals = kpis.summarize(measured, (), date_from=start, date_to=as_of, **options).row(0, named=True)
    # Coverage and currency describe all the scope's rows, not only the measured ones.
    overall = kpis.summarize(frame, (), date_from=start, date_to=as_of, **options).row(0, named=True)
    recent_from = max(start, as_of - timedelta(days=RECENT_DAYS - 1))
    return _Window(daily=daily, totals=totals, start=start, as_of=as_of, recent_from=recent_from,
                   coverage=overall.get(kpis.coverage_name(goal.metric)), currency=overall.get("currency"))


def _based_on(goal: Goal, window: _Window, frame, extra_costs: float, weights) -> str | None:
    """'based on 1 of 2 files' (or platforms, or a share of the rows) when the goal's KPI rests on part of
    its scope's rows; None when on all of them."""
    if window.coverage is None or window.coverage >= 1:
        return None
    columns = frame.lazy().collect_schema().names()
    options = dict(date_from=window.start, date_to=window.as_of, filters=goal.filters() or None,
                   extra_costs=extra_costs, weights=weights)
    breakdowns = [(key, noun, kpis.summarize(frame, (key,), **options))
                  for key, noun in (("source_file", "files"), ("platform", "platforms")) if key in columns]
    return kpis.coverage_basis(goal.metric, window.coverage, breakdowns)


def evaluate(
    goal: Goal | Mapping,
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    as_of: date | None = None,
    extra_costs: float = 0.0,
    weights: Mapping[str, float] | None = None,
) -> GoalProgress:
    """Progress, projection, pace and status of one goal on a canonical frame.

    `as_of` defaults to the last day of data in the goal's scope (capped at the deadline).
    Never raises for missing data: it returns status `no_data`.
    """
    goal = goal if isinstance(goal, Goal) else Goal.from_dict(goal)
    if refused := mixed_money_note(goal, frame):
        return GoalProgress(goal=goal, status="no_data", target=goal.target, note=refused, currency=kpis.MIXED)
    if goal.recurrence == "monthly":
        months = monthly_progress(goal, frame, as_of=as_of, extra_costs=extra_costs, weights=weights)
        if not months:
            return GoalProgress(goal=goal, status="no_data", target=goal.target)
        return months[-1].progress  # the running month (or the last one judged)
    target, base = goal.target, None
    if goal.relative:
        base = relative_base(goal, frame, extra_costs=extra_costs, weights=weights)
        if not base:
            return GoalProgress(goal=goal, status="no_data", note=(
                f"There is no {metric_label(goal.metric).lower()} to grow from on or before "
                f"{display.format_date(goal.start)} in this scope, so a relative target cannot be measured."))
        target = base * (1 + goal.target)
    window = _window(goal, frame, as_of, extra_costs, weights)
    if window is None:
        return GoalProgress(goal=goal, status="no_data", days_left=None, target=target, base=base)
    metric, lower = goal.metric, goal.lower_is_better
    days_left = max((goal.deadline - window.as_of).days, 0)
    current = _finite(window.totals.get(metric))
    projection = pace_needed = pace_recent = None
    recent = window.recent()

    if current is not None and goal.kind == "cumulative":
        pace_recent = _finite(recent[metric].fill_null(0).sum()) / window.recent_days
        projection = current + pace_recent * days_left
        # Per day still needed (higher is better) or still allowed (a ceiling); never below 0.
        pace_needed = max((target - current) / days_left, 0.0) if days_left else None
    elif current is not None and goal.kind == "level":
        pace_recent = _slope_per_day(recent.select("date", metric), metric)
        projection = current + pace_recent * days_left if pace_recent is not None else None
        pace_needed = (target - current) / days_left if days_left else None
        if pace_needed is not None and not lower:
            pace_needed = max(pace_needed, 0.0)
    elif current is not None:  # rate
        recent_totals = {m: _finite(recent[m].sum()) if recent[m].null_count() < recent.height else None
                         for m in MEASURES}
        pace_recent = _kpi_of(recent_totals | {"followers": window.totals.get("followers")}, metric,
                              extra_costs, weights)
        projected = {}
        for name in MEASURES:
            total = _finite(window.totals.get(name))
            if name == "followers" or total is None:
                projected[name] = total
            else:
                projected[name] = total + (recent_totals[name] or 0.0) / window.recent_days * days_left
        projection = _kpi_of(projected, metric, extra_costs, weights) if days_left else current
        pace_needed = _rate_needed(metric, target, window, recent_totals, days_left)

    status = status_for(
        current=current, projection=projection, target=target, lower_is_better=lower, days_left=days_left,
        settled_when_passed=goal.kind == "cumulative" and metric in MEASURES,
    )
    if goal.kind == "level" and current is not None and meets_target(current, target, lower):
        # A stock that is already where the goal wants it: reached, nothing more is needed.
        status, pace_needed = "achieved", None
    return GoalProgress(
        goal=goal, status=status, current=current, projection=projection,
        progress=progress_fraction(current, target, lower), pace_needed=pace_needed, pace_recent=pace_recent,
        as_of=window.as_of, start=window.start, days_left=days_left, target=target, base=base,
        currency=window.currency, coverage=window.coverage,
        based_on=_based_on(goal, window, frame, extra_costs, weights),
    )


def relative_base(
    goal: Goal, frame: pl.DataFrame | pl.LazyFrame, *, extra_costs: float = 0.0,
    weights: Mapping[str, float] | None = None,
) -> float | None:
    """The value a relative goal grows from (module docstring): the stock on the start date, or the
    metric over the period of the goal's length just before the start. None without data (or 0)."""
    if goal.start is None:
        return None
    options = dict(filters=goal.filters() or None, extra_costs=extra_costs, weights=weights)
    if goal.kind == "level":
        value = kpis.summarize(frame, (), date_to=goal.start, **options).row(0, named=True).get(goal.metric)
    else:
        length = goal.deadline - goal.start + timedelta(days=1)
        value = kpis.summarize(frame, (), date_from=goal.start - length, date_to=goal.start - timedelta(days=1),
                               **options).row(0, named=True).get(goal.metric)
    value = _finite(value)
    return value if value else None


def current_value(
    metric: str, frame: pl.DataFrame | pl.LazyFrame, *, scope: Scope = "all", scope_value: str | None = None,
    days: int = 30, extra_costs: float = 0.0, weights: Mapping[str, float] | None = None,
) -> tuple[float | None, date | None, date | None]:
    """Where a metric stands now, for someone about to set a goal on it: (value, first day, last day).

    A stock is its level on the last day of data; anything else is its value over the last `days`
    days of data in scope. (None, None, None) without data.
    """
    filters = {scope: [scope_value]} if scope != "all" and scope_value else None
    dates = kpis.summarize(frame, (), grain="day", filters=filters).get_column("date").drop_nulls()
    if dates.is_empty():
        return None, None, None
    last = dates.max()
    first = dates.min() if metric_kind(metric) == "level" else max(dates.min(), last - timedelta(days=days - 1))
    row = kpis.summarize(frame, (), date_from=first, date_to=last, filters=filters, extra_costs=extra_costs,
                         weights=weights).row(0, named=True)
    return _finite(row.get(metric)), first, last


@dataclass(frozen=True)
class MonthResult:
    """One month of a monthly goal: its first day and how it went (`progress.target` is the month's)."""

    month: date
    progress: GoalProgress


def monthly_progress(
    goal: Goal, frame: pl.DataFrame | pl.LazyFrame, *, as_of: date | None = None, extra_costs: float = 0.0,
    weights: Mapping[str, float] | None = None,
) -> list[MonthResult]:
    """Each month of a monthly goal judged on its own, oldest first: from the start's month (or the first
    month with data in scope) to the deadline's month, up to the last day of data. A month the data
    covers to its end is achieved or missed; the running month has a projection to its end. Empty
    when there is no data, or for a money goal whose scope mixes currencies (`evaluate` says why)."""
    if mixed_money_note(goal, frame):
        return []
    options = dict(filters=goal.filters() or None, extra_costs=extra_costs, weights=weights)
    dates = kpis.summarize(frame, (), grain="day", date_from=goal.start, date_to=goal.deadline,
                           **options).get_column("date").drop_nulls()
    if dates.is_empty():
        return []
    last = min(as_of or dates.max(), goal.deadline)
    month = (goal.start or dates.min()).replace(day=1)
    results = []
    while month <= last:
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        one_month = Goal(metric=goal.metric, target=goal.target, deadline=min(month_end, goal.deadline),
                         scope=goal.scope, scope_value=goal.scope_value,
                         start=max(month, goal.start) if goal.start else month, direction=goal.direction,
                         name=goal.name, id=goal.id)
        progress = evaluate(one_month, frame, as_of=min(last, month_end), extra_costs=extra_costs,
                            weights=weights)
        results.append(MonthResult(month=month, progress=replace(progress, goal=goal)))
        month = month_end + timedelta(days=1)
    return results


def _rate_needed(metric: str, target: float, window: _Window, recent_totals: Mapping, days_left: int) -> float | None:
    """The KPI the remaining days must average so the whole period lands on the target.

    KPI = f × N / D over the period; with the remaining denominator D_rem projected from
    the recent daily average: needed = (target × (D + D_rem) − f × N) / D_rem.
    """
    if metric not in RATE_PARTS or not days_left:
        return None
    numerator, denominator, factor = RATE_PARTS[metric]
    n, d = _finite(window.totals.get(numerator)), _finite(window.totals.get(denominator))
    recent_d = recent_totals.get(denominator)
    if n is None or d is None or not recent_d:
        return None
    d_rem = recent_d / window.recent_days * days_left
    if d_rem <= 0:
        return None
    return (target * (d + d_rem) - factor * n) / d_rem


def timeline(
    progress: GoalProgress,
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    extra_costs: float = 0.0,
    weights: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Points for the goal chart: `date`, `series` ("Actual", "Needed pace", "Projection"), `value`.

    Actual is the cumulative total (cumulative goals), the daily level (followers) or the
    period-to-date KPI (rates), one point per day of data; the needed pace runs from the
    start to the target at the deadline; the projection from the last day to the deadline.
    At most a few hundred points.
    """
    schema = {"date": pl.Date, "series": pl.String, "value": pl.Float64}
    goal = progress.goal
    if progress.status == "no_data" or progress.start is None or progress.as_of is None:
        return pl.DataFrame(schema=schema)
    if goal.recurrence == "monthly":  # the running month's own timeline
        goal = replace(goal, recurrence="none", start=progress.start,
                       deadline=min(goal.deadline, (progress.start + timedelta(days=32)).replace(day=1)
                                    - timedelta(days=1)))
    target = progress.target if progress.target is not None else goal.target
    window = _window(goal, frame, progress.as_of, extra_costs, weights)
    if window is None:
        return pl.DataFrame(schema=schema)
    daily = window.daily.sort("date")
    metric = goal.metric
    if goal.kind == "cumulative":
        actual = daily.select("date", pl.col(metric).fill_null(0).cum_sum().alias("value"))
        needed_from = 0.0
    elif goal.kind == "level":
        actual = daily.select("date", pl.col(metric).alias("value")).drop_nulls()
        needed_from = actual["value"][0] if actual.height else 0.0
    else:
        sums = daily.select(
            "date", *[pl.col(m).cum_sum() if m != "followers" else pl.col(m) for m in MEASURES]
        )
        expr = kpis.KPI_BY_NAME[metric].expr(pl.col, extra_costs=extra_costs, weights=weights)
        actual = sums.select("date", expr.alias("value"))
        needed_from = target
    actual = actual.with_columns(pl.lit("Actual").alias("series")).select("date", "series", "value")
    parts = [actual.cast(schema)]
    # Needed pace: the straight line that reaches the target on the deadline — unless the start already
    # meets it (a line running the wrong way would read as a pace to follow).
    if goal.kind == "rate" or not meets_target(needed_from, target, goal.lower_is_better):
        parts.append(pl.DataFrame(
            {"date": [window.start, goal.deadline], "series": ["Needed pace"] * 2, "value": [needed_from, target]},
            schema=schema,
        ))
    if progress.projection is not None and progress.current is not None and goal.deadline > window.as_of:
        parts.append(pl.DataFrame(
            {"date": [window.as_of, goal.deadline], "series": ["Projection"] * 2,
             "value": [progress.current, progress.projection]},
            schema=schema,
        ))
    return pl.concat(parts, how="vertical")


def progress_table(results: Sequence[GoalProgress]) -> pl.DataFrame:
    """One row per goal for the status table and its export (raw numbers; rates as fractions)."""
    schema = {
        "goal": pl.String, "metric": pl.String, "scope": pl.String, "direction": pl.String, "target": pl.Float64,
        "base": pl.Float64,
        "current": pl.Float64, "progress": pl.Float64, "projection": pl.Float64, "pace_needed": pl.Float64,
        "pace_recent": pl.Float64, "start": pl.Date, "as_of": pl.Date, "deadline": pl.Date, "days_left": pl.Int64,
        "status": pl.String, "currency": pl.String, "coverage": pl.Float64, "based_on": pl.String, "note": pl.String,
    }
    rows = []
    for result in results:
        goal = result.goal
        rows.append({
            "goal": goal.title, "metric": goal.metric, "base": result.base,
            "scope": goal.scope_text,
            "direction": "lower is better" if goal.lower_is_better else "higher is better",
            "target": result.target if result.target is not None else goal.target,
            "current": result.current, "progress": result.progress,
            "projection": result.projection, "pace_needed": result.pace_needed, "pace_recent": result.pace_recent,
            "start": result.start, "as_of": result.as_of, "deadline": goal.deadline, "days_left": result.days_left,
            "status": result.status_label, "currency": result.currency, "coverage": result.coverage,
            "based_on": result.based_on, "note": result.note,
        })
    return pl.DataFrame(rows, schema=schema)
