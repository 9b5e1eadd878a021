"""From a raw table (source columns as read) to the canonical frame plus the report's numbers.

Readers (text, Excel, Parquet) hand over a `RawTable`; `build_canonical` then runs named steps, each
returning values (nothing shared is changed in place):

    drop blank rows → detect (per column: number format and date format from a sample, distinct values)
    → clean (one select: the canonical columns plus per-row total and bad flags)
    → validate (split loaded / rejected / total rows) → exclude totals (and subtotals)
    → finish (platform, currency, engagements, the canonical schema).

Speed: columns polars already typed pass through with range checks; text measures are read with one
pass of literal replacements (`clean.fast_number_expr`) and only the cells that leaves doubtful ("--",
"<5", "(12)", a bad cell) get the full reading (regexes), each distinct one once; text dimensions are
cleaned only when a distinct value needs it. Python only touches the rejected rows that go into the
report (at most 1000).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl

from metrics import schema
from metrics.ingest import clean, results
from metrics.ingest.catalog import Family
from metrics.ingest.families import ColumnPlan, MappingPlan
from metrics.ingest.report import (
    MAX_RAW_CHARS,
    MAX_REJECTED_IN_REPORT,
    CurrencySource,
    FileReport,
    Issue,
    RejectedRow,
    ValueGuess,
)

ROW = "__row"  # 0-based record index after the header, in file order
LINE = "__line"  # optional: 1-based line number supplied by the reader
PARSE_ERROR = "__parse_error"  # optional: reason the reader could not split the row


def col_name(index: int) -> str:
    return f"c{index}"


@dataclass(frozen=True)
class RawTable:
    """Source columns named `c{index}` (any dtype), plus `__row` and optionally `__line`, `__parse_error`.

    `line_of` maps record indices to 1-based lines when there is no `__line` column.
    """

    frame: pl.DataFrame
    line_of: Callable[[list[int]], list[int]]
    default_decimal_comma: bool = False
    read_columns: list[str] = field(default_factory=list)  # c-columns to show in a rejected row's raw text
    raw_separator: str = ","
    header_width: int = 0  # number of columns in the header (for the "too many fields" reason)
    # Unmapped text columns read only to recognise total rows (a label such as "Total: Account" in the
    # keyword column of a Google Ads report) and to see that a bare "Total" row's other cells are empty.
    scan_columns: list[str] = field(default_factory=list)
    notes: tuple[Issue, ...] = ()  # what the reader had to do (a file split line by line)


def normalize_platform_values(values: pl.Series, uniques: pl.Series | None = None) -> pl.Series:
    """Map each distinct value once with `schema.normalize_platform` (cheap on millions of rows).

    `uniques` may be given when known (a superset of the distinct values is fine).
    """
    uniques = (values.unique() if uniques is None else uniques).drop_nulls().to_list()
    lookup = {v: schema.normalize_platform(v) for v in uniques}
    if all(k == v for k, v in lookup.items()):
        return values  # already slugs: nothing to rewrite
    return values.replace_strict(lookup, default=None, return_dtype=pl.String)


def date_header_notes(header: str) -> list[Issue]:
    """A date column named as the start of the reporting period: the file has no day column."""
    n = schema.normalize_header(header)
    starts = any(w in n for w in ("reporting starts", "начала отчет", "начало отчет", "berichtsbeginn",
                                  "début des rapports", "inicio del informe", "início dos relatórios", "start date"))
    if not starts or n == "start date (in utc)":
        return []
    return [Issue("date_from_reporting_start", f"The file has no day column; '{header}' (the start of the reporting "
                  "period) is used as the date.", "info")]


def _blank_rows(frame: pl.DataFrame) -> pl.Expr | None:
    cells = [c for c in frame.columns if c.startswith(("c", "x"))]
    if not cells:
        return None
    # Readers turn empty cells into nulls, so a blank line is a row of nulls.
    blank = pl.all_horizontal([pl.col(c).is_null() for c in cells])
    if PARSE_ERROR in frame.columns:
        blank = blank & pl.col(PARSE_ERROR).is_null()
    return blank


def values_matching(uniques: pl.Series, pattern: str) -> pl.Series | None:
    """The distinct values of a text column matching `pattern` (tested once per distinct value)."""
    hits = uniques.filter(uniques.str.contains(pattern).fill_null(False))
    return hits if hits.len() else None


def dimension_expr(frame: pl.DataFrame, name: str, distinct: dict[str, pl.Series]) -> pl.Expr:
    """A text dimension, stripped, with "" and "--" as null; skipped when no distinct value needs it."""
    if frame.schema[name] != pl.String:
        return clean.text_dimension(name)
    uniques = distinct[name].drop_nulls()
    needs_cleaning = (uniques.str.strip_chars() != uniques).any() or uniques.is_in(["", "--", "—", "(not set)"]).any()
    return clean.text_dimension(name) if needs_cleaning else pl.col(name)


def _few_distinct(column: pl.Series) -> pl.Series | None:
    """The distinct non-null values when cleaning them is much cheaper than cleaning every row."""
    uniques = column.drop_nulls().unique()
    return uniques if uniques.len() * 2 <= column.len() else None


def _text_date(frame: pl.DataFrame, name: str, header: str, fmt: clean.DateFormat) -> clean.DateCells:
    """Parse a text date column; dates repeat a lot, so each distinct value is parsed once."""
    uniques = _few_distinct(frame[name])
    if uniques is None:
        return clean.text_date_cells(name, header, fmt)
    cells = clean.text_date_cells("v", header, fmt)
    table = pl.DataFrame({"v": uniques}).select(
        "v", cells.value.alias("value"), cells.bad.alias("bad"), pl.when(cells.bad).then(cells.reason).alias("reason"))
    bad = table.filter("bad")
    return clean.DateCells(
        value=pl.col(name).replace_strict(table["v"], table["value"], default=None, return_dtype=pl.Date),
        bad=pl.col(name).is_in(bad["v"].implode()) if bad.height else pl.lit(False),
        reason=(pl.col(name).replace_strict(bad["v"], bad["reason"], default=None, return_dtype=pl.String)
                if bad.height else pl.lit(None, dtype=pl.String)),
    )


# Dimensions whose cells may hold a total label, or must be empty beside a bare one (currency may be filled).
_LABEL_DIMENSIONS = tuple(d for d in schema.DIMENSIONS if d != "currency")
# Text dimensions, in schema order: several source columns mapped to one (gender and age → audience) are joined.
_TEXT_DIMENSIONS = tuple(d for d in schema.DIMENSIONS if schema.COLUMN_BY_NAME[d].dtype == pl.String)


# Meta's Results and its result type while they are cleaned (routed to measures afterwards).
_RESULTS, _RESULT_TYPE = "__results", "__result_type"


@dataclass(frozen=True)
class _FastMeasure:
    """A text measure read with literal replacements; its doubtful cells are read in full after the select."""

    source: str
    output: str
    header: str
    decimal_comma: bool
    allow_negative: bool
    doubtful: pl.Expr  # per row: the fast reading did not settle the cell

    @property
    def flag(self) -> str:
        return f"__doubtful_{self.output}"


@dataclass
class _RowChecks:
    """Per-row checks collected column by column: a bad cell rejects its row with the first reason.

    `bad` is evaluated in the one select; `reasons` only on the rejected rows' source cells; text
    measures settle their doubtful cells after the select (`_read_doubtful`).
    """

    bad: list[pl.Expr] = field(default_factory=list)
    reasons: list[pl.Expr] = field(default_factory=list)
    fast: list[_FastMeasure] = field(default_factory=list)

    def add(self, bad: pl.Expr, reason: pl.Expr) -> None:
        self.bad.append(bad)
        self.reasons.append(pl.when(bad).then(reason))


@dataclass(frozen=True)
class _Detected:
    """What the columns' values say before anything is converted (decided once per column)."""

    number_formats: dict[str, clean.NumberFormat]  # per text measure column
    has_nan: dict[str, bool]  # per float measure column
    date_format: clean.DateFormat | None  # for a text date column
    distinct: dict[str, pl.Series]  # distinct values of the text columns read for dimensions and total labels
    notes: tuple[Issue, ...]


