"""Any table with one header row (an A/B test's users, arms or summary statistics) read by the upload reader.

Not the canonical activity table: the columns keep their own names and nothing is mapped. What is shared with
`load` is everything about the bytes — encodings and BOMs, `,` `;` tab `|` separators, preamble lines, classic-Mac
line ends, the zip-bomb guard for .xlsx — and the number reading: decimal commas and thousands separators
decided per column (`10,5` is ten and a half and `10.000` is ten thousand in a `;`-separated file), currency
symbols, percent signs, "N/A"-style empty cells.

A column whose every filled cell is a whole number becomes Int64 (ids stay exact), one whose every filled cell is
a number becomes Float64, anything else stays text (stripped; empty tokens → null). Only unreadable input raises
`UnreadableFileError` (one plain sentence).
"""

from __future__ import annotations

import csv
import io

import polars as pl

from metrics.ingest import clean, sniff, text
from metrics.ingest.report import UnreadableFileError

_WHOLE_NUMBER = r"^[-+]?\d{1,18}$"


def read_table(data: bytes, filename: str) -> pl.DataFrame:
    """The first table of ``data`` (CSV/TSV/semicolon/pipe text, .xlsx or Parquet) with its header's names.

    Raises UnreadableFileError for an empty, binary, damaged or oversized (zip bomb) file, or a text file that
    cannot be split into the header's columns."""
    if not data or not data.strip(b" \t\r\n\x00"):
        raise UnreadableFileError(f"{filename} is empty; export the data again.")
    if data.startswith(sniff.ZIP_MAGIC):
        return _read_workbook(data, filename)
    if data.startswith(sniff.PARQUET_MAGIC) or filename.lower().endswith((".parquet", ".pq")):
        return _read_parquet(data, filename)
    if data.startswith(sniff.OLE2_MAGIC):
        raise UnreadableFileError(f"{filename} is an old-format .xls workbook; save it as .xlsx or CSV and use that "
                                  "instead.")
    return _read_text(data, filename)


def parse_numbers(column: pl.Series, default_comma: bool = False) -> pl.Series:
    """Text cells as Float64 the way uploads read them (decimal mark decided from the column's values, thousands
    separators, currency symbols, "5%" → 0.05); null where a cell is empty or not a number."""
    stripped = column.cast(pl.String).str.strip_chars()
    comma = clean.detect_decimal_comma(stripped.drop_nulls(), default_comma)
    frame = pl.DataFrame({"v": stripped})
    value = clean.number_expr(pl.col("v"), comma)
    return frame.select(pl.when(clean.null_token_expr(pl.col("v"))).then(None).otherwise(value)
                        .alias(column.name)).to_series()


def _read_text(data: bytes, filename: str) -> pl.DataFrame:
    encoding, sniffed = text.sniff_source(data, filename, None)
    header_line, header = _header(data, encoding, sniffed)
    source = text.polars_text_source(data, encoding, sniffed.line_ending).polars_source()
    names = _column_names(header)
    try:
        frame = pl.scan_csv(
            source, has_header=False, separator=sniffed.delimiter, skip_lines=header_line + 1,
            schema={f"c{i}": pl.String for i in range(len(names))}, missing_columns="insert", quote_char='"',
            encoding="utf8-lossy", raise_if_empty=False,
        ).collect()
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
        raise UnreadableFileError(f"{filename} has rows with more cells than its header (or an unclosed quote); "
                                  "check the separator and save it again as CSV.") from None
    frame = frame.rename(dict(zip(frame.columns, names)))
    return _typed(frame, default_comma=sniffed.delimiter == ";")


def _header(data: bytes, encoding: sniff.Encoding, sniffed: sniff.Sniff) -> tuple[int, list[str]]:
    """The header line and its cells. An ads export's header is found by its known column names (after title
    and date-range lines); any other table's header is its first line as wide as most rows, since a data cell
    can look like a known header ("Medium") where no header cell does."""
    if sniffed.known_header_cells >= 2:
        return sniffed.header_line, sniffed.header
    head, truncated = text.read_head(data)
    lines, _ = sniff.split_physical_lines(sniff.decode(head, encoding, final=not truncated))
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    rows = [next(csv.reader([line], delimiter=sniffed.delimiter), []) for line in lines[:sniff.HEADER_SCAN_LINES]]
    widths = [len(row) for row in rows]
    wide = [w for w in widths if w > 1]
    if not wide:
        return sniffed.header_line, sniffed.header
    modal = max(set(wide), key=widths.count)
    index = widths.index(modal)
    return index, rows[index]


def _read_workbook(data: bytes, filename: str) -> pl.DataFrame:
    from metrics.ingest import excel  # zipfile and fastexcel only when a workbook arrives

    sheet = excel.read_workbook(data, filename, None)  # zip-bomb guard, damaged-file errors, header row
    names = _column_names(sheet.header)
    body = sheet.cells.slice(sheet.header_index + 1)
    body = body.select([pl.col(f"c{i}") if f"c{i}" in body.columns else pl.lit(None, pl.String).alias(f"c{i}")
                        for i in range(len(names))])
    return _typed(body.rename(dict(zip(body.columns, names))), default_comma=False)


def _read_parquet(data: bytes, filename: str) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException:  # any decoding error (or reader panic) means a damaged file
        raise UnreadableFileError(f"{filename} is not a valid Parquet file; export it again.") from None
    categorical = [c for c, dtype in frame.schema.items() if dtype in (pl.Categorical, pl.Enum)]
    return frame.with_columns(pl.col(categorical).cast(pl.String)) if categorical else frame


def _column_names(header: list[str]) -> list[str]:
    """Header cells as column names: stripped, blanks named by position, repeats numbered."""
    names: list[str] = []
    for i, cell in enumerate(header):
        name = str(cell or "").strip() or f"column {i + 1}"
        base, k = name, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names or ["column 1"]


def _typed(frame: pl.DataFrame, default_comma: bool) -> pl.DataFrame:
    """Text cells → Int64 / Float64 columns where every filled cell is a number; rows with no cell dropped."""
    columns = []
    for name in frame.columns:
        raw = frame.get_column(name).cast(pl.String).str.strip_chars()
        raw = pl.DataFrame({"v": raw}).select(
            pl.when(clean.null_token_expr(pl.col("v"))).then(None).otherwise(pl.col("v")).alias(name)).to_series()
        filled = raw.drop_nulls()
        if filled.len() and bool(filled.str.contains(_WHOLE_NUMBER).all()):
            columns.append(raw.str.replace(r"^\+", "").cast(pl.Int64))
            continue
        if filled.len() and not bool(filled.str.contains(clean.MASKED).any()):
            numbers = parse_numbers(raw, default_comma)
            if numbers.null_count() == raw.null_count() and bool(numbers.drop_nulls().is_finite().all()):
                columns.append(numbers)
                continue
        columns.append(raw)
    typed = pl.DataFrame(columns) if columns else frame
    return typed.filter(~pl.all_horizontal(pl.all().is_null())) if typed.width else typed
