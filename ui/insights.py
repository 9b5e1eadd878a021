"""The Insights engine (`metrics.insights`) for the pages: the annotations and budgets in force for the data
shown, and the engine's results, cached and bounded.

- A snapshot (opened by the editor or shared with a client) brings the annotations and budgets it was saved
  with (`Dataset.annotations` / `Dataset.budgets`): a shared report never changes. Live data (the workspace's
  sources, the demo) shows the editor's workspace's own, read from the database on each run.
- Every engine call is cached by content: the dataset's content key plus the filters and options as plain
  values (the frame itself is passed unhashed as `_frame`), `max_entries` and `ttl` bound what is kept.
  Drivers and pacing read the rows with the Data page's currency settings applied (`ui.data.report_frame`);
  anomalies and forecasts read their daily rollup (daily totals are all they use).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl
import streamlit as st

from metrics.insights.annotations import Annotation
from metrics.insights.anomalies import DEFAULT_METRICS as ANOMALY_METRICS
from metrics.insights.anomalies import AnomalyScan, Sensitivity, scan_anomalies
from metrics.insights.drivers import DECOMPOSABLE_KPIS, KpiChange, explain_changes, explainable_kpis
from metrics.insights.forecast import DEFAULT_METRICS as FORECAST_METRICS
from metrics.insights.forecast import Forecast, PeriodSpan, forecast_period, period_in_progress
from metrics.insights.pacing import Budget, Pacing, pace_budgets
from metrics.insights.tables import forecast_sentence
from metrics.report_settings import ReportFilters, ReportSettings
from models import repository
from models.tables import AnnotationRecord, BudgetRecord
from ui import data, insight_charts
from ui.persistence import session_scope
from ui.state import WORKSPACE, Dataset, current_viewer

_LOGGER = logging.getLogger(__name__)
# Cost KPIs in the order the Overview picks the one to explain under its headline.
HEADLINE_COST_KPIS = ("cpa", "cpl", "cpc")


@dataclass(frozen=True)
class Notes:
    """The annotations and budgets in force for the data shown. `saved`: a snapshot's own, as it was saved
    (read-only); otherwise the editor's workspace's, with their stored records for editing."""

    annotations: tuple[Annotation, ...] = ()
    budgets: tuple[Budget, ...] = ()
    saved: bool = False
    annotation_records: tuple[AnnotationRecord, ...] = ()
    budget_records: tuple[BudgetRecord, ...] = ()


def notes_for(dataset: Dataset) -> Notes:
    """A snapshot's saved notes, else the editor's workspace's (none for anyone else). A database that does
    not answer gives no notes (logged): the charts still draw."""
    if dataset.annotations is not None or dataset.budgets is not None:
        return Notes(tuple(dataset.annotations or ()), tuple(dataset.budgets or ()), saved=True)
    workspace_id = st.session_state.get(WORKSPACE)
    if workspace_id is None or not current_viewer().is_editor:
        return Notes()
    try:
        with session_scope() as db:
            budgets = tuple(repository.list_budgets(session=db, workspace_id=workspace_id))
            annotations = tuple(repository.list_annotations(session=db, workspace_id=workspace_id))
    except Exception:
        _LOGGER.exception("The workspace's annotations and budgets could not be read")
        return Notes()
    return Notes(tuple(repository.annotation_of(r) for r in annotations), tuple(repository.budget_of(b) for b in budgets),
                 annotation_records=annotations, budget_records=budgets)


def with_notes(settings: ReportSettings, dataset: Dataset) -> ReportSettings:
    """The settings a snapshot of `dataset` is saved with: its annotations and budgets included."""
    notes = notes_for(dataset)
    return replace(settings, annotations=tuple(a.to_dict(iso_dates=True) for a in notes.annotations),
                   budgets=tuple(b.to_dict() for b in notes.budgets))


# --- the engine, cached ---------------------------------------------------------------------------------


def _comparison_key(flt: ReportFilters):
    compare = flt.comparison
    return tuple(compare) if isinstance(compare, (tuple, list)) else compare


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _explain(dataset_key: str, _frame: pl.DataFrame, date_from: date, date_to: date, compare, filters_json: str,
             kpi_names: tuple[str, ...]) -> tuple[KpiChange, ...]:
    names = explainable_kpis(_frame, kpi_names)
    if not names:
        return ()
    return explain_changes(_frame, date_from=date_from, date_to=date_to, compare=compare,
                           filters=json.loads(filters_json) or None, kpi_names=names)


def drivers(dataset: Dataset, flt: ReportFilters, kpi_names: Sequence[str] = DECOMPOSABLE_KPIS) -> tuple[KpiChange, ...]:
    """Why each KPI of `kpi_names` the data reports moved between the sidebar's period and its comparison;
    () without a period or a comparison."""
    if flt.date_from is None or flt.date_to is None or flt.comparison is None:
        return ()
    key, rows = data.report_frame(dataset)
    return _explain(key, rows, flt.date_from, flt.date_to, _comparison_key(flt), flt.filters_json(), tuple(kpi_names))


def headline_driver(dataset: Dataset, flt: ReportFilters) -> KpiChange | None:
    """The first cost KPI (CPA, then CPL, then CPC) whose change can be split into its factors."""
    return next((c for c in drivers(dataset, flt, HEADLINE_COST_KPIS) if c.total.explained), None)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _scan(dataset_key: str, _frame: pl.DataFrame, metrics: tuple[str, ...], sensitivity: str, judge_from: date,
          judge_to: date, filters_json: str) -> tuple[AnomalyScan, ...]:
    return scan_anomalies(_frame, metrics, sensitivity=sensitivity, judge_from=judge_from, judge_to=judge_to,
                          filters=json.loads(filters_json) or None)


def anomaly_scans(dataset: Dataset, flt: ReportFilters, metrics: Sequence[str] = ANOMALY_METRICS,
                  sensitivity: Sensitivity = "medium") -> tuple[AnomalyScan, ...]:
    """Each metric's days in the sidebar's period judged against their expected band (band learnt from up to
    half a year before); () without a period."""
    if flt.date_from is None or flt.date_to is None:
        return ()
    key, frame = data.dashboard_frame(dataset)
    return _scan(key, frame, tuple(metrics), sensitivity, flt.date_from, flt.date_to, flt.filters_json())


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def _forecast(dataset_key: str, _frame: pl.DataFrame, metrics: tuple[str, ...], start: date, end: date,
              filters_json: str) -> tuple[Forecast, ...]:
    return forecast_period(_frame, metrics, period_start=start, period_end=end,
                           filters=json.loads(filters_json) or None)


def last_day(dataset: Dataset, flt: ReportFilters) -> date | None:
    """The last day with data within the sidebar's platform and campaign filters."""
    key, frame = data.dashboard_frame(dataset)
    return _last_day(key, frame, flt.filters_json())


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _last_day(dataset_key: str, _frame: pl.DataFrame, filters_json: str) -> date | None:
    frame = _frame.lazy()
    for column, values in json.loads(filters_json).items():
        frame = frame.filter(pl.col(column).is_in(values))
    return frame.select(pl.col("date").max()).collect().item()


