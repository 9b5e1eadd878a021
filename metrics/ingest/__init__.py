"""Ingestion: any export a marketer has → the canonical activity table (SPEC §2, §7).

    load(data, filename, mapping=None) -> LoadResult          # one upload (bytes)
    load_path(path, mapping=None) -> LoadResult               # same, reading a file (faster for big files)
    load_many([(filename, bytes), ...], mappings=None) -> CombinedLoad
    load_path_summed(path, mapping=None, keep=None) -> SummedLoad  # rows summed by date and dimensions
    read_table(bytes, filename) -> pl.DataFrame                # any other table (A/B files), same reader

`mapping` is {source header: canonical name, "results"/"result_type" (Meta roles), or "" to
ignore the column}; it overrides the automatic mapping, and with it a file is readable even
when no header is recognised. Only unreadable input raises (`UnreadableFileError`, one plain
sentence); bad rows, total rows and unmapped columns are reported in `LoadResult.report`.

Decisions
- Export families (catalog.py: paid platforms, X/Twitter Analytics, YouTube Studio, Search
  Console, Facebook/Instagram insights, TikTok analytics, LinkedIn page, VK, Telegram) are
  recognised by their headers in any order (and the file names of their downloads); the
  family sets the platform.
- A number cell that is not a number (text, a spreadsheet error such as #DIV/0!, inf, 1e309,
  anything beyond 1e15) or is negative rejects its whole row, with the line and the reason; it
  is never silently turned into null or 0. Net changes (YouTube's Subscribers) may be negative.
- Empty, "-", "--", "N/A", "null", "nan" mean *not reported* (null). "<5"-style privacy masks are
  null too and counted in `masked_cells`. Percent strings become fractions (5.23% → 0.0523).
- Total/summary rows are excluded and reported with their lines: a "Total: X" label in any
  column whatever the row's other cells, or a bare total word ("Total", "Итого", "Gesamt", ...)
  when the row's other dimensions are empty and none of its numbers is below a row it sums.
  Rows repeating the sum of a campaign's dated rows (no date, or an "All"/"Total" campaign) are
  excluded with a `double_counting` warning. `rows_read == rows_loaded + rows_rejected +
  rows_excluded`; blank lines are not rows (an info issue counts them).
- Dates with a time of day count on the calendar day as written, without converting time
  zones (clean.py); Excel day numbers in a date column are dates; an export without a day
  column takes the period start written above its table, else the report says it has no dates.
- Meta "Results" are read per row by their result type (results.py).
- Speed (normalize.py, stream.py): number cells written like a column's sample are read with
  literal replacements, the others in full; `load_path_summed` streams a plain file (typed
  numbers and dates, nothing to reject, exclude or clean) without holding its rows and loads any
  other file in full: the same sums and report either way.
- Headers match exactly after normalisation (case, spacing, `_`, camelCase, a currency suffix
  such as "(USD)", a "(total)" qualifier), family tables first, never by substring: ratio columns
  (CPC, CTR, "Cost per result", "Cost / conv.", position) and parts of a total ("(organic)",
  promoted) are listed as ignored.

Known limits
- Encoding, delimiter, header row and whether columns are plain numbers or ISO dates are decided
  from the first 64 KB (up to 1 MB when the header is that long); a text column's decimal mark
  from its first 20,000 values, its date format from its first 2,000.
  A UTF-8 file with invalid bytes after that is read with replacement characters. Tables wider
  than 2,000 columns are refused.
- A total label in a column that is not mapped is found when the first 64 KB or the last 64 KB
  of a text file show one (exports write their totals first or last).
- Line numbers are exact for text files, including preamble lines and quoted cells spanning
  lines; finding them for a file with multi-line cells reads the whole file once more with
  Python's csv module (only when there are rows to report). A line with an unclosed quote is
  rejected on its own when the quote is not closed within 50 lines.
- Rows with more fields than the header are rejected; rows with fewer are read with nulls.
- Excel: the first 20 sheets are scanned and the one with the best header row is read; row
  numbers are spreadsheet rows. Workbooks declaring more than 300 MB uncompressed, or more
  than 100x their size (above 20 MB), are refused before parsing; every part is then inflated
  through a counting stream, so a directory that lies about sizes is refused too (excel.py).
- `load_path` has no size cap; `load` refuses more than `MAX_UPLOAD_BYTES`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from metrics import schema
from metrics.ingest import clean, sniff, stream, text
from metrics.ingest.catalog import Family, family_label
from metrics.ingest.families import (
    MappingPlan,
    detect_family,
    header_keys,
    resolve_mapping,
)
from metrics.ingest.normalize import LINE, ROW, RawTable, build_canonical, col_name
from metrics.ingest.report import (
    CombinedLoad,
    FileReport,
    Issue,
    LoadResult,
    RejectedRow,
    UnreadableFileError,
    ValueGuess,
)
from metrics.ingest.results import MAPPING_TARGETS
from metrics.ingest.stream import SummedLoad
from metrics.ingest.table import read_table

__all__ = [
    "MAPPING_TARGETS", "MAX_UPLOAD_BYTES", "CombinedLoad", "FileReport", "Issue", "LoadResult", "SummedLoad",
    "RejectedRow", "UnreadableFileError", "ValueGuess", "family_label", "load", "load_many", "load_path",
    "load_path_summed", "read_table",
]

# Uploads above this size are refused (the command line's load_path has no such cap).
MAX_UPLOAD_BYTES = 500 * 1024 * 1024


def load(data: bytes, filename: str, mapping: dict[str, str] | None = None) -> LoadResult:
    """Read one uploaded file (CSV/TSV/semicolon/pipe text, .xlsx or Parquet) into the canonical table."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnreadableFileError(
            f"{filename} is {len(data) / 1024 / 1024:,.0f} MB, more than the {MAX_UPLOAD_BYTES // 1024 // 1024} MB "
            "limit; split the report into smaller files (for example by month) and upload them together."
        )
    return _load(bytes(data), filename, mapping)


