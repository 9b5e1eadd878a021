"""The display catalog: how every measure, KPI and dimension is named and shown, read through one `describe`.

Labels, formats and directions are declared once — on `schema.Column` (measures, dimensions) and on
`kpis.Kpi` — and every page, table, chart, export, goal, report file and sentence reads them here.
The formatters below are the only number, money, percent and date formats of the product:

    describe("cpa")                      -> Display(label="CPA", format="currency", direction="lower", ...)
    describe("ctr_delta_rel").label      -> "CTR change"
    format_value(0.0461, "percent")      -> "4.61 %"      (rates are fractions; always two decimals)
    format_value(61138.2, "currency", "EUR") -> "€61,138.20"
    format_compact(268_413.08, "currency", "USD") -> "$268.4K"  (tiles: never wider than their box)
    format_date(date(2025, 8, 9))        -> "9 Aug 2025"

Null (None or NaN) is always "—": a value that was not reported is never shown as 0.
Pure module: no streamlit, usable by `ui/`, `reports/` and the command line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

import polars as pl

from metrics.kpis import MIXED, find_kpi
from metrics.schema import COLUMN_BY_NAME, Direction, Format

MISSING = "—"

# Symbols written before the amount; other ISO codes are written out ("CHF 1,234.00").
CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "RUB": "₽", "BRL": "R$", "JPY": "¥",
                                    "INR": "₹", "TRY": "₺", "UAH": "₴", "KZT": "₸", "PLN": "zł "}

# The headline KPI tiles, in reading order: volume, then cost and results, then return and audience. The
# Overview shows them and so does the client report file.
OVERVIEW_TILES: tuple[str, ...] = (
    "spend", "impressions", "reach", "clicks", "conversions",
    "revenue", "ctr", "cpc", "cpm", "cpa",
    "roas", "roi", "engagement_rate", "net_follower_growth",
)

# Display names of the SPEC §3 platform slugs; an unknown slug "my_channel" reads "My channel".
PLATFORM_LABELS: dict[str, str] = {
    "facebook": "Facebook", "instagram": "Instagram", "messenger": "Messenger", "linkedin": "LinkedIn",
    "tiktok": "TikTok", "youtube": "YouTube", "x": "X", "threads": "Threads", "vk": "VK", "telegram": "Telegram",
    "pinterest": "Pinterest", "snapchat": "Snapchat", "google_ads": "Google Ads", "bing_ads": "Bing Ads",
    "email": "Email", "seo": "SEO", "affiliate": "Affiliate", "other": "Other",
}
_PLATFORM_NAMES = frozenset(PLATFORM_LABELS.values())

# Decimals each format keeps, on screen and in exported files (rates are fractions: 4 decimals of a
# fraction are the 2 decimals of its percent).
DISPLAY_DECIMALS: dict[str, int] = {"percent": 2, "currency": 2, "ratio": 2, "minutes": 1, "number": 0}
EXPORT_DECIMALS: dict[str, int] = {"percent": 6, "currency": 2, "ratio": 4, "minutes": 2, "number": 4}


@dataclass(frozen=True)
class Display:
    """How one column is named and shown. `format` is one of schema.Format; `direction` says whether a
    rise is good news ("higher"), bad news ("lower") or neither ("neutral")."""

    name: str
    label: str
    format: Format
    direction: Direction
    description: str


_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_delta_rel", "{} change"), ("_delta", "{} change (absolute)"), ("_prev", "{} (previous)"),
    ("_coverage", "{} coverage"),
)


# Funnel factors the Insights drivers use that are not KPIs of their own (metrics.insights.drivers).
_FACTORS: dict[str, Display] = {
    "lead_rate": Display("lead_rate", "Lead rate", "percent", "higher", "Leads / clicks."),
}


def describe(name: str) -> Display:
    """The display record of a measure, KPI, dimension or a derived column (`<name>_prev`, `_delta`,
    `_delta_rel`, `_coverage`). Unknown names get their words capitalised, shown as plain numbers."""
    for suffix, pattern in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = describe(name[: -len(suffix)])
            if suffix == "_delta_rel":
                return Display(name, pattern.format(base.label), "percent", base.direction,
                               f"Relative change of {base.label} against the comparison period.")
            if suffix == "_coverage":
                return Display(name, pattern.format(base.label), "percent", "neutral",
                               f"Share of the rows that report every measure {base.label} needs.")
            return Display(name, pattern.format(base.label), base.format, base.direction, base.description)
    kpi = find_kpi(name)
    if kpi is not None:
        return Display(name, kpi.label, kpi.format, kpi.direction, kpi.description)
    column = COLUMN_BY_NAME.get(name)
    if column is not None:
        return Display(name, column.display_label, column.format, column.direction, column.description)
    if name in _FACTORS:
        return _FACTORS[name]
    if name == "source_file":
        return Display(name, "File", "number", "neutral", "Name of the uploaded file the row came from.")
    return Display(name, name.replace("_", " ").capitalize(), "number", "neutral", "")


def label(name: str) -> str:
    return describe(name).label


def platform_label(slug: str | None) -> str:
    """'google_ads' → 'Google Ads'; an unknown slug 'my_channel' → 'My channel'; None → 'Unknown'."""
    if not slug:
        return "Unknown"
    if slug in _PLATFORM_NAMES:  # already a display name: labelling twice changes nothing
        return slug
    return PLATFORM_LABELS.get(slug) or slug.replace("_", " ").capitalize()


def currency_symbol(code: str | None) -> str:
    """'$' for USD, 'CHF ' for a code without a symbol, '' for no currency or a mixed one (never '$' by default)."""
    if not code or code == MIXED:
        return ""
    return CURRENCY_SYMBOLS.get(code.upper(), f"{code.upper()} ")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, format: Format | str, currency: str | None = None) -> str:
    """The full value: '—' for null, two-decimal percents ('4.61 %'), money with the currency's symbol
    and cents ('€61,138.20'), multiples ('3.20×'), minutes ('12.5 min'), counts with separators."""
    if _missing(value):
        return MISSING
    value = float(value)  # type: ignore[arg-type]
    if math.isinf(value):
        return MISSING
    if format == "percent":
        return f"{value * 100:,.2f} %"
    if format == "currency":
        return _signed(value, currency_symbol(currency), f"{abs(value):,.2f}")
    if format == "ratio":
        return f"{value:,.2f}×"
    if format == "minutes":
        return f"{value:,.1f} min"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_metric(name: str, value: float | None, currency: str | None = None) -> str:
    """`format_value` with the format the catalog gives `name` ("cpa", "ctr_delta_rel", "spend")."""
    return format_value(value, describe(name).format, currency)


def _signed(value: float, symbol: str, digits: str) -> str:
    return f"{'-' if value < 0 else ''}{symbol}{digits}"


def format_compact(value: float | None, format: Format | str, currency: str | None = None) -> str:
    """A short value for tiles and labels (at most ~9 characters, so five tiles fit a row): no cents on
    five-figure amounts ('$61,138'), K from 100,000 ('$268.4K'), M and B with two decimals ('7.70M');
    percents of 1,000 % and more without decimals. `format_value` gives the exact figure for a tooltip."""
    if _missing(value) or math.isinf(float(value)):  # type: ignore[arg-type]
        return MISSING
    value = float(value)  # type: ignore[arg-type]
    if format == "percent":
        return f"{value * 100:,.0f} %" if abs(value) >= 10 else format_value(value, format)
    if format in ("ratio", "minutes"):
        unit = "×" if format == "ratio" else " min"
        return f"{_short(value)}{unit}" if abs(value) >= 1e5 else format_value(value, format)
    if abs(value) < 1e4:
        return format_value(value, format, currency)
    symbol = currency_symbol(currency) if format == "currency" else ""
    return _signed(value, symbol, _short(abs(value)))


def _short(value: float) -> str:
    """61,137.8 → '61,138'; 268,413 → '268.4K'; 7,703,969 → '7.70M'; 2.1e9 → '2.10B' (sign kept)."""
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    if magnitude < 1e5:
        return f"{sign}{magnitude:,.0f}"
    for threshold, suffix, digits in ((1e3, "K", 1), (1e6, "M", 2), (1e9, "B", 2), (1e12, "T", 2)):
        scaled = round(magnitude / threshold, digits)
        if scaled < 1000 or suffix == "T":  # 999,960 rounds to 1,000.0K: say 1.00M instead
            return f"{sign}{scaled:,.{digits}f}{suffix}"
    raise AssertionError("unreachable")


def format_change(delta_rel: float | None) -> str | None:
    """A relative change: 0.1234 → '+12.3 %', -0.08 → '-8.0 %', 0 → '0.0 %'; None when nothing compares.

    The ASCII minus matters: st.metric reads the direction of a text delta from a leading '-'.
    """
    if _missing(delta_rel) or math.isinf(float(delta_rel)):  # type: ignore[arg-type]
        return None
    percent = round(float(delta_rel) * 100, 1)  # type: ignore[arg-type]
    if percent == 0:
        return "0.0 %"
    return f"{percent:+,.1f} %"


def format_points(share: float | None) -> str:
    """A part of a relative change in percentage points: 0.123 → '+12.3 points', -0.004 → '-0.4 points'
    (the KPI drivers: the parts of 'CPA rose 18 %' add up to 18 points). '—' when missing."""
    if _missing(share) or math.isinf(float(share)):  # type: ignore[arg-type]
        return MISSING
    points = round(float(share) * 100, 1)  # type: ignore[arg-type]
    return "0.0 points" if points == 0 else f"{points:+,.1f} point{'' if abs(points) == 1 else 's'}"


def format_date(value: date | datetime | None) -> str:
    """The one date style: '9 Aug 2025' (no leading zero, no time of day)."""
    if value is None:
        return MISSING
    return f"{value.day} {value:%b %Y}"


def format_bucket(start: date | None, grain: str = "day") -> str:
    """A time bucket by its first day: '9 Aug 2025' for a day or a week, 'Aug 2025' for a month."""
    if start is None:
        return MISSING
    return f"{start:%b %Y}" if grain == "month" else format_date(start)


def format_timestamp(moment: datetime | None) -> str:
    """A moment in UTC, in the date style: '9 Aug 2025, 14:03 UTC' (naive datetimes are taken as UTC)."""
    if moment is None:
        return MISSING
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return f"{format_date(moment)}, {moment:%H:%M} UTC"


def format_period(start: date | None, end: date | None) -> str:
    """'1 – 31 Aug 2025', '28 Jul – 3 Aug 2025', '15 Dec 2024 – 14 Jan 2025'."""
    if start is None or end is None:
        return f"{format_date(start)} – {format_date(end)}"
    if start == end:
        return format_date(start)
    if start.year != end.year:
        return f"{format_date(start)} – {format_date(end)}"
    if start.month != end.month:
        return f"{start.day} {start:%b} – {format_date(end)}"
    return f"{start.day} – {format_date(end)}"


# Dates on charts and in tables, in the style of `format_date` ('9 Aug 2025'): d3 time formats for Vega
# (tooltips and axis ticks; ticks are short, '9 Aug', or 'Aug 2025' for months) and the moment.js format
# of st.column_config.DateColumn.
CHART_DATE_FORMAT = "%-d %b %Y"
AXIS_DATE_FORMATS: dict[str, str] = {"day": "%-d %b", "week": "%-d %b", "month": "%b %Y"}
TABLE_DATE_FORMAT = "D MMM YYYY"
TABLE_DATETIME_FORMAT = "D MMM YYYY, HH:mm"


def axis_format(format: Format | str, largest: float | None = None) -> str:
    """The d3 format of a chart axis for a format. No fixed precision: Vega then gives the ticks the
    decimals their step needs, so two ticks never read the same ('-4 %, -4 %'). Counts use SI suffixes
    ('250k') once `largest` (the biggest absolute value on the axis) reaches 10,000, plain digits below
    (so 0.5 never reads '500m')."""
    if format == "percent":
        return "~%"
    if format in ("currency", "ratio", "minutes"):
        return ",~f"
    return ",~s" if largest is not None and abs(largest) >= 1e4 else ",~f"


def axis_label_expr(format: Format | str) -> str | None:
    """A Vega label expression that writes axis ticks like the catalog ('4 %', not '4%'); None when the
    d3 label is already right."""
    return "replace(datum.label, '%', ' %')" if format == "percent" else None


def axis_title(name: str, currency: str | None = None) -> str:
    """'CPA (EUR)' for money with a known currency, the plain label otherwise (never '(USD)' by default)."""
    shown = describe(name)
    if shown.format == "currency" and currency and currency != MIXED:
        return f"{shown.label} ({currency})"
    return shown.label


def text_column(frame: pl.DataFrame, columns: str | Sequence[str], render: Callable[..., str | None],
                name: str) -> pl.Series:
    """A text column `name`: `render(*values)` of each row's `columns`, each distinct row rendered once.

    This is how display text is made from a frame, never with `map_elements`: a Python callback inside a
    polars query runs on polars' worker threads and needs the GIL there, and a server thread that holds the
    GIL while it waits on those workers (to_pandas, a cached frame being unpickled) then waits for ever —
    the whole server hung that way under 20 concurrent sessions."""
    names = [columns] if isinstance(columns, str) else list(columns)
    rows = zip(*(frame.get_column(n).to_list() for n in names))
    done: dict[tuple, str | None] = {}
    texts: list[str | None] = []
    for row in rows:
        try:
            text = done[row] if row in done else done.setdefault(row, render(*row))
        except TypeError:  # an unhashable value (a list cell): rendered without remembering it
            text = render(*row)
        texts.append(text)
    return pl.Series(name, texts, dtype=pl.String)


def round_for_export(frame: pl.DataFrame) -> pl.DataFrame:
    """Float columns rounded to their format's export precision (no 62687.130000000005 in a CSV);
    columns the catalog does not know keep 6 decimals."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype.is_float():
            decimals = EXPORT_DECIMALS.get(describe(name).format, 6) if _known(name) else 6
            exprs.append(pl.col(name).round(decimals))
    return frame.with_columns(exprs) if exprs else frame


def _known(name: str) -> bool:
    base = name
    for suffix, _ in _SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return find_kpi(base) is not None or base in COLUMN_BY_NAME
