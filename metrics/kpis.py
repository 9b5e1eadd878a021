"""KPIs as small `pl.Expr` factories and `summarize`, the one aggregation entry point.

Every KPI is a ratio of sums over the group (SPEC §4), never a mean of row ratios.
A zero or null denominator gives null. Rates are fractions (0.034), not percents.

A factory takes `m`, a function from a measure name to the expression that stands
for that measure's group total. On an already-aggregated frame `m = pl.col`; inside
`group_by().agg()` use `m = group_total`. The same formula serves both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from metrics.schema import COLUMN_BY_NAME, DIMENSIONS, MEASURES, Direction, Format
from metrics.trends import Comparison, Grain, comparison_range, truncate_to_grain

MeasureRef = Callable[[str], pl.Expr]

DEFAULT_ENGAGEMENT_WEIGHTS: dict[str, float] = {"likes": 1.0, "comments": 2.0, "saves": 3.0, "shares": 4.0}


def group_total(name: str) -> pl.Expr:
    """Sum of a measure over a group; null when no row of the group reported it (never a silent 0)."""
    return pl.when(pl.col(name).count() > 0).then(pl.col(name).sum())


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when the denominator is zero or null (never inf or NaN)."""
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(None)


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    formula: Callable[..., pl.Expr]
    format: Format
    direction: Direction
    description: str

    def expr(self, m: MeasureRef = pl.col, **options) -> pl.Expr:
        return self.formula(m, **options).cast(pl.Float64).alias(self.name)


def _ctr(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("clicks"), m("impressions"))


def _link_ctr(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("link_clicks"), m("impressions"))


def _cpc(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("spend"), m("clicks"))


def _cpm(m: MeasureRef, **_) -> pl.Expr:
    return ratio(1000 * m("spend"), m("impressions"))


def _cpa(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("spend"), m("conversions"))


def _cpl(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("spend"), m("leads"))


def _cvr(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("conversions"), m("clicks"))


def _roas(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("revenue"), m("spend"))


def _roi(m: MeasureRef, extra_costs: pl.Expr | float = 0.0, **_) -> pl.Expr:
    extra = extra_costs if isinstance(extra_costs, pl.Expr) else pl.lit(float(extra_costs))
    cost = m("spend") + extra
    return ratio(m("revenue") - cost, cost)


def _aov(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("revenue"), m("conversions"))


def _frequency(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("impressions"), m("reach"))


def _engagement_rate(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("engagements"), m("reach"))


def _er_impressions(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("engagements"), m("impressions"))


def _er_followers(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("engagements"), m("followers"))


def _cost_per_engagement(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("spend"), m("engagements"))


def _weighted_engagement(m: MeasureRef, weights: Mapping[str, float] | None = None, **_) -> pl.Expr:
    weights = dict(weights or DEFAULT_ENGAGEMENT_WEIGHTS)
    parts = [m(name) * weight for name, weight in weights.items()]
    # Null only when none of the parts was reported; a missing part counts as 0.
    any_reported = pl.any_horizontal([m(name).is_not_null() for name in weights])
    return pl.when(any_reported).then(pl.sum_horizontal(parts))


def _video_view_rate(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("video_views"), m("impressions"))


def _net_follower_growth(m: MeasureRef, **_) -> pl.Expr:
    return m("new_followers") - m("unfollows").fill_null(0)


def _follower_growth_rate(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("new_followers") - m("unfollows").fill_null(0), m("followers"))


def _unfollow_rate(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("unfollows"), m("followers"))


def _avg_first_response_min(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("response_minutes"), m("messages_answered"))


def _unanswered_rate(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("messages") - m("messages_answered"), m("messages"))


