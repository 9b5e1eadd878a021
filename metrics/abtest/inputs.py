"""Tables → :class:`ExperimentData`: every input shape of SPEC §5, with units and capping.

* ``from_rows``: one row per unit (or, with ``unit``, per event of a unit) with a 0/1 outcome (a proportion) or a
  numeric value (a mean, e.g. revenue per user);
* ``from_ratio_rows``: a numerator and a denominator per unit row — a user, or a day × ad row of an ads export
  (spend and conversions for CPA, revenue and spend for ROAS, clicks and impressions for CTR);
* ``from_aggregates``: trials and successes per row, summed per variant;
* ``from_summary_rows``: n, mean and sample sd per row, pooled exactly per variant.

With a unit id, rows are first aggregated per unit and arm (a unit converted if any of its rows did; values
and ratio parts are summed); units seen in more than one arm are dropped. Capping (GrowthBook's percentile
capping) then sets per-unit values above the Q-th percentile of the pooled per-unit values (linear
interpolation) to that percentile; for a ratio metric the numerator is capped.

Rows without a variant label are not part of the test and are left out; rows whose outcome cannot be read are
counted per variant (``rows_ignored``, reported as a warning). A column that is not in the table, or a 0/1
outcome that holds other numbers, raises UsageError: the caller picked the wrong column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

import polars as pl

from metrics.abtest.data import Arm, ExperimentData, natural_key
from metrics.abtest.kinds import INPUT_SHAPES, kind_spec
from metrics.abtest.results import AbWarning, Capping
from metrics.abtest.statistics import (
    MetricKind,
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
)
from metrics.errors import UsageError

_TRUE = ("true", "t", "yes", "y")
_FALSE = ("false", "f", "no", "n")
_VARIANT, _UNIT, _Y, _M, _D = "__variant", "__unit", "__y", "__m", "__d"


def infer_metric_kind(frame: pl.DataFrame | pl.LazyFrame, outcome: str) -> MetricKind:
    """"proportion" when every readable outcome is 0/1 (or true/false), else "mean"."""
    frame = _collect(frame)
    _require_columns(frame, [outcome])
    values = outcome_values(frame.get_column(outcome)).drop_nulls()
    if values.len() == 0:
        return "proportion" if frame.schema[outcome] == pl.Boolean else "mean"
    return "proportion" if bool(values.is_in([0.0, 1.0]).all()) else "mean"


def from_rows(frame: pl.DataFrame | pl.LazyFrame, *, variant: str, outcome: str, kind: MetricKind | None = None,
              unit: str | None = None, cap_percentile: float | None = None) -> ExperimentData:
    """User-level rows → one arm per variant label.

    outcome: 0/1, True/False, "true"/"false"/"yes"/"no" (a proportion) or a number (a mean). kind: inferred from
    the values when None; any kind whose statistic adds up per-unit values (``from_sums``); a 0/1 kind with other
    values raises UsageError (use a mean). unit: a unit id column (rows of one unit and arm are aggregated: a 0/1
    outcome by its maximum, values by their sum). cap_percentile: Q in (0, 100] to cap per-unit values (not for a
    0/1 outcome).
    """
    frame = _collect(frame)
    _require_columns(frame, [variant, outcome] + ([unit] if unit else []))
    kind = kind or infer_metric_kind(frame, outcome)
    spec = kind_spec(kind)
    from_sums = getattr(spec.statistic, "from_sums", None)
    if from_sums is None:
        raise ValueError(f"from_rows builds kinds with one value per unit, not {kind!r}; use from_ratio_rows for "
                         "ratios.")
    if spec.zero_one and cap_percentile is not None:
        raise UsageError("Capping applies to numeric values such as revenue, not to a 0/1 outcome; drop "
                         "--cap-percentile or use --value.")
    data = _base(frame, variant, unit, {_Y: outcome})
    if spec.zero_one:
        bad = data.filter(pl.col(_Y).is_not_null() & ~pl.col(_Y).is_in([0.0, 1.0]))
        if bad.height:
            raise UsageError(f"Column {outcome!r} holds values other than 0/1 or true/false (for example "
                             f"{bad.get_column(_Y)[0]:g}); use --value for a numeric metric.")
    data, notes = _units(data, [_Y], unit, how="max" if spec.zero_one else "sum")
    capping = None
    if cap_percentile is not None:
        data, capping = _cap(data, _Y, cap_percentile)
    y = pl.col(_Y)
    grouped = _per_variant(data, _Y, [y.count().alias("n"), y.sum().alias("s"), (y * y).sum().alias("ss")])
    arms = []
    for r in grouped.iter_rows(named=True):
        stat = from_sums(float(r["n"]), float(r["s"] or 0.0), float(r["ss"] or 0.0))
        arms.append(Arm(r["name"], stat, int(r["ignored"])))
    return ExperimentData(arms=tuple(arms), warnings=tuple(notes), capping=capping, metric=outcome)


def from_ratio_rows(frame: pl.DataFrame | pl.LazyFrame, *, variant: str, numerator: str, denominator: str,
                    unit: str | None = None, cap_percentile: float | None = None) -> ExperimentData:
    """Rows with a numerator and a denominator (one unit per row, or per ``unit`` id) → ratio arms:
    Σ numerator / Σ denominator with gbstats' RatioStatistic. A row needs both parts to count.
    cap_percentile caps the per-unit numerator (revenue, spend)."""
    frame = _collect(frame)
    _require_columns(frame, [variant, numerator, denominator] + ([unit] if unit else []))
    data = _base(frame, variant, unit, {_M: numerator, _D: denominator})
    data, notes = _units(data, [_M, _D], unit, how="sum")
    capping = None
    if cap_percentile is not None:
        data, capping = _cap(data, _M, cap_percentile)
    m, d = pl.col(_M), pl.col(_D)
    grouped = _per_variant(data, _M, [m.count().alias("n"), m.sum().alias("m"), (m * m).sum().alias("mm"),
                                         d.sum().alias("d"), (d * d).sum().alias("dd"), (m * d).sum().alias("md")])
    arms = []
    for r in grouped.iter_rows(named=True):
        n = float(r["n"])
        stat = RatioStatistic(
            n=n, numerator=SampleMeanStatistic(n=n, sum=float(r["m"] or 0.0), sum_squares=float(r["mm"] or 0.0)),
            denominator=SampleMeanStatistic(n=n, sum=float(r["d"] or 0.0), sum_squares=float(r["dd"] or 0.0)),
            sum_of_products=float(r["md"] or 0.0))
        arms.append(Arm(r["name"], stat, int(r["ignored"])))
    return ExperimentData(arms=tuple(arms), warnings=tuple(notes), capping=capping,
                          metric=f"{numerator} / {denominator}")


def from_aggregates(frame: pl.DataFrame | pl.LazyFrame, *, variant: str, trials: str,
                    successes: str) -> ExperimentData:
    """Aggregated rows (visitors and conversions per row, e.g. per day) → one proportion arm per variant; rows
    of a variant are summed. A row missing either count is counted in ``rows_ignored``."""
    frame = _collect(frame)
    _require_columns(frame, [variant, trials, successes])
    data = _base(frame, variant, None, {_M: trials, _D: successes})
    grouped = _per_variant(data, _M, [pl.col(_M).sum().alias("n"), pl.col(_D).sum().alias("x")])
    arms = tuple(Arm(r["name"], ProportionStatistic(n=float(r["n"] or 0.0), sum=float(r["x"] or 0.0)),
                     int(r["ignored"])) for r in grouped.iter_rows(named=True))
    return ExperimentData(arms=arms, metric=f"{successes} / {trials}")


def from_summary_rows(frame: pl.DataFrame | pl.LazyFrame, *, variant: str, n: str, mean: str,
                      sd: str) -> ExperimentData:
    """Summary statistics per row (n, mean, sample sd) → one mean arm per variant, several rows of a variant
    pooled exactly (their sums and sums of squares add). A row missing n or mean is counted in ``rows_ignored``;
    a missing sd counts as 0."""
    frame = _collect(frame)
    _require_columns(frame, [variant, n, mean, sd])
    data = _base(frame, variant, None, {"__n": n, _Y: mean}).with_columns(
        outcome_values(frame.get_column(sd)).alias("__sd"))
    nn, mm, sdv = pl.col("__n"), pl.col(_Y), pl.col("__sd").fill_null(0.0)
    grouped = _per_variant(data, _Y, [nn.sum().alias("n"), (nn * mm).sum().alias("s"),
                                         (pl.max_horizontal(nn - 1, 0) * sdv * sdv + nn * mm * mm).sum().alias("ss")])
    arms = tuple(Arm(r["name"], SampleMeanStatistic(n=float(r["n"] or 0.0), sum=float(r["s"] or 0.0),
                                                    sum_squares=float(r["ss"] or 0.0)), int(r["ignored"]))
                 for r in grouped.iter_rows(named=True))
    return ExperimentData(arms=arms, metric=mean)


#: A builder per input shape of ``kinds.INPUT_SHAPES``, called with the shape's roles as keywords (and ``unit``
#: and ``cap_percentile`` for a shape with a row per unit).
BUILDERS: dict[str, Callable[..., ExperimentData]] = {
    "converted": partial(from_rows, kind="proportion"),
    "value": partial(from_rows, kind="mean"),
    "ratio": from_ratio_rows,
    "aggregated": from_aggregates,
    "summary": from_summary_rows,
}


def build(frame: pl.DataFrame | pl.LazyFrame, *, shape: str, variant: str, columns: dict[str, str],
          unit: str | None = None, cap_percentile: float | None = None) -> ExperimentData:
    """One entry for every shape of ``kinds.INPUT_SHAPES`` (``columns``: role → column), so the command line and
    the page build the same arms from the same choices. A unit or capping on a shape without per-unit rows raises
    UsageError."""
    declared = INPUT_SHAPES.get(shape)
    if declared is None:
        raise ValueError(f"Unknown input shape {shape!r}; use one of {', '.join(INPUT_SHAPES)}.")
    if unit and not declared.per_unit:
        raise UsageError("A unit id combines rows of one unit, so it needs per-unit rows (a 0/1 outcome, a value "
                         "or a ratio), not totals or summary statistics.")
    if cap_percentile is not None and not declared.cappable:
        raise UsageError("Capping applies to numeric values such as revenue, not to a 0/1 outcome; drop "
                         "--cap-percentile or use --value." if kind_spec(declared.kind).zero_one else
                         "Capping needs a value per unit (a value or a ratio), not totals or summary statistics.")
    options = {"unit": unit, "cap_percentile": cap_percentile} if declared.per_unit else {}
    return BUILDERS[shape](frame, variant=variant, **{role.name: columns[role.name] for role in declared.roles},
                           **options)


# ---------------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------------


def outcome_values(column: pl.Series) -> pl.Series:
    """A column as Float64: booleans and "true"/"false"/"yes"/"no" text as 1/0, numbers as themselves, numbers
    written as text read like uploads (decimal comma, thousands separators); unreadable, NaN or infinite → null."""
    dtype = column.dtype
    if dtype == pl.Boolean or dtype.is_numeric():
        values = column.cast(pl.Float64)
    elif dtype in (pl.String, pl.Categorical, pl.Enum):
        from metrics.ingest.table import parse_numbers

        text = column.cast(pl.String).str.strip_chars().str.to_lowercase()
        words = pl.DataFrame({"t": text}).select(pl.when(pl.col("t").is_in(_TRUE)).then(1.0)
                                                 .when(pl.col("t").is_in(_FALSE)).then(0.0)).to_series()
        values = words.fill_null(parse_numbers(column))
    else:
        values = pl.Series([None] * len(column), dtype=pl.Float64)
    return pl.DataFrame({"v": values}).select(
        pl.when(pl.col("v").is_finite()).then(pl.col("v")).alias(column.name)).to_series()


def _variant_labels(column: pl.Series) -> pl.Series:
    """Variant labels as text; whole floats lose their ".0" (a Promotion column read as Float64 still gives
    labels "1", "2", "3", which is what people type for --control)."""
    if column.dtype.is_float():
        whole = column.is_finite() & (column == column.round(0))
        text = pl.DataFrame({"v": column}).select(
            pl.when(whole).then(pl.col("v").cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(pl.col("v").cast(pl.String))).to_series()
    else:
        text = column.cast(pl.String)
    return text.str.strip_chars()


def _base(frame: pl.DataFrame, variant: str, unit: str | None, values: dict[str, str]) -> pl.DataFrame:
    """The variant label, the unit id (if any) and the value columns (``values``: internal name → input column)
    read as numbers. Rows without a variant label are not part of the test and are left out; a row missing any
    value is unreadable: all its values are null, so it is counted as ignored and never half-used."""
    columns = [_variant_labels(frame.get_column(variant)).alias(_VARIANT)]
    if unit:
        columns.append(frame.get_column(unit).alias(_UNIT))
    columns += [outcome_values(frame.get_column(source)).alias(name) for name, source in values.items()]
    data = pl.DataFrame(columns)
    readable = pl.all_horizontal([pl.col(name).is_not_null() for name in values])
    return (data.filter(pl.col(_VARIANT).is_not_null() & (pl.col(_VARIANT) != ""))
            .with_columns([pl.when(readable).then(pl.col(name)).alias(name) for name in values]))


def _require_columns(frame: pl.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(f"Column {missing[0]!r} is not in the data; available columns: "
                         f"{', '.join(repr(c) for c in frame.columns)}.")


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


# ---------------------------------------------------------------------------------------------------------------
# Units and capping
# ---------------------------------------------------------------------------------------------------------------


def _units(data: pl.DataFrame, values: list[str], unit: str | None,
           how: str) -> tuple[pl.DataFrame, list[AbWarning]]:
    """With a unit id: one row per unit and arm (``how`` = "max" for a 0/1 outcome, "sum" for values and ratio
    parts) over the unit's readable rows, units in several arms dropped. Rows that are not readable stay, as
    rows of their own, so they are counted as ignored. Without a unit id the rows are the units."""
    if not unit:
        return data, []
    notes: list[AbWarning] = []
    missing = data.filter(pl.col(_UNIT).is_null()).height
    if missing:
        notes.append(AbWarning("missing_unit_id", f"{missing:,} rows have no unit id and were left out.",
                               count=missing))
    data = data.filter(pl.col(_UNIT).is_not_null())
    per_unit = data.group_by(_UNIT).agg(pl.len().alias("rows"), pl.col(_VARIANT).n_unique().alias("arms"))
    repeated = per_unit.filter(pl.col("rows") > 1).height
    crossing = per_unit.filter(pl.col("arms") > 1).select(_UNIT)
    if repeated:
        combined = ("a unit converted if any of its rows did" if how == "max" else
                    "their values summed" if len(values) == 1 else "their numerators and denominators summed")
        notes.append(AbWarning("repeated_units", f"{repeated:,} units have more than one row; each was counted "
                               f"once ({combined}).", count=repeated))
    if crossing.height:
        notes.append(AbWarning("units_in_several_arms", f"{crossing.height:,} units appear in more than one "
                               "variant and were left out; a unit must see one variant only, so check the "
                               "assignment.", count=crossing.height))
        data = data.join(crossing, on=_UNIT, how="anti")
    valid = pl.col(values[0]).is_not_null()
    readable = data.filter(valid)
    aggregate = [getattr(pl.col(v), how)().alias(v) for v in values]
    units = readable.group_by(_UNIT, _VARIANT).agg(aggregate)
    # Unreadable rows of a unit that also has readable rows are part of that unit, not ignored rows.
    unreadable = data.filter(~valid).join(units.select(_UNIT), on=_UNIT, how="anti")
    return pl.concat([units.select(data.columns), unreadable.select(data.columns)]), notes


def _cap(data: pl.DataFrame, column: str, percentile: float) -> tuple[pl.DataFrame, Capping]:
    """Winsorise ``column`` at the ``percentile``-th percentile (0 < Q ≤ 100, linear interpolation) of its
    pooled values."""
    if not 0 < percentile <= 100:
        raise UsageError(f"The capping percentile must be above 0 and at most 100, for example 99; got "
                         f"{percentile:g}.")
    values = data.get_column(column).drop_nulls()
    if values.len() == 0:
        return data, Capping(percentile=float(percentile), value=float("nan"), units=0)
    cap = float(values.quantile(percentile / 100, interpolation="linear"))
    capped = int((values > cap).sum())
    data = data.with_columns(pl.when(pl.col(column) > cap).then(cap).otherwise(pl.col(column)).alias(column))
    return data, Capping(percentile=float(percentile), value=cap, units=capped)


def _per_variant(data: pl.DataFrame, value: str, aggregations: list[pl.Expr]) -> pl.DataFrame:
    """``aggregations`` per variant (unreadable rows have null values, so sums and counts skip them), plus
    ``ignored``: the variant's unreadable rows (a null ``value``). Sorted in natural order."""
    grouped = data.group_by(pl.col(_VARIANT).alias("name")).agg(
        *aggregations, pl.col(value).null_count().alias("ignored"))
    order = sorted(grouped.get_column("name").to_list(), key=natural_key)
    # The order's dtype is the names' own: an empty list would be a null column no join accepts.
    ranks = pl.DataFrame({"name": pl.Series(order, dtype=grouped.schema["name"]), "__order": range(len(order))})
    return grouped.join(ranks, on="name").sort("__order")
