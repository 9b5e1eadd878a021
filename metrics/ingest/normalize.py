"""From a raw table (source columns as read) to the canonical frame plus the report's numbers.

Readers (text, Excel, Parquet) hand over a `RawTable`; everything after that is shared and
vectorised: per-column expressions flag bad cells, total rows and masked cells, then one
filter splits loaded / rejected / excluded rows. Python only touches the rejected rows that
go into the report (at most 1000).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from metrics import schema
from metrics.ingest import clean, results
from metrics.ingest.catalog import Family
from metrics.ingest.families import ColumnPlan, MappingPlan
from metrics.ingest.report import (
    MAX_RAW_CHARS,
    MAX_REJECTED_IN_REPORT,
    FileReport,
    RejectedRow,
    ValueGuess,
)

ROW = "__row"  # 0-based record index after the header, in file order
LINE = "__line"  # optional: 1-based line number supplied by the reader
PARSE_ERROR = "__parse_error"  # optional: reason the reader could not split the row


def col_name(index: int) -> str:
    return f"c{index}"


@dataclass
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


def normalize_platform_values(values: pl.Series, uniques: pl.Series | None = None) -> pl.Series:
    """Map each distinct value once with `schema.normalize_platform` (cheap on millions of rows).

    `uniques` may be given when known (a superset of the distinct values is fine).
    """
    uniques = (values.unique() if uniques is None else uniques).drop_nulls().to_list()
    lookup = {v: schema.normalize_platform(v) for v in uniques}
    if all(k == v for k, v in lookup.items()):
        return values  # already slugs: nothing to rewrite
    return values.replace_strict(lookup, default=None, return_dtype=pl.String)


def _reporting_start_note(header: str) -> bool:
    n = schema.normalize_header(header)
    return any(w in n for w in ("reporting starts", "начала отчет", "начало отчет", "berichtsbeginn",
                                "début des rapports", "inicio del informe", "início dos relatórios",
                                "start date"))


def _blank_rows(frame: pl.DataFrame) -> pl.Expr | None:
    cells = [c for c in frame.columns if c.startswith(("c", "x"))]
    if not cells:
        return None
    # Readers turn empty cells into nulls, so a blank line is a row of nulls.
    blank = pl.all_horizontal([pl.col(c).is_null() for c in cells])
    if PARSE_ERROR in frame.columns:
        blank = blank & pl.col(PARSE_ERROR).is_null()
    return blank


def _values_matching(column: pl.Series, pattern: str, uniques: pl.Series | None = None) -> pl.Series | None:
    """Distinct values of a text column matching `pattern` (tested once per distinct value)."""
    uniques = column.unique() if uniques is None else uniques
    hits = uniques.filter(uniques.str.contains(pattern).fill_null(False))
    return hits if hits.len() else None


def _dimension_expr(frame: pl.DataFrame, name: str, distinct: dict[str, pl.Series]) -> pl.Expr:
    """A text dimension, stripped, with "" and "--" as null; skipped when no distinct value needs it."""
    if frame.schema[name] != pl.String:
        return clean.text_dimension(name)
    uniques = _distinct(frame, name, distinct).drop_nulls()
    needs_cleaning = (uniques.str.strip_chars() != uniques).any() or uniques.is_in(["", "--", "—", "(not set)"]).any()
    return clean.text_dimension(name) if needs_cleaning else pl.col(name)


def _distinct(frame: pl.DataFrame, name: str, cache: dict[str, pl.Series]) -> pl.Series:
    if name not in cache:
        cache[name] = frame[name].unique()
    return cache[name]


def _few_distinct(column: pl.Series) -> pl.Series | None:
    """The distinct non-null values when cleaning them is much cheaper than cleaning every row."""
    uniques = column.drop_nulls().unique()
    return uniques if uniques.len() * 2 <= column.len() else None


def _text_measure(
    frame: pl.DataFrame, name: str, header: str, decimal_comma: bool, allow_negative: bool = False
) -> clean.MeasureCells:
    """Clean a text measure column; each distinct value is cleaned once when values repeat."""
    column = frame[name]
    if column.null_count() == column.len():
        return clean.MeasureCells(pl.lit(None, dtype=pl.Float64), pl.lit(False), pl.lit(False),
                                  pl.lit(None, dtype=pl.String))
    uniques = _few_distinct(column)
    if uniques is None:
        return clean.text_measure_cells(name, header, decimal_comma, allow_negative)
    cells = clean.text_measure_cells("v", header, decimal_comma, allow_negative)
    table = pl.DataFrame({"v": uniques}).select(
        "v", cells.value.alias("value"), cells.bad.alias("bad"), cells.masked.fill_null(False).alias("masked"),
        pl.when(cells.bad).then(cells.reason).alias("reason"))
    bad = table.filter("bad")
    masked = table.filter("masked")["v"]
    return clean.MeasureCells(
        value=pl.col(name).replace_strict(table["v"], table["value"], default=None, return_dtype=pl.Float64),
        bad=pl.col(name).is_in(bad["v"].implode()) if bad.height else pl.lit(False),
        masked=pl.col(name).is_in(masked.implode()) if masked.len() else pl.lit(False),
        reason=(pl.col(name).replace_strict(bad["v"], bad["reason"], default=None, return_dtype=pl.String)
                if bad.height else pl.lit(None, dtype=pl.String)),
    )


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
_LABEL_DIMENSIONS = ("date", "platform", "campaign", "ad_group", "ad", "variant", "content_format", "funnel_stage",
                     "audience")


@dataclass
class _RowChecks:
    """Per-row flags collected column by column: a bad cell rejects its row with the first reason."""

    bad: list[pl.Expr] = field(default_factory=list)
    reasons: list[pl.Expr] = field(default_factory=list)
    masked: list[pl.Expr] = field(default_factory=list)

    def add(self, bad: pl.Expr, reason: pl.Expr) -> None:
        self.bad.append(bad)
        self.reasons.append(pl.when(bad).then(reason))


def build_canonical(raw: RawTable, plan: MappingPlan, family: Family, report: FileReport) -> pl.DataFrame:
    """Validate and convert; fill `report` counts, rejected rows and issues; return the canonical frame."""
    frame = _drop_blank_rows(raw.frame, report)
    distinct: dict[str, pl.Series] = {}  # distinct values per text column, computed once
    checks = _RowChecks()
    _reader_problems(frame, raw, checks)
    exprs: list[pl.Expr] = []
    frame = _measures(frame, plan, raw, checks, exprs)
    frame = _results(frame, plan, raw, checks, exprs, report)
    frame = _date(frame, plan, family, report, checks, exprs)
    known_values = _dimensions(frame, plan, distinct, exprs)
    qualified, bare = _total_rows(frame, plan, raw, distinct)

    bad_any = pl.any_horizontal(checks.bad).fill_null(False) if checks.bad else pl.lit(False)
    masked = pl.sum_horizontal(checks.masked) if checks.masked else pl.lit(0, dtype=pl.UInt32)
    extra_meta = [LINE] if LINE in frame.columns else []
    staged = frame.select(pl.col(ROW), *[pl.col(m) for m in extra_meta], *exprs, qualified.alias("__total"),
                          (bare if bare is not None else pl.lit(False)).alias("__bare"), bad_any.alias("__bad"),
                          masked.alias("__masked"))
    if bare is not None:
        compared = [c.canonical for c in plan.columns if c.canonical in schema.MEASURES and not c.net]
        staged = _confirm_bare_totals(staged, compared)
    staged = staged.drop("__bare")
    flags = staged.select(pl.col("__total").sum().alias("t"), (pl.col("__bad") & ~pl.col("__total")).sum().alias("b"),
                          pl.col("__masked").sum().alias("m"))
    n_total, n_bad = int(flags["t"][0] or 0), int(flags["b"][0] or 0)

    report.rows_read = staged.height
    if n_total or n_bad:
        totals = staged.filter(pl.col("__total"))
        loaded = staged.filter(~pl.col("__total") & ~pl.col("__bad"))
        rejected_mask = staged.select(~pl.col("__total") & pl.col("__bad")).to_series()
        rejected_source = frame.filter(rejected_mask)
        reason = pl.coalesce(checks.reasons) if checks.reasons else pl.lit(None, dtype=pl.String)
        keep_for_raw = [c for c in raw.read_columns if c in frame.columns]
        raw_text = (pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in keep_for_raw],
                                  separator=raw.raw_separator) if keep_for_raw else pl.lit(""))
        rejected = rejected_source.head(MAX_REJECTED_IN_REPORT).select(
            pl.col(ROW), *[pl.col(m) for m in extra_meta], reason.alias("__reason"), raw_text.alias("__raw"))
        _report_rejected(rejected, n_bad, raw, report)
    else:
        totals = staged.clear()
        loaded = staged

    report.masked_cells = int(loaded["__masked"].sum() or 0) if checks.masked else 0
    if report.masked_cells:
        report.add_issue("masked_values", f"{report.masked_cells} cell(s) were masked by the platform (such as "
                         "'<5') and are treated as not reported.", "info")

    if n_total:
        lines = _lines(totals.sort(ROW), raw)
        shown = ", ".join(str(n) for n in lines[:10]) + (" …" if len(lines) > 10 else "")
        report.add_issue("total_rows_excluded", f"{n_total} total/summary row(s) (line {shown}) were not "
                         "counted, so totals are not doubled.", "info")

    loaded, subtotal_count, subtotal_lines = _exclude_subtotals(loaded, raw, known_values.get("campaign"))
    if subtotal_count:
        shown = ", ".join(str(n) for n in subtotal_lines[:10])
        report.add_issue("double_counting", f"{subtotal_count} row(s) (line {shown}) repeat the sum of other rows "
                         "of the same campaign (a total without a date, or an 'All' campaign); they were excluded "
                         "so nothing is counted twice.", "warning")
    report.rows_excluded = n_total + subtotal_count
    report.rows_loaded = loaded.height

    return _finish(loaded, plan, family, report, known_values)


def _drop_blank_rows(frame: pl.DataFrame, report: FileReport) -> pl.DataFrame:
    blank = _blank_rows(frame)
    if blank is None:
        return frame
    blank_rows = int(frame.select(blank.sum()).item() or 0)
    if blank_rows:
        report.add_issue("blank_rows_skipped", f"{blank_rows} blank row(s) were skipped.", "info")
        return frame.filter(~blank)
    return frame


def _reader_problems(frame: pl.DataFrame, raw: RawTable, checks: _RowChecks) -> None:
    """Rows the reader could not split, or with more fields than the header."""
    if PARSE_ERROR in frame.columns:
        checks.add(pl.col(PARSE_ERROR).is_not_null(), pl.col(PARSE_ERROR))
    extras = [c for c in frame.columns if c.startswith("x")]
    if extras:
        has_extra = pl.any_horizontal([pl.col(x).is_not_null() for x in extras])
        checks.add(has_extra, pl.lit(f"the row has more fields than the header ({raw.header_width} columns)"))


def _measure_cells(
    frame: pl.DataFrame, column: ColumnPlan, raw: RawTable, checks: _RowChecks
) -> tuple[pl.DataFrame, clean.MeasureCells]:
    """Validated cells of one measure column (typed columns: range checks only)."""
    name = col_name(column.index)
    dtype = frame.schema[name]
    if dtype.is_numeric():
        has_nan = dtype.is_float() and bool(frame[name].is_nan().any())
        cells = clean.typed_measure_cells(name, column.header, has_nan, allow_negative=column.net)
    else:
        if dtype != pl.String:  # booleans, dates...: judge them as text
            frame = frame.with_columns(pl.col(name).cast(pl.String))
        decimal_comma = clean.detect_decimal_comma(frame[name].drop_nulls().head(20_000), raw.default_decimal_comma)
        cells = _text_measure(frame, name, column.header, decimal_comma, column.net)
        checks.masked.append(cells.masked.fill_null(False).cast(pl.UInt32))
    checks.add(cells.bad, cells.reason)
    return frame, cells


def _measures(
    frame: pl.DataFrame, plan: MappingPlan, raw: RawTable, checks: _RowChecks, exprs: list[pl.Expr]
) -> pl.DataFrame:
    for canonical in schema.MEASURES:
        columns = plan.by_canonical(canonical)
        if columns:
            frame, cells = _measure_cells(frame, columns[0], raw, checks)
            exprs.append(cells.value.alias(canonical))
    return frame


def _results(
    frame: pl.DataFrame, plan: MappingPlan, raw: RawTable, checks: _RowChecks, exprs: list[pl.Expr],
    report: FileReport,
) -> pl.DataFrame:
    """Meta Results, routed per row by result type (results.py)."""
    if plan.results is None or plan.result_type is None:
        return frame
    frame, cells = _measure_cells(frame, plan.results, raw, checks)
    explicit = {kind: plan.by_canonical(kind)[0].header for kind in results.KINDS if plan.by_canonical(kind)}
    routed, notes = results.route_results(frame, cells.value, col_name(plan.result_type.index), explicit)
    exprs.extend(routed)
    for code, message, severity in notes:
        report.add_issue(code, message, severity)  # type: ignore[arg-type]
    return frame


def _date(
    frame: pl.DataFrame, plan: MappingPlan, family: Family, report: FileReport, checks: _RowChecks,
    exprs: list[pl.Expr],
) -> pl.DataFrame:
    date_cols = plan.by_canonical("date")
    if not date_cols:
        return frame
    c = date_cols[0]
    name = col_name(c.index)
    dtype = frame.schema[name]
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        cells = clean.typed_date_cells(name, dtype)
    else:
        if dtype != pl.String:
            frame = frame.with_columns(pl.col(name).cast(pl.String))
        fmt = clean.detect_date_format(frame[name], family.month_first_dates)
        if fmt.ambiguous:
            order = "month first (MM/DD)" if fmt.formats[0].startswith("%m") else "day first (DD/MM)"
            report.add_issue("ambiguous_dates", f"Dates in '{c.header}' could be read either way; they were "
                             f"read {order}.", "warning")
        cells = _text_date(frame, name, c.header, fmt)
        checks.add(cells.bad, cells.reason)
        _time_zone_note(c.header, fmt, report)
    exprs.append(cells.value.alias("date"))
    if _reporting_start_note(c.header) and schema.normalize_header(c.header) != "start date (in utc)":
        report.add_issue("date_from_reporting_start",
                         f"The file has no day column; '{c.header}' (the start of the reporting period) is "
                         "used as the date.", "info")
    return frame


def _time_zone_note(header: str, fmt: clean.DateFormat, report: FileReport) -> None:
    if fmt.formats[0] in clean.YEARLESS:
        report.add_issue("dates_without_year", f"Dates in '{header}' have no year (such as 'August 31'); each was read "
                         "as the latest such day up to today. Check them if the export is older than a year.",
                         "warning")
    elif fmt.formats == (clean.EXCEL_SERIAL,):
        report.add_issue("excel_serial_dates", f"'{header}' holds Excel day numbers (such as 45000); they were read as "
                         "dates.", "info")
    elif fmt.with_times:
        zones = " (some with a UTC offset or time zone)" if fmt.with_zones else ""
        report.add_issue("times_of_day_dropped", f"'{header}' holds times of day{zones}; each row counts on the "
                         "calendar day as written, without converting time zones.", "info")


def _dimensions(
    frame: pl.DataFrame, plan: MappingPlan, distinct: dict[str, pl.Series], exprs: list[pl.Expr]
) -> dict[str, pl.Series]:
    """Text dimensions; returns the distinct values of those passed through unchanged."""
    known_values: dict[str, pl.Series] = {}
    for dim in ("platform", "campaign", "ad_group", "ad", "variant", "content_format", "funnel_stage", "currency"):
        columns = plan.by_canonical(dim)
        if columns:
            name = col_name(columns[0].index)
            expr = _dimension_expr(frame, name, distinct)
            exprs.append(expr.alias(dim))
            if name in distinct and expr.meta.eq(pl.col(name)):
                known_values[dim] = distinct[name]  # passed through unchanged: same distinct values
    audience_cols = plan.by_canonical("audience")
    if audience_cols:
        parts = [_dimension_expr(frame, col_name(c.index), distinct) for c in audience_cols]
        joined = pl.concat_str(parts, separator=" ", ignore_nulls=True) if len(parts) > 1 else parts[0]
        exprs.append((pl.when(joined == "").then(None).otherwise(joined) if len(parts) > 1 else joined)
                     .alias("audience"))
    return known_values


def _total_rows(
    frame: pl.DataFrame, plan: MappingPlan, raw: RawTable, distinct: dict[str, pl.Series]
) -> tuple[pl.Expr, pl.Expr | None]:
    """(rows labelled "Total: X" anywhere, rows with a bare total label and their other dimensions empty or None).

    Bare candidates are confirmed by `_confirm_bare_totals`.
    """
    dimensions = [col_name(c.index) for c in plan.columns if c.canonical in _LABEL_DIMENSIONS]
    measures = {col_name(c.index) for c in plan.columns if c.canonical in schema.MEASURES}
    candidates = [c for c in dict.fromkeys([col_name(0), *dimensions, *raw.scan_columns])
                  if c in frame.columns and c not in measures]
    siblings = [c for c in candidates if c != col_name(0) or c in dimensions or c in raw.scan_columns]
    qualified: list[pl.Expr] = []
    bare: list[pl.Expr] = []
    for name in candidates:
        if frame.schema[name] != pl.String:
            continue
        uniques = _distinct(frame, name, distinct)
        labelled = _values_matching(frame[name], clean.TOTAL_QUALIFIED, uniques)
        if labelled is not None:
            qualified.append(pl.col(name).is_in(labelled.implode()))
        words = _values_matching(frame[name], clean.TOTAL_BARE, uniques)
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


def _report_rejected(rejected: pl.DataFrame, count: int, raw: RawTable, report: FileReport) -> None:
    report.rows_rejected = count
    if not count:
        return
    head = rejected.sort(ROW)
    lines = _lines(head, raw)
    report.rejected = [
        RejectedRow(line, _sentence(reason or "the row could not be read"), (text or "")[:MAX_RAW_CHARS])
        for line, reason, text in zip(lines, head["__reason"].to_list(), head["__raw"].to_list(), strict=True)
    ]
    first = report.rejected[0]
    report.add_issue("rows_rejected", f"{count} row(s) could not be read and were left out; the first "
                     f"is line {first.line}: {first.reason[:-1]}.", "warning")


# "All" campaigns, and a "Total" campaign beside dated rows: excluded only when the sums match exactly.
_ALL_CAMPAIGN = (r"(?i)^\s*(all|all campaigns|все|все кампании|alle|alle kampagnen|todos|todas|toutes|tous|"
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
    all_values = _values_matching(loaded["campaign"], _ALL_CAMPAIGN, campaigns)
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


def _platform_guesses(values: pl.Series, uniques: pl.Series | None, header: str, report: FileReport) -> None:
    """List platform values read by guess or not known (report.value_guesses), with a warning."""
    distinct = (values.unique() if uniques is None else uniques).drop_nulls().to_list()
    readings = {v: schema.platform_reading(v) for v in distinct}
    unsure = {v: r for v, r in readings.items() if r[1] != "exact" and r[0]}
    if not unsure:
        return
    counts = dict(values.filter(values.is_in(list(unsure))).value_counts().iter_rows())
    report.value_guesses = [ValueGuess(header, value, slug, kind, int(counts.get(value, 0)))  # type: ignore[arg-type]
                            for value, (slug, kind) in sorted(unsure.items())]
    guessed = [f"{g.value} → {g.reading}" for g in report.value_guesses if g.kind == "guess"]
    unknown = [f"{g.value} (kept as {g.reading})" for g in report.value_guesses if g.kind == "unknown"]
    parts = ([f"read by guess: {', '.join(guessed)}"] if guessed else []) + (
        [f"not a platform we know: {', '.join(unknown)}"] if unknown else [])
    report.add_issue("platform_guesses", f"Some values of '{header}' are not certain; check them ({'; '.join(parts)}).",
                     "warning")


def _finish(
    frame: pl.DataFrame, plan: MappingPlan, family: Family, report: FileReport,
    known_values: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """Platform, currency, engagements, provenance; then exactly the canonical schema."""
    additions: list[pl.Expr] = []
    if "platform" in frame.columns:
        uniques = (known_values or {}).get("platform")
        _platform_guesses(frame["platform"], uniques, plan.by_canonical("platform")[0].header, report)
        normalized = normalize_platform_values(frame["platform"], uniques)
        if family.platform:
            normalized = normalized.fill_null(family.platform)
        frame = frame.with_columns(normalized.alias("platform"))
    elif family.platform:
        additions.append(pl.lit(family.platform).alias("platform"))
    report.platform = family.platform

    if "currency" in frame.columns:
        codes = (known_values or {}).get("currency", frame["currency"].unique()).drop_nulls()
        if (codes.str.to_uppercase().str.strip_chars() != codes).any():
            frame = frame.with_columns(pl.col("currency").str.to_uppercase().str.strip_chars())
        if report.currency:
            frame = frame.with_columns(pl.col("currency").fill_null(report.currency))
        # The most common currency of the first rows is the file's (a full count is not worth it).
        counts = frame["currency"].head(100_000).drop_nulls().value_counts(sort=True)
        if counts.height:
            report.currency, report.currency_source = counts[0, 0], "column"
        if counts.height > 1:
            report.add_issue("several_currencies", f"The file mixes currencies ({', '.join(sorted(counts[:, 0]))}); "
                             "compare spend only within one currency.", "warning")
    elif report.currency:
        additions.append(pl.lit(report.currency).alias("currency"))

    if "engagements" not in frame.columns:
        parts = [m for m in ("likes", "comments", "shares", "saves", "clicks") if m in frame.columns]
        if parts:
            any_part = pl.any_horizontal([pl.col(p).is_not_null() for p in parts])
            additions.append(pl.when(any_part).then(pl.sum_horizontal(parts)).alias("engagements"))
            report.add_issue("engagements_derived", f"The file has no engagements column; engagements were derived "
                             f"from {' + '.join(parts)} of each row.", "info")
    if additions:
        frame = frame.with_columns(additions)
    frame = frame.with_columns(pl.lit(report.name).alias("source_file"))
    return schema.conform(frame)
