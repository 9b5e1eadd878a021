"""Reading CSV / TSV / semicolon / pipe text tables into a `RawTable`.

Fast path: after sniffing the first 64 KB, polars scans only the mapped columns, with Float64 /
Date types for the columns whose sample values are plain numbers / ISO dates, and everything
else as String. If a typed column meets a cell it cannot parse later in the file, the file is
read again with all mapped columns as String and cleaned by expressions (the slow path). A file
polars cannot split at all (an unclosed quote, rows far wider than the header) is split line by
line in Python with each bad line rejected (the robust path, for broken files only).

Line numbers: record i after the header is on line header_line + 2 + i when no quoted cell
spans lines; otherwise the exact start line of each reported record is recomputed with the
`csv` module (only when there are rows to report).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from metrics.ingest import clean, sniff
from metrics.ingest.families import ColumnPlan, MappingPlan
from metrics.ingest.normalize import LINE, PARSE_ERROR, ROW, RawTable, col_name
from metrics.ingest.report import Issue, UnreadableFileError

# Extra columns beyond the header so that rows with too many fields can be seen (and rejected).
# Only read when the first, typed read failed: empty extra columns cost memory on big files.
_EXTRA_FIELDS = 4
_EXTRA_FIELDS_RETRY = 256
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_PLAIN_INTEGER = re.compile(r"^-?\d+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class TextSource:
    """The bytes (or file) polars reads, always UTF-8 with \\n or \\r\\n line ends."""

    data: bytes | None
    path: Path | None

    def polars_source(self) -> bytes | str:
        return str(self.path) if self.path is not None else self.data  # type: ignore[return-value]

    def newline_count(self) -> tuple[int, bool]:
        """(number of \\n, ends with \\n)."""
        if self.data is not None:
            return self.data.count(b"\n"), self.data.endswith(b"\n")
        count, last = 0, b""
        with open(self.path, "rb") as handle:  # type: ignore[arg-type]
            while chunk := handle.read(16 * 1024 * 1024):  # flat memory on multi-GB files
                count += chunk.count(b"\n")
                last = chunk[-1:]
        return count, last == b"\n"

    def text(self) -> str:
        raw = self.data if self.data is not None else Path(self.path).read_bytes()  # type: ignore[arg-type]
        return raw.decode("utf-8", errors="replace").lstrip("\ufeff")

    def tail(self, size: int) -> bytes | None:
        """The last `size` bytes, or None when the file is not longer than that."""
        if self.data is not None:
            return self.data[-size:] if len(self.data) > size else None
        with open(self.path, "rb") as handle:  # type: ignore[arg-type]
            end = handle.seek(0, 2)
            if end <= size:
                return None
            handle.seek(end - size)
            return handle.read(size)


def tail_rows(text_source: TextSource, delimiter: str) -> list[list[str]]:
    """Records in the last 64 KB (a file's summary rows usually stand there); [] for a short file."""
    tail = text_source.tail(sniff.SAMPLE_BYTES)
    if tail is None:
        return []
    lines = tail.decode("utf-8", errors="replace").splitlines()[1:]  # the first line is cut
    try:
        return list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return [line.split(delimiter) for line in lines]


def scan_indices(width: int, read: set[int], rows: list[list[str]]) -> list[int]:
    """Unread text columns to read for total rows: only when a sampled line holds a total label.

    A label further inside a file, in a column the plan does not read, is not seen (a documented limit).
    """
    if not any(clean.holds_total_label(cell) for row in rows for cell in row):
        return []
    return [j for j in range(width)
            if j not in read and clean.looks_like_text([row[j] for row in rows if j < len(row)])]


def read_head(source: bytes | Path, size: int = sniff.SAMPLE_BYTES) -> tuple[bytes, bool]:
    """First `size` bytes and whether the file is longer."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:size]), len(source) > size
    with open(source, "rb") as handle:
        head = handle.read(size + 1)
    return head[:size], len(head) > size


def sniff_source(source: bytes | Path, name: str, user_headers: set[str] | None) -> tuple[sniff.Encoding, sniff.Sniff]:
    head, truncated = read_head(source)
    if truncated and head.count(b"\n") < 3:  # a very long header line: read it whole (up to 1 MB)
        head, truncated = read_head(source, sniff.SAMPLE_BYTES + sniff.MAX_HEADER_BYTES)
    if not head.strip(b" \t\r\n\x00"):
        raise UnreadableFileError(f"{name} is empty; export the report again and re-upload it.")
    what = sniff.describe_binary(head)
    if what:
        raise UnreadableFileError(f"{name} is {what}, not a table; upload a CSV, Excel or Parquet export instead.")
    encoding = sniff.detect_encoding(head)
    text = sniff.decode(head, encoding, final=not truncated)
    if sniff.looks_binary(text):
        raise UnreadableFileError(f"{name} does not look like a text table (it contains binary data); upload a "
                                  "CSV, Excel or Parquet export instead.")
    if not text.strip():
        raise UnreadableFileError(f"{name} is empty; export the report again and re-upload it.")
    try:
        sniffed = sniff.sniff_text(text, truncated, user_headers)
    except sniff.TooWideError as wide:
        raise UnreadableFileError(too_wide_message(name, wide.width)) from None
    if not sniffed.header or (truncated and len(text) >= sniff.MAX_HEADER_BYTES and not sniffed.sample_rows):
        raise UnreadableFileError(f"{name} has a header line longer than 1 MB, which is not a table we can read; "
                                  "export fewer columns and upload it again.")
    return encoding, sniffed


def refuse_several_tables(source: bytes | Path, encoding: sniff.Encoding, sniffed: sniff.Sniff, name: str) -> None:
    """A Google Analytics export with several tables one after another: never mix their rows.

    GA writes a "# ----" comment block before each table; only files opening with one are searched.
    """
    if not sniffed.comment_preamble:
        return
    raw = source if not isinstance(source, Path) else source.read_bytes()
    if _comment_after_table(sniff.split_physical_lines(sniff.decode(bytes(raw), encoding))[0]):
        raise UnreadableFileError(f"{name} holds several tables one after another (a Google Analytics export of a "
                              "whole report); export each table on its own and upload those files.")


def _comment_after_table(lines: list[str]) -> bool:
    in_table = False
    for line in lines:
        if line.lstrip().startswith("#"):
            if in_table:
                return True
        elif line.strip():
            in_table = True
    return False


def too_wide_message(name: str, width: int) -> str:
    return (f"{name} has {width:,} columns, more than the {sniff.MAX_COLUMNS:,} we read; export only the columns "
            "you need and upload it again.")


def polars_text_source(source: bytes | Path, encoding: sniff.Encoding, line_ending: str) -> TextSource:
    """UTF-8 with \\n line ends for polars; transcodes UTF-16 / Windows-1252 and classic-Mac \\r files."""
    if encoding.polars_native and line_ending != "\r" and not _ends_with_quote(source):
        if isinstance(source, Path):
            return TextSource(None, source)
        return TextSource(bytes(source), None)
    raw = source if not isinstance(source, Path) else source.read_bytes()
    text = sniff.decode(bytes(raw), encoding, final=True)
    if line_ending == "\r":
        text = text.replace("\r", "\n")
    if text.endswith('"'):
        text += "\n"  # polars 2.1 panics on a quote as the very last byte of a typed column
    return TextSource(text.encode("utf-8"), None)


def _ends_with_quote(source: bytes | Path) -> bool:
    if isinstance(source, Path):
        with open(source, "rb") as handle:
            if handle.seek(0, 2) == 0:
                return False
            handle.seek(-1, 2)
            return handle.read(1) == b'"'
    return source[-1:] == b'"'



def _typed_dtypes(plan: MappingPlan, sample_rows: list[list[str]], delimiter: str) -> dict[int, pl.DataType]:
    """Per mapped column: Float64 / Date when every sampled value is a plain number / ISO date, else String.

    In `;`-separated files a dot is usually a thousands separator ("10.000"), so only whole numbers
    take the typed path there, and none when a sampled measure shows a dot or a comma: a column of
    small counts would meet "1.003" further down, and a typed read that fails reads the file twice.
    """
    from metrics import schema

    measures = [c for c in plan.columns if c.canonical in schema.MEASURES]
    localised = delimiter == ";" and any(
        "." in row[c.index] or "," in row[c.index] for c in measures for row in sample_rows if c.index < len(row))
    return {c.index: pl.String if localised and c.canonical in schema.MEASURES
            else _typed_dtype(c, sample_rows, delimiter) for c in plan.columns}


def _typed_dtype(plan: ColumnPlan, sample_rows: list[list[str]], delimiter: str) -> pl.DataType:
    from metrics import schema

    values = [row[plan.index].strip() for row in sample_rows if plan.index < len(row) and row[plan.index].strip()]
    if not values:
        # Empty in the whole sample (followers, messages...): bet on numbers; a later text cell
        # makes the typed read fail and the file is read again as text.
        return pl.Float64 if plan.canonical in schema.MEASURES and sample_rows else pl.String
    plain = _PLAIN_INTEGER if delimiter == ";" else _PLAIN_NUMBER
    if plan.canonical in schema.MEASURES and all(plain.match(v) for v in values):
        return pl.Float64
    if plan.canonical == "date" and all(_ISO_DATE.match(v) for v in values):
        return pl.Date
    return pl.String


@dataclass(frozen=True)
class TableScan:
    """How to scan a text table: polars' source, the header's width, the columns read and their guessed types."""

    source: TextSource
    width: int
    needed: list[int]  # mapped columns, then unmapped text columns read for total labels (`scan`)
    scan: list[int]
    typed: dict[int, pl.DataType]  # per mapped column: Float64 / Date when the sample says so, else String


def plan_scan(source: bytes | Path, sniffed: sniff.Sniff, encoding: sniff.Encoding, plan: MappingPlan) -> TableScan:
    text_source = polars_text_source(source, encoding, sniffed.line_ending)
    width = max(len(sniffed.header), 1)
    scan = scan_indices(width, plan.mapped_indices, [*sniffed.sample_rows, *tail_rows(text_source, sniffed.delimiter)])
    return TableScan(text_source, width, sorted({*plan.source_indices, *scan}), scan,
                     _typed_dtypes(plan, sniffed.sample_rows, sniffed.delimiter))


def scan_table(table: TableScan, sniffed: sniff.Sniff, dtypes: dict[int, pl.DataType], extra: int = 0,
               row_index: bool = True) -> pl.LazyFrame:
    """The needed columns (typed as `dtypes`, String otherwise), `extra` columns beyond the header, and `__row`."""
    columns = {col_name(i): dtypes.get(i, pl.String) for i in range(table.width)}
    columns |= {f"x{j}": pl.String for j in range(extra)}
    lazy = pl.scan_csv(
        table.source.polars_source(), has_header=False, separator=sniffed.delimiter,
        skip_lines=sniffed.header_line + 1, schema=columns, missing_columns="insert",
        row_index_name=ROW if row_index else None, quote_char='"', encoding="utf8-lossy", raise_if_empty=False,
    )
    keep = [*([ROW] if row_index else []), *(col_name(i) for i in table.needed), *(f"x{j}" for j in range(extra))]
    return lazy.select(keep)


def read_text_table(
    source: bytes | Path, sniffed: sniff.Sniff, encoding: sniff.Encoding, plan: MappingPlan
) -> RawTable:
    table = plan_scan(source, sniffed, encoding, plan)
    # First the fast typed read without extra columns (a row with too many fields makes polars
    # raise); then everything as text with a few extra columns to catch long rows; then many.
    attempts: list[tuple[dict[int, pl.DataType], int]] = [
        (table.typed, 0), ({}, _EXTRA_FIELDS), ({}, _EXTRA_FIELDS_RETRY)]
    frame: pl.DataFrame | None = None
    for dtypes, extra in attempts:
        try:
            frame = scan_table(table, sniffed, dtypes, extra).collect()
            break
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
            # A typed cell that does not parse, a long row, a stray quote, or a reader bug on
            # garbage input: try the next, more tolerant reading.
            continue
    if frame is not None:
        if not frame[ROW].is_sorted():  # the streaming engine need not keep row order
            frame = frame.sort(ROW)
        return RawTable(
            frame=frame,
            line_of=_line_mapper(table.source, sniffed, frame.height),
            default_decimal_comma=sniffed.delimiter == ";",
            read_columns=[col_name(i) for i in table.needed],
            raw_separator=sniffed.delimiter,
            header_width=table.width,
            scan_columns=[col_name(j) for j in table.scan],
        )
    irregular = Issue("irregular_file", "The file could not be split into columns everywhere (an unclosed quote "
                      "or rows with many extra fields); it was read line by line.", "warning")
    robust = _robust_table(table.source.text(), sniffed, table.needed, table.width)
    return dataclasses.replace(robust, scan_columns=[col_name(j) for j in table.scan], notes=(irregular,))


def _line_mapper(text_source: TextSource, sniffed: sniff.Sniff, records: int) -> Callable[[list[int]], list[int]]:
    first_line = sniffed.header_line + 2
    cache: dict[str, list[int]] = {}

    def line_of(indices: list[int]) -> list[int]:
        if "starts" not in cache:
            newlines, trailing = text_source.newline_count()
            physical = newlines + (0 if trailing else 1)
            if physical - (sniffed.header_line + 1) == records:
                cache["starts"] = []
            else:  # quoted cells span lines: find where each record starts
                cache["starts"] = _record_start_lines(text_source.text(), sniffed)
        starts = cache["starts"]
        if not starts:
            return [first_line + i for i in indices]
        return [starts[i] if i < len(starts) else first_line + i for i in indices]

    return line_of


def _record_start_lines(text: str, sniffed: sniff.Sniff) -> list[int]:
    lines_before = sniffed.header_line + 1
    body = text.split("\n", lines_before)[-1] if lines_before else text
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sniffed.delimiter)
    starts, previous = [], 0
    try:
        for _ in reader:
            starts.append(lines_before + previous + 1)
            previous = reader.line_num
    except csv.Error:
        pass
    return starts


def _robust_table(text: str, sniffed: sniff.Sniff, needed: list[int], width: int) -> RawTable:
    """Split line by line; a line whose quote never closes (within 50 lines) is rejected alone."""
    lines = text.replace("\r\n", "\n").split("\n")
    records: list[list[str]] = []
    line_numbers: list[int] = []
    errors: list[str | None] = []
    i = sniffed.header_line + 1
    while i < len(lines):
        start = i
        chunk = lines[i]
        while chunk.count('"') % 2 == 1 and i + 1 < len(lines) and i - start < 50:
            i += 1
            chunk += "\n" + lines[i]
        if chunk.count('"') % 2 == 1:
            i = start
            records.append([lines[start]])
            errors.append("the row has an unclosed quote")
        else:
            try:
                row = next(csv.reader([chunk], delimiter=sniffed.delimiter), [])
            except csv.Error:
                row = [chunk]
            if len(row) > width:
                errors.append(f"the row has {len(row)} fields but the header has {width}")
            else:
                errors.append(None)
            records.append(row)
        line_numbers.append(start + 1)
        i += 1
    if records and records[-1] in ([], [""]) and errors[-1] is None:
        records.pop(); line_numbers.pop(); errors.pop()  # noqa: E702 - the final newline
    data = {col_name(j): [(r[j] if j < len(r) and r[j] != "" else None) for r in records] for j in needed}
    frame = pl.DataFrame(
        {ROW: list(range(len(records))), LINE: line_numbers, PARSE_ERROR: errors, **data},
        schema={ROW: pl.UInt32, LINE: pl.Int64, PARSE_ERROR: pl.String, **{col_name(j): pl.String for j in needed}},
    )
    return RawTable(frame=frame, line_of=lambda idx: [i + sniffed.header_line + 2 for i in idx],
                    default_decimal_comma=sniffed.delimiter == ";", read_columns=[col_name(j) for j in needed],
                    raw_separator=sniffed.delimiter, header_width=width)
