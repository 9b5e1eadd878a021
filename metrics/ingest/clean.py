"""Vectorised cleaning of text cells into numbers and dates (polars expressions only).

Decisions (documented for users in the load report):
- Empty, "-", "--", "—", "N/A", "n/a", "NA", "null", "none", "nan" mean *not reported* → null.
- "<5"-style cells are platform privacy masks → null, and counted as masked.
- A number cell with anything else that is not a number (text, inf, 1e309, a negative amount, a
  spreadsheet error such as #DIV/0! or #N/A, a value beyond 1e15) rejects the whole row with a
  reason: silently turning it into null would hide the problem.
- Percent strings become fractions ("5.23%" → 0.0523), the SPEC's convention for rates.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

NULL_TOKENS: tuple[str, ...] = ("", "-", "--", "—", "–", "n/a", "N/A", "NA", "na", "n.a.", "null", "NULL", "None",
                                "none", "nan", "NaN", "NAN", "(not set)", "(none)")
# Spreadsheet error values: a formula that failed, never "not reported" (the row is rejected with the reason).
ERROR_VALUES: tuple[str, ...] = ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                                 "#CALC!", "#GETTING_DATA", "#ERROR!")
MASKED = r"^[<≤]\s*\d+$"

# Spaces used as thousands separators: regular, no-break (U+00A0), narrow no-break (U+202F),
# thin (U+2009) and the Swiss apostrophe.
_GROUPING_SPACES = r"[\s\u00a0\u202f\u2009'’]"
_CURRENCY_TOKENS = r"(?i)(US\$|R\$|[$€£₽¥₹₺₴₸]|руб\.?|р\.|zł|\b(?:usd|eur|rub|gbp|brl|jpy|inr)\b)"
_CURRENCY_DETECT = {"R$": "BRL", "US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB", "руб": "RUB",
                    "¥": "JPY", "₹": "INR", "₺": "TRY", "₴": "UAH", "₸": "KZT", "zł": "PLN"}

# Evidence for the decimal mark in a column, after spaces and currency are removed.
_COMMA_DECIMAL = r"^[-+]?\d{1,3}(\.\d{3})+,\d+$|^[-+]?\d+,\d{1,2}$|^[-+]?\d+,\d{4,}$|^[-+]?\d+(\.\d{3})*,\d+%$"
_DOT_DECIMAL = r"^[-+]?\d{1,3}(,\d{3})+\.\d+$|^[-+]?\d+\.\d{1,2}$|^[-+]?\d+\.\d{4,}$|^[-+]?\d+(,\d{3})*\.\d+%$"

TOTAL_WORDS = (
    "total", "totals", "grand total", "total general", "total geral", "total général", "totaux", "totale",
    "totale complessivo", "totale generale", "subtotal", "sub-total", "sum", "summe", "gesamt", "gesamtsumme",
    "gesamtergebnis", "gesamtwert", "insgesamt", "somme", "somma", "итого", "итог", "всего", "общий итог",
    "общая сумма", "suma", "suma total", "totalt", "totaal",
)
_TOTAL_WORD = "(" + "|".join(re.escape(w) for w in sorted(TOTAL_WORDS, key=len, reverse=True)) + ")"
# "Total: Account", "Total: Search terms" (Google Ads): a summary row wherever it stands, whatever the
# other cells hold.
TOTAL_QUALIFIED = r"(?i)^\s*" + _TOTAL_WORD + r"\s*:\s*\S"
# "Total", "Gesamt", "Итого (3 кампании)", "Total - all campaigns": a summary row only when the row's other
# dimension cells are empty (a campaign named "Total" on a date is data; "Total Recall", "Sum 41" never match).
TOTAL_BARE = r"(?i)^\s*" + _TOTAL_WORD + r"\s*(:?\s*$|\(.*\)\s*$|[-–]\s.*$)"
# Cells that leave a dimension empty in a summary row.
BLANK_DIMENSION = ("", "-", "--", "—", "–")

# Measures beyond this are no count or amount any platform reports (and sums of them lose precision).
MAX_MEASURE = 1e15


_TOTAL_LABEL = re.compile(f"{TOTAL_QUALIFIED}|{TOTAL_BARE.removeprefix('(?i)')}")


_TOTAL_INITIALS = frozenset(w[0] for w in TOTAL_WORDS) | frozenset(w[0].upper() for w in TOTAL_WORDS)


def holds_total_label(cell: str | None) -> bool:
    """A cell reading like a total label (checked on the sampled lines of a file; most cells fail at the first letter)."""
    return bool(cell) and cell.lstrip()[:1] in _TOTAL_INITIALS and bool(_TOTAL_LABEL.match(cell))


def looks_like_text(values: list[str | None]) -> bool:
    """Most non-empty cells hold letters (names, labels): a dimension, not numbers, dates or percentages."""
    filled = [v for v in values if v is not None and v.strip() and v.strip() not in NULL_TOKENS]
    return bool(filled) and sum(any(ch.isalpha() for ch in v) for v in filled) * 2 > len(filled)


def null_token_expr(raw: pl.Expr) -> pl.Expr:
    """True where a (stripped) text cell means "not reported"."""
    return raw.is_null() | raw.is_in(list(NULL_TOKENS))


def masked_expr(raw: pl.Expr) -> pl.Expr:
    return raw.str.contains(MASKED)


def _strip_number_text(raw: pl.Expr) -> pl.Expr:
    return (
        raw.str.replace_all(_GROUPING_SPACES, "")
        .str.replace_all(_CURRENCY_TOKENS, "")
        .str.replace_all("−", "-")  # U+2212 minus sign
        .str.replace(r"^\((.*)\)$", "-$1")  # accounting negatives (123) → -123
    )


def detect_decimal_comma(raw: pl.Series, default_comma: bool) -> bool:
    """Decide a column's decimal mark from the values that show it unambiguously.

    "1,234" alone is ambiguous; then the file default applies (comma when the file is `;`-separated).
    """
    stripped = pl.DataFrame({"v": raw}).select(_strip_number_text(pl.col("v").str.strip_chars()).alias("v"))["v"]
    comma = int(stripped.str.contains(_COMMA_DECIMAL).sum() or 0)
    dot = int(stripped.str.contains(_DOT_DECIMAL).sum() or 0)
    if comma == dot:
        return default_comma
    return comma > dot


def number_expr(raw: pl.Expr, decimal_comma: bool) -> pl.Expr:
    """Text → Float64 (null where it is not a number). `raw` must already be stripped."""
    text = _strip_number_text(raw)
    is_percent = text.str.ends_with("%")
    text = text.str.strip_chars_end("%")
    if decimal_comma:
        text = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        text = text.str.replace_all(",", "", literal=True)
    value = text.cast(pl.Float64, strict=False)
    return pl.when(is_percent).then(value / 100).otherwise(value)


# Characters `number_expr` removes wherever they stand (grouping spaces, currency symbols): when a column's
# sample shows some, the fast reading removes them too, literally.
_LITERAL_MARKS = (" ", "\u00a0", "\u202f", "\u2009", "'", "’", "$", "€", "£", "₽", "¥", "₹", "₺", "₴", "₸")


@dataclass(frozen=True)
class NumberFormat:
    """How a text measure column writes its numbers, decided from a sample of its cells."""

    decimal_comma: bool
    marks: tuple[str, ...] = ()  # grouping spaces and currency symbols seen in the sample
    percent: bool = False  # some sampled cells end with "%"
    unicode_minus: bool = False  # some sampled cells use "−" (U+2212) as the minus sign


def detect_number_format(sample: pl.Series, default_comma: bool) -> NumberFormat:
    def seen(text: str) -> bool:
        return bool(sample.str.contains(text, literal=True).any())

    return NumberFormat(detect_decimal_comma(sample, default_comma), tuple(m for m in _LITERAL_MARKS if seen(m)),
                        seen("%"), seen("−"))


def fast_number_expr(raw: pl.Expr, number_format: NumberFormat) -> pl.Expr:
    """Text → Float64 in one pass of literal replacements, for the cells written the way the sample is.

    Wherever this gives a finite number, `number_expr` gives the same one: it removes every character
    removed here, and a cell holding anything else (a word, brackets, a stray space) does not parse here.
    The cells this leaves null, not finite or out of range need the full reading (`needs_full_reading`).
    """
    fmt = number_format
    patterns = [*fmt.marks, *([".", ","] if fmt.decimal_comma else [","]), *(["−"] if fmt.unicode_minus else [])]
    replacements = [*([""] * len(fmt.marks)), *(["", "."] if fmt.decimal_comma else [""]),
                    *(["-"] if fmt.unicode_minus else [])]
    # Every comma becomes a point where `number_expr` turns only the first: a cell with two commas then has
    # two points, which does not parse either way.
    text = raw.str.replace_many(patterns, replacements)
    if not fmt.percent:
        return text.cast(pl.Float64, strict=False)
    value = text.str.strip_chars_end("%").cast(pl.Float64, strict=False)
    return pl.when(text.str.ends_with("%")).then(value / 100).otherwise(value)


def needs_full_reading(raw: pl.Expr, fast_value: pl.Expr, allow_negative: bool = False) -> pl.Expr:
    """Cells the fast reading did not settle: not a number as written, not finite, beyond 1e15 or negative.

    They may be "not reported" (--), masked (<5), bad, or numbers written another way ("(12)", "US$5").
    """
    doubtful = fast_value.is_null() | ~fast_value.is_finite() | (fast_value.abs() > MAX_MEASURE)
    if not allow_negative:
        doubtful = doubtful | (fast_value < 0)
    return raw.is_not_null() & doubtful


def read_measure_cells(cells: pl.Series, header: str, decimal_comma: bool, allow_negative: bool = False
                       ) -> pl.DataFrame:
    """The full reading of some cells (`text_measure_cells`): columns value, bad, masked, one row per cell.

    Each distinct cell is read once (the doubtful cells of a column are mostly the same few tokens).
    """
    full = text_measure_cells("v", header, decimal_comma, allow_negative)
    distinct = pl.DataFrame({"v": cells.unique()}).select(
        "v", full.value.alias("value"), full.bad.alias("bad"), full.masked.fill_null(False).alias("masked"))
    return pl.DataFrame({"v": cells}).join(distinct, on="v", how="left", maintain_order="left").drop("v")


def detect_currency_symbol(raw: pl.Series) -> str | None:
    """The currency a column's values are written in ("$1,234.00" → USD), from its first values."""
    values = raw.drop_nulls().head(500).to_list()
    for value in values:
        for symbol, code in _CURRENCY_DETECT.items():  # R$ and US$ are checked before $
            if symbol in value:
                return code
    return None


