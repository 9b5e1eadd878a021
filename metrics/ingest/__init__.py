"""Ingestion: any export a marketer has → the canonical activity table (SPEC §2, §7).

    load(data, filename, mapping=None) -> LoadResult          # one upload (bytes)
    load_path(path, mapping=None) -> LoadResult               # same, reading a file (faster for big files)
    load_many([(filename, bytes), ...], mappings=None) -> CombinedLoad
    read_table(bytes, filename) -> pl.DataFrame                # any other table (A/B files), same reader

`mapping` is {source header: canonical name, or "" to ignore the column}; it overrides the
automatic mapping, and with it a file is readable even when no header is recognised.
Only unreadable input raises (`UnreadableFileError`, one plain sentence); bad rows, total
rows and unmapped columns are reported in `LoadResult.report`.

Decisions
- A number cell that is not a number (text, inf, 1e309) or is negative rejects its whole row,
  with the line and the reason; it is never silently turned into null or 0.
- Empty, "-", "--", "N/A", "null", "nan" mean *not reported* (null). "<5"-style privacy masks are
  null too and counted in `masked_cells`. Percent strings become fractions (5.23% → 0.0523).
- Total/summary rows ("Total: Account", "Итого", "Gesamt", ...) are excluded and reported;
  rows repeating the sum of a campaign's dated rows (no date, or an "All" campaign) are
  excluded with a `double_counting` warning. `rows_read == rows_loaded + rows_rejected +
  rows_excluded`; blank lines are not rows (an info issue counts them).
- Headers match exactly after normalisation (case, spacing, `_`, camelCase, a currency suffix
  such as "(USD)"), family tables first, never by substring: ratio columns (CPC, CTR, "Cost per
  result", "Cost / conv.") are listed as ignored.

Known limits
- Encoding, delimiter, header row, decimal mark and date format are decided from the first
  64 KB (the decimal mark per column from its values). A UTF-8 file with invalid bytes after
  that is read with replacement characters.
- Line numbers are exact for text files, including preamble lines and quoted cells spanning
  lines; finding them for a file with multi-line cells reads the whole file once more with
  Python's csv module (only when there are rows to report). A line with an unclosed quote is
  rejected on its own when the quote is not closed within 50 lines.
- Rows with more fields than the header are rejected; rows with fewer are read with nulls.
- Excel: the first 20 sheets are scanned and the one with the best header row is read; row
  numbers are spreadsheet rows. Workbooks declaring more than 300 MB uncompressed, or more
  than 100x their size (above 20 MB), are refused before parsing.
- `load_path` has no size cap; `load` refuses more than `MAX_UPLOAD_BYTES`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from metrics import schema
from metrics.ingest import text
from metrics.ingest.families import Family, MappingPlan, detect_family, resolve_mapping
from metrics.ingest.normalize import LINE, ROW, RawTable, build_canonical, col_name
from metrics.ingest.report import (
    CombinedLoad,
    FileReport,
    Issue,
    LoadResult,
    RejectedRow,
    UnreadableFileError,
)
from metrics.ingest.table import read_table

__all__ = [
    "MAX_UPLOAD_BYTES", "CombinedLoad", "FileReport", "Issue", "LoadResult", "RejectedRow", "UnreadableFileError",
    "load", "load_many", "load_path", "read_table",
]

# Uploads above this size are refused (the command line's load_path has no such cap).
MAX_UPLOAD_BYTES = 500 * 1024 * 1024
PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx is a zip archive


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
    if head.startswith(ZIP_MAGIC) or head.startswith(PARQUET_MAGIC) or _excel_name(path.name):
        return _load(path.read_bytes(), path.name, mapping)
    return _load_text(path, path.name, mapping, keep=keep)


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
    if data.startswith(ZIP_MAGIC):
        return _load_excel(data, name, mapping)
    if data.startswith(PARQUET_MAGIC):
        return _load_parquet(data, name, mapping)
    if _excel_name(name):
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise UnreadableFileError(f"{name} is an old-format .xls workbook; save it as .xlsx or CSV and "
                                      "upload that instead.")
        if not _looks_like_text(data):
            raise UnreadableFileError(f"{name} is not a valid Excel file (it may be truncated); export it again "
                                      "and re-upload.")
        result = _load_text(data, name, mapping)  # some tools name CSV exports .xls/.xlsx
        result.report.add_issue("text_named_as_excel", f"{name} is a text table despite its Excel name; it "
                                "was read as text.", "info")
        return result
    return _load_text(data, name, mapping)


def _looks_like_text(data: bytes) -> bool:
    from metrics.ingest import sniff

    head = data[: sniff.SAMPLE_BYTES]
    if sniff.describe_binary(head):
        return False
    encoding = sniff.detect_encoding(head)
    return not sniff.looks_binary(sniff.decode(head, encoding, final=len(data) <= len(head)))


def _plan(headers: list[str], mapping: dict[str, str] | None, name: str, report: FileReport) -> tuple[Family, MappingPlan]:
    # With a user mapping the family still gives the platform; the user's mapping wins per column.
    family = detect_family([schema.normalize_header(h) for h in headers])
    plan = resolve_mapping(headers, family, mapping)
    if not plan.has_measure and mapping is None:
        raise UnreadableFileError(
            f"{name} has no column recognised as a measure (such as impressions, clicks or spend); map its "
            "columns by hand and load it again.",
            headers=[h for h in headers if str(h).strip()],
        )
    report.source_format = family.slug
    report.mapping = plan.mapping
    report.unmapped = plan.unmapped
    report.currency = plan.header_currency
    for code, message, severity in plan.notes:
        report.add_issue(code, message, severity)  # type: ignore[arg-type]
    if plan.ignored_derived:
        report.add_issue("derived_columns_ignored", "Ratio columns computed by the platform were ignored (KPIs are "
                         f"recomputed from the totals): {', '.join(plan.ignored_derived).rstrip('.')}.", "info")
    others = [h for h in plan.unmapped if h not in plan.ignored_derived and h.strip()]
    if others:
        report.add_issue("unmapped_columns", f"These columns were not used: {', '.join(others)}; map them by hand "
                         "if they matter.", "info")
    if not plan.has_measure:
        report.add_issue("no_measures", "The mapping names no measure column, so there is nothing to add up.",
                         "warning")
    return family, plan


def _finish(raw: RawTable, plan: MappingPlan, family: Family, report: FileReport) -> LoadResult:
    _detect_value_currency(raw, plan, report)
    frame = build_canonical(raw, plan, family, report)
    if report.rows_read == 0:
        report.add_issue("no_data_rows", "The file has a header but no data rows.", "warning")
    return LoadResult(frame=frame, report=report)


def _detect_value_currency(raw: RawTable, plan: MappingPlan, report: FileReport) -> None:
    if report.currency or plan.by_canonical("currency"):
        return
    from metrics.ingest.clean import detect_currency_symbol

    for canonical in ("spend", "revenue"):
        for c in plan.by_canonical(canonical):
            column = raw.frame.get_column(col_name(c.index), default=None)
            if column is not None and column.dtype == pl.String:
                found = detect_currency_symbol(column)
                if found:
                    report.currency = found
                    return


ALWAYS_READ = frozenset({*schema.MEASURES, "date", "platform", "campaign", "currency"})


def _load_text(
    source: bytes | Path, name: str, mapping: dict[str, str] | None, *, keep: Iterable[str] | None = None
) -> LoadResult:
    encoding, sniffed = text.sniff_source(source, name, set(mapping or {}))
    report = FileReport(
        name=name,
        file_type="tsv" if sniffed.delimiter == "\t" else "csv",
        encoding=encoding.name,
        delimiter=sniffed.delimiter,
        header_row=sniffed.header_line,
    )
    if encoding.name == "windows-1252":
        report.add_issue("encoding_windows_1252", "The file is not UTF-8; it was read as Windows-1252.", "info")
    if sniffed.header_line > 0:
        report.add_issue("preamble_skipped", f"{sniffed.header_line} line(s) before the header (titles, date "
                         "range) were skipped.", "info")
    family, plan = _plan(sniffed.header, mapping, name, report)
    if keep is not None:
        wanted = ALWAYS_READ | set(keep)
        plan = dataclasses.replace(plan, columns=[c for c in plan.columns if c.canonical in wanted])
    raw = text.read_text_table(source, sniffed, encoding, plan, report)
    return _finish(raw, plan, family, report)


def _load_excel(data: bytes, name: str, mapping: dict[str, str] | None) -> LoadResult:
    from metrics.ingest import excel  # zipfile and fastexcel only when a workbook arrives

    sheet = excel.read_workbook(data, name, set(mapping or {}))
    report = FileReport(name=name, file_type="xlsx", encoding=None, delimiter=None,
                        header_row=sheet.first_row - 1 + sheet.header_index)
    family, plan = _plan(sheet.header, mapping, name, report)
    body = sheet.cells.slice(sheet.header_index + 1)
    first_data_line = sheet.first_row + sheet.header_index + 1
    needed = sorted({0, *(c.index for c in plan.columns)})
    frame = body.with_row_index(ROW).with_columns((pl.col(ROW).cast(pl.Int64) + first_data_line).alias(LINE))
    extras = [c for c in body.columns if int(c[1:]) >= len(sheet.header)]
    frame = frame.select(ROW, LINE, *[col_name(i) for i in needed if col_name(i) in body.columns],
                         *[pl.col(c).alias(f"x{j}") for j, c in enumerate(extras)])
    raw = RawTable(frame=frame, line_of=lambda idx: [first_data_line + i for i in idx],
                   read_columns=[col_name(i) for i in needed], raw_separator=" | ", header_width=len(sheet.header))
    return _finish(raw, plan, family, report)


def _load_parquet(data: bytes, name: str, mapping: dict[str, str] | None) -> LoadResult:
    try:
        table = pl.read_parquet(io.BytesIO(data))
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException:  # any parquet decoding error (or reader panic) means a damaged file
        raise UnreadableFileError(f"{name} is not a valid Parquet file; export it again and re-upload.") from None
    report = FileReport(name=name, file_type="parquet", encoding=None, delimiter=None, header_row=0)
    headers = list(table.columns)
    family, plan = _plan(headers, mapping, name, report)
    needed = sorted({0, *(c.index for c in plan.columns)})
    frame = table.select([pl.col(headers[i]).alias(col_name(i)) for i in needed]).with_row_index(ROW)
    frame = frame.with_columns((pl.col(ROW).cast(pl.Int64) + 1).alias(LINE))
    raw = RawTable(frame=frame, line_of=lambda idx: [i + 1 for i in idx],
                   read_columns=[col_name(i) for i in needed], raw_separator=" | ")
    return _finish(raw, plan, family, report)


def _overlaps(frames: list[pl.DataFrame]) -> list[Issue]:
    """Rows of a later file with the same date, platform and campaign as an earlier file's rows."""
    keys = ["date", "platform", "campaign", "ad_group", "ad", "audience"]
    issues: list[Issue] = []
    for i, later in enumerate(frames):
        later_keys = later.filter(pl.col("date").is_not_null()).select(keys + ["source_file"])
        if later_keys.is_empty():
            continue
        for earlier in frames[:i]:
            earlier_keys = earlier.filter(pl.col("date").is_not_null()).select(keys).unique()
            shared = later_keys.join(earlier_keys, on=keys, how="semi", nulls_equal=True)
            if shared.height:
                issues.append(Issue(
                    "possible_double_counting",
                    f"{shared.height} row(s) of {later['source_file'][0]} have the same date, platform and campaign "
                    f"as rows of {earlier['source_file'][0]}; if both files cover the same activity it is counted "
                    "twice.", "warning"))
    return issues