def load_path(
    path: str | Path, mapping: dict[str, str] | None = None, *, keep: Iterable[str] | None = None
) -> LoadResult:
    """Like `load`, for a file on disk: text files are scanned by polars without a copy in memory.

    `keep` (canonical names) lets a caller that needs only some dimensions skip reading the
    others from text files (the report command does not parse ad names it never groups by).
    Measures, `date`, `platform` and `campaign` are always read: they carry row validation,
    total-row detection and the followers series. Skipped columns come back as nulls.
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableFileError(f"{path.name} was not found; check the path and try again.")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith((sniff.ZIP_MAGIC, sniff.PARQUET_MAGIC)) or _excel_name(path.name):
        return _load(path.read_bytes(), path.name, mapping)
    return _load_text(path, path.name, mapping, keep=keep)


def load_path_summed(
    path: str | Path, mapping: dict[str, str] | None = None, *, keep: Iterable[str] | None = None
) -> SummedLoad:
    """`load_path`'s rows summed by date and dimension values (`stream.ROWS` counts the rows of each sum), and
    its report: what `kpis.summarize` reads like the rows, for a caller that needs only sums (the report command).

    A plain text file (stream.py: typed numbers and dates, nothing to reject, exclude or clean) is read in one
    streaming pass without holding its rows; any other file is loaded in full and then summed: the same result.
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableFileError(f"{path.name} was not found; check the path and try again.")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not (head.startswith((sniff.ZIP_MAGIC, sniff.PARQUET_MAGIC)) or _excel_name(path.name)):
        streamed = stream.sum_plain(path, _text_setup(path, path.name, mapping, keep))
        if streamed is not None:
            return streamed
    result = load_path(path, mapping, keep=keep)
    return SummedLoad(stream.finish_sums(stream.summed(result.frame).collect()), result.report, streamed=False)