KPIS: tuple[Kpi, ...] = (
    Kpi("ctr", "CTR", _ctr, "percent", "higher", "Clicks / impressions."),
    Kpi("link_ctr", "Link CTR", _link_ctr, "percent", "higher", "Link clicks / impressions."),
    Kpi("cpc", "CPC", _cpc, "currency", "lower", "Spend / clicks."),
    Kpi("cpm", "CPM", _cpm, "currency", "lower", "1000 × spend / impressions."),
    Kpi("cpa", "CPA", _cpa, "currency", "lower", "Spend / conversions."),
    Kpi("cpl", "CPL", _cpl, "currency", "lower", "Spend / leads."),
    Kpi("cvr", "Conversion rate", _cvr, "percent", "higher", "Conversions / clicks."),
    Kpi("roas", "ROAS", _roas, "ratio", "higher", "Revenue / spend."),
    Kpi("roi", "ROI", _roi, "percent", "higher", "(Revenue − spend − extra costs) / (spend + extra costs)."),
    Kpi("aov", "Average order value", _aov, "currency", "higher", "Revenue / conversions."),
    Kpi("frequency", "Frequency", _frequency, "ratio", "neutral", "Impressions / reach (reach summed over rows)."),
    Kpi("engagement_rate", "Engagement rate", _engagement_rate, "percent", "higher", "Engagements / reach."),
    Kpi("er_impressions", "ER by impressions", _er_impressions, "percent", "higher", "Engagements / impressions."),
    Kpi("er_followers", "ER by followers", _er_followers, "percent", "higher", "Engagements / followers."),
    Kpi("cost_per_engagement", "Cost per engagement", _cost_per_engagement, "currency", "lower",
        "Spend / engagements."),
    Kpi("weighted_engagement", "Weighted engagement", _weighted_engagement, "number", "higher",
        "1×likes + 2×comments + 3×saves + 4×shares (weights configurable)."),
    Kpi("video_view_rate", "Video view rate", _video_view_rate, "percent", "higher", "Video views / impressions."),
    Kpi("net_follower_growth", "Net follower growth", _net_follower_growth, "number", "higher",
        "New followers − unfollows."),
    Kpi("follower_growth_rate", "Follower growth rate", _follower_growth_rate, "percent", "higher",
        "(New followers − unfollows) / followers."),
    Kpi("unfollow_rate", "Unfollow rate", _unfollow_rate, "percent", "lower", "Unfollows / followers."),
    Kpi("avg_first_response_min", "Avg. first response", _avg_first_response_min, "minutes", "lower",
        "Response minutes / answered messages."),
    Kpi("unanswered_rate", "Unanswered rate", _unanswered_rate, "percent", "lower",
        "(Messages − answered) / messages."),
)
KPI_BY_NAME: dict[str, Kpi] = {k.name: k for k in KPIS}
KPI_NAMES: tuple[str, ...] = tuple(KPI_BY_NAME) + ("share_of_spend", "share_of_conversions")
SHARE_KPIS: dict[str, Kpi] = {
    "share_of_spend": Kpi("share_of_spend", "Share of spend", lambda m, **_: m("spend"), "percent", "neutral",
                          "The group's spend / the total spend."),
    "share_of_conversions": Kpi("share_of_conversions", "Share of conversions", lambda m, **_: m("conversions"),
                                "percent", "neutral", "The group's conversions / the total conversions."),
}


def kpi(name: str) -> Kpi:
    """Look up a KPI (including the share KPIs) by name."""
    return KPI_BY_NAME.get(name) or SHARE_KPIS[name]


def find_kpi(name: str) -> Kpi | None:
    """The KPI called `name` (share KPIs included), or None for a measure."""
    return KPI_BY_NAME.get(name) or SHARE_KPIS.get(name)


_DAY = "__day"  # the row's own date, kept when `date` is bucketed to a grain


