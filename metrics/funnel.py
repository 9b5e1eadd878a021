"""Conversion funnel and marketing funnel stages, computed from `summarize` output.

Two views of a funnel:

- **Steps** of one journey: impressions → clicks → leads → conversions. Each step's
  `step_rate` is its value as a fraction of the previous *reported* step (clicks /
  impressions is the CTR, conversions / clicks the conversion rate when leads are not
  reported). A step whose measure is null is "not reported": its value and rates stay
  null, never 0, and the next step is compared with the last step that was reported.
  Rates between two steps are coverage-matched (SPEC §4): both steps are summed over the rows
  that report both (`step_sums`), so a file with impressions but no clicks does not dilute the
  click rate; `step_coverage` is the share of the rows a rate rests on, and `step_notes` says
  "based on 1 of 2 files" when it is not all of them.
- **Stages** of the marketing funnel (SPEC §2 `funnel_stage`): awareness, interest,
  consideration, action, loyalty, in that order; any other free-text stage is kept
  after them (alphabetically), and rows without a stage come last.

Rates are fractions (0.034), never percents. Pure polars: no streamlit here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import polars as pl

from metrics import display, kpis
from metrics.partials import ROWS, is_partial_frame

FUNNEL_STEPS: tuple[str, ...] = ("impressions", "clicks", "leads", "conversions")
STAGES: tuple[str, ...] = ("awareness", "interest", "consideration", "action", "loyalty")
NO_STAGE = "(no stage)"

STEP_SCHEMA: dict[str, pl.DataType] = {
    "step": pl.String,
    "label": pl.String,
    "value": pl.Float64,
    "reported": pl.Boolean,
    "previous_step": pl.String,
    "step_rate": pl.Float64,
    "drop_off": pl.Float64,
    "drop_off_rate": pl.Float64,
    "rate_from_first": pl.Float64,
    "step_coverage": pl.Float64,
}


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number  # NaN counts as not reported


def pair_name(earlier: str, later: str) -> str:
    """The name of the rate between two steps ('clicks/impressions'): `step_sums` columns are
    `<pair>:<step>` (each step's matched sum) and `kpis.coverage_name(<pair>)` (the share of rows)."""
    return f"{later}/{earlier}"


def _pairs(steps: Sequence[str]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(steps) for b in steps[i + 1:]]


def step_sums(
    frame: pl.DataFrame | pl.LazyFrame,
    by: Sequence[str] = (),
    *,
    steps: Sequence[str] = FUNNEL_STEPS,
    date_from: date | None = None,
    date_to: date | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> pl.DataFrame:
    """For every two steps (earlier, later) and every group of `by` (one row when empty): each step summed
    over the rows that report both, and the share of the group's rows that do. Rows (or the daily
    rollup's partials) are filtered like `kpis.summarize`; the result is sorted by `by`."""
    lazy = kpis.apply_filters(frame.lazy(), date_from=date_from, date_to=date_to, filters=filters)
    partial = is_partial_frame(lazy)
    aggs = [pl.col(ROWS).sum() if partial else pl.len().alias(ROWS)]
    for a, b in _pairs(steps):
        both = pl.col(a).is_not_null() & pl.col(b).is_not_null()
        name = pair_name(a, b)
        matched_rows = pl.col(ROWS).filter(both).sum() if partial else both.sum()
        aggs += [pl.col(a).filter(both).sum().alias(f"{name}:{a}"), pl.col(b).filter(both).sum().alias(f"{name}:{b}"),
                 matched_rows.alias(f"{name}:rows")]
    keys = list(by)
    grouped = lazy.group_by(keys).agg(aggs) if keys else lazy.select(aggs)
    coverages = [kpis.ratio(pl.col(f"{pair_name(a, b)}:rows").cast(pl.Float64), pl.col(ROWS).cast(pl.Float64))
                 .alias(kpis.coverage_name(pair_name(a, b))) for a, b in _pairs(steps)]
    out = grouped.with_columns(coverages).drop([ROWS, *(f"{pair_name(a, b)}:rows" for a, b in _pairs(steps))])
    return (out.sort(keys, nulls_last=True) if keys else out).collect()


def funnel_steps(
    totals: Mapping[str, object], steps: Sequence[str] = FUNNEL_STEPS, *, pairs: Mapping[str, object] | None = None
) -> pl.DataFrame:
    """The funnel of one group from its measure totals (a `summarize` row as a dict) and `pairs`, the
    group's `step_sums` row. Without `pairs` the totals are taken to come from rows that all report every
    step (a funnel typed by hand); from data always pass them.

    Columns (see `STEP_SCHEMA`), one row per step in order:
    - `value`: the measure total, null when not reported;
    - `previous_step`: the last reported step before this one (null for the first);
    - `step_rate`: value / previous reported value, both summed over the rows reporting both (null
      when no row does or the previous is 0); `step_coverage`: the share of the rows they are;
    - `drop_off` = previous − value over those rows (how many did not go on), `drop_off_rate` = 1 − step_rate;
    - `rate_from_first`: value / the first reported step's value, over the rows reporting both.
    """

    def matched(a: str, b: str, a_total: float, b_total: float) -> tuple[float | None, float | None, float | None]:
        if pairs is None:
            return a_total, b_total, 1.0
        name = pair_name(a, b)
        a_sum, b_sum = _number(pairs.get(f"{name}:{a}")), _number(pairs.get(f"{name}:{b}"))
        coverage = _number(pairs.get(kpis.coverage_name(name)))
        if not coverage:  # no row reports both steps: no rate between them
            return None, None, coverage
        return a_sum, b_sum, coverage

    rows = []
    previous_name: str | None = None
    previous_value: float | None = None
    first_name: str | None = None
    first_value: float | None = None
    for name in steps:
        value = _number(totals.get(name))
        reported = value is not None
        row = {
            "step": name, "label": display.label(name), "value": value,
            "reported": reported, "previous_step": previous_name if reported else None,
            "step_rate": None, "drop_off": None, "drop_off_rate": None, "rate_from_first": None,
            "step_coverage": None,
        }
        if reported:
            if previous_name is not None:
                before, now, row["step_coverage"] = matched(previous_name, name, previous_value, value)
                if before is not None and now is not None:
                    row["drop_off"] = before - now
                    if before != 0:
                        row["step_rate"] = now / before
                        row["drop_off_rate"] = 1.0 - row["step_rate"]
            if first_name is None:
                first_name, first_value = name, value
                row["rate_from_first"] = 1.0 if value else None
            else:
                start, now, _ = matched(first_name, name, first_value, value)
                if start and now is not None:
                    row["rate_from_first"] = now / start
            previous_name, previous_value = name, value
        rows.append(row)
    return pl.DataFrame(rows, schema=STEP_SCHEMA)


def step_notes(steps: pl.DataFrame, breakdowns: Sequence[tuple[str, str, pl.DataFrame]]) -> list[str]:
    """'Clicks of impressions: based on 1 of 2 files' for every step rate resting on part of the rows.
    `breakdowns` are (key, plural noun, `step_sums(by=[key])`) as for `kpis.coverage_basis`."""
    notes = []
    for step in steps.filter(pl.col("step_rate").is_not_null()).iter_rows(named=True):
        basis = kpis.coverage_basis(pair_name(step["previous_step"], step["step"]), step["step_coverage"], breakdowns)
        if basis:
            notes.append(f"{step['label']} of {display.label(step['previous_step']).lower()}: {basis}")
    return notes


def funnel_by_group(
    summary: pl.DataFrame, key: str, steps: Sequence[str] = FUNNEL_STEPS, *, pairs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Step rates side by side for every group of a `summarize(by=[key])` result, with `pairs` its
    `step_sums(by=[key])` (see `funnel_steps`).

    One row per group with the step values and `<step>_rate` (fraction of the previous
    reported step, over the rows reporting both) for every step after the first. Null where not reported.
    """
    pair_rows = {} if pairs is None else {r[key]: r for r in pairs.iter_rows(named=True)}
    parts = []
    for row in summary.iter_rows(named=True):
        table = funnel_steps(row, steps, pairs=pair_rows.get(row[key], {}) if pairs is not None else None)
        record: dict[str, object] = {key: row[key]}
        for index, step in enumerate(table.iter_rows(named=True)):
            record[step["step"]] = step["value"]
            if index:
                record[f"{step['step']}_rate"] = step["step_rate"]
        parts.append(record)
    schema = {key: summary.schema.get(key, pl.String)} | {s: pl.Float64 for s in steps}
    schema |= {f"{s}_rate": pl.Float64 for s in steps[1:]}
    return pl.DataFrame(parts, schema=schema)


def stage_rank(stage: str | None) -> tuple[int, str]:
    """Sort key of a stage: the five marketing stages in order, then others by name, then no stage."""
    if stage is None:
        return (len(STAGES) + 1, "")
    folded = stage.strip().lower()
    if folded in STAGES:
        return (STAGES.index(folded), "")
    return (len(STAGES), folded)


def order_stages(stages: Iterable[str | None]) -> list[str | None]:
    """Distinct stages in funnel order (see `stage_rank`)."""
    return sorted(set(stages), key=stage_rank)


def stage_table(summary: pl.DataFrame, column: str = "funnel_stage") -> pl.DataFrame:
    """A `summarize(by=[funnel_stage])` result in funnel order, with `stage_order` (0-based)
    and `is_standard` (one of the five marketing stages). Rows without a stage come last."""
    if summary.is_empty():
        return summary.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("stage_order"), pl.lit(None, dtype=pl.Boolean).alias("is_standard")
        )
    ordered = order_stages(summary.get_column(column).to_list())
    position = {stage: index for index, stage in enumerate(ordered)}
    orders = [position[value] for value in summary.get_column(column).to_list()]
    standard = [value is not None and value.strip().lower() in STAGES for value in summary.get_column(column)]
    return (
        summary.with_columns(
            pl.Series("stage_order", orders, dtype=pl.Int64), pl.Series("is_standard", standard, dtype=pl.Boolean)
        )
        .sort("stage_order")
    )
