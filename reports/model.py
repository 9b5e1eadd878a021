"""The client report as pure data: `build_report(frame, options, branding) -> Report`.

Every number is computed by `metrics.kpis.summarize` with the arguments the dashboard pages pass, and
every value is formatted by `metrics.display`, so the report says what the app says for the same data
and filters. The `Report` holds only text (already formatted), Vega-Lite chart specs and the branding;
`render_pdf` and `render_html` draw the same model, so the two files cannot disagree.

Text from uploads (campaign names, file names, the client's name) is kept as it is here; each renderer
writes it as text (escaped in HTML, drawn as glyphs in the PDF).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Literal

import polars as pl

from metrics import currency as currency_model
from metrics import funnel, narrative
from metrics import goals as goal_math
from metrics.abtest.kinds import KINDS
from metrics.currency import CurrencySettings
from metrics.display import (
    MISSING,
    OVERVIEW_TILES,
    describe,
    format_change,
    format_compact,
    format_date,
    format_metric,
    format_period,
    format_value,
    label,
    platform_label,
    text_column,
)
from metrics.errors import UsageError
from metrics.insights import tables
from metrics.insights.annotations import read_annotations, within
from metrics.insights.drivers import explain_changes, explainable_kpis
from metrics.insights.pacing import pace_budgets, read_budgets
from metrics.kpis import MIXED, apply_filters, coverage_basis, coverage_name, is_money, summarize
from metrics.rollup import daily_rollup
from metrics.schema import MEASURES
from metrics.trends import GRAINS, ComparePeriod, Comparison, Grain, comparison_range
from reports import charts
from reports.branding import Branding

COMPARISONS: tuple[Comparison, ...] = ("previous", "previous_year")
DEFAULT_TITLE = "Campaign report"
MAX_TEXT_CHARS = 200
# The Overview page's tiles, in its order: volume, then cost and results, then return and audience.
# Table columns in the order a marketer reads them; the first ones that hold a value are shown (a page has
# room for about eight numbers across).
PLATFORM_COLUMNS = ("spend", "impressions", "clicks", "conversions", "ctr", "cpa", "revenue", "roas", "cpc",
                    "cpm", "engagements", "engagement_rate", "reach")
CAMPAIGN_COLUMNS = ("spend", "impressions", "clicks", "ctr", "conversions", "cpa", "revenue", "roas",
                    "engagements", "engagement_rate")
FORMAT_COLUMNS = ("impressions", "engagements", "engagement_rate", "clicks", "ctr", "spend", "conversions", "cpa")
MAX_NUMBER_COLUMNS = 8
TOP_CAMPAIGNS_CHARTED = 10
NO_CAMPAIGN = "(no campaign)"
NO_PLATFORM = "Unknown"

Tone = Literal["good", "bad", "neutral"]


# --- inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """A file the data came from, as the cover's data note lists it."""

    name: str
    rows_loaded: int | None = None
    rows_rejected: int | None = None


