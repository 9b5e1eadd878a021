"""Conversion funnel and marketing funnel stages, computed from `summarize` output.

Two views of a funnel:

- **Steps** of one journey: impressions → clicks → leads → conversions. Each step's
  `step_rate` is its value as a fraction of the previous *reported* step (clicks /
  impressions is the CTR, conversions / clicks the conversion rate when leads are not
  reported). A step whose measure is null is "not reported": its value and rates stay
  null, never 0, and the next step is compared with the last step that was reported.
- **Stages** of the marketing funnel (SPEC §2 `funnel_stage`): awareness, interest,
  consideration, action, loyalty, in that order; any other free-text stage is kept
  after them (alphabetically), and rows without a stage come last.

Rates are fractions (0.034), never percents. Pure polars: no streamlit here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import polars as pl

from metrics.display import label

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
}


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number  # NaN counts as not reported


# Step pairs a KPI defines: its coverage-matched value (`summarize` row) is the step rate, so rows that
# report only one of the two steps (organic impressions without clicks) do not dilute it (SPEC §4).
MATCHED_STEP_RATES: dict[tuple[str, str], str] = {("impressions", "clicks"): "ctr", ("clicks", "conversions"): "cvr"}


def funnel_steps(totals: Mapping[str, object], steps: Sequence[str] = FUNNEL_STEPS) -> pl.DataFrame:
    """The funnel of one group from its measure totals (a `summarize` row as a dict).

    Columns (see `STEP_SCHEMA`), one row per step in order:
    - `value`: the measure total, null when not reported;
    - `previous_step`: the last reported step before this one (null for the first);
    - `step_rate`: value / previous reported value (null when either is missing or the
      previous is 0); for the pairs of `MATCHED_STEP_RATES` the KPI of `totals` when it has one;
    - `drop_off` = previous − value (how many did not go on), `drop_off_rate` = 1 − step_rate;
    - `rate_from_first`: value / the first reported step's value.
    """
    rows = []
    previous_name: str | None = None
    previous_value: float | None = None
    first_value: float | None = None
    for name in steps:
        value = _number(totals.get(name))
        reported = value is not None
        row = {
            "step": name, "label": label(name), "value": value,
            "reported": reported, "previous_step": previous_name if reported else None,
            "step_rate": None, "drop_off": None, "drop_off_rate": None, "rate_from_first": None,
        }
        if reported:
            if previous_value is not None:
                row["drop_off"] = previous_value - value
                matched = MATCHED_STEP_RATES.get((previous_name, name))
                if matched in totals:
                    row["step_rate"] = _number(totals[matched])
                elif previous_value != 0:
                    row["step_rate"] = value / previous_value
                if row["step_rate"] is not None:
                    row["drop_off_rate"] = 1.0 - row["step_rate"]
            if first_value is None:
                first_value = value
            if first_value:
                row["rate_from_first"] = value / first_value
            previous_name, previous_value = name, value
        rows.append(row)
    return pl.DataFrame(rows, schema=STEP_SCHEMA)


def funnel_by_group(summary: pl.DataFrame, key: str, steps: Sequence[str] = FUNNEL_STEPS) -> pl.DataFrame:
    """Step rates side by side for every group of a `summarize(by=[key])` result.

    One row per group with the step values and `<step>_rate` (fraction of the previous
    reported step) for every step after the first. Null where not reported.
    """
    parts = []
    for row in summary.iter_rows(named=True):
        table = funnel_steps(row, steps)
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