def load_many(
    files: Iterable[tuple[str, bytes]], mappings: dict[str, dict[str, str]] | None = None
) -> CombinedLoad:
    """Load several files; unreadable ones go to `errors`, the rest are concatenated.

    Cross-file checks: a file identical to an earlier one is not counted twice (warning), and rows
    of different files with the same date, platform and campaign are reported as possible double counting.
    """
    mappings = mappings or {}
    frames: list[pl.DataFrame] = []
    reports: list[FileReport] = []
    errors: dict[str, str] = {}
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    unmapped_headers: dict[str, list[str]] = {}
    for name, data in files:
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            issues.append(Issue("duplicate_file", f"{name} has the same content as {seen[digest]}; it was not "
                                "counted twice.", "warning"))
            continue
        try:
            result = load(data, name, mappings.get(name))
        except UnreadableFileError as error:
            errors[name] = str(error)
            if error.headers:
                unmapped_headers[name] = list(error.headers)
            continue
        seen[digest] = name
        frames.append(result.frame)
        reports.append(result.report)
    issues.extend(_overlaps(frames))
    frame = pl.concat(frames, how="vertical") if frames else schema.empty_frame()
    return CombinedLoad(frame=frame, reports=reports, errors=errors, issues=issues,
                        unmapped_headers=unmapped_headers)


# ------------------------------------------------------------------------------------------ internals


def _excel_name(name: str) -> bool:
    return name.lower().endswith((".xlsx", ".xlsm", ".xls"))


def _load(data: bytes, name: str, mapping: dict[str, str] | None) -> LoadResult:
    if not data or not data.strip(b" \t\r\n\x00"):
        raise UnreadableFileError(f"{name} is empty; export the report again and re-upload it.")
    if _encrypted_office_file(data):
        from metrics.ingest import excel

        raise UnreadableFileError(excel.password_message(name))
    if data.startswith(sniff.ZIP_MAGIC):
        return _load_excel(data, name, mapping)
    if data.startswith(sniff.PARQUET_MAGIC):
        return _load_parquet(data, name, mapping)
    if _excel_name(name):
        if data.startswith(sniff.OLE2_MAGIC):
            raise UnreadableFileError(f"{name} is an old-format .xls workbook; save it as .xlsx or CSV and "
                                      "upload that instead.")
        if not _looks_like_text(data):
            raise UnreadableFileError(f"{name} is not a valid Excel file (it may be truncated); export it again "
                                      "and re-upload.")
        result = _load_text(data, name, mapping)  # some tools name CSV exports .xls/.xlsx
        return dataclasses.replace(result, report=result.report.with_issues(Issue(
            "text_named_as_excel", f"{name} is a text table despite its Excel name; it was read as text.", "info")))
    return _load_text(data, name, mapping)


def _encrypted_office_file(data: bytes) -> bool:
    # Checked before importing the Excel reader: only OLE containers (old .xls, encrypted .xlsx) qualify.
    return data.startswith(sniff.OLE2_MAGIC) and "EncryptedPackage".encode("utf-16-le") in data


def _looks_like_text(data: bytes) -> bool:
    head = data[: sniff.SAMPLE_BYTES]
    if sniff.describe_binary(head):
        return False
    encoding = sniff.detect_encoding(head)
    return not sniff.looks_binary(sniff.decode(head, encoding, final=len(data) <= len(head)))


