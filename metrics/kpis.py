"""KPIs as small `pl.Expr` factories and `summarize`, the one aggregation entry point.

Every KPI is a ratio of sums over the group (SPEC §4), never a mean of row ratios, and the sums
are *coverage-matched*: a KPI's numerator and denominator are summed over the same rows, those
that report every measure its formula needs. A zero or null denominator gives null. Rates are
fractions (0.034), not percents.

A factory takes `m`, a function from a measure name to the expression that stands for that
measure's (matched) group total. What a KPI needs is learnt from its formula (`Kpi.needs`):
`m(name)` is a measure it cannot do without, `optional(m, name)` one it can (counted as 0 when not
reported, like the unfollows in net follower growth). Nothing is declared twice.

`summarize` = `metrics.partials.partials` (additive sums by presence mask) → `finalize` (KPIs,
`<kpi>_coverage`, `currency`). Money (SPEC §4): a group whose money cells are in more than one
currency — an unknown (null) currency counts as one of its own — has null money measures and money
KPIs and `currency = "mixed"`; rows without spend or revenue do not count. Convert to one reporting
currency first with `metrics.currency.convert`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import polars as pl

from metrics.partials import (
    BIT,
    DAY,
    FLOWS,
    MONEY,
    MONEY_BITS,
    ROWS,
    SERIES,
    STOCKS,
    CollectedPartials,
    bits,
    has_all,
    has_any,
    is_partial_frame,
    partials,
)
from metrics.schema import DIMENSIONS, MEASURES, Direction, Format
from metrics.trends import Comparison, Grain, comparison_range, truncate_to_grain

MeasureRef = Callable[[str], pl.Expr]

DEFAULT_ENGAGEMENT_WEIGHTS: dict[str, float] = {"likes": 1.0, "comments": 2.0, "saves": 3.0, "shares": 4.0}
MIXED = "mixed"  # the `currency` of a group whose money is in more than one currency


def group_total(name: str) -> pl.Expr:
    """Sum of a measure over a group of raw rows; null when no row of the group reported it (never a silent 0).
    A plain total: for coverage-matched KPIs use `summarize`."""
    return pl.when(pl.col(name).count() > 0).then(pl.col(name).sum())


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when the denominator is zero or null (never inf or NaN)."""
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(None)


class _Recorder:
    """Stands in for `m` while a formula is built, to learn which measures it uses."""

    def __init__(self) -> None:
        self.required: list[str] = []
        self.optional: list[str] = []

    def __call__(self, name: str) -> pl.Expr:
        self.required.append(name)
        return pl.col(name)