@dataclass(frozen=True)
class ReportOptions:
    """What the report covers and how it is titled. Defaults match the dashboard's filter bar: the whole
    date range of the data, compared with the previous period of equal length, daily trend.

    - `platforms` are platform slugs (`metrics.schema.normalize_platform`), `campaigns` campaign names;
      empty means all.
    - `currency_settings`: files' currencies and a reporting currency with its rates, applied exactly as
      the app applies them (`metrics.currency.applicable` then `apply_settings`). Money is shown in the
      currency each group is in (`summarize`'s `currency`): one ISO code gets its symbol, an unknown one
      none, and money mixing currencies is left out with a note saying how to fix it.
    - `compare`: "previous", "previous_year", a custom (first day, last day) period, or None.
    - `goals`: goal dicts as the Goals page saves them; `ab_results`: dicts from `ab_entry`.
    - `notes`: sentences the caller adds to the report's notes (e.g. why a saved A/B test is not shown).
    - `annotations`, `budgets`: a snapshot's annotations and budgets as `ReportSettings` keeps them (the
      dicts of `metrics.insights`); the Insights section lists the period's annotations and paces the budgets.
    - `max_table_rows`: the campaign and content tables show at most this many rows (the most spend first)
      and say so; totals always cover every row.
    """

    title: str = DEFAULT_TITLE
    client: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    compare: ComparePeriod | None = "previous"
    platforms: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    grain: Grain = "day"
    currency_settings: CurrencySettings | None = None
    extra_costs: float = 0.0
    weights: Mapping[str, float] | None = None
    goals: tuple[Mapping[str, Any], ...] = ()
    ab_results: tuple[Mapping[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    annotations: tuple[Mapping[str, Any], ...] = ()
    budgets: tuple[Mapping[str, Any], ...] = ()
    sources: tuple[SourceFile, ...] = ()
    max_table_rows: int = 500
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise UsageError("The report needs a title; give one with --title or leave the default.")
        for what, text in (("title", self.title), ("client name", self.client or "")):
            if len(text) > MAX_TEXT_CHARS:
                raise UsageError(f"The {what} is longer than {MAX_TEXT_CHARS} characters; shorten it.")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise UsageError("The end date is before the start date; swap them.")
        if isinstance(self.compare, tuple):
            if not (len(self.compare) == 2 and all(isinstance(d, date) for d in self.compare)
                    and self.compare[0] <= self.compare[1]):
                raise UsageError("The comparison period needs a first and a last day, in that order.")
        elif self.compare is not None and self.compare not in COMPARISONS:
            raise UsageError(f"Cannot compare with {str(self.compare)[:30]!r}; use previous or previous_year.")
        if self.grain not in GRAINS:
            raise UsageError(f"The time grain {str(self.grain)[:30]!r} is not day, week or month.")
        if not (isinstance(self.extra_costs, (int, float)) and math.isfinite(self.extra_costs)
                and self.extra_costs >= 0):
            raise UsageError("Extra costs must be a number of zero or more.")
        if self.max_table_rows < 1:
            raise UsageError("A report table needs room for at least one row.")


# --- the model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """A KPI tile: the short value (`format_compact`), the exact one, and the change with its tone
    ("good" when the change is good news for this KPI's direction)."""

    name: str
    label: str
    value: str
    exact: str
    change: str | None = None
    tone: Tone = "neutral"
    previous: str | None = None
    # "based on 1 of 2 files" when the value comes from part of the data (coverage below 1).
    note: str | None = None


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = True


@dataclass(frozen=True)
class Table:
    """Formatted cells, one tuple per row; numeric columns are right-aligned by the renderers."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str | None = None


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite spec (JSON text) drawn as vector graphics: SVG in HTML, PDF vectors in the PDF."""

    title: str
    spec: str
    caption: str | None = None


@dataclass(frozen=True)
class Paragraph:
    text: str


Block = Table | Chart | Paragraph


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Cover:
    title: str
    client: str | None
    period: str
    comparison: str | None
    as_of: str
    scope: str
    generated: str


@dataclass(frozen=True)
class Report:
    cover: Cover
    headline: str
    tiles: tuple[Tile, ...]
    sections: tuple[Section, ...]
    notes: tuple[str, ...]
    branding: Branding = field(default_factory=Branding)
    currency: str | None = None


# --- building -----------------------------------------------------------------------------------------


def build_report(
    frame: pl.DataFrame | pl.LazyFrame, options: ReportOptions | None = None, branding: Branding | None = None,
) -> Report:
    """The report of a canonical frame for `options`, drawn with `branding` (the neutral default when None).

    Raises `UsageError` (one sentence) for options that cannot apply to this data; data with no rows in
    the selection gives a report that says so.
    """
    options = options or ReportOptions()
    branding = branding or Branding()
    raw = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    notes: list[str] = []
    if options.currency_settings is not None:
        settings = currency_model.applicable(raw, options.currency_settings)
        conversion = currency_model.apply_settings(raw, settings)
        raw = conversion.frame
        if settings.rates is not None:  # a reader must know the money is not in the files' own currencies
            notes.append(f"Money is shown in {settings.rates.reporting}, converted with "
                         f"{settings.rates.source or 'the rates given'}.")
        notes += [missing.message for missing in conversion.missing]
    first_day, last_day = _date_bounds(raw)
    date_from = options.date_from or first_day
    date_to = options.date_to or last_day
    # The pages group and filter only by date, platform and campaign: the daily rollup gives the same
    # results as the raw rows from far fewer rows (metrics.rollup).
    rolled = daily_rollup(raw)
    filters = {k: list(v) for k, v in (("platform", options.platforms), ("campaign", options.campaigns)) if v}
    common = dict(date_from=date_from, date_to=date_to, filters=filters or None, extra_costs=options.extra_costs,
                  weights=options.weights)
    compare = options.compare if date_from and date_to else None
    days = (date_to - date_from).days + 1 if date_from and date_to else None

    total = summarize(rolled, (), compare=compare, **common).row(0, named=True)
    by_platform = summarize(rolled, ("platform",), compare=compare, **common)
    # Money is shown in the currency it is in: one code gets its symbol, unknown or mixed money none.
    currency = total.get("currency") if total.get("currency") != MIXED else None
    headline = narrative.headline(total, by_platform, compare=compare, days=days, currency=currency)
    period_phrase = narrative.period_phrase(compare, days)
    cover = _cover(options, date_from, date_to, compare, last_day)
    if all(total.get(m) is None for m in MEASURES):
        notes.append("No rows match this report's dates and filters, so it has no figures; widen the date "
                     "range or clear the platform and campaign filters.")
        return Report(cover=cover, headline=headline, tiles=(), sections=(),
                      notes=(*notes, *_source_notes(options)), branding=branding, currency=currency)

    # A KPI based on part of the data says which part ("based on 1 of 2 files"), as the Overview does.
    breakdowns = [("source_file", "files", summarize(rolled, ("source_file",), **common)),
                  ("platform", "platforms", by_platform)]
    tiles = tuple(_tile(total, name, currency, compare is not None, breakdowns) for name in OVERVIEW_TILES
                  if total.get(name) is not None)
    # Money left out because it mixes currencies has its own note below; the rest was not reported.
    mixed = total.get("currency") == MIXED
    unreported = [label(n) for n in OVERVIEW_TILES if total.get(n) is None and not (mixed and is_money(n))]
    if unreported:
        notes.append(f"Not reported in this data, so not shown: {', '.join(unreported)}.")
    if compare and total.get("spend_prev") is None and total.get("impressions_prev") is None:
        notes.append(f"There is no data for {period_phrase} (it lies before the first date in the data), so no "
                     "changes are shown.")
    if total.get("currency") == MIXED:
        scoped = apply_filters(raw.lazy(), date_from=date_from, date_to=date_to, filters=filters or None)
        notes.append(f"Spend and revenue are in more than one currency: "
                     f"{currency_model.describe_mix(currency_model.money_currencies(scoped))}; money totals and "
                     "money KPIs are left out. Set each file's currency or convert into one reporting currency "
                     "(on the Data page, or with --file-currency or --currency and --rates), then make the report "
                     "again.")

    colour = branding.accent
    sections = [
        _trend_section(rolled, total, common, options.grain, currency, colour),
        _platform_section(rolled, by_platform, common, compare, currency),
        _campaign_section(rolled, raw, common, compare, currency, options.max_table_rows, colour),
        _funnel_section(rolled, total, common, colour),
    ]
    if options.goals:
        sections.append(_goal_section(options.goals, rolled, options, currency, notes))
    if options.ab_results:
        sections.append(_ab_section(options.ab_results, notes))
    sections.append(insights_section(raw, options, date_from=date_from, date_to=date_to, compare=compare,
                                     filters=filters or None, notes=notes))
    return Report(
        cover=cover, headline=headline, tiles=tiles, sections=tuple(s for s in sections if s.blocks),
        notes=(*notes, *_source_notes(options)), branding=branding, currency=currency,
    )


def _date_bounds(frame: pl.DataFrame) -> tuple[date | None, date | None]:
    if "date" not in frame.columns or frame.height == 0:
        return None, None
    dates = frame.get_column("date")
    return dates.min(), dates.max()


def _cover(options: ReportOptions, date_from: date | None, date_to: date | None, compare: ComparePeriod | None,
           last_day: date | None) -> Cover:
    comparison = None
    if compare and date_from and date_to:
        prev_from, prev_to = comparison_range(date_from, date_to, compare)
        comparison = format_period(prev_from, prev_to)
    scope = [", ".join(platform_label(p) for p in options.platforms) if options.platforms else "All platforms"]
    if options.campaigns:
        count = len(options.campaigns)
        scope.append(f"{count} campaign{'s' if count != 1 else ''}: {', '.join(options.campaigns)}")
    moment = (options.generated_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return Cover(
        title=options.title.strip(), client=(options.client or "").strip() or None,
        period=format_period(date_from, date_to) if date_from and date_to else "No dated rows",
        comparison=comparison, as_of=format_date(last_day), scope=" · ".join(scope),
        generated=f"{format_date(moment)}, {moment:%H:%M} UTC",
    )


def _tile(row: Mapping[str, Any], name: str, currency: str | None, comparing: bool,
          breakdowns: Sequence[tuple[str, str, pl.DataFrame]] = ()) -> Tile:
    shown = describe(name)
    change = format_change(row.get(f"{name}_delta_rel")) if comparing else None
    tone: Tone = "neutral"
    if change is not None and change != "0.0 %" and shown.direction != "neutral":
        rising = row[f"{name}_delta_rel"] > 0
        tone = "good" if rising == (shown.direction == "higher") else "bad"
    return Tile(
        name=name, label=shown.label, value=format_compact(row.get(name), shown.format, currency),
        exact=format_value(row.get(name), shown.format, currency), change=change, tone=tone,
        previous=format_value(row.get(f"{name}_prev"), shown.format, currency) if comparing else None,
        note=coverage_basis(name, row.get(coverage_name(name)), breakdowns),
    )


def _cell(name: str, value: Any, currency: str | None) -> str:
    if name.endswith("_delta_rel"):
        return format_change(value) or MISSING
    return format_metric(name, value, currency)


def _present(frame: pl.DataFrame, names: Sequence[str]) -> list[str]:
    return [n for n in names if n in frame.columns and frame.get_column(n).null_count() < frame.height]


def _number_columns(frame: pl.DataFrame, candidates: Sequence[str], compare: ComparePeriod | None) -> list[str]:
    """The first columns of `candidates` with a value, and the change of spend when comparing."""
    change = ["spend_delta_rel"] if compare and _present(frame, ["spend_delta_rel"]) else []
    return _present(frame, candidates)[: MAX_NUMBER_COLUMNS - len(change)] + change


def _table(title: str, frame: pl.DataFrame, key: str, key_label: str, names: Sequence[str], currency: str | None,
           note: str | None = None) -> Table:
    """Formatted rows; a row carrying its own `currency` (a summary by platform or campaign) shows its money in
    that currency, so a EUR campaign next to a USD one is never written with the wrong symbol."""
    columns = (Column(key_label, numeric=False), *(Column(label(n)) for n in names))
    rows = tuple(
        (str(row[key]), *(_cell(n, row[n], _row_currency(row, currency)) for n in names))
        for row in frame.iter_rows(named=True)
    )
    return Table(title=title, columns=columns, rows=rows, note=note)


def _row_currency(row: Mapping[str, Any], default: str | None) -> str | None:
    if "currency" not in row:
        return default
    return row["currency"] if row["currency"] != MIXED else None


def _by_spend(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    order = [c for c in ("spend", "impressions") if c in frame.columns]
    return frame.sort([*order, key], descending=[*[True] * len(order), False], nulls_last=True)


def _limited(frame: pl.DataFrame, limit: int, what: str) -> tuple[pl.DataFrame, str | None]:
    if frame.height <= limit:
        return frame, None
    return frame.head(limit), (f"Showing the {limit:,} {what} with the most spend of {frame.height:,}; the totals "
                               f"cover all of them.")


def _trend_section(rolled: pl.DataFrame, total: Mapping[str, Any], common: dict, grain: Grain,
                   currency: str | None, colour: str) -> Section:
    lead = next((m for m in ("spend", "impressions", "engagements") if total.get(m) is not None), None)
    blocks: list[Block] = []
    if lead is None:
        return Section("Trend", ())
    by_platform = summarize(rolled, ("platform",), grain=grain, **common)
    by_platform = by_platform.filter(pl.col(lead).is_not_null() & pl.col("date").is_not_null())
    unit = grain
    if by_platform.get_column("date").n_unique() < 2:
        advice = "" if grain == "day" else "; a shorter time grain may show one"
        return Section("Trend", (Paragraph(f"The data covers a single {unit}, so there is no trend to show"
                                           f"{advice}."),))
    blocks.append(Chart(f"{label(lead)} by platform", charts.trend(
        by_platform.select("date", "platform", lead), lead, currency=currency, grain=grain, by_platform=True,
        colour=colour), caption=f"{label(lead)} per {unit}, one line per platform."))
    if total.get("conversions") is not None:
        overall = summarize(rolled, (), grain=grain, **common).filter(pl.col("conversions").is_not_null())
        if overall.height > 1:
            blocks.append(Chart("Conversions", charts.trend(
                overall.select("date", "conversions"), "conversions", currency=currency, grain=grain,
                by_platform=False, colour=colour), caption=f"Conversions per {unit}, all platforms together."))
    return Section("Trend", tuple(blocks))


def _partly_based(rolled: pl.DataFrame, groups: pl.DataFrame, key: str, names: Sequence[str], common: dict,
                  shown_as=str) -> str | None:
    """'Based on part of the data: Facebook — Engagement rate (based on 1 of 2 files).' for the rows of `groups`
    (a summary by `key`) whose shown KPIs rest on part of their rows, as the Platforms page says it."""
    kpi_names = [n for n in names if coverage_name(n) in groups.columns]
    partial = groups.filter(pl.any_horizontal([pl.col(coverage_name(n)) < 1 for n in kpi_names])) \
        if kpi_names else groups.clear()
    if partial.is_empty() or "source_file" not in rolled.columns:
        return None
    per_file = summarize(rolled, (key, "source_file"), **common)
    parts = []
    for row in partial.iter_rows(named=True):
        files = [("source_file", "files", per_file.filter(pl.col(key).eq_missing(row[key])))]
        said = [f"{label(n)} ({basis})" for n in kpi_names if row.get(n) is not None
                and (basis := coverage_basis(n, row.get(coverage_name(n)), files))]
        if said:
            parts.append(f"{shown_as(row[key])} — {', '.join(said)}")
    return f"Based on part of the data: {'; '.join(parts)}." if parts else None


def _platform_section(rolled: pl.DataFrame, by_platform: pl.DataFrame, common: dict, compare: ComparePeriod | None,
                      currency: str | None) -> Section:
    table_frame = _by_spend(by_platform, "platform")
    table_frame = table_frame.with_columns(text_column(table_frame, "platform", platform_label, "platform"))
    names = _number_columns(table_frame, PLATFORM_COLUMNS, compare)
    note = "Every KPI is a ratio of the platform's totals, over the rows that report every measure it needs."
    if "reach" in names:
        note += " Reach is summed over rows, an upper bound of the people reached."
    if partly := _partly_based(rolled, by_platform, "platform", names, common, shown_as=platform_label):
        note += " " + partly
    blocks: list[Block] = [_table("Every platform", table_frame, "platform", "Platform", names, currency, note)]
    if _present(by_platform, ["share_of_spend", "share_of_conversions"]):
        blocks.append(Chart("Share of spend vs conversions", charts.shares(by_platform),
                            caption="A platform whose dark bar is longer than its light bar earns more than its "
                                    "share of the budget."))
    for metric in ("cpa", "engagement_rate"):  # the first efficiency KPI the platforms report
        if _present(by_platform, [metric]):
            blocks.append(Chart(f"{label(metric)} by platform",
                                charts.platform_bars(by_platform.select("platform", metric), metric,
                                                     currency=currency),
                                caption=describe(metric).description))
            break
    return Section("Platforms", tuple(blocks))


def _campaign_section(rolled: pl.DataFrame, raw: pl.DataFrame, common: dict, compare: ComparePeriod | None,
                      currency: str | None, limit: int, colour: str) -> Section:
    campaigns = summarize(rolled, ("campaign",), compare=compare, **common)
    campaigns = _by_spend(campaigns.with_columns(pl.col("campaign").fill_null(NO_CAMPAIGN)), "campaign")
    blocks: list[Block] = []
    ranked = campaigns.filter(pl.col("spend").is_not_null()) if "spend" in campaigns.columns else campaigns
    if ranked.height > 1:
        top = ranked.head(TOP_CAMPAIGNS_CHARTED)
        blocks.append(Chart(f"Top {top.height} campaigns by spend", charts.ranked_bars(
            top, category="campaign", metric="spend", title="Campaign", currency=currency, colour=colour)))
    shown, note = _limited(campaigns, limit, "campaigns")
    names = _number_columns(campaigns, CAMPAIGN_COLUMNS, compare)
    if partly := _partly_based(rolled, shown, "campaign", names, common):
        note = f"{note} {partly}" if note else partly
    blocks.append(_table("Every campaign", shown, "campaign", "Campaign", names, currency, note))
    if "content_format" in raw.columns and raw.get_column("content_format").null_count() < raw.height:
        formats = summarize(raw, ("content_format",), **common).filter(pl.col("content_format").is_not_null())
        if not formats.is_empty():
            formats, note = _limited(_by_spend(formats, "content_format"), limit, "content formats")
            blocks.append(_table("Content formats", formats, "content_format", "Format",
                                 _present(formats, FORMAT_COLUMNS), currency, note))
    return Section("Campaigns and content", tuple(blocks))


def _funnel_section(rolled: pl.DataFrame, total: Mapping[str, Any], common: dict, colour: str) -> Section:
    scope = dict(date_from=common["date_from"], date_to=common["date_to"], filters=common["filters"])
    steps = funnel.funnel_steps(total, pairs=funnel.step_sums(rolled, **scope).row(0, named=True))
    reported = steps.filter(pl.col("reported"))
    if reported.height < 2:
        return Section("Funnel", ())
    rows = tuple(
        (step["label"], format_value(step["value"], "number") if step["reported"] else "not reported",
         format_value(step["step_rate"], "percent"), format_value(step["rate_from_first"], "percent"))
        for step in steps.iter_rows(named=True)
    )
    table = Table("Funnel steps", (Column("Step", numeric=False), Column("Count"), Column("Of previous step"),
                                   Column("Of first step")), rows,
                  note=" ".join([
                      "Each step's rate is a fraction of the last reported step before it, over the rows that report "
                      "both; a step the data does not report is shown as not reported, never as zero.",
                      *(f"{n}." for n in funnel.step_notes(steps, [
                          ("source_file", "files", funnel.step_sums(rolled, ("source_file",), **scope)),
                          ("platform", "platforms", funnel.step_sums(rolled, ("platform",), **scope))]))]))
    return Section("Funnel", (Chart("From impressions to conversions", charts.funnel(steps, colour=colour)), table))


def _goal_section(raw_goals: Sequence[Mapping[str, Any]], rolled: pl.DataFrame, options: ReportOptions,
                  currency: str | None, notes: list[str]) -> Section:
    rows = []
    said: list[str] = []  # what a goal's value rests on, or why it has none
    unreadable = 0
    for raw in raw_goals:
        try:
            goal = goal_math.Goal.from_dict(raw)
        except goal_math.GoalError:
            unreadable += 1
            continue
        result = goal_math.evaluate(goal, rolled, extra_costs=options.extra_costs, weights=options.weights)
        scope = "All data" if goal.scope == "all" else f"{goal.scope.capitalize()}: {goal.scope_value}"
        rows.append((
            goal.title, scope, result.status_label,
            ("≤ " if goal.lower_is_better else "≥ ") + format_metric(goal.metric, goal.target, currency),
            format_metric(goal.metric, result.current, currency), format_value(result.progress, "percent"),
            format_metric(goal.metric, result.projection, currency), format_date(goal.deadline),
        ))
        if result.note:
            said.append(f"{goal.title}: {result.note}")
        elif result.based_on:
            said.append(f"{goal.title}: {label(goal.metric)} is {result.based_on} (the rows that report every "
                        "measure it needs).")
    if unreadable:
        notes.append(f"{unreadable} saved goal{'s' if unreadable != 1 else ''} could not be read and "
                     f"{'are' if unreadable != 1 else 'is'} not shown.")
    if not rows:
        return Section("Goals", ())
    columns = (Column("Goal", numeric=False), Column("Scope", numeric=False), Column("Status", numeric=False),
               Column("Target"), Column("Current"), Column("Progress"), Column("Projection at deadline"),
               Column("Deadline", numeric=False))
    return Section("Goals", (Table("Goal status", columns, tuple(rows), note=" ".join((
        "Each goal is measured over its own period (its start, or the first day of data, to the last day of "
        "data); the report's filters do not apply. Projections extend the last 14 days to the deadline.",
        *said))),))


# --- insights ---------------------------------------------------------------------------------------------


def insights_section(frame: pl.DataFrame, options: ReportOptions, *, date_from: date | None, date_to: date | None,
                     compare: ComparePeriod | None, filters: Mapping[str, Sequence[str]] | None,
                     notes: list[str]) -> Section:
    """Why each KPI moved (one sentence each, the Insights page's own), the budgets paced on the last day of the
    data, and the annotations of the period. `frame` is the raw rows (the drivers need their currency)."""
    blocks: list[Block] = []
    if compare and date_from and date_to:
        changes = explain_changes(frame, date_from=date_from, date_to=date_to, compare=compare, filters=filters,
                                  kpi_names=explainable_kpis(frame))
        blocks.extend(Paragraph(change.sentence) for change in changes)
        # As on the Insights page: which KPIs were explained from part of the rows.
        partial = [f"{change.total.label} is {change.based_on}" for change in changes if change.based_on]
        if partial:
            notes.append(f"Each KPI's change counts only the rows that report every measure its factors use: "
                         f"{'; '.join(partial)}.")
    budgets, unreadable_budgets = read_budgets(options.budgets)
    if budgets:
        rows = tables.pacing_rows(pace_budgets(frame, budgets))
        columns = tuple(Column(name, numeric=name not in ("Month", "Scope", "Status"))
                        for name in tables.PACING_COLUMNS)
        blocks.append(Table("Budget pacing", columns, tuple(tuple(row[c] for c in tables.PACING_COLUMNS)
                                                            for row in rows),
                            note="Paced on the last day of the data; the month end is projected from the last 7 "
                                 "days' average spend. On pace: within 5 % of the budget; under or over: 5–20 % "
                                 "off; far off: beyond 20 %."))
    annotations, unreadable_notes = read_annotations(options.annotations)
    if date_from and date_to:
        annotations = within(annotations, date_from, date_to)
    if annotations:
        rows = tables.annotation_rows(annotations)
        blocks.append(Table("Annotations", tuple(Column(name, numeric=False) for name in tables.ANNOTATION_COLUMNS),
                            tuple(tuple(row[c] for c in tables.ANNOTATION_COLUMNS) for row in rows)))
    for count, what in ((unreadable_budgets, "budget"), (unreadable_notes, "annotation")):
        if count:
            notes.append(f"{count} saved {what}{'s' if count != 1 else ''} could not be read and "
                         f"{'are' if count != 1 else 'is'} not shown.")
    return Section("Insights", tuple(blocks))


# --- A/B results ------------------------------------------------------------------------------------------


def ab_entry(title: str, result: Any) -> dict[str, Any]:
    """A saved A/B result as the report takes it: `AbResult.to_dict()` (the `python -m metrics abtest` JSON)
    plus its `title` and the plain-language `verdicts` per challenger (`metrics.abtest.verdict`). A snapshot's
    saved test becomes an `AbResult` through `metrics.abtest.saved.analyze_config`."""
    from metrics.abtest import verdict  # scipy and statsmodels load only when a test is reported

    return {**result.to_dict(), "title": title,
            "verdicts": {c.variant: verdict(result, c) for c in result.comparisons}}


# The A/B page's columns that fit a report page (its table also has intervals, differences and loss): each metric
# kind's own short columns (`metrics.abtest.kinds`) between the units and the lift.
AB_COLUMNS = ("Variant", "Units", *dict.fromkeys(column.header for spec in KINDS.values() for column in spec.columns
                                                 if column.in_report and not column.interval),
              "Lift", "p-value", "Adjusted p", "Significant")
AB_TEXT_COLUMNS = ("Variant", "Significant")


def _ab_section(entries: Sequence[Mapping[str, Any]], notes: list[str]) -> Section:
    from metrics.abtest.display import table_rows  # the A/B page's own formatting; loads scipy, so only here

    blocks: list[Block] = []
    unreadable = 0
    for entry in entries:
        try:
            blocks.extend(_ab_blocks(entry, table_rows(dict(entry))))
        except (KeyError, TypeError, ValueError, AttributeError):
            unreadable += 1
    if unreadable:
        notes.append(f"{unreadable} saved A/B result{'s' if unreadable != 1 else ''} could not be read and "
                     f"{'are' if unreadable != 1 else 'is'} not shown.")
    return Section("A/B tests", tuple(blocks))


def _ab_blocks(entry: Mapping[str, Any], rows: list[dict[str, str]]) -> list[Block]:
    names = [name for name in AB_COLUMNS if any(name in row for row in rows)]
    columns = tuple(Column(name, numeric=name not in AB_TEXT_COLUMNS) for name in names)
    cells = tuple(tuple(row.get(name, MISSING) for name in names) for row in rows)
    level = f"{(1 - float(entry.get('alpha', 0.05))) * 100:g} %"
    blocks: list[Block] = [Table(str(entry.get("title") or "A/B test"), columns, cells,
                                 note=f"Lift is relative to the control; significant: the difference holds at the "
                                      f"{level} confidence level.")]
    verdicts = entry.get("verdicts") or {}
    blocks.extend(Paragraph(str(verdicts[name])) for name in verdicts)
    blocks.extend(Paragraph(str(w["message"])) for w in entry.get("warnings") or () if w.get("message"))
    return blocks


def _source_notes(options: ReportOptions) -> list[str]:
    """The caller's notes, then where the data came from."""
    if not options.sources:
        return list(options.notes)
    parts = []
    for source in options.sources:
        counts = []
        if source.rows_loaded is not None:
            counts.append(f"{source.rows_loaded:,} rows loaded")
        if source.rows_rejected:
            counts.append(f"{source.rows_rejected:,} rejected")
        parts.append(f"{source.name} ({', '.join(counts)})" if counts else source.name)
    return [*options.notes, f"Data: {'; '.join(parts)}."]