@dataclass(frozen=True)
class MeasureCells:
    """Per-cell outcome for one text measure column."""

    value: pl.Expr  # Float64, null = not reported or masked
    bad: pl.Expr  # True when the row must be rejected because of this cell
    masked: pl.Expr  # True for "<5"-style cells
    reason: pl.Expr  # String, only meaningful where `bad`


def text_measure_cells(column: str, header: str, decimal_comma: bool, allow_negative: bool = False) -> MeasureCells:
    """`allow_negative` for net changes (gained − lost), where a negative number is data."""
    raw = pl.col(column).str.strip_chars()
    empty = null_token_expr(raw)
    masked = masked_expr(raw).fill_null(False)
    number = number_expr(raw, decimal_comma)
    not_number = ~empty & ~masked & number.is_null()
    not_finite = number.is_infinite()
    absurd = number.abs() > MAX_MEASURE
    negative = pl.lit(False) if allow_negative else number < 0
    bad = (not_number | not_finite | absurd | negative).fill_null(False)
    reason = (
        pl.when(raw.is_in(ERROR_VALUES)).then(pl.format("{} holds '{}', a spreadsheet error (the formula failed)",
                                                        pl.lit(header), raw))
        .when(not_number).then(pl.format("{} holds '{}', which is not a number", pl.lit(header), raw))
        .when(not_finite).then(pl.format("{} holds '{}', which is not a finite number", pl.lit(header), raw))
        .when(absurd).then(pl.format("{} holds {}, beyond 1e15, which is no real count or amount (an overflow "
                                     "or a broken cell)", pl.lit(header), raw))
        .otherwise(pl.format("{} is negative ({})", pl.lit(header), raw))
    )
    value = pl.when(empty | masked | number.is_nan()).then(None).otherwise(number)
    return MeasureCells(value, bad, masked, reason)


