"""Excel (.xlsx) reading with guards that run before any parsing.

Calamine loads a whole sheet into memory even when asked for a few rows, so a zip bomb must be
refused from the zip directory alone: we check the magic bytes, that the zip opens, that it is a
workbook, and the declared uncompressed sizes (a total cap and a compression-ratio cap).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

import polars as pl

from metrics import schema
from metrics.ingest.report import UnreadableFileError
from metrics.ingest.sniff import header_score

ZIP_MAGIC = b"PK\x03\x04"
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Small workbooks may compress well (a sheet of zeros); the ratio matters only above this size.
RATIO_CHECK_FROM_BYTES = 20 * 1024 * 1024
HEADER_SCAN_ROWS = 30


def check_workbook(data: bytes, name: str) -> zipfile.ZipFile:
    """Refuse anything that is not a sane .xlsx, from the zip directory alone (no decompression)."""
    invalid = f"{name} is not a valid Excel file (it may be truncated); export it again and re-upload."
    if not data.startswith(ZIP_MAGIC):
        raise UnreadableFileError(invalid)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError):
        raise UnreadableFileError(invalid) from None
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise UnreadableFileError(f"{name} is a zip archive but not an Excel workbook; upload the .xlsx file itself.")
    declared = sum(m.file_size for m in members)
    if declared > MAX_UNCOMPRESSED_BYTES or (
        declared > RATIO_CHECK_FROM_BYTES and declared > MAX_COMPRESSION_RATIO * max(len(data), 1)
    ):
        raise UnreadableFileError(
            f"{name} would expand to {declared / 1024 / 1024:,.0f} MB when opened, which is too large or "
            "suspiciously compressed; split the report into smaller files and re-upload."
        )
    return archive


@dataclass
class Sheet:
    name: str
    cells: pl.DataFrame  # all String, columns c0..cN, one row per sheet row from `first_row`
    first_row: int  # 1-based spreadsheet row of cells' first row
    header_index: int  # 0-based index into `cells` of the header row
    header: list[str]
    score: int


def _first_row_numbers(archive: zipfile.ZipFile) -> dict[str, int]:
    """Sheet name → first spreadsheet row holding a value (calamine starts its range there).

    Best effort: a damaged member gives {} here and a clear error when calamine reads it.
    """
    try:
        return _scan_first_rows(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, zlib.error):
        return {}


def _scan_first_rows(archive: zipfile.ZipFile) -> dict[str, int]:
    result: dict[str, int] = {}
    try:
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return result
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    for sheet_name, rel_id in re.findall(r'<sheet[^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', workbook):
        target = targets.get(rel_id, "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        try:
            with archive.open(path) as member:
                head = member.read(256 * 1024).decode("utf-8", "replace")
        except KeyError:
            continue
        for row_number, content in re.findall(r'<c r="[A-Z]+(\d+)"[^>]*?(?:/>|>(.*?)</c>)', head):
            if content and ("<v>" in content or "<t" in content):
                result[sheet_name] = int(row_number)
                break
    return result


def read_workbook(data: bytes, name: str, user_headers: set[str] | None) -> Sheet:
    """The sheet whose first 30 rows contain the best-matching header row."""
    archive = check_workbook(data, name)
    first_rows = _first_row_numbers(archive)
    import fastexcel  # imported here: only Excel uploads pay for it

    extra_known = {schema.normalize_header(h) for h in (user_headers or set())}
    try:
        reader = fastexcel.read_excel(data)
        best: Sheet | None = None
        for sheet_name in reader.sheet_names[:20]:
            loaded = reader.load_sheet(sheet_name, header_row=None, dtypes="string").to_polars()
            if loaded.width == 0 or loaded.height == 0:
                continue
            loaded = loaded.rename({c: f"c{i}" for i, c in enumerate(loaded.columns)})
            head_rows = loaded.head(HEADER_SCAN_ROWS).rows()
            scores = []
            for i, row in enumerate(head_rows):
                scores.append((header_score(list(row), extra_known), -i))
            score, neg_index = max(scores)
            header_index = -neg_index if score > 0 else next(
                (i for i, row in enumerate(head_rows) if sum(v is not None for v in row) > 1), 0)
            header = ["" if v is None else str(v) for v in head_rows[header_index]]
            sheet = Sheet(sheet_name, loaded, first_rows.get(sheet_name, 1), header_index, header, score)
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