def forecasts(dataset: Dataset, flt: ReportFilters, span: PeriodSpan = "month",
              metrics: Sequence[str] = FORECAST_METRICS) -> tuple[Forecast, ...]:
    """Spend, conversions and revenue projected to the end of the month (or quarter) in progress: the one
    holding the first day after the data (`metrics.insights.forecast.period_in_progress`)."""
    end = last_day(dataset, flt)
    if end is None:
        return ()
    start, stop = period_in_progress(end, span)
    key, frame = data.dashboard_frame(dataset)
    return _forecast(key, frame, tuple(metrics), start, stop, flt.filters_json())


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def _pace(dataset_key: str, _frame: pl.DataFrame, budgets_json: str) -> tuple[Pacing, ...]:
    budgets = [Budget.from_dict(raw) for raw in json.loads(budgets_json)]
    return pace_budgets(_frame, budgets)


def pacing(dataset: Dataset, budgets: Sequence[Budget]) -> tuple[Pacing, ...]:
    """Every budget paced on the last day of the data (budgets have their own scope: the sidebar's platform
    and campaign filters do not apply)."""
    if not budgets:
        return ()
    key, rows = data.report_frame(dataset)
    return _pace(key, rows, json.dumps([b.to_dict() for b in budgets], sort_keys=True))


