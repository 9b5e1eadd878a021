"""Look at the first ~64 KB of a text file: encoding, delimiter, header row, a sample of rows.

Everything here works on the sample only, so it costs the same for a 1 KB and a 1 GB file.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from metrics import schema
from metrics.ingest.families import MAX_HEADER_CHARS, header_is_known, header_keys

SAMPLE_BYTES = 64 * 1024
# A header longer than the sample (thousands of long column names) is still read, up to this size.
MAX_HEADER_BYTES = 1024 * 1024
# Wider tables are refused at once: no marketing export has more columns, and splitting 20,000-column
# lines row after row would take minutes.
MAX_COLUMNS = 2000
HEADER_SCAN_LINES = 30

DELIMITERS = (",", ";", "\t", "|")

# File signatures, defined once for every reader (an .xlsx is a zip archive; an OLE2 container is an old .xls
# or an encrypted workbook).
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"

_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (OLE2_MAGIC, "an old-format (.xls) Excel or Office file"),
)


def describe_binary(data: bytes) -> str | None:
    """Name a well-known binary format from its magic bytes, or None."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    return None


@dataclass(frozen=True)
class Encoding:
    name: str  # "utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "windows-1252", "windows-1251"
    bom_length: int

    @property
    def polars_native(self) -> bool:
        """polars reads UTF-8 itself (the BOM is on the header line we skip); others are transcoded."""
        return self.name in ("utf-8", "utf-8-sig")


def detect_encoding(sample: bytes) -> Encoding:
    """BOMs first, then UTF-16 without BOM (NUL bytes in every other position), then strict UTF-8,
    then Windows-1251 when most letters are high bytes (Russian text: Excel's "CSV" on Russian
    Windows, VK exports), else Windows-1252 (Western Windows, where accents are a few letters)."""
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", 3)
    if sample.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", 2)
    if sample.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", 2)
    head = sample[:4096]
    if len(head) >= 8:
        even_nuls = head[0::2].count(0) / (len(head) / 2)
        odd_nuls = head[1::2].count(0) / (len(head) / 2)
        if odd_nuls > 0.3 and even_nuls < 0.05:
            return Encoding("utf-16-le", 0)
        if even_nuls > 0.3 and odd_nuls < 0.05:
            return Encoding("utf-16-be", 0)
    try:
        # An incremental decoder tolerates a multi-byte character cut at the end of the sample.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return Encoding("utf-8", 0)
    except UnicodeDecodeError:
        pass
    high_letters = sum(1 for b in sample if b >= 0xC0)
    ascii_letters = sum(1 for b in sample if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A)
    if high_letters > ascii_letters:
        return Encoding("windows-1251", 0)
    return Encoding("windows-1252", 0)


def decode(data: bytes, encoding: Encoding, final: bool = True) -> str:
    body = data[encoding.bom_length:]
    if encoding.name.startswith("utf-16") and not final:
        body = body[: len(body) // 2 * 2]
    if encoding.name in ("windows-1252", "windows-1251"):
        return body.decode(encoding.name.replace("windows-", "cp"), errors="replace")
    codec = "utf-8" if encoding.name == "utf-8-sig" else encoding.name
    if final:
        return body.decode(codec, errors="replace")
    return codecs.getincrementaldecoder(codec)(errors="replace").decode(body, final=False)


def looks_binary(text: str) -> bool:
    """NUL bytes or many control characters mean this is not a text table."""
    if not text:
        return False
    if "\x00" in text:
        return True
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\r\n\x0c")
    replacement = text[:8192].count("\ufffd")
    return (controls + replacement) / min(len(text), 8192) > 0.02


@dataclass(frozen=True)
class Sniff:
    """What the sample says about a text table."""

    delimiter: str
    header_line: int  # 0-based physical line of the header
    header: list[str]
    sample_rows: list[list[str]]  # parsed records after the header (complete ones only)
    known_header_cells: int
    line_ending: str  # "\n", "\r\n" or "\r"
    # "#" comment lines before the header (Google Analytics writes its report's title block so).
    comment_preamble: bool = False
    preamble: tuple[str, ...] = ()  # the lines before the header (titles, the report's date range)


def split_physical_lines(text: str) -> tuple[list[str], str]:
    if "\n" not in text and "\r" in text:
        return text.split("\r"), "\r"
    ending = "\r\n" if "\r\n" in text else "\n"
    return [line.rstrip("\r") for line in text.split("\n")], ending


def _parse_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def header_score(cells: list[str | None], extra_known: set[str]) -> int:
    """How many cells of a candidate header row are known header spellings."""
    score = 0
    for cell in cells:
        if cell is None or len(cell) > MAX_HEADER_CHARS or not any(ch.isalpha() for ch in cell):
            continue  # numbers, dates and long texts are never headers
        keys = [k for k in header_keys(cell) if k]
        if any(header_is_known(k) or k in extra_known for k in keys):
            score += 1
    return score


class TooWideError(ValueError):
    """The table has more than MAX_COLUMNS columns (the caller turns it into one sentence)."""

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.width = width


def _common_width(widths: list[int]) -> int:
    """The widest line width that at least two sampled lines share (one wide line may be a quoted text)."""
    return max((w for w in set(widths) if widths.count(w) >= 2), default=0)


def sniff_text(text: str, truncated: bool, user_headers: set[str] | None = None) -> Sniff:
    """Find delimiter and header row from the decoded sample.

    For each delimiter, the header is the line among the first 30 matching the most known
    headers (title and date-range lines before it are preamble). The delimiter with the
    best header match wins; ties go to the one giving the most consistent row widths.
    """
    lines, ending = split_physical_lines(text)
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    extra_known = {schema.normalize_header(h) for h in (user_headers or set())}
    scan = lines[:HEADER_SCAN_LINES]
    best: tuple | None = None
    widest = 0
    for delimiter in DELIMITERS:
        parsed = [_parse_line(line, delimiter) for line in scan]
        widths = [len(cells) for cells in parsed]
        widest = max(widest, _common_width(widths))
        if max(widths, default=0) < 2:
            continue
        scored = [(header_score(cells, extra_known) if len(cells) <= MAX_COLUMNS else 0, i)
                  for i, cells in enumerate(parsed)]
        top_score = max(s for s, _ in scored)
        if top_score > 0:
            header_line = min(i for s, i in scored if s == top_score)
        else:
            # Nothing known: the first line as wide as the widest common row.
            modal = max(set(w for w in widths if w > 1), key=widths.count)
            header_line = widths.index(modal)
        width = widths[header_line]
        after = widths[header_line + 1:]
        consistency = (sum(1 for w in after if w == width) / len(after)) if after else 1.0
        key = (top_score, consistency, width)
        if best is None or key > best[0]:
            best = (key, delimiter, header_line)
    if best is None:
        # One column only: treat as comma separated so that the caller reports "no measures".
        return Sniff(",", 0, _parse_line(lines[0], ",") if lines else [], [], 0, ending)
    (score, _, _), delimiter, header_line = best
    header = _parse_line(lines[header_line], delimiter)
    if max(len(header), widest if score == 0 else 0) > MAX_COLUMNS:
        raise TooWideError(max(len(header), widest))
    body = ending.join(lines[header_line + 1:]) if ending != "\r" else "\n".join(lines[header_line + 1:])
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(body, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) >= 2000:
                break
    except csv.Error:
        pass
    if truncated and rows:
        rows = rows[:-1]
    comments = any(line.lstrip().startswith("#") for line in lines[:header_line])
    return Sniff(delimiter, header_line, header, rows, score, ending, comments, tuple(lines[:header_line]))