def _plan(
    headers: list[str], mapping: dict[str, str] | None, name: str, report: FileReport
) -> tuple[Family, MappingPlan, FileReport]:
    """The export family and the column mapping; `report` with them and their notes."""
    # With a user mapping the family still gives the platform; the user's mapping wins per column.
    family = detect_family([schema.normalize_header(h) for h in headers], name)
    plan = resolve_mapping(headers, family, mapping)
    if not plan.has_measure and mapping is None:
        raise UnreadableFileError(
            f"{name} has no column recognised as a measure (such as impressions, clicks or spend); map its "
            "columns by hand and load it again.",
            headers=[h for h in headers if str(h).strip()],
        )
    notes = [Issue(code, message, severity) for code, message, severity in plan.notes]  # type: ignore[arg-type]
    if plan.ignored_derived:
        notes.append(Issue("derived_columns_ignored", "Ratio columns computed by the platform were ignored (KPIs are "
                           f"recomputed from the totals): {', '.join(plan.ignored_derived).rstrip('.')}.", "info"))
    others = [h for h in plan.unmapped if h not in plan.ignored_derived and h.strip()]
    if others:
        notes.append(Issue("unmapped_columns", f"These columns were not used: {', '.join(others)}; map them by hand "
                           "if they matter.", "info"))
    if not plan.has_measure:
        notes.append(Issue("no_measures", "The mapping names no measure column, so there is nothing to add up.",
                           "warning"))
    report = dataclasses.replace(
        report, source_format=family.slug, mapping=plan.mapping, unmapped=plan.unmapped,
        currency=plan.header_currency, currency_source="header" if plan.header_currency else None)
    return family, plan, report.with_issues(*notes)


def _finish(
    raw: RawTable, plan: MappingPlan, family: Family, report: FileReport, title_lines: Iterable[str] = ()
) -> LoadResult:
    report = _value_currency(raw, plan, report.with_issues(*raw.notes))
    frame, report = build_canonical(raw, plan, family, report)
    if report.rows_read == 0:
        report = report.with_issues(Issue("no_data_rows", "The file has a header but no data rows.", "warning"))
    elif frame.height and frame["date"].null_count() == frame.height:
        start = None if plan.by_canonical("date") else clean.period_start(list(title_lines), family.month_first_dates)
        if start is not None:
            # SPEC §2: an export without a day breakdown uses the reporting start date, and says so.
            frame = frame.with_columns(pl.lit(start).alias("date"))
            report = report.with_issues(Issue(
                "date_from_report_period", f"The file has no day column; the start of the report's period written "
                f"above the table ({start.isoformat()}) is used as the date.", "info"))
        else:
            report = dataclasses.replace(report, has_dates=False).with_issues(_no_dates_note(plan.headers))
    return LoadResult(frame=frame, report=report)


_ID_HEADER = re.compile(r"^(?:.*\s)?(?P<entity>[^\W\d_]+)\s?id$")


def _no_dates_note(headers: list[str]) -> Issue:
    """Not activity over time (one row per customer, per ad, per video): say what cannot be shown.

    The row's entity is named after the file's first id column ("CustomerID" → customer), a table's usual key.
    """
    entity = next(((h, m["entity"]) for h in headers for k in header_keys(h) if (m := _ID_HEADER.match(k))), None)
    what = (f"each row is one {entity[1]} ('{entity[0]}'), not a day of activity" if entity
            else "its rows are not tied to days")
    return Issue("no_dates", f"The file has no dates: {what}. Totals and breakdowns are shown, but trends over "
                 "time and period comparisons cannot be.", "warning")


def _value_currency(raw: RawTable, plan: MappingPlan, report: FileReport) -> FileReport:
    """`report` with the currency its spend or revenue values are written in ("€1.234,50"), when it has none."""
    if report.currency or plan.by_canonical("currency"):
        return report
    from metrics.ingest.clean import detect_currency_symbol

    for canonical in ("spend", "revenue"):
        for c in plan.by_canonical(canonical):
            column = raw.frame.get_column(col_name(c.index), default=None)
            if column is not None and column.dtype == pl.String:
                found = detect_currency_symbol(column)
                if found:
                    return dataclasses.replace(report, currency=found, currency_source="values")
    return report


ALWAYS_READ = frozenset({*schema.MEASURES, "date", "platform", "campaign", "currency"})


def _load_text(
    source: bytes | Path, name: str, mapping: dict[str, str] | None, *, keep: Iterable[str] | None = None
) -> LoadResult:
    setup = _text_setup(source, name, mapping, keep)
    raw = text.read_text_table(source, setup.sniffed, setup.encoding, setup.plan)
    return _finish(raw, setup.plan, setup.family, setup.report, setup.sniffed.preamble)