def typed_measure_cells(
    column: str, header: str, has_nan: bool = True, allow_negative: bool = False
) -> MeasureCells:
    """A column polars already parsed as a number: only range checks remain.

    NaN means "not reported" (null). With `has_nan=False` the column is passed through
    untouched, so a clean file's numbers are never copied. Two comparisons flag every bad
    value (negative, infinite, beyond 1e15): the clean path pays nothing more.
    """
    value = pl.col(column).cast(pl.Float64)
    if allow_negative:
        bad = (value.abs() > MAX_MEASURE).fill_null(False)
    else:
        bad = ((value < 0) | (value > MAX_MEASURE)).fill_null(False)
    shown = value.cast(pl.String)
    reason = (
        pl.when(value.is_infinite()).then(pl.format("{} holds '{}', which is not a finite number", pl.lit(header),
                                                    shown))
        .when(value.abs() > MAX_MEASURE).then(pl.format("{} holds {}, beyond 1e15, which is no real count or amount "
                                                        "(an overflow or a broken cell)", pl.lit(header), shown))
        .otherwise(pl.format("{} is negative ({})", pl.lit(header), shown))
    )
    return MeasureCells(value.fill_nan(None) if has_nan else value, bad, pl.lit(False), reason)


# ---------------------------------------------------------------- dates
#
# Time zones: a cell with a time of day ("2021-04-30 09:32 +0000", "2024-03-15T18:42:00Z") counts on
# the calendar day as written, without converting time zones: exports write times in the account's
# own zone (or UTC for X), and a day column elsewhere in the same account means that zone's day.
# The load report says so (`times_of_day_dropped`).

