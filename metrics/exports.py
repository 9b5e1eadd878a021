"""Table exports people open in spreadsheets: CSV and XLSX with formula-like text escaped.

A text cell that begins with = + - @, tab, CR or LF is prefixed with a single quote so
Excel, LibreOffice and Google Sheets show it as text instead of running it (OWASP
"CSV injection"). Only text columns are touched: numbers stay numbers, so a negative
delta is still -0.12. Numbers are rounded to their format's precision (metrics.display), so a
spreadsheet never shows 62687.130000000005.
"""

from __future__ import annotations

import io

import polars as pl

from metrics.display import round_for_export, text_column

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
_FORMULA_PATTERN = r"^[=+\-@\t\r\n]"


def escape_formula_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix formula-like text cells with `'`; other columns are returned unchanged."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Categorical, pl.Enum)]
    return frame.with_columns(
        pl.when(pl.col(name).cast(pl.String).str.contains(_FORMULA_PATTERN))
        .then(pl.lit("'") + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String))
        .alias(name)
        for name in text_columns
    )


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists and structs as text, since neither format has nested cells."""
    nested = [n for n, t in frame.schema.items() if isinstance(t, (pl.List, pl.Struct, pl.Array, pl.Object))]
    return frame.with_columns(text_column(frame, n, lambda v: None if v is None else str(v), n) for n in nested)


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a BOM so Excel detects the encoding; formula-like text escaped."""
    buffer = io.BytesIO()
    escape_formula_cells(round_for_export(_flatten(frame))).write_csv(buffer)
    return b"\xef\xbb\xbf" + buffer.getvalue()


def to_xlsx_bytes(frame: pl.DataFrame, sheet: str = "Campaign Lens") -> bytes:
    """An .xlsx workbook; text is written as strings (never formulas) and escaped as in CSV."""
    import xlsxwriter

    buffer = io.BytesIO()
    # Belt and braces: even an unescaped "=..." string stays a string.
    with xlsxwriter.Workbook(buffer, {"strings_to_formulas": False, "strings_to_urls": False}) as workbook:
        escape_formula_cells(round_for_export(_flatten(frame))).write_excel(
            workbook, worksheet=sheet[:31], autofit=True, include_header=True,
        )
    return buffer.getvalue()