@dataclass(frozen=True)
class _Staged:
    """The cleaned columns plus per-row flags (`__total`, `__bad`, `__masked`), one row per source row."""

    frame: pl.DataFrame
    reason: pl.Expr  # the first reason a row is bad, evaluated on the source columns of rejected rows only
    counts_masked: bool
    known_values: dict[str, pl.Series]  # distinct values of dimensions passed through unchanged
    notes: tuple[Issue, ...]


@dataclass(frozen=True)
class _Validated:
    loaded: pl.DataFrame
    total_lines: list[int]
    rejected: tuple[RejectedRow, ...]
    rows_read: int
    rows_rejected: int
    masked_cells: int
    notes: tuple[Issue, ...]


def build_canonical(
    raw: RawTable, plan: MappingPlan, family: Family, report: FileReport
) -> tuple[pl.DataFrame, FileReport]:
    """The canonical frame, and `report` completed with counts, rejected rows and issues (a new report).

    Steps: drop blank rows → detect → clean → validate → exclude totals → finish.
    """
    frame, blank_notes = _drop_blank_rows(raw.frame)
    frame = _as_text_where_needed(frame, plan)
    detected = _detect(frame, raw, plan, family)
    staged = _clean(frame, raw, plan, detected)
    validated = _validate(staged, frame, raw)
    loaded, excluded, total_notes = _exclude_totals(validated, raw, staged.known_values.get("campaign"))
    canonical, finished = _finish(loaded, plan, family, report, staged.known_values)
    notes = (*blank_notes, *staged.notes, *detected.notes, *validated.notes, *total_notes, *finished.issues)
    return canonical, dataclasses.replace(
        finished, issues=(*report.issues, *notes), rows_read=validated.rows_read, rows_loaded=loaded.height,
        rows_rejected=validated.rows_rejected, rows_excluded=excluded, rejected=validated.rejected,
        masked_cells=validated.masked_cells)