def optional(m: MeasureRef, name: str) -> pl.Expr:
    """A measure a formula can do without: it does not restrict the KPI's rows (the formula decides
    what a missing value means, usually `.fill_null(0)`)."""
    if isinstance(m, _Recorder):
        m.optional.append(name)
        return pl.col(name)
    return m(name)


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

    def measures(self, **options) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(needed, used): the measures every counted row must report, and all the formula reads."""
        recorder = _Recorder()
        self.formula(recorder, **options)
        needed = tuple(dict.fromkeys(recorder.required))
        return needed, tuple(dict.fromkeys([*needed, *recorder.optional]))

    @property
    def needs(self) -> tuple[str, ...]:
        """Measures a row must report to count for this KPI. Empty for a sum of optional parts
        (weighted engagement), which counts every row reporting any part."""
        return self.measures()[0]

    @property
    def is_money(self) -> bool:
        """True when the KPI reads spend or revenue (null for mixed currencies, shown with a symbol)."""
        return any(m in MONEY for m in self.measures()[1])


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
    totals = {name: optional(m, name) for name in weights}
    # Null only when none of the parts was reported; a missing part counts as 0.
    any_reported = pl.any_horizontal([total.is_not_null() for total in totals.values()])
    return pl.when(any_reported).then(pl.sum_horizontal([totals[name] * w for name, w in weights.items()]))


def _video_view_rate(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("video_views"), m("impressions"))


def _net_follower_growth(m: MeasureRef, **_) -> pl.Expr:
    return m("new_followers") - optional(m, "unfollows").fill_null(0)


def _follower_growth_rate(m: MeasureRef, **_) -> pl.Expr:
    return ratio(m("new_followers") - optional(m, "unfollows").fill_null(0), m("followers"))


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


def is_money(name: str) -> bool:
    """True for a money measure (spend, revenue) or a KPI computed from money: null when the group's money
    mixes currencies (SPEC §4)."""
    found = find_kpi(name)
    return found.is_money if found is not None else name in MONEY


# --- coverage ---------------------------------------------------------------------------


def coverage_name(kpi_name: str) -> str:
    """The output column holding a KPI's coverage: the share of the group's rows it is based on."""
    return f"{kpi_name}_coverage"


COVERAGE_NAMES: tuple[str, ...] = tuple(coverage_name(n) for n in KPI_NAMES)


def covering(name: str, groups: pl.DataFrame, key: str) -> tuple[list, int]:
    """(the `key` values of the groups whose rows report what KPI `name` needs, number of groups) from a
    `summarize(..., by=[key])` result: which files (or platforms) a KPI value is based on."""
    # Plain lists: a filter here is a query on polars' thread pool per tile, slow on a busy machine.
    shares = groups.get_column(coverage_name(name)).to_list()
    keys = groups.get_column(key).to_list()
    covered = [value for value, share in zip(keys, shares) if share is not None and share > 0]
    return covered, groups.height


def coverage_basis(name: str, coverage: float | None, breakdowns: Sequence[tuple[str, str, pl.DataFrame]]) -> str | None:
    """What part of the data a KPI value is based on, in words; None when all of it (or there is no value).

    `breakdowns` are (key, plural noun, `summarize` result by that key) — files first, then platforms —
    tried in order: the first whose groups split into some that report what the KPI needs and some that
    report none of it gives "based on 1 of 2 files"; otherwise "based on 97.3 % of the rows".
    """
    if coverage is None or coverage >= 1:
        return None
    for key, noun, groups in breakdowns:
        if groups.height < 2 or coverage_name(name) not in groups.columns:
            continue
        covered, count = covering(name, groups, key)
        if 0 < len(covered) < count:
            return f"based on {len(covered)} of {count} {noun}"
    return f"based on {coverage * 100:.1f} % of the rows"


def rows_reporting(frame: pl.DataFrame | pl.LazyFrame, measures: Sequence[str]) -> pl.LazyFrame:
    """The rows (or partials) of `frame` that report every one of `measures`. Summing a measure over
    them gives its coverage-matched total for a ratio of those measures: what a projection or a running
    ratio built from totals (goals, funnel steps) must add up, so it agrees with `summarize`."""
    lazy = frame.lazy()
    if not measures:
        return lazy
    return lazy.filter(pl.all_horizontal([pl.col(m).is_not_null() for m in measures]))


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
    """Measures, `currency`, KPIs and `<kpi>_coverage` per group of `by` (one total row when `by` is empty).

    `frame` is the canonical table or partials of it (the daily rollup of `metrics.rollup`; then
    only its keys can be grouped and filtered on).
    - Measures are plain sums (followers: the latest value per platform × campaign series), null
      when no row of the group reported them. KPIs are coverage-matched (module docstring).
    - `<kpi>_coverage` is the share of the group's rows that report every measure the KPI needs
      (for weighted engagement: any of its parts); 1.0 when all do, null for a group without rows.
      Stock KPIs (er_followers, follower_growth_rate, unfollow_rate) read the followers of their
      matched rows at each series' latest matched date; their coverage counts rows the same way.
    - `currency`: the ISO code of the group's money (spend, revenue), null when unknown or when the
      group has none, "mixed" when it is in several (then money measures and KPIs are null). When
      `currency` is a grouping key it is not repeated.
    - `grain` ("day" | "week" | "month") buckets `date` to the period start; it implies
      grouping by `date`.
    - `compare` ("previous" | "previous_year") adds `<name>_prev`, `<name>_delta` and
      `<name>_delta_rel` for every measure and KPI, matched on the non-date keys. It
      needs `date_from`/`date_to` (defaults: the data's date range) and is skipped when
      grouping by date (a trend has no single previous value). Money is not compared across
      two different currencies (the previous money values are null then).
    - `extra_costs` (team, content, tools; same currency as spend) enter ROI. For
      groups they are allocated in proportion to the spend ROI is based on, so group ROIs add up
      to the total; with groups in different currencies there is no such allocation and ROI is null.
    - Result rows are sorted by the keys (polars does not keep group order).
    """
    keys = list(dict.fromkeys(by))
    if grain is not None and "date" not in keys:
        keys.insert(0, "date")
    return summarize_levels(
        frame, [keys], grain=grain, date_from=date_from, date_to=date_to, filters=filters, compare=compare,
        extra_costs=extra_costs, weights=weights,
    )[0]


def summarize_levels(
    frame: pl.DataFrame | pl.LazyFrame,
    levels: Sequence[Sequence[str]],
    *,
    grain: Grain | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    compare: Comparison | None = None,
    extra_costs: float = 0.0,
    weights: Mapping[str, float] | None = None,
) -> list[pl.DataFrame]:
    """`summarize` at several groupings from ONE pass over the rows (the total and the rows of a
    report): partials at the union of the levels' keys, finalised once per level — exact, since
    partials add up. `grain` buckets `date` for the levels that group by it (it adds `date` to none);
    `compare` applies to the levels without `date`. Options as in `summarize`."""
    lazy = frame.lazy()
    levels = [list(dict.fromkeys(level)) for level in levels]
    union = list(dict.fromkeys(key for level in levels for key in level))
    for key in union:
        if key not in DIMENSIONS and key != "source_file":
            raise ValueError(f"cannot group by {key!r}: not a dimension")
    if is_partial_frame(lazy):
        available = set(lazy.collect_schema().names())
        missing = [k for k in [*union, *(filters or {})] if k not in available]
        if missing:
            raise ValueError(f"the daily rollup cannot be grouped or filtered by {', '.join(missing)}; "
                             "summarize the raw rows instead")

    compared = [level for level in levels if "date" not in level] if compare is not None else []
    if compared and (date_from is None or date_to is None):
        bounds = lazy.select(pl.col("date").min().alias("lo"), pl.col("date").max().alias("hi")).collect()
        date_from = date_from or bounds["lo"][0]
        date_to = date_to or bounds["hi"][0]

    options = dict(extra_costs=extra_costs, weights=weights)
    current = _partials_in_range(lazy, union, grain=grain, date_from=date_from, date_to=date_to, filters=filters)
    results = [finalize(current, level, **options) for level in levels]
    if not compared or date_from is None or date_to is None:
        return results

    prev_from, prev_to = comparison_range(date_from, date_to, compare)
    prev_keys = list(dict.fromkeys(key for level in compared for key in level))
    previous = _partials_in_range(lazy, prev_keys, grain=None, date_from=prev_from, date_to=prev_to, filters=filters)
    return [
        add_comparison(result, finalize(previous, level, **options), level) if "date" not in level else result
        for level, result in zip(levels, results)
    ]


def _partials_in_range(
    lazy: pl.LazyFrame,
    keys: list[str],
    *,
    grain: Grain | None,
    date_from: date | None,
    date_to: date | None,
    filters: Mapping[str, Sequence[str]] | None,
) -> CollectedPartials:
    rows = apply_filters(lazy, date_from=date_from, date_to=date_to, filters=filters)
    if grain is not None:
        rows = rows.with_columns(pl.col("date").alias(DAY), truncate_to_grain(pl.col("date"), grain))
    return partials(rows, keys).collect()


# --- finalize: partials → measures, currency, KPIs, coverage -------------------------------


@dataclass(frozen=True)
class _Plan:
    """Which matched sums the KPIs need: per need-set (sorted measure names) the measures read."""

    need_sets: dict[tuple[str, ...], tuple[str, ...]]
    any_sets: dict[str, int]  # KPI name → bits of its parts, for KPIs that need no measure in particular


def _matched(need: tuple[str, ...], name: str) -> str:
    return f"__m[{'+'.join(need)}]{name}"


def _matched_rows(need: tuple[str, ...]) -> str:
    return f"__n[{'+'.join(need)}]"


def _any_rows(kpi_name: str) -> str:
    return f"__n[any:{kpi_name}]"


def _plan(weights: Mapping[str, float] | None) -> _Plan:
    return _cached_plan(tuple(sorted((weights or {}).items())) if weights else None)


@lru_cache(maxsize=32)
def _cached_plan(weights: tuple[tuple[str, float], ...] | None) -> _Plan:
    need_sets: dict[tuple[str, ...], dict[str, None]] = {}
    any_sets: dict[str, int] = {}
    for k in (*KPIS, *SHARE_KPIS.values()):
        needed, used = k.measures(weights=dict(weights) if weights else None)
        if needed:
            need_sets.setdefault(tuple(sorted(needed)), {}).update(dict.fromkeys(used))
        else:
            any_sets[k.name] = bits(used)
    return _Plan({need: tuple(used) for need, used in need_sets.items()}, any_sets)


def _need_of(k: Kpi, weights: Mapping[str, float] | None) -> tuple[str, ...]:
    return tuple(sorted(k.measures(weights=weights)[0]))


def _stock_totals(stocks: pl.LazyFrame, keys: list[str], name: str, where: pl.Expr, alias: str) -> pl.LazyFrame:
    """A stock's group totals: within each group the value at the latest day of every platform ×
    campaign series among the partials selected by `where`, summed across series (a split row
    keeps its total). No selected partial → no row (null after the join)."""
    selected = stocks.filter(where & pl.col(name).is_not_null())
    series = list(dict.fromkeys([*keys, *SERIES]))
    latest_day = (pl.col(DAY) == pl.col(DAY).max()) | pl.col(DAY).max().is_null()
    latest = selected.group_by(series).agg(pl.col(name).filter(latest_day).sum())
    if keys:
        return latest.group_by(keys).agg(pl.col(name).sum().alias(alias))
    return latest.select(pl.when(pl.len() > 0).then(pl.col(name).sum()).alias(alias))


def _money_currency(money_rows: pl.Expr) -> pl.Expr:
    """The one currency of the money partials, "mixed" when several (null counts as one), null when none."""
    currencies = pl.col("currency").filter(money_rows)
    return pl.when(currencies.n_unique() > 1).then(pl.lit(MIXED)).otherwise(currencies.first())


def finalize(
    parts: CollectedPartials,
    keys: Sequence[str],
    *,
    extra_costs: float = 0.0,
    weights: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Measures, `currency`, KPIs and coverages per group of `keys` from partials at `keys` or finer
    (see `summarize` for the meaning of every column). Rows are sorted by the keys."""
    keys = list(keys)
    plan = _plan(weights)
    flows = parts.flows.lazy()

    aggs: list[pl.Expr] = [pl.col(ROWS).sum().alias(ROWS)]
    if "currency" not in keys:  # grouped by currency, each group has one (the key)
        aggs.append(_money_currency(has_any(MONEY_BITS)).alias("currency"))
    aggs += [pl.when(has_any(BIT[m]).any()).then(pl.col(m).sum()).alias(m) for m in FLOWS]
    for need, used in plan.need_sets.items():
        selected = has_all(bits(need))
        aggs.append(pl.col(ROWS).filter(selected).sum().alias(_matched_rows(need)))
        aggs += [pl.col(u).filter(selected).sum().alias(_matched(need, u)) for u in used if u in FLOWS]
    aggs += [pl.col(ROWS).filter(has_any(b)).sum().alias(_any_rows(name)) for name, b in plan.any_sets.items()]
    grouped = flows.group_by(keys).agg(aggs) if keys else flows.select(aggs)

    # Stocks come from their own partials; joined per group.
    stock_columns = [(m, pl.lit(True), m) for m in STOCKS]
    stock_columns += [(u, has_all(bits(need)), _matched(need, u))
                      for need, used in plan.need_sets.items() for u in used if u in STOCKS]
    for name, where, alias in stock_columns:
        totals = _stock_totals(parts.stocks.lazy(), keys, name, where, alias)
        if keys:
            grouped = grouped.join(totals, on=keys, how="left", nulls_equal=True)
        else:
            grouped = pl.concat([grouped, totals], how="horizontal")

    # A matched sum over no row is "not reported", never 0; money in several currencies is not a sum.
    mixed = pl.col("currency").eq_missing(pl.lit(MIXED))
    cleaned = []
    for need, used in plan.need_sets.items():
        for u in used:
            value = pl.when(pl.col(_matched_rows(need)) > 0).then(pl.col(_matched(need, u)))
            cleaned.append((pl.when(~mixed).then(value) if u in MONEY else value).alias(_matched(need, u)))
    cleaned += [pl.when(~mixed).then(pl.col(m)).alias(m) for m in MONEY]
    grouped = grouped.with_columns(cleaned)

    # The whole result's money currency decides whether shares and allocated extra costs make sense.
    result_mixed = parts.flows.select(_money_currency(has_any(MONEY_BITS))).item() == MIXED

    def measure_ref(k: Kpi) -> MeasureRef:
        need = _need_of(k, weights)
        return (lambda name: pl.col(_matched(need, name))) if need else pl.col

    extra: pl.Expr | float = float(extra_costs)
    if extra_costs and keys:
        roi_spend = pl.col(_matched(_need_of(KPI_BY_NAME["roi"], weights), "spend"))
        extra = pl.lit(float(extra_costs)) * ratio(roi_spend, roi_spend.sum()).fill_null(0.0)
    if extra_costs and result_mixed:
        extra = pl.lit(None, dtype=pl.Float64)
    kpi_columns = [k.expr(measure_ref(k), extra_costs=extra, weights=weights) for k in KPIS]
    share_of = {"share_of_spend": "spend", "share_of_conversions": "conversions"}
    shares = [
        (pl.lit(None, dtype=pl.Float64) if result_mixed and measure in MONEY
         else ratio(pl.col(measure), pl.col(measure).sum())).alias(name)
        for name, measure in share_of.items()
    ]

    def coverage(k: Kpi) -> pl.Expr:
        need = _need_of(k, weights)
        matched = pl.col(_matched_rows(need)) if need else pl.col(_any_rows(k.name))
        return ratio(matched.cast(pl.Float64), pl.col(ROWS).cast(pl.Float64)).alias(coverage_name(k.name))

    coverages = [coverage(kpi(name)) for name in KPI_NAMES]
    currency = [] if "currency" in keys else ["currency"]
    out = grouped.with_columns(*kpi_columns, *shares).select(
        *keys, *MEASURES, *currency, *KPI_NAMES, *coverages
    )
    # Partials are small: the in-memory engine plans and runs this faster than streaming.
    return (out.sort(keys, nulls_last=True) if keys else out).collect(engine="in-memory")


def add_comparison(current: pl.DataFrame, previous: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Join the previous period's values as `<name>_prev` with absolute and relative deltas.

    `_delta_rel` = (current − previous) / |previous|, null when previous is 0 or null,
    so an improving negative ROI reads as a positive change. Money measured in another currency
    in the previous period is not comparable: its `_prev` is null.
    """
    names = [n for n in (*MEASURES, *KPI_NAMES) if n in current.columns]
    money = [n for n in names if is_money(n)]
    prev_currency = "__currency_prev"
    carried = [pl.col("currency").alias(prev_currency)] if "currency" in previous.columns else []
    prev = previous.select([*keys, *carried, *[pl.col(n).alias(f"{n}_prev") for n in names]])
    if keys:
        joined = current.join(prev, on=list(keys), how="left", nulls_equal=True)
    else:
        joined = pl.concat([current, prev], how="horizontal")
    if carried and "currency" in current.columns:
        same = pl.col("currency").eq_missing(pl.col(prev_currency))
        joined = joined.with_columns(pl.when(same).then(pl.col(f"{n}_prev")).alias(f"{n}_prev") for n in money)
        joined = joined.drop(prev_currency)
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
