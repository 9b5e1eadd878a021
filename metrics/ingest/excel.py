"""Excel (.xlsx) reading with guards that run before any parsing.

Calamine loads a whole sheet into memory even when asked for a few rows, and it trusts nothing we
can check afterwards, so every part of the workbook is inflated here first, through a streaming
reader that counts the bytes it produces:

- the zip directory's declared sizes are checked (a total cap and a compression-ratio cap), then
  each part is inflated from its own compressed bytes, never trusting the declared size: a part
  producing more than it declares (a falsified directory) or more than the cap is refused at the
  first chunk over the limit, so a 300 MB bomb behind a small directory costs milliseconds;
- encrypted workbooks get their own sentence (a zip with the encryption flag here; an OLE
  container holding an "EncryptedPackage", how Excel saves a password, in `ingest._load`);
- the same pass reads each worksheet's `<dimension>` (tables wider than `sniff.MAX_COLUMNS` are
  refused) and its error cells (`t="e"`: #DIV/0!, #N/A, ...). Calamine reads error cells as
  empty; we put the error text back so the row is rejected with the reason, as in a CSV.

Known limit: error cells are placed using the first row and column holding a value in the first
256 KB of the sheet (where calamine's range starts); a sheet whose leading empty columns differ
further down is not expected from any exporter.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

import polars as pl

from metrics import schema
from metrics.ingest.report import UnreadableFileError
from metrics.ingest.sniff import MAX_COLUMNS, ZIP_MAGIC, header_score

MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Small workbooks may compress well (a sheet of zeros); the ratio matters only above this size.
RATIO_CHECK_FROM_BYTES = 20 * 1024 * 1024
HEADER_SCAN_ROWS = 30
_CHUNK = 4 * 1024 * 1024  # bytes produced per inflate step
_HEAD_BYTES = 256 * 1024  # start of each sheet searched for its first row and column
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")


def password_message(name: str) -> str:
    return f"{name} is a password-protected workbook: remove the password and export again."


def check_workbook(data: bytes, name: str) -> zipfile.ZipFile:
    """Refuse anything that is not a sane .xlsx from the zip directory (no decompression yet)."""
    invalid = f"{name} is not a valid Excel file (it may be truncated); export it again and re-upload."
    if not data.startswith(ZIP_MAGIC):
        raise UnreadableFileError(invalid)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError):
        raise UnreadableFileError(invalid) from None
    if any(m.flag_bits & 0x1 for m in members):
        raise UnreadableFileError(password_message(name))
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise UnreadableFileError(f"{name} is a zip archive but not an Excel workbook; upload the .xlsx file itself.")
    declared = sum(m.file_size for m in members)
    if declared > MAX_UNCOMPRESSED_BYTES or (
        declared > RATIO_CHECK_FROM_BYTES and declared > MAX_COMPRESSION_RATIO * max(len(data), 1)
    ):
        raise UnreadableFileError(_too_large(name, declared))
    return archive


def _too_large(name: str, size: int) -> str:
    return (f"{name} would expand to {size / 1024 / 1024:,.0f} MB when opened, which is too large or "
            "suspiciously compressed; split the report into smaller files and re-upload.")


# ---------------------------------------------------------------- streaming inflate


@dataclass
class SheetScan:
    """What the inflate pass saw in one worksheet part."""

    first_row: int | None = None  # 1-based spreadsheet row of the first cell with a value
    first_column: int | None = None  # 1-based column of the leftmost such cell (in the first 256 KB)
    width: int = 0  # columns in its <dimension ref>
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, "#DIV/0!")
    unlocated_errors: int = 0


_CELL_WITH_VALUE = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)
_ERROR_CELL = re.compile(rb'<c\b([^>]*?)\bt=["\']e["\']([^>]*)>(.*?)</c>', re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_DIMENSION = re.compile(rb'<dimension\s+ref="[A-Z]*\d*:?([A-Z]+)\d+"')


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number


class _SheetReader:
    """Fed a worksheet's XML chunk by chunk; complete rows are searched for error cells."""

    def __init__(self) -> None:
        self.scan = SheetScan()
        self._head = b""
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        if len(self._head) < _HEAD_BYTES:
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
        buffer = self._pending + chunk
        cut = buffer.rfind(b"</row>")
        complete, self._pending = (buffer[: cut + 6], buffer[cut + 6:]) if cut >= 0 else (b"", buffer)
        if b't="e"' in complete or b"t='e'" in complete:
            self._errors(complete)

    def finish(self) -> SheetScan:
        if self._pending and (b't="e"' in self._pending or b"t='e'" in self._pending):
            self._errors(self._pending)
        dimension = _DIMENSION.search(self._head)
        if dimension:
            self.scan.width = _column_number(dimension[1])
        cells = [(int(row), _column_number(col)) for col, row, content in _CELL_WITH_VALUE.findall(self._head)
                 if content and (b"<v>" in content or b"<t" in content)]
        if cells:
            self.scan.first_row = min(r for r, _ in cells)
            self.scan.first_column = min(c for _, c in cells)
        return self.scan

    def _errors(self, xml: bytes) -> None:
        for before, after, content in _ERROR_CELL.findall(xml):
            ref = _REF.search(before + after)
            value = _VALUE.search(content)
            text = value[1].decode("utf-8", "replace") if value else "#ERROR!"
            if ref:
                self.scan.errors.append((int(ref[2]), _column_number(ref[1]), text))
            else:
                self.scan.unlocated_errors += 1