# ------------------------------------------------------------------------------------------ read


def _drop_blank_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, tuple[Issue, ...]]:
    blank = _blank_rows(frame)
    if blank is None:
        return frame, ()
    blank_rows = int(frame.select(blank.sum()).item() or 0)
    if blank_rows:
        return frame.filter(~blank), (Issue("blank_rows_skipped", f"{blank_rows} blank row(s) were skipped.", "info"),)
    return frame, ()


def _as_text_where_needed(frame: pl.DataFrame, plan: MappingPlan) -> pl.DataFrame:
    """Measure cells that are neither numbers nor text (booleans, dates...) and date cells that are neither
    dates nor text are judged as text."""
    measures = [plan.results] if plan.results is not None and plan.result_type is not None else []
    measures += [plan.by_canonical(m)[0] for m in schema.MEASURES if plan.by_canonical(m)]
    casts = [pl.col(col_name(c.index)).cast(pl.String) for c in measures
             if not frame.schema[col_name(c.index)].is_numeric() and frame.schema[col_name(c.index)] != pl.String]
    dates = plan.by_canonical("date")
    if dates:
        dtype = frame.schema[col_name(dates[0].index)]
        if dtype not in (pl.Date, pl.String) and not isinstance(dtype, pl.Datetime):
            casts.append(pl.col(col_name(dates[0].index)).cast(pl.String))
    return frame.with_columns(casts) if casts else frame


# ------------------------------------------------------------------------------------------ detect


def _detect(frame: pl.DataFrame, raw: RawTable, plan: MappingPlan, family: Family) -> _Detected:
    """Per column, from its values: the decimal mark of text measures, the date format, distinct values."""
    sources = list(dict.fromkeys(col_name(c.index) for c in _measure_columns(plan)))
    number_formats = {name: clean.detect_number_format(frame[name].drop_nulls().head(20_000), raw.default_decimal_comma)
                      for name in sources if frame.schema[name] == pl.String}
    floats = [name for name in sources if frame.schema[name].is_float()]
    has_nan = frame.select([pl.col(n).is_nan().any() for n in floats]).row(0, named=True) if floats else {}
    date_format, notes = None, []
    dates = plan.by_canonical("date")
    if dates and frame.schema[col_name(dates[0].index)] == pl.String:
        header = dates[0].header
        date_format = clean.detect_date_format(frame[col_name(dates[0].index)], family.month_first_dates)
        if date_format.ambiguous:
            order = "month first (MM/DD)" if date_format.formats[0].startswith("%m") else "day first (DD/MM)"
            notes.append(Issue("ambiguous_dates", f"Dates in '{header}' could be read either way; they were "
                               f"read {order}.", "warning"))
        notes.extend(_date_format_notes(header, date_format))
    if dates:
        notes.extend(date_header_notes(dates[0].header))
    text_columns = [name for name in dict.fromkeys([*dimension_sources(plan), *label_candidates(frame.columns, plan, raw.scan_columns)])
                    if frame.schema[name] == pl.String]
    # One select: polars finds the distinct values of all columns in parallel.
    found = frame.select([pl.col(n).unique().implode() for n in text_columns])
    distinct = {name: found[name][0] for name in text_columns}
    return _Detected(number_formats, has_nan, date_format, distinct, tuple(notes))


def _measure_columns(plan: MappingPlan) -> list[ColumnPlan]:
    """The source column of each measure, then Meta's Results (read per row by result type)."""
    columns = [plan.by_canonical(m)[0] for m in schema.MEASURES if plan.by_canonical(m)]
    if plan.results is not None and plan.result_type is not None:
        columns.append(plan.results)
    return columns


def dimension_sources(plan: MappingPlan) -> list[str]:
    return [col_name(c.index) for d in _TEXT_DIMENSIONS for c in plan.by_canonical(d)]


def label_candidates(columns: Iterable[str], plan: MappingPlan, scan_columns: Iterable[str]) -> list[str]:
    """Columns read that may hold a total label: the first column, the label dimensions, the scanned text columns."""
    dimensions = [col_name(c.index) for c in plan.columns if c.canonical in _LABEL_DIMENSIONS]
    measures = {col_name(c.index) for c in plan.columns if c.canonical in schema.MEASURES}
    read = set(columns)
    return [c for c in dict.fromkeys([col_name(0), *dimensions, *scan_columns]) if c in read and c not in measures]


# ------------------------------------------------------------------------------------------ clean