def _text_setup(
    source: bytes | Path, name: str, mapping: dict[str, str] | None, keep: Iterable[str] | None
) -> stream.TextSetup:
    """What the first 64 KB of a text file say: encoding, layout, export family, mapping, and the report so far."""
    encoding, sniffed = text.sniff_source(source, name, set(mapping or {}))
    text.refuse_several_tables(source, encoding, sniffed, name)
    notes = []
    if encoding.name.startswith("windows-"):
        notes.append(Issue(f"encoding_{encoding.name.replace('-', '_')}", "The file is not UTF-8; it was read as "
                           f"{encoding.name.title()}.", "info"))
    if sniffed.header_line > 0:
        notes.append(Issue("preamble_skipped", f"{sniffed.header_line} line(s) before the header (titles, date "
                           "range) were skipped.", "info"))
    report = FileReport(
        name=name,
        file_type="tsv" if sniffed.delimiter == "\t" else "csv",
        encoding=encoding.name,
        delimiter=sniffed.delimiter,
        header_row=sniffed.header_line,
        issues=notes,
    )
    family, plan, report = _plan(sniffed.header, mapping, name, report)
    if keep is not None:
        wanted = ALWAYS_READ | set(keep)
        plan = dataclasses.replace(plan, columns=[c for c in plan.columns if c.canonical in wanted])
    return stream.TextSetup(encoding, sniffed, family, plan, report)


def _load_excel(data: bytes, name: str, mapping: dict[str, str] | None) -> LoadResult:
    from metrics.ingest import (
        excel,  # zipfile and fastexcel only when a workbook arrives
    )

    sheet = excel.read_workbook(data, name, set(mapping or {}))
    notes = [Issue("error_cells_unplaced", f"{sheet.unlocated_errors} spreadsheet error cell(s) (such as #DIV/0!) "
                   "had no cell reference and were read as empty; fix the formulas and export again.", "warning")
             ] if sheet.unlocated_errors else []
    report = FileReport(name=name, file_type="xlsx", encoding=None, delimiter=None,
                        header_row=sheet.first_row - 1 + sheet.header_index, issues=notes)
    family, plan, report = _plan(sheet.header, mapping, name, report)
    body = sheet.cells.slice(sheet.header_index + 1)
    first_data_line = sheet.first_row + sheet.header_index + 1
    needed = plan.source_indices
    frame = body.with_row_index(ROW).with_columns((pl.col(ROW).cast(pl.Int64) + first_data_line).alias(LINE))
    extras = [c for c in body.columns if int(c[1:]) >= len(sheet.header)]
    scan = _text_columns(body, range(len(sheet.header)), plan.mapped_indices)
    needed = sorted({*needed, *scan})
    frame = frame.select(ROW, LINE, *[col_name(i) for i in needed if col_name(i) in body.columns],
                         *[pl.col(c).alias(f"x{j}") for j, c in enumerate(extras)])
    raw = RawTable(frame=frame, line_of=lambda idx: [first_data_line + i for i in idx],
                   read_columns=[col_name(i) for i in needed], raw_separator=" | ", header_width=len(sheet.header),
                   scan_columns=[col_name(i) for i in scan if col_name(i) in body.columns])
    title_lines = [" ".join(str(v) for v in row if v is not None)
                   for row in sheet.cells.head(sheet.header_index).rows()]
    return _finish(raw, plan, family, report, title_lines)


