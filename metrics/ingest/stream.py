"""Canonical rows summed by date and dimension, streamed from a plain text file (the report command).

`metrics.ingest.load_path_summed(path)` returns the canonical rows of `load_path(path)` as partial sums per
date, dimension values and reported measures (`metrics.partials`: `MASK`, `ROWS`) with the same report: what
`kpis.summarize` reads exactly like the rows themselves, for every grouping by date and dimensions. When the file is *plain* it is read in one
streaming pass that never holds its rows: the reader types every mapped measure (Float64) and the date (Date)
from the sample, and nothing needs a row-level decision — no cell to reject, no blank or total row, no "All"
or undated campaign row (possible subtotals), no dimension value to strip or blank out, no platform name to
rewrite, a currency column with one clean code and no gaps. The same pass groups by the text columns those
decisions read, so whether the file was plain is known from the sums; if not, they are dropped and the file
is loaded in full (`load_path`) and summed: slower, never different.

Each condition mirrors a step of `normalize.build_canonical`; tests compare both paths on every fixture.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from metrics import schema
from metrics.ingest import clean, normalize, sniff, text
from metrics.ingest.catalog import Family
from metrics.ingest.families import ColumnPlan, MappingPlan
from metrics.ingest.normalize import col_name
from metrics.ingest.report import FileReport, Issue
from metrics.partials import BIT, MASK, ROWS, has_all, is_partial_frame, presence_mask

_BAD, _BLANK = "__bad", "__blank"
# A summed row per date, dimension values, source file and reported measures (MASK).
SUM_KEYS: tuple[str, ...] = (*schema.DIMENSIONS, schema.SOURCE_FILE.name)


@dataclass(frozen=True)
class TextSetup:
    """What the first 64 KB of a text file say: encoding, layout, export family, mapping, the report so far."""

    encoding: sniff.Encoding
    sniffed: sniff.Sniff
    family: Family
    plan: MappingPlan
    report: FileReport


@dataclass(frozen=True)
class SummedLoad:
    """Canonical rows summed by `SUM_KEYS` and `MASK` (a partial frame: `ROWS` rows each, a measure null where
    its rows do not report it)."""

    frame: pl.DataFrame
    report: FileReport
    streamed: bool  # read in one streaming pass (False: loaded in full, then summed)


def summed(rows: pl.DataFrame | pl.LazyFrame, keys: list[str] | None = None, counts: tuple[str, ...] = ()
           ) -> pl.LazyFrame:
    """Canonical rows (or partial sums of them) summed by `keys` and `MASK`, in one query (so that it streams);
    `counts` are boolean columns counted too.

    `metrics.partials.partials` gives the same sums as two queries (flows, and stocks per series and day):
    with `keys` including date, platform and campaign a stock is summed per series and day here as well.
    """
    rows = rows.lazy()
    names = rows.collect_schema().names()
    measures = [m for m in schema.MEASURES if m in names]  # the others are added as nulls by the caller
    pre_summed = is_partial_frame(rows)
    if not pre_summed:
        rows = rows.with_columns(presence_mask(measures))
    count = pl.col(ROWS).sum() if pre_summed else pl.len()
    grouped = rows.group_by([*(keys or SUM_KEYS), MASK]).agg(
        *[pl.col(m).sum() for m in measures], count.cast(pl.Int64).alias(ROWS), *[pl.col(c).sum() for c in counts])
    # Within one mask a measure is reported by every row or by none: null for none (on the sums, not per row).
    return grouped.with_columns([pl.when(has_all(BIT[m])).then(pl.col(m)).alias(m) for m in measures])


def finish_sums(sums: pl.DataFrame) -> pl.DataFrame:
    """The canonical columns, in order, then `MASK` and `ROWS`."""
    return sums.select([*schema.CANONICAL_SCHEMA, MASK, ROWS]).cast(schema.CANONICAL_SCHEMA)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Columns:
    measures: list[tuple[str, ColumnPlan]]  # canonical measure, its source column
    date: ColumnPlan
    labels: list[str]  # text source columns that may hold a total label (not dimensions themselves)


def sum_plain(source: Path, setup: TextSetup) -> SummedLoad | None:
    """The sums and the report of a plain file from one streaming pass; None when the file is not plain."""
    table = text.plan_scan(source, setup.sniffed, setup.encoding, setup.plan)
    columns = _typed_columns(table, setup.plan)
    if columns is None:
        return None
    raw = text.scan_table(table, setup.sniffed, table.typed, row_index=False)
    raw_schema = pl.DataFrame(schema=raw.collect_schema())  # what normalize's helpers read column types from
    if _plain_report(_sample_sums(table, columns, setup), raw_schema, columns, setup, []) is None:
        return None  # the first or last lines already show a total row, a name to clean, ...: no wasted pass
    rows, constants, engagement_notes = _canonical_rows(raw, raw_schema, columns, table, setup)
    # Grouped by the columns read; the constant ones (a literal platform, the file's name) are added after.
    keys = [c for c in rows.collect_schema().names() if c in SUM_KEYS or c in columns.labels]
    try:
        sums = summed(rows, keys, counts=(_BAD, _BLANK)).with_columns(constants).collect()
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
        return None  # a typed cell that does not parse: the full loader reads the column as text
    report = _plain_report(sums, raw_schema, columns, setup, engagement_notes)
    if report is None:
        return None
    return SummedLoad(finish_sums(summed(sums.drop(columns.labels)).collect()), report, streamed=True)


def _sample_sums(table: text.TableScan, columns: _Columns, setup: TextSetup) -> pl.DataFrame:
    """The sampled first and last lines shaped like the sums (one row each), for the same checks."""
    plan = setup.plan
    lines = [*setup.sniffed.sample_rows, *text.tail_rows(table.source, setup.sniffed.delimiter)]

    def cells(index: int) -> list[str | None]:
        return [row[index] if index < len(row) and row[index] != "" else None for row in lines]

    named = {d: col_name(plan.by_canonical(d)[0].index) for d in schema.DIMENSIONS if plan.by_canonical(d)}
    sample = {d: cells(int(source[1:])) for d, source in named.items()}
    sample |= {label: cells(int(label[1:])) for label in columns.labels}
    return pl.DataFrame({**sample, ROWS: [1] * len(lines), _BAD: [0] * len(lines), _BLANK: [0] * len(lines)},
                        schema={**{c: pl.String for c in sample}, ROWS: pl.Int64, _BAD: pl.Int64, _BLANK: pl.Int64}
                        ).with_columns([pl.lit(None, pl.String).alias(d) for d in schema.DIMENSIONS if d not in sample])


def _typed_columns(table: text.TableScan, plan: MappingPlan) -> _Columns | None:
    """The measures and the date when the reader types them all (no text to clean, no Meta results to route)."""
    if plan.results is not None and plan.result_type is not None:
        return None
    measures = [(m, plan.by_canonical(m)[0]) for m in schema.MEASURES if plan.by_canonical(m)]
    dates = plan.by_canonical("date")
    # Typed only when the sampled rows show ISO dates: the file has dates, so the full loader's handling of a
    # file without any (the report period above the table, or the "no dates" note) never applies here.
    if not dates or table.typed.get(dates[0].index) != pl.Date:
        return None
    if any(table.typed.get(c.index) != pl.Float64 for _, c in measures):
        return None
    read = [col_name(i) for i in table.needed]
    dimensions = set(normalize.dimension_sources(plan))
    labels = [c for c in normalize.label_candidates(read, plan, [col_name(j) for j in table.scan])
              if c not in dimensions and table.typed.get(int(c[1:]), pl.String) == pl.String]
    return _Columns(measures, dates[0], labels)


def _canonical_rows(raw: pl.LazyFrame, raw_schema: pl.DataFrame, columns: _Columns, table: text.TableScan,
                    setup: TextSetup) -> tuple[pl.LazyFrame, list[pl.Expr], list[Issue]]:
    """The canonical rows as `build_canonical` makes them from a plain file (plainness is checked on the sums),
    with the total-label columns and the bad and blank flags; the canonical columns that are the same in every
    row; the note on derived engagements."""
    plan, family, report = setup.plan, setup.family, setup.report
    exprs = [clean.typed_measure_cells(col_name(c.index), c.header, True, allow_negative=c.net).value.alias(m)
             for m, c in columns.measures]
    exprs.append(clean.typed_date_cells(col_name(columns.date.index), pl.Date).value.alias("date"))
    # Distinct values that need no cleaning: dimensions pass through (checked against the real ones later).
    untouched = {name: pl.Series(name, [], dtype=pl.String) for name in normalize.dimension_sources(plan)}
    normalize.dimension_columns(raw_schema, plan, untouched, exprs)
    bad = [clean.typed_measure_cells(col_name(c.index), c.header, True, allow_negative=c.net).bad
           for _, c in columns.measures]
    read = [col_name(i) for i in table.needed]
    rows = raw.select(*exprs, *columns.labels,
                      (pl.any_horizontal(bad).fill_null(False) if bad else pl.lit(False)).alias(_BAD),
                      pl.all_horizontal([pl.col(c).is_null() for c in read]).alias(_BLANK))
    names = rows.collect_schema().names()
    engagements, engagement_notes = normalize.derived_engagements(names)
    if engagements is not None:
        rows = rows.with_columns(engagements)
        names.append("engagements")
    constants = [pl.lit(report.name).alias("source_file")]
    if "platform" not in names and family.platform:
        constants.append(pl.lit(family.platform).alias("platform"))
    if "currency" not in names and report.currency:
        constants.append(pl.lit(report.currency).alias("currency"))
    given = {*names, "source_file", *(e.meta.output_name() for e in constants)}
    constants += [pl.lit(None, dtype).alias(n) for n, dtype in schema.CANONICAL_SCHEMA.items() if n not in given]
    return rows, constants, engagement_notes


def _plain_report(sums: pl.DataFrame, raw_schema: pl.DataFrame, columns: _Columns, setup: TextSetup,
                  engagement_notes: list[Issue]) -> FileReport | None:
    """The report `build_canonical` would give, or None when the file needs its row-level treatment."""
    plan, family, report = setup.plan, setup.family, setup.report
    rows = int(sums[ROWS].sum() or 0)
    if rows == 0 or sums.filter(pl.col(_BAD) > 0).height or sums.filter(pl.col(_BLANK) > 0).height:
        return None  # no data rows, rows to reject, or blank rows
    sources = {d: col_name(plan.by_canonical(d)[0].index) for d in schema.DIMENSIONS
               if len(plan.by_canonical(d)) == 1 and d != "date"}
    distinct = {source: sums[d].unique() for d, source in sources.items()}
    distinct |= {label: sums[label].unique() for label in columns.labels}
    if any(not normalize.dimension_expr(raw_schema, source, distinct).meta.eq(pl.col(source))
           for source in sources.values()):
        return None  # a dimension value to strip or blank out
    if any(len(plan.by_canonical(d)) > 1 for d in schema.DIMENSIONS):
        return None  # joined parts (gender and age): their cleaning is not checked here
    read = list(raw_schema.columns)
    for name in normalize.label_candidates(read, plan, columns.labels):
        if name in distinct and (normalize.values_matching(distinct[name], clean.TOTAL_QUALIFIED) is not None
                                 or normalize.values_matching(distinct[name], clean.TOTAL_BARE) is not None):
            return None  # total rows to exclude
    if "campaign" in sources and (
            not sums.filter(pl.col("date").is_null() & pl.col("campaign").is_not_null()).is_empty()
            or normalize.values_matching(distinct[sources["campaign"]], normalize.ALL_CAMPAIGN) is not None):
        return None  # possible subtotal rows

    notes = normalize.date_header_notes(columns.date.header)
    guesses: tuple = ()
    if "platform" in sources:
        values = distinct[sources["platform"]]
        if any(schema.normalize_platform(v) != v for v in values.drop_nulls().to_list()):
            return None  # platform names to rewrite
        if family.platform and values.null_count():
            return None  # empty platform cells to fill with the family's
        rows_by_value = dict(sums.group_by("platform").agg(pl.col(ROWS).sum()).iter_rows())
        guesses, guess_notes = normalize.platform_guesses(
            values.to_list(), lambda chosen: {v: rows_by_value.get(v, 0) for v in chosen},
            plan.by_canonical("platform")[0].header)
        notes += guess_notes
    currency, currency_source = report.currency, report.currency_source
    if "currency" in sources:
        codes = distinct[sources["currency"]]
        if codes.len() != 1 or codes.null_count() or codes.str.strip_chars().str.to_uppercase()[0] != codes[0]:
            return None  # gaps, several currencies or a code to rewrite: the first rows decide (full loader)
        first_rows = pl.DataFrame({"currency": codes, "count": [rows]})
        currency, currency_source, currency_notes = normalize.file_currency(first_rows, currency, currency_source)
        notes += currency_notes
    notes += engagement_notes
    return dataclasses.replace(
        report, rows_read=rows, rows_loaded=rows, issues=(*report.issues, *notes),
        platform=family.platform, currency=currency, currency_source=currency_source, value_guesses=guesses)