def _clean(frame: pl.DataFrame, raw: RawTable, plan: MappingPlan, detected: _Detected) -> _Staged:
    """One select: every canonical column cleaned, plus the per-row total and bad flags.

    Text measures are read with literal replacements only; the few cells that reading leaves doubtful
    ("--", "<5", "(12)", a bad cell) are then read in full, each distinct one once.
    """
    checks = _RowChecks()
    _reader_problems(frame, raw, checks)
    exprs: list[pl.Expr] = []
    for canonical in schema.MEASURES:
        columns = plan.by_canonical(canonical)
        if columns:
            exprs.append(_measure(frame, columns[0], canonical, detected, checks))
    routes_results = plan.results is not None and plan.result_type is not None
    if routes_results:
        exprs.append(_measure(frame, plan.results, _RESULTS, detected, checks))  # type: ignore[arg-type]
        exprs.append(pl.col(col_name(plan.result_type.index)).alias(_RESULT_TYPE))  # type: ignore[union-attr]
    dates = plan.by_canonical("date")
    if dates:
        exprs.append(_date_cells(frame, dates[0], detected, checks).value.alias("date"))
    known_values = dimension_columns(frame, plan, detected.distinct, exprs)
    qualified, bare = _total_rows(frame, plan, raw, detected.distinct)

    bad_any = pl.any_horizontal(checks.bad).fill_null(False) if checks.bad else pl.lit(False)
    extra_meta = [LINE] if LINE in frame.columns else []
    # Lazy, so that each fast reading is computed once for its value and its doubtful flag.
    staged = frame.lazy().select(
        pl.col(ROW), *[pl.col(m) for m in extra_meta], *exprs, *[f.doubtful.alias(f.flag) for f in checks.fast],
        qualified.alias("__total"), (bare if bare is not None else pl.lit(False)).alias("__bare"),
        bad_any.alias("__bad")).collect()
    staged, counts_masked = _read_doubtful(staged, frame, checks.fast)
    notes: list[Issue] = []
    if routes_results:
        staged, notes = _route_results(staged, plan)
    if bare is not None:
        compared = [c.canonical for c in plan.columns if c.canonical in schema.MEASURES and not c.net]
        staged = _confirm_bare_totals(staged, compared)
    reason = pl.coalesce(checks.reasons) if checks.reasons else pl.lit(None, dtype=pl.String)
    return _Staged(staged.drop("__bare"), reason, counts_masked, known_values, tuple(notes))


def _reader_problems(frame: pl.DataFrame, raw: RawTable, checks: _RowChecks) -> None:
    """Rows the reader could not split, or with more fields than the header."""
    if PARSE_ERROR in frame.columns:
        checks.add(pl.col(PARSE_ERROR).is_not_null(), pl.col(PARSE_ERROR))
    extras = [c for c in frame.columns if c.startswith("x")]
    if extras:
        has_extra = pl.any_horizontal([pl.col(x).is_not_null() for x in extras])
        checks.add(has_extra, pl.lit(f"the row has more fields than the header ({raw.header_width} columns)"))


def _measure(frame: pl.DataFrame, column: ColumnPlan, output: str, detected: _Detected, checks: _RowChecks
             ) -> pl.Expr:
    """The value of one measure column, its checks added to `checks` (typed columns: range checks only)."""
    name = col_name(column.index)
    if frame.schema[name].is_numeric():
        cells = clean.typed_measure_cells(name, column.header, detected.has_nan.get(name, False),
                                          allow_negative=column.net)
        checks.add(cells.bad, cells.reason)
        return cells.value.alias(output)
    number_format = detected.number_formats[name]
    full = clean.text_measure_cells(name, column.header, number_format.decimal_comma, column.net)
    checks.reasons.append(pl.when(full.bad).then(full.reason))
    value = clean.fast_number_expr(pl.col(name), number_format)
    checks.fast.append(_FastMeasure(name, output, column.header, number_format.decimal_comma, column.net,
                                    clean.needs_full_reading(pl.col(name), value, column.net)))
    return value.alias(output)


def _read_doubtful(staged: pl.DataFrame, frame: pl.DataFrame, fast: list[_FastMeasure]) -> tuple[pl.DataFrame, bool]:
    """Read the cells the fast reading left doubtful in full; set their values and the rows' bad and masked flags.

    Returns the frame (flags dropped, `__masked` added when a cell is masked) and whether any cell is masked.
    """
    if not fast:
        return staged, False
    counts = staged.select([pl.col(f.flag).sum() for f in fast]).row(0)
    values: list[pl.Series] = []
    bad: list[pl.Series] = []
    masked: list[pl.Series] = []
    for f, count in zip(fast, counts, strict=True):
        if not count:
            continue
        rows = staged[f.flag].arg_true()
        full = clean.read_measure_cells(frame[f.source].gather(rows), f.header, f.decimal_comma, f.allow_negative)
        values.append(staged[f.output].scatter(rows, full["value"]))
        if full["bad"].any():
            bad.append(_flags_at(staged.height, rows, full["bad"]))
        if full["masked"].any():
            masked.append(_flags_at(staged.height, rows, full["masked"]).cast(pl.UInt32))
    updates: list[pl.Expr | pl.Series] = [*values]
    if bad:
        updates.append((pl.col("__bad") | pl.any_horizontal(bad)).alias("__bad"))
    if masked:
        updates.append(pl.sum_horizontal(masked).alias("__masked"))
    staged = staged.with_columns(updates) if updates else staged
    return staged.drop([f.flag for f in fast]), bool(masked)