def _load_parquet(data: bytes, name: str, mapping: dict[str, str] | None) -> LoadResult:
    invalid = f"{name} is not a valid Parquet file; export it again and re-upload."
    try:
        columns = pl.read_parquet_schema(io.BytesIO(data))
        if len(columns) > sniff.MAX_COLUMNS:
            raise UnreadableFileError(text.too_wide_message(name, len(columns)))
        table = pl.read_parquet(io.BytesIO(data))
    except (UnreadableFileError, KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException:  # any parquet decoding error (or reader panic) means a damaged file
        raise UnreadableFileError(invalid) from None
    report = FileReport(name=name, file_type="parquet", encoding=None, delimiter=None, header_row=0)
    headers = list(table.columns)
    unsupported = [h for h, dtype in table.schema.items() if dtype.is_nested() or dtype in (pl.Object, pl.Binary)]
    try:
        # Lists, structures and binary data cannot be a measure or a name: they are not offered to the mapping.
        family, plan, report = _plan(["" if h in unsupported else h for h in headers], mapping, name, report)
    except UnreadableFileError as error:
        if not unsupported:
            raise
        raise UnreadableFileError(
            f"{name} has no column we can read as a measure ({', '.join(unsupported)} "
            f"{'holds' if len(unsupported) == 1 else 'hold'} lists, structures or binary data, which are not "
            "supported); export plain number columns and upload it again.",
            headers=error.headers) from None
    if unsupported:
        report = dataclasses.replace(report, unmapped=[h for h in headers if h in unsupported or h in report.unmapped])
        report = report.with_issues(Issue("unsupported_columns", "These columns hold lists, structures or binary "
                                          f"data, which cannot be read, and were left out: {', '.join(unsupported)}.",
                                          "warning"))
    renamed = table.select([pl.col(h).alias(col_name(i)) for i, h in enumerate(headers)])
    scan = _text_columns(renamed, range(len(headers)), plan.mapped_indices)
    needed = sorted({*plan.source_indices, *scan} - {headers.index(h) for h in unsupported})
    frame = renamed.select([col_name(i) for i in needed]).with_row_index(ROW)
    frame = frame.with_columns((pl.col(ROW).cast(pl.Int64) + 1).alias(LINE))
    raw = RawTable(frame=frame, line_of=lambda idx: [i + 1 for i in idx],
                   read_columns=[col_name(i) for i in needed], raw_separator=" | ",
                   scan_columns=[col_name(i) for i in scan])
    return _finish(raw, plan, family, report)


def _text_columns(frame: pl.DataFrame, indices: Iterable[int], mapped: set[int]) -> list[int]:
    """Unmapped columns holding names or labels (read to recognise total rows; see normalize._total_rows)."""
    found = []
    for i in indices:
        name = col_name(i)
        if i in mapped or name not in frame.columns or frame.schema[name] != pl.String:
            continue
        if clean.looks_like_text(frame[name].drop_nulls().head(200).to_list()):
            found.append(i)
    return found


# Rows with these equal (and a date) in two files or stored sources most likely describe the same activity.
OVERLAP_KEYS = ("date", "platform", "campaign", "ad_group", "ad", "audience")


def overlapping_rows(later: pl.DataFrame, earlier: pl.DataFrame) -> int:
    """Dated rows of `later` whose date, platform, campaign, ad group, ad and audience also occur in
    `earlier`: if the two hold the same activity, those rows are counted twice."""
    keys = later.filter(pl.col("date").is_not_null()).select(OVERLAP_KEYS)
    if keys.is_empty():
        return 0
    return keys.join(earlier.select(OVERLAP_KEYS).unique(), on=list(OVERLAP_KEYS), how="semi",
                     nulls_equal=True).height


def _overlaps(frames: list[pl.DataFrame]) -> list[Issue]:
    """A warning for each later file sharing dated rows with an earlier one (`overlapping_rows`)."""
    issues: list[Issue] = []
    for i, later in enumerate(frames):
        for earlier in frames[:i]:
            shared = overlapping_rows(later, earlier)
            if shared:
                issues.append(Issue(
                    "possible_double_counting",
                    f"{shared} row(s) of {later['source_file'][0]} have the same date, platform and campaign "
                    f"as rows of {earlier['source_file'][0]}; if both files cover the same activity it is counted "
                    "twice.", "warning"))
    return issues