def inflate_workbook(data: bytes, archive: zipfile.ZipFile, name: str) -> dict[str, SheetScan]:
    """Inflate every part through a counting stream (see the module docstring); worksheet path → scan."""
    produced_total = 0
    scans: dict[str, SheetScan] = {}
    for member in archive.infolist():
        is_sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
        reader = _SheetReader() if is_sheet else None
        for chunk in _member_chunks(data, member, name):
            produced_total += len(chunk)
            if produced_total > MAX_UNCOMPRESSED_BYTES:
                raise UnreadableFileError(_too_large(name, produced_total))
            if reader is not None:
                reader.feed(chunk)
        if reader is not None:
            scans[member.filename] = reader.finish()
            if scans[member.filename].width > MAX_COLUMNS:
                raise UnreadableFileError(
                    f"{name} has a sheet {scans[member.filename].width:,} columns wide, more than the "
                    f"{MAX_COLUMNS:,} we read; export only the columns you need and upload it again.")
    return scans


def _member_chunks(data: bytes, member: zipfile.ZipInfo, name: str):
    """The member's bytes, inflated from its own compressed data; never more than it declares."""
    invalid = f"{name} is not a valid Excel file (it may be truncated); export it again and re-upload."
    try:
        header = _LOCAL_HEADER.unpack_from(data, member.header_offset)
    except struct.error:
        raise UnreadableFileError(invalid) from None
    if header[0] != 0x04034B50:
        raise UnreadableFileError(invalid)
    start = member.header_offset + _LOCAL_HEADER.size + header[9] + header[10]
    compressed = memoryview(data)[start: start + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        if len(compressed) != member.file_size:
            raise UnreadableFileError(invalid)
        yield bytes(compressed)
        return
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise UnreadableFileError(invalid)
    inflater = zlib.decompressobj(-15)
    produced = 0
    position = 0
    pending = b""
    while True:
        if not pending:
            if position >= len(compressed) or inflater.eof:
                break
            pending = bytes(compressed[position: position + _CHUNK])
            position += _CHUNK
        try:
            chunk = inflater.decompress(pending, _CHUNK)
        except zlib.error:
            raise UnreadableFileError(invalid) from None
        pending = inflater.unconsumed_tail
        produced += len(chunk)
        if produced > member.file_size:
            raise UnreadableFileError(
                f"{name} is damaged or crafted: its parts hold more data than the file declares; export it "
                "again from the spreadsheet program and re-upload.")
        if chunk:
            yield chunk
    if produced != member.file_size:
        raise UnreadableFileError(invalid)


# ---------------------------------------------------------------- sheets


@dataclass
class Sheet:
    name: str
    cells: pl.DataFrame  # all String, columns c0..cN, one row per sheet row from `first_row`
    first_row: int  # 1-based spreadsheet row of cells' first row
    header_index: int  # 0-based index into `cells` of the header row
    header: list[str]
    score: int
    error_cells: int = 0  # spreadsheet error cells put back as text (they reject their rows)
    unlocated_errors: int = 0  # error cells without a cell reference (cannot be placed)


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → worksheet part ("xl/worksheets/sheet1.xml"). Best effort: {} when unreadable."""
    try:
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
            zlib.error):
        return {}
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    paths = {}
    for sheet_name, rel_id in re.findall(r'<sheet[^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', workbook):
        target = targets.get(rel_id, "")
        paths[sheet_name] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return paths


def _with_error_cells(cells: pl.DataFrame, scan: SheetScan) -> tuple[pl.DataFrame, int]:
    """Put the error text back where calamine left an empty cell."""
    if not scan.errors or scan.first_row is None or scan.first_column is None:
        return cells, 0
    by_column: dict[str, tuple[list[int], list[str]]] = {}
    for row, column, text in scan.errors:
        r, c = row - scan.first_row, column - scan.first_column
        if 0 <= r < cells.height and 0 <= c < cells.width:
            rows, texts = by_column.setdefault(f"c{c}", ([], []))
            rows.append(r)
            texts.append(text)
    if not by_column:
        return cells, 0
    columns = []
    for name, (rows, texts) in by_column.items():
        series = cells[name].clone()
        series.scatter(rows, texts)
        columns.append(series)
    return cells.with_columns(columns), sum(len(rows) for rows, _ in by_column.values())


def read_workbook(data: bytes, name: str, user_headers: set[str] | None) -> Sheet:
    """The sheet whose first 30 rows contain the best-matching header row."""
    archive = check_workbook(data, name)
    scans = inflate_workbook(data, archive, name)
    paths = _sheet_paths(archive)
    import fastexcel  # imported here: only Excel uploads pay for it

    extra_known = {schema.normalize_header(h) for h in (user_headers or set())}
    try:
        reader = fastexcel.read_excel(data)
        best: Sheet | None = None
        for sheet_name in reader.sheet_names[:20]:
            loaded = reader.load_sheet(sheet_name, header_row=None, dtypes="string").to_polars()
            if loaded.width == 0 or loaded.height == 0:
                continue
            if loaded.width > MAX_COLUMNS:
                raise UnreadableFileError(f"{name} has a sheet {loaded.width:,} columns wide, more than the "
                                          f"{MAX_COLUMNS:,} we read; export only the columns you need and upload "
                                          "it again.")
            loaded = loaded.rename({c: f"c{i}" for i, c in enumerate(loaded.columns)})
            scan = scans.get(paths.get(sheet_name, ""), SheetScan())
            loaded, errors = _with_error_cells(loaded, scan)
            head_rows = loaded.head(HEADER_SCAN_ROWS).rows()
            scores = [(header_score(list(row), extra_known), -i) for i, row in enumerate(head_rows)]
            score, neg_index = max(scores)
            header_index = -neg_index if score > 0 else next(
                (i for i, row in enumerate(head_rows) if sum(v is not None for v in row) > 1), 0)
            header = ["" if v is None else str(v) for v in head_rows[header_index]]
            sheet = Sheet(sheet_name, loaded, scan.first_row or 1, header_index, header, score, errors,
                          scan.unlocated_errors)
            if best is None or sheet.score > best.score:
                best = sheet
    except (UnreadableFileError, KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException:  # fastexcel / calamine errors and Rust panics alike: the workbook is damaged
        raise UnreadableFileError(
            f"{name} is not a valid Excel file (it may be truncated); export it again and re-upload.") from None
    if best is None:
        raise UnreadableFileError(f"{name} has no sheet with data; check the file and re-upload it.")
    return best