def _flags_at(height: int, rows: pl.Series, flags: pl.Series) -> pl.Series:
    """A column of `height` False values with `flags` at positions `rows`."""
    return pl.repeat(False, height, dtype=pl.Boolean, eager=True).scatter(rows, flags.fill_null(False))


def _route_results(staged: pl.DataFrame, plan: MappingPlan) -> tuple[pl.DataFrame, list[Issue]]:
    """Meta Results, routed per row by result type (results.py)."""
    explicit = {kind: plan.by_canonical(kind)[0].header for kind in results.KINDS if plan.by_canonical(kind)}
    routed, notes = results.route_results(staged, pl.col(_RESULTS), _RESULT_TYPE, explicit)
    staged = staged.with_columns(routed).drop(_RESULTS, _RESULT_TYPE)
    return staged, [Issue(code, message, severity) for code, message, severity in notes]  # type: ignore[arg-type]


def _date_cells(frame: pl.DataFrame, column: ColumnPlan, detected: _Detected, checks: _RowChecks) -> clean.DateCells:
    name = col_name(column.index)
    if detected.date_format is None:
        return clean.typed_date_cells(name, frame.schema[name])
    cells = _text_date(frame, name, column.header, detected.date_format)
    checks.add(cells.bad, cells.reason)
    return cells


# ------------------------------------------------------------------------------------------ validate


def _validate(staged: _Staged, frame: pl.DataFrame, raw: RawTable) -> _Validated:
    """Split the rows: loaded, rejected (with line and reason, at most 1000 listed) and total rows."""
    rows = staged.frame
    flags = rows.select(pl.col("__total").sum().alias("t"), (pl.col("__bad") & ~pl.col("__total")).sum().alias("b"))
    n_total, n_bad = int(flags["t"][0] or 0), int(flags["b"][0] or 0)
    notes: list[Issue] = []
    rejected: tuple[RejectedRow, ...] = ()
    if n_total or n_bad:
        totals = rows.filter(pl.col("__total"))
        loaded = rows.filter(~pl.col("__total") & ~pl.col("__bad"))
        rejected_mask = rows.select(~pl.col("__total") & pl.col("__bad")).to_series()
        if n_bad:
            rejected = _rejected_rows(_rejected_sources(frame.filter(rejected_mask), raw, staged.reason), raw)
            first = rejected[0]
            notes.append(Issue("rows_rejected", f"{n_bad} row(s) could not be read and were left out; the first "
                               f"is line {first.line}: {first.reason[:-1]}.", "warning"))
    else:
        totals = rows.clear()
        loaded = rows
    masked_cells = int(loaded["__masked"].sum() or 0) if staged.counts_masked else 0
    if masked_cells:
        notes.append(Issue("masked_values", f"{masked_cells} cell(s) were masked by the platform (such as '<5') and "
                           "are treated as not reported.", "info"))
    return _Validated(loaded.drop("__total", "__bad", "__masked", strict=False), _lines(totals.sort(ROW), raw) if n_total else [],
                      rejected, rows.height, n_bad, masked_cells, tuple(notes))


def _rejected_sources(source: pl.DataFrame, raw: RawTable, reason: pl.Expr) -> pl.DataFrame:
    """The first rejected rows with their reason and their cells as the file wrote them."""
    keep_for_raw = [c for c in raw.read_columns if c in source.columns]
    raw_text = (pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in keep_for_raw],
                              separator=raw.raw_separator) if keep_for_raw else pl.lit(""))
    extra_meta = [LINE] if LINE in source.columns else []
    return source.head(MAX_REJECTED_IN_REPORT).select(pl.col(ROW), *extra_meta, reason.alias("__reason"),
                                                      raw_text.alias("__raw"))


# ------------------------------------------------------------------------------------------ exclude totals


def _exclude_totals(
    validated: _Validated, raw: RawTable, campaigns: pl.Series | None
) -> tuple[pl.DataFrame, int, tuple[Issue, ...]]:
    """Total rows (found while cleaning) and subtotal rows are not counted; both are listed by line."""
    notes: list[Issue] = []
    lines = validated.total_lines
    if lines:
        shown = ", ".join(str(n) for n in lines[:10]) + (" …" if len(lines) > 10 else "")
        notes.append(Issue("total_rows_excluded", f"{len(lines)} total/summary row(s) (line {shown}) were not "
                           "counted, so totals are not doubled.", "info"))
    loaded, subtotal_count, subtotal_lines = _exclude_subtotals(validated.loaded, raw, campaigns)
    if subtotal_count:
        shown = ", ".join(str(n) for n in subtotal_lines[:10])
        notes.append(Issue("double_counting", f"{subtotal_count} row(s) (line {shown}) repeat the sum of other rows "
                           "of the same campaign (a total without a date, or an 'All' campaign); they were excluded "
                           "so nothing is counted twice.", "warning"))
    return loaded, len(lines) + subtotal_count, tuple(notes)