# --- overlays on trend charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendOverlays:
    """What a trend chart draws over its lines, and the sentences that say what it drew."""

    layers: tuple
    notes: tuple[str, ...] = ()


def trend_overlays(dataset: Dataset, flt: ReportFilters, metric: str, *, total: bool, grain: str, label: str,
                   kind: str, currency: str | None) -> TrendOverlays:
    """Annotations on any trend; on a daily total also the days outside the expected band and, for spend,
    conversions and revenue of a range that ends on the last day of data, the forecast to the end of the month
    in progress (drawn after the range)."""
    layers: list = []
    notes: list[str] = []
    shown_to = flt.date_to
    daily_total = total and grain == "day" and flt.date_from is not None and flt.date_to is not None
    if daily_total and metric in ANOMALY_METRICS:  # metrics whose values do not depend on the KPI settings
        with st.spinner("Checking each day against its expected band…"):
            scans = anomaly_scans(dataset, flt, (metric,))
        if scans and scans[0].reason is None and scans[0].anomalies:
            flagged = scans[0].anomalies
            layers += insight_charts.anomaly_layer(flagged, metric, label=label, kind=kind, currency=currency)
            notes.append(f"Red rings: {len(flagged)} day{'s' if len(flagged) != 1 else ''} outside the band "
                         "expected from the weekday pattern (the Insights page lists them).")
    if daily_total and metric in FORECAST_METRICS and flt.date_to == last_day(dataset, flt):
        with st.spinner("Forecasting to the end of the month…"):
            forecast = next((f for f in forecasts(dataset, flt, "month", (metric,)) if f.reason is None), None)
        drawn = insight_charts.forecast_layers(forecast, metric, label=label, kind=kind, currency=currency)
        if drawn:
            layers += drawn
            shown_to = forecast.period_end
            notes.append(f"Dashed: the forecast with its 80 % band. {forecast_sentence(forecast, currency=currency)}")
    if not daily_total and (metric in FORECAST_METRICS or metric in ANOMALY_METRICS):
        notes.append("Show the total by day to see days outside their expected band"
                     + (" and the forecast to the month end." if metric in FORECAST_METRICS else "."))
    layers += insight_charts.annotation_layers(notes_for(dataset).annotations, flt.date_from, shown_to)
    return TrendOverlays(tuple(layers), tuple(notes))


def goal_forecast(dataset: Dataset, progress) -> Forecast | None:
    """For a cumulative goal on spend, conversions or revenue with days left: the goal's total at its deadline
    (the running month's end for a monthly goal) forecast from the trend and weekday pattern of its scope, with
    an 80 % band. None for any other goal."""
    goal = progress.goal
    if goal.kind != "cumulative" or goal.metric not in FORECAST_METRICS or not progress.days_left \
            or progress.start is None or progress.as_of is None:
        return None
    end = progress.as_of + timedelta(days=progress.days_left)
    key, frame = data.dashboard_frame(dataset)
    found = _forecast(key, frame, (goal.metric,), progress.start, end, json.dumps(goal.filters(), sort_keys=True))
    return next((f for f in found if f.reason is None and f.projected is not None), None)