# Day-first before month-first: the SPEC asks for day-first in generic sheets.
_DAY_FIRST = ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y", "%d/%m/%y")
_MONTH_FIRST = ("%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y")
_OTHER = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y",
          "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%d-%b-%y")
# Excel's day numbers (1 = 1900-01-01, with its 1900 leap-year bug: day 0 is 1899-12-30).
EXCEL_SERIAL = "excel-serial"
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_SERIAL_VALUE = r"^\d{5}(\.\d+)?$"
_SERIAL_RANGE = (25569, 73051)  # 1970-01-01 .. 2100-01-01
# A time of day after the date ("T09:32", " 9:32 AM", ", 09:32:05.123", " 09:32 +0000", "Z", " UTC").
_TIME_SUFFIX = (r"(?:(?:[T ]|,\s*)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?"
                r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)$")
_ZONE = r"(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$"
# "December 30" (TikTok analytics): no year at all; read as the latest such day up to today, said in the report.
YEARLESS = ("%B %d", "%b %d", "%d %B", "%d %b")
# "Fri, Jun 5, 2026" (X Analytics): the weekday adds nothing.
_WEEKDAY_PREFIX = r"(?i)^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+"


def _date_text(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars().str.replace(_WEEKDAY_PREFIX, "").str.replace(_TIME_SUFFIX, "")


@dataclass(frozen=True)
class DateFormat:
    formats: tuple[str, ...]
    ambiguous: bool  # both day-first and month-first readings fit the sample
    with_times: bool = False  # some cells carry a time of day (dropped: the day as written)
    with_zones: bool = False  # ... and a UTC offset or zone (not converted)


def detect_date_format(raw: pl.Series, month_first: bool = False) -> DateFormat:
    """Choose the format that reads the most values of a sample; day-first wins ties unless the
    export family writes month-first (US platforms). Whole numbers 25569-73051 everywhere are
    Excel day numbers (the column is a date column by its header)."""
    sample = raw.drop_nulls().head(2000)
    sample = sample.filter(~sample.is_in(list(NULL_TOKENS)))
    if sample.len() == 0:
        return DateFormat(("%Y-%m-%d",), False)
    stripped = sample.str.strip_chars()
    with_times = bool(stripped.str.contains(_TIME_SUFFIX).any())
    with_zones = with_times and bool(stripped.str.contains(_ZONE).any())
    if stripped.str.contains(_EXCEL_SERIAL_VALUE).all():
        serials = stripped.cast(pl.Float64, strict=False)
        if serials.is_between(*_SERIAL_RANGE).all():
            return DateFormat((EXCEL_SERIAL,), False)
    text = pl.DataFrame({"v": sample}).select(_date_text(pl.col("v")).alias("v"))["v"]
    order = (*_OTHER, *_MONTH_FIRST, *_DAY_FIRST) if month_first else (*_OTHER, *_DAY_FIRST, *_MONTH_FIRST)
    def plausible(fmt: str) -> int:
        # "%Y" happily reads "24" as the year 24: only count dates a marketer could mean.
        years = text.str.to_date(fmt, strict=False).dt.year()
        return int(years.is_between(1970, 2100).sum())

    counts = {fmt: plausible(fmt) for fmt in order}
    best = max(order, key=lambda f: (counts[f], -order.index(f)))
    if counts[best] == 0:
        yearless = _yearless_format(text)
        return DateFormat((yearless or "%Y-%m-%d",), False, with_times, with_zones)
    ambiguous = False
    if best in _DAY_FIRST + _MONTH_FIRST:
        other = {"%d/%m/%Y": "%m/%d/%Y", "%m/%d/%Y": "%d/%m/%Y", "%d/%m/%y": "%m/%d/%y", "%m/%d/%y": "%d/%m/%y",
                 "%d-%m-%Y": "%m-%d-%Y", "%m-%d-%Y": "%d-%m-%Y"}.get(best)
        ambiguous = other is not None and counts.get(other, 0) == counts[best]
    # A fallback chain: the best format, then the unambiguous ones that read some of the sample
    # (files mixing ISO and "Apr 30, 2021" exist).
    formats = tuple(dict.fromkeys([best, "%Y-%m-%d", *(f for f in _OTHER if counts[f])]))
    return DateFormat(formats, ambiguous, with_times, with_zones)


def _yearless_format(text: pl.Series) -> str | None:
    """A month-and-day format reading every sampled value ("August 31"), or None."""
    with_year = text + " 2000"  # a leap year: "February 29" reads
    for fmt in YEARLESS:
        if with_year.str.to_date(f"{fmt} %Y", strict=False).is_not_null().all():
            return fmt
    return None


def _yearless_dates(text: pl.Expr, fmt: str, today: dt.date) -> pl.Expr:
    """The latest day with that month and day that is not after `today`."""
    this_year = (text + f" {today.year}").str.to_date(f"{fmt} %Y", strict=False)
    last_year = (text + f" {today.year - 1}").str.to_date(f"{fmt} %Y", strict=False)
    return pl.when(this_year <= pl.lit(today)).then(this_year).otherwise(last_year)


@dataclass(frozen=True)
class DateCells:
    value: pl.Expr
    bad: pl.Expr
    reason: pl.Expr


def text_date_cells(column: str, header: str, date_format: DateFormat) -> DateCells:
    raw = pl.col(column).str.strip_chars()
    empty = null_token_expr(raw)
    if date_format.formats == (EXCEL_SERIAL,):
        serial = raw.cast(pl.Float64, strict=False)
        in_range = serial.is_between(*_SERIAL_RANGE)
        parsed = pl.when(in_range).then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial.floor().cast(pl.Int64)))
    elif date_format.formats[0] in YEARLESS:
        parsed = _yearless_dates(_date_text(raw), date_format.formats[0], dt.date.today())
    else:
        text = _date_text(raw)
        parsed = pl.coalesce([text.str.to_date(fmt, strict=False) for fmt in date_format.formats])
    bad = (~empty & parsed.is_null()).fill_null(False)
    reason = pl.format("{} holds '{}', which is not a date", pl.lit(header), raw)
    return DateCells(parsed.cast(pl.Date), bad, reason)


_PERIOD_DATE = re.compile(
    r"[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4}|\b20\d{6}\b")


def period_start(lines: list[str], month_first: bool) -> dt.date | None:
    """The first date written in a report's title lines ("January 1, 2024 - January 31, 2024"), or None."""
    found = [m.group(0) for line in lines for m in _PERIOD_DATE.finditer(line)]
    if not found:
        return None
    values = pl.Series("v", found[:2])
    cells = text_date_cells("v", "period", detect_date_format(values, month_first))
    return pl.DataFrame({"v": values}).select(cells.value).to_series()[0]


def typed_date_cells(column: str, dtype: pl.DataType) -> DateCells:
    """A Date or Datetime column: a datetime counts on its own calendar day (time zones not converted)."""
    value = pl.col(column).cast(pl.Date) if dtype != pl.Date else pl.col(column)
    return DateCells(value, pl.lit(False), pl.lit(""))


def text_dimension(column: str) -> pl.Expr:
    """Names as exported, stripped; empty and "--" mean absent."""
    raw = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(raw.is_in(["", "--", "—", "(not set)"])).then(None).otherwise(raw)