def _date_format_notes(header: str, fmt: clean.DateFormat) -> list[Issue]:
    if fmt.formats[0] in clean.YEARLESS:
        return [Issue("dates_without_year", f"Dates in '{header}' have no year (such as 'August 31'); each was read "
                      "as the latest such day up to today. Check them if the export is older than a year.",
                      "warning")]
    if fmt.formats == (clean.EXCEL_SERIAL,):
        return [Issue("excel_serial_dates", f"'{header}' holds Excel day numbers (such as 45000); they were read as "
                      "dates.", "info")]
    if fmt.with_times:
        zones = " (some with a UTC offset or time zone)" if fmt.with_zones else ""
        return [Issue("times_of_day_dropped", f"'{header}' holds times of day{zones}; each row counts on the "
                      "calendar day as written, without converting time zones.", "info")]
    return []


def dimension_columns(
    frame: pl.DataFrame, plan: MappingPlan, distinct: dict[str, pl.Series], exprs: list[pl.Expr]
) -> dict[str, pl.Series]:
    """Text dimensions (several source columns joined with a space); returns the distinct values of those
    passed through unchanged."""
    known_values: dict[str, pl.Series] = {}
    for dim in _TEXT_DIMENSIONS:
        names = [col_name(c.index) for c in plan.by_canonical(dim)]
        if len(names) == 1:
            expr = dimension_expr(frame, names[0], distinct)
            exprs.append(expr.alias(dim))
            if names[0] in distinct and expr.meta.eq(pl.col(names[0])):
                known_values[dim] = distinct[names[0]]  # passed through unchanged: same distinct values
        elif names:
            joined = pl.concat_str([dimension_expr(frame, n, distinct) for n in names], separator=" ",
                                   ignore_nulls=True)
            exprs.append(pl.when(joined == "").then(None).otherwise(joined).alias(dim))
    return known_values


def _total_rows(
    frame: pl.DataFrame, plan: MappingPlan, raw: RawTable, distinct: dict[str, pl.Series]
) -> tuple[pl.Expr, pl.Expr | None]:
    """(rows labelled "Total: X" anywhere, rows with a bare total label and their other dimensions empty or None).

    Bare candidates are confirmed by `_confirm_bare_totals`.
    """
    dimensions = [col_name(c.index) for c in plan.columns if c.canonical in _LABEL_DIMENSIONS]
    candidates = label_candidates(frame.columns, plan, raw.scan_columns)
    siblings = [c for c in candidates if c != col_name(0) or c in dimensions or c in raw.scan_columns]
    qualified: list[pl.Expr] = []
    bare: list[pl.Expr] = []
    for name in candidates:
        if frame.schema[name] != pl.String:
            continue
        labelled = values_matching(distinct[name], clean.TOTAL_QUALIFIED)
        if labelled is not None:
            qualified.append(pl.col(name).is_in(labelled.implode()))
        words = values_matching(distinct[name], clean.TOTAL_BARE)
        if words is not None:
            others = [_blank_cell(frame, o) for o in siblings if o != name]
            label = pl.col(name).is_in(words.implode())
            bare.append(label & pl.all_horizontal(others) if others else label)
    return (pl.any_horizontal(qualified).fill_null(False) if qualified else pl.lit(False),
            pl.any_horizontal(bare).fill_null(False) if bare else None)


def _confirm_bare_totals(staged: pl.DataFrame, measures: list[str]) -> pl.DataFrame:
    """A bare "Total" row is a summary only if none of its measures is below a row it would sum.

    The rows it sums are those since the previous such label; for a label before any data (YouTube's
    leading Total row), those up to the next label. A search query or campaign literally named
    "total", with smaller numbers than its neighbours, stays data. Net changes are not compared.
    """
    candidate = (pl.col("__bare") & ~pl.col("__total")).cast(pl.Int64)
    ordered = staged.sort(ROW).with_columns((candidate.cum_sum() - candidate).alias("__block"))
    rows = ordered.filter(~pl.col("__bare") & ~pl.col("__total"))
    maxima = rows.group_by("__block").agg([pl.col(m).max().alias(f"{m}__max") for m in measures])
    before = ordered.join(maxima, on="__block", how="left", maintain_order="left")
    after = ordered.with_columns(pl.col("__block") + 1).join(maxima, on="__block", how="left", maintain_order="left")
    has_before = ordered["__block"].is_in(rows["__block"].unique().implode())
    confirmed = ordered["__bare"] & pl.select(
        pl.when(has_before).then(_not_below(before, measures)).otherwise(_not_below(after, measures))).to_series()
    return ordered.drop("__block").with_columns((pl.col("__total") | confirmed.fill_null(False)).alias("__total"))


def _not_below(joined: pl.DataFrame, measures: list[str]) -> pl.Series:
    """Per row: no measure below the `{m}__max` beside it (nulls compare as true)."""
    checks = [pl.col(m).is_null() | pl.col(f"{m}__max").is_null() | (pl.col(m) >= pl.col(f"{m}__max") * (1 - 1e-9))
              for m in measures]
    return joined.select(pl.all_horizontal(checks) if checks else pl.lit(True)).to_series()