def _aggregate_measures(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Group totals of every measure; followers taken as a stock (SPEC §2)."""
    flows = [group_total(name).alias(name) for name in MEASURES if COLUMN_BY_NAME[name].aggregation != "stock"]
    grouped = frame.group_by(keys).agg(flows) if keys else frame.select(flows)
    followers = _followers_stock(frame, keys)
    if keys:
        return grouped.join(followers, on=keys, how="left", nulls_equal=True)
    return pl.concat([grouped, followers], how="horizontal")


def _followers_stock(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Followers: within each group, the value at the latest date of every platform × campaign series,
    summed across series. Rows at that latest date are added (a split row keeps its total)."""
    series = keys + [k for k in ("platform", "campaign") if k not in keys]
    day = _DAY if _DAY in frame.collect_schema().names() else "date"
    reported = frame.filter(pl.col("followers").is_not_null()).select([*dict.fromkeys(series + [day, "followers"])])
    latest = reported.group_by(series).agg(
        pl.col("followers").filter(pl.col(day).eq(pl.col(day).max()) | pl.col(day).max().is_null()).sum()
    )
    if keys:
        return latest.group_by(keys).agg(group_total("followers").alias("followers"))
    return latest.select(group_total("followers").alias("followers"))


def kpi_exprs(
    *, extra_costs: float | pl.Expr = 0.0, weights: Mapping[str, float] | None = None, names: Sequence[str] | None = None
) -> list[pl.Expr]:
    """Expressions computing the KPIs from an aggregated frame (one row per group)."""
    chosen = names or [k.name for k in KPIS]
    return [KPI_BY_NAME[n].expr(pl.col, extra_costs=extra_costs, weights=weights) for n in chosen if n in KPI_BY_NAME]


# --- summarize --------------------------------------------------------------------------


def apply_filters(
    frame: pl.LazyFrame,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> pl.LazyFrame:
    """Rows within [date_from, date_to] (inclusive) whose dimension values are in `filters`.

    An empty or missing list for a dimension means no filter on it. Rows without a
    date are kept only when no date bound is set.
    """
    if date_from is not None:
        frame = frame.filter(pl.col("date") >= date_from)
    if date_to is not None:
        frame = frame.filter(pl.col("date") <= date_to)
    for column, values in (filters or {}).items():
        if values:
            if column not in DIMENSIONS and column != "source_file":
                raise ValueError(f"cannot filter on {column!r}: not a dimension")
            frame = frame.filter(pl.col(column).is_in(list(values)))
    return frame


def summarize(
    frame: pl.DataFrame | pl.LazyFrame,
    by: Sequence[str] = (),
    *,
    grain: Grain | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    compare: Comparison | None = None,
    extra_costs: float = 0.0,
    weights: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Measures and KPIs per group of `by` (one total row when `by` is empty).

    - `grain` ("day" | "week" | "month") buckets `date` to the period start; it implies
      grouping by `date`.
    - `compare` ("previous" | "previous_year") adds `<name>_prev`, `<name>_delta` and
      `<name>_delta_rel` for every measure and KPI, matched on the non-date keys. It
      needs `date_from`/`date_to` (defaults: the data's date range) and is skipped when
      grouping by date (a trend has no single previous value).
    - `extra_costs` (team, content, tools; same currency as spend) enter ROI. For
      groups they are allocated in proportion to spend, so group ROIs add up to the total.
    - Result rows are sorted by the keys (polars does not keep group order).
    """
    lazy = frame.lazy()
    keys = list(dict.fromkeys(by))
    if grain is not None and "date" not in keys:
        keys.insert(0, "date")
    for key in keys:
        if key not in DIMENSIONS and key != "source_file":
            raise ValueError(f"cannot group by {key!r}: not a dimension")

    if compare is not None and (date_from is None or date_to is None):
        bounds = lazy.select(pl.col("date").min().alias("lo"), pl.col("date").max().alias("hi")).collect()
        date_from = date_from or bounds["lo"][0]
        date_to = date_to or bounds["hi"][0]

    current = _summarize_range(
        lazy, keys, grain=grain, date_from=date_from, date_to=date_to, filters=filters,
        extra_costs=extra_costs, weights=weights,
    )
    if compare is None or "date" in keys or date_from is None or date_to is None:
        return current

    prev_from, prev_to = comparison_range(date_from, date_to, compare)
    previous = _summarize_range(
        lazy, keys, grain=None, date_from=prev_from, date_to=prev_to, filters=filters,
        extra_costs=extra_costs, weights=weights,
    )
    return add_comparison(current, previous, keys)


def _summarize_range(
    lazy: pl.LazyFrame,
    keys: list[str],
    *,
    grain: Grain | None,
    date_from: date | None,
    date_to: date | None,
    filters: Mapping[str, Sequence[str]] | None,
    extra_costs: float,
    weights: Mapping[str, float] | None,
) -> pl.DataFrame:
    rows = apply_filters(lazy, date_from=date_from, date_to=date_to, filters=filters)
    if grain is not None:
        rows = rows.with_columns(pl.col("date").alias(_DAY), truncate_to_grain(pl.col("date"), grain))
    totals = _aggregate_measures(rows, keys)
    extra: pl.Expr | float = float(extra_costs)
    if extra_costs and keys:
        # Allocate the extra costs to groups in proportion to their spend.
        extra = pl.lit(float(extra_costs)) * ratio(pl.col("spend"), pl.col("spend").sum()).fill_null(0.0)
    result = totals.with_columns(kpi_exprs(extra_costs=extra, weights=weights))
    result = result.with_columns(
        ratio(pl.col("spend"), pl.col("spend").sum()).alias("share_of_spend"),
        ratio(pl.col("conversions"), pl.col("conversions").sum()).alias("share_of_conversions"),
    )
    out = result.collect()
    if keys:
        out = out.sort(keys, nulls_last=True)
    return out


def add_comparison(current: pl.DataFrame, previous: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Join the previous period's values as `<name>_prev` with absolute and relative deltas.

    `_delta_rel` = (current − previous) / |previous|, null when previous is 0 or null,
    so an improving negative ROI reads as a positive change.
    """
    names = [n for n in (*MEASURES, *KPI_NAMES) if n in current.columns]
    prev = previous.select([*keys, *[pl.col(n).alias(f"{n}_prev") for n in names]])
    if keys:
        joined = current.join(prev, on=list(keys), how="left", nulls_equal=True)
    else:
        joined = pl.concat([current, prev], how="horizontal")
    deltas = []
    for n in names:
        cur, before = pl.col(n), pl.col(f"{n}_prev")
        deltas.append((cur - before).alias(f"{n}_delta"))
        deltas.append(ratio(cur - before, before.abs()).alias(f"{n}_delta_rel"))
    out = joined.with_columns(deltas)
    return out.sort(list(keys), nulls_last=True) if keys else out


def total(frame: pl.DataFrame | pl.LazyFrame, **options) -> dict:
    """The one-row summary as a dict (convenience for tiles, the CLI and tests)."""
    return summarize(frame, (), **options).row(0, named=True)