def _blank_cell(frame: pl.DataFrame, name: str) -> pl.Expr:
    if frame.schema[name] != pl.String:
        return pl.col(name).is_null()
    return pl.col(name).is_null() | pl.col(name).str.strip_chars().is_in(list(clean.BLANK_DIMENSION))


def _lines(rows: pl.DataFrame, raw: RawTable) -> list[int]:
    if LINE in rows.columns:
        return rows[LINE].to_list()
    return raw.line_of(rows[ROW].to_list())


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _rejected_rows(rejected: pl.DataFrame, raw: RawTable) -> tuple[RejectedRow, ...]:
    head = rejected.sort(ROW)
    lines = _lines(head, raw)
    return tuple(
        RejectedRow(line, _sentence(reason or "the row could not be read"), (text or "")[:MAX_RAW_CHARS])
        for line, reason, text in zip(lines, head["__reason"].to_list(), head["__raw"].to_list(), strict=True)
    )


# "All" campaigns, and a "Total" campaign beside dated rows: excluded only when the sums match exactly.
ALL_CAMPAIGN = (r"(?i)^\s*(all|all campaigns|все|все кампании|alle|alle kampagnen|todos|todas|toutes|tous|"
                 + "|".join(re.escape(w) for w in clean.TOTAL_WORDS) + r")\s*$")


def _exclude_subtotals(
    loaded: pl.DataFrame, raw: RawTable, campaigns: pl.Series | None = None
) -> tuple[pl.DataFrame, int, list[int]]:
    """Rows that repeat the sum of other rows of the same campaign double count.

    (a) a campaign row without a date next to dated rows of that campaign whose sums match it;
    (b) an "All" campaign row whose measures equal the sum of the other campaigns (per date when dated).
    Only exact matches (to a cent / 1e-6 relative) of at least two rows, with some measure of at least one
    whole unit, are excluded: this must never remove real data.
    """
    measures = [m for m in schema.MEASURES if m in loaded.columns]
    if "campaign" not in loaded.columns or not measures or loaded.height < 2:
        return loaded, 0, []
    has_date = "date" in loaded.columns
    suspects: list[pl.DataFrame] = []

    def matches(sums: pl.DataFrame, cand: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        joined = cand.join(sums, on=keys, how="inner", suffix="__sum")
        if joined.is_empty():
            return joined
        checks = []
        for m in measures:
            v, s = pl.col(m), pl.col(f"{m}__sum")
            checks.append(v.is_null() | ((v - s).abs() <= pl.max_horizontal(pl.lit(0.01), v.abs() * 1e-6)))
        # Evidence of a sum: it adds up at least two rows and some measure is at least one whole unit.
        # Zeros next to zeros, a cent next to nothing, or one row repeated under another name prove nothing.
        evidence = (pl.col("__summed") >= 2) & pl.any_horizontal([pl.col(m).fill_null(0).abs() >= 1 for m in measures])
        return joined.filter(pl.all_horizontal(checks) & evidence)

    sum_exprs = [pl.col(m).sum().alias(f"{m}__sum") for m in measures] + [pl.len().alias("__summed")]
    undated_mask = pl.col("date").is_null() & pl.col("campaign").is_not_null() if has_date else None
    if has_date and loaded.select(undated_mask.any()).item():
        undated = loaded.filter(undated_mask)
        if undated.height:
            dated = loaded.filter(pl.col("date").is_not_null())
            sums = dated.group_by("campaign").agg(sum_exprs)
            suspects.append(matches(sums, undated, ["campaign"]).select(ROW))
    all_values = values_matching(loaded["campaign"].unique() if campaigns is None else campaigns, ALL_CAMPAIGN)
    is_all = pl.col("campaign").is_in(all_values.implode()) if all_values is not None else pl.lit(False)
    all_rows = loaded.filter(is_all) if all_values is not None else loaded.clear()
    if all_rows.height:
        others = loaded.filter(~is_all)
        keys = ["date"] if has_date else []
        if keys:
            sums = others.group_by(keys).agg(sum_exprs)
            suspects.append(matches(sums, all_rows, keys).select(ROW))
        else:
            sums = others.select(sum_exprs).with_columns(pl.lit(1).alias("__k"))
            suspects.append(matches(sums, all_rows.with_columns(pl.lit(1).alias("__k")), ["__k"]).select(ROW))
    if not suspects:
        return loaded, 0, []
    drop = pl.concat(suspects).unique()
    if drop.is_empty():
        return loaded, 0, []
    dropped = loaded.join(drop, on=ROW, how="semi").sort(ROW)
    kept = loaded.join(drop, on=ROW, how="anti")
    return kept, dropped.height, _lines(dropped, raw)


def platform_guesses(distinct: list[str], rows_of: Callable[[list[str]], dict[str, int]], header: str
                     ) -> tuple[tuple[ValueGuess, ...], list[Issue]]:
    """Platform values read by guess or not known (the report's value_guesses), with a warning.

    `rows_of(values)` counts the loaded rows holding each of `values`.
    """
    readings = {v: schema.platform_reading(v) for v in distinct if v is not None}
    unsure = {v: r for v, r in readings.items() if r[1] != "exact" and r[0]}
    if not unsure:
        return (), []
    counts = rows_of(list(unsure))
    guesses = tuple(ValueGuess(header, value, slug, kind, int(counts.get(value, 0)))  # type: ignore[arg-type]
                    for value, (slug, kind) in sorted(unsure.items()))
    guessed = [f"{g.value} → {g.reading}" for g in guesses if g.kind == "guess"]
    unknown = [f"{g.value} (kept as {g.reading})" for g in guesses if g.kind == "unknown"]
    parts = ([f"read by guess: {', '.join(guessed)}"] if guessed else []) + (
        [f"not a platform we know: {', '.join(unknown)}"] if unknown else [])
    return guesses, [Issue("platform_guesses", f"Some values of '{header}' are not certain; check them "
                           f"({'; '.join(parts)}).", "warning")]


def file_currency(first_rows: pl.DataFrame, currency: str | None, source: CurrencySource | None
                  ) -> tuple[str | None, CurrencySource | None, list[Issue]]:
    """The file's currency: the most common code of its first rows (`first_rows`: value_counts of their
    currency column, most common first), else `currency`; a warning when the rows mix currencies."""
    notes = []
    if first_rows.height:
        currency, source = first_rows[0, 0], "column"
    if first_rows.height > 1:
        notes.append(Issue("several_currencies", f"The file mixes currencies ({', '.join(sorted(first_rows[:, 0]))}); "
                           "compare spend only within one currency.", "warning"))
    return currency, source, notes


# The most common currency of the first rows is the file's (a full count is not worth it).
CURRENCY_SAMPLE_ROWS = 100_000


def derived_engagements(columns: Iterable[str]) -> tuple[pl.Expr | None, list[Issue]]:
    """Engagements from their parts when the file has no engagements column."""
    present = set(columns)
    parts = [m for m in ("likes", "comments", "shares", "saves", "clicks") if m in present]
    if "engagements" in present or not parts:
        return None, []
    any_part = pl.any_horizontal([pl.col(p).is_not_null() for p in parts])
    return pl.when(any_part).then(pl.sum_horizontal(parts)).alias("engagements"), [Issue(
        "engagements_derived", f"The file has no engagements column; engagements were derived from "
        f"{' + '.join(parts)} of each row.", "info")]


# ------------------------------------------------------------------------------------------ finish


def _finish(
    frame: pl.DataFrame, plan: MappingPlan, family: Family, report: FileReport,
    known_values: dict[str, pl.Series] | None = None,
) -> tuple[pl.DataFrame, FileReport]:
    """Platform, currency, engagements, provenance; then exactly the canonical schema.

    Returns the frame and `report` with its platform, currency and value guesses; `issues` holds only
    the notes of this step.
    """
    additions: list[pl.Expr] = []
    notes: list[Issue] = []
    guesses: tuple[ValueGuess, ...] = ()
    if "platform" in frame.columns:
        uniques = (known_values or {}).get("platform")
        platforms = frame["platform"]
        guesses, guess_notes = platform_guesses(
            (platforms.unique() if uniques is None else uniques).to_list(),
            lambda values: dict(platforms.filter(platforms.is_in(values)).value_counts().iter_rows()),
            plan.by_canonical("platform")[0].header)
        notes.extend(guess_notes)
        normalized = normalize_platform_values(platforms, uniques)
        if family.platform:
            normalized = normalized.fill_null(family.platform)
        frame = frame.with_columns(normalized.alias("platform"))
    elif family.platform:
        additions.append(pl.lit(family.platform).alias("platform"))

    currency, currency_source = report.currency, report.currency_source
    if "currency" in frame.columns:
        codes = (known_values or {}).get("currency", frame["currency"].unique()).drop_nulls()
        if (codes.str.to_uppercase().str.strip_chars() != codes).any():
            frame = frame.with_columns(pl.col("currency").str.to_uppercase().str.strip_chars())
        if currency:
            frame = frame.with_columns(pl.col("currency").fill_null(currency))
        first_rows = frame["currency"].head(CURRENCY_SAMPLE_ROWS).drop_nulls().value_counts(sort=True)
        currency, currency_source, currency_notes = file_currency(first_rows, currency, currency_source)
        notes.extend(currency_notes)
    elif currency:
        additions.append(pl.lit(currency).alias("currency"))

    engagements, engagement_notes = derived_engagements(frame.columns)
    if engagements is not None:
        additions.append(engagements)
        notes.extend(engagement_notes)
    if additions:
        frame = frame.with_columns(additions)
    frame = frame.with_columns(pl.lit(report.name).alias("source_file"))
    return schema.conform(frame), dataclasses.replace(
        report, platform=family.platform, currency=currency, currency_source=currency_source,
        value_guesses=guesses, issues=tuple(notes))
