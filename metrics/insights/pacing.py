"""Budget pacing: a month's budget against spend to date, the projected month end and the spend still needed.

Definitions (for one budget of `amount` for a calendar month and a scope: the whole account, a platform or a
campaign):

- **Through date**: the last day counted, `min(as_of, month end)`. `as_of` counts as a finished day (exports
  describe the past). `pace_budgets` uses the last day of the data as `as_of` unless told otherwise.
- **Days elapsed** = days from the 1st through the through date, both included; **days left** = the rest of
  the month. On the 1st one day has elapsed; on the last day none is left.
- **Spend to date**: the scope's spend from the 1st through the through date.
- **Expected to date** = amount × days elapsed / days in the month (a linear plan).
- **Run rate**: the average daily spend of the scope over the last 7 calendar days ending on the through date
  (days of the previous month included early in a month), counting only days the data covers (a day with
  rows in any file; a covered day without rows for the scope is a day without spend). A day the data does not
  cover at all is unknown, not zero.
- **Projected month end** = spend to date + run rate × days left (the actual spend once the month is over).
- **Status** from the projection against the budget, d = projected / amount − 1: `on_pace` when |d| ≤ 5 %,
  `under` / `over` when 5 % < |d| ≤ 20 %, `far_under` / `far_over` beyond 20 %. A month that has not started
  is `not_started`; without any covered day in it, `no_data`; a budget in another currency than the spend,
  `currency_mismatch` (no numbers are compared).
- **Needed per day** = max(amount − spend to date, 0) / days left (null when no day is left).

Budgets come in as plain values (`Budget`); `read_budget_sheet` reads them from a CSV or XLSX sheet with the
columns month, platform or campaign (neither: the whole account), amount (or budget) and optional currency.
"""

from __future__ import annotations

import calendar
import csv
import dataclasses
import io
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import polars as pl

from metrics import kpis
from metrics.display import format_bucket, format_date
from metrics.errors import InputError
from metrics.schema import COLUMN_BY_NAME, normalize_header, normalize_platform

ScopeKind = Literal["all", "platform", "campaign"]
PaceStatus = Literal[
    "on_pace", "under", "over", "far_under", "far_over", "not_started", "no_data", "currency_mismatch"
]
SCOPE_KINDS: tuple[ScopeKind, ...] = ("all", "platform", "campaign")
STATUS_LABELS: dict[str, str] = {
    "on_pace": "On pace", "under": "Under", "over": "Over", "far_under": "Far off (under)",
    "far_over": "Far off (over)", "not_started": "Not started", "no_data": "No data",
    "currency_mismatch": "Currency differs",
}
ON_PACE_TOLERANCE = 0.05
FAR_OFF_TOLERANCE = 0.20
RUN_RATE_DAYS = 7
MAX_SHEET_BYTES = 2 * 1024 * 1024
MAX_SHEET_ROWS = 5_000


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class Budget:
    """A planned spend for a calendar month (`month` is normalised to its 1st day) and a scope."""

    month: date
    scope: ScopeKind
    scope_value: str | None
    amount: float
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.scope not in SCOPE_KINDS:
            raise ValueError(f"unknown budget scope {self.scope!r}; use all, platform or campaign")
        if (self.scope == "all") != (self.scope_value is None):
            raise ValueError("a platform or campaign budget needs scope_value; an account budget has none")
        if not (isinstance(self.amount, (int, float)) and math.isfinite(self.amount) and self.amount > 0):
            raise ValueError(f"a budget amount must be a positive number, not {self.amount!r}")
        object.__setattr__(self, "month", month_start(self.month))
        if self.scope == "platform":
            object.__setattr__(self, "scope_value", normalize_platform(self.scope_value))
        elif self.scope == "campaign":  # matched ignoring case and surrounding spaces (pace_budgets)
            object.__setattr__(self, "scope_value", self.scope_value.strip() or None)
            if self.scope_value is None:
                raise ValueError("a campaign budget needs the campaign's name")
        if self.currency is not None:
            object.__setattr__(self, "currency", self.currency.strip().upper() or None)

    @property
    def key(self) -> tuple[date, str, str | None]:
        value = self.scope_value.casefold() if self.scope == "campaign" and self.scope_value else self.scope_value
        return self.month, self.scope, value

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month.strftime("%Y-%m"), "scope": self.scope, "scope_value": self.scope_value,
                "amount": self.amount, "currency": self.currency}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Budget:
        """From `to_dict` (as snapshots store it). Raises ValueError, TypeError or KeyError when it cannot."""
        month = raw["month"] if isinstance(raw["month"], date) else parse_month(str(raw["month"]))
        if month is None:
            raise ValueError(f"{raw['month']!r} is not a month")
        amount = raw["amount"]
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise TypeError("a budget amount must be a number")
        return cls(month, raw.get("scope", "all"), raw.get("scope_value"), float(amount), raw.get("currency"))


def read_budgets(raw: Any) -> tuple[tuple[Budget, ...], int]:
    """Budgets from a stored list of dicts, and how many entries could not be read."""
    if not isinstance(raw, (list, tuple)):
        return (), 0
    read, unreadable = [], 0
    for item in raw:
        try:
            read.append(Budget.from_dict(item))
        except (ValueError, TypeError, KeyError, AttributeError):
            unreadable += 1
    return tuple(read), unreadable


@dataclass(frozen=True)
class Pacing:
    """Where one budget stands (see the module docstring for every definition)."""

    budget: Budget
    as_of: date
    through: date
    days_in_month: int
    days_elapsed: int
    days_left: int
    spend_to_date: float | None
    expected_to_date: float
    run_rate: float | None
    run_rate_days: int
    projected: float | None
    projected_vs_budget: float | None
    pace_vs_expected: float | None
    remaining: float | None
    needed_per_day: float | None
    status: PaceStatus
    currency: str | None = None
    note: str | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.budget.to_dict(), "as_of": self.as_of, "through": self.through,
            "days_in_month": self.days_in_month, "days_elapsed": self.days_elapsed, "days_left": self.days_left,
            "spend_to_date": self.spend_to_date, "expected_to_date": self.expected_to_date,
            "run_rate": self.run_rate, "run_rate_days": self.run_rate_days, "projected": self.projected,
            "projected_vs_budget": self.projected_vs_budget, "pace_vs_expected": self.pace_vs_expected,
            "remaining": self.remaining, "needed_per_day": self.needed_per_day, "status": self.status,
            "status_label": self.status_label, "spend_currency": self.currency, "note": self.note,
        }


def status_for(deviation: float) -> PaceStatus:
    """The status of a projection that deviates from the budget by `deviation` (a fraction, + = over)."""
    size = round(abs(deviation), 9)  # 1.05 / 1 − 1 is 0.050000000000000044: still on pace
    if size <= ON_PACE_TOLERANCE:
        return "on_pace"
    if size <= FAR_OFF_TOLERANCE:
        return "over" if deviation > 0 else "under"
    return "far_over" if deviation > 0 else "far_under"


def pace(
    budget: Budget,
    daily_spend: Mapping[date, float],
    *,
    as_of: date,
    covered_days: Collection[date] | None = None,
    spend_currency: str | None = None,
) -> Pacing:
    """Pace one budget against its scope's spend per day.

    `daily_spend` holds the scope's spend per date (days without rows may be left out); `covered_days` the days
    the data covers at all (default: the keys of `daily_spend`). `spend_currency` is the spend's currency
    ("mixed" when several); a budget currency that differs from a known spend currency stops the comparison.
    """
    covered = set(daily_spend) if covered_days is None else set(covered_days)
    first, last = budget.month, month_end(budget.month)
    days_in_month = last.day
    through = min(as_of, last)

    def result(status: PaceStatus, note: str | None = None, **numbers: Any) -> Pacing:
        elapsed = max(0, (through - first).days + 1)
        defaults = dict(spend_to_date=None, run_rate=None, run_rate_days=0, projected=None,
                        projected_vs_budget=None, pace_vs_expected=None, remaining=None, needed_per_day=None)
        return Pacing(budget=budget, as_of=as_of, through=through, days_in_month=days_in_month,
                      days_elapsed=elapsed, days_left=days_in_month - elapsed,
                      expected_to_date=budget.amount * elapsed / days_in_month, status=status,
                      currency=spend_currency, note=note, **{**defaults, **numbers})

    if through < first:
        return result("not_started", f"The month starts after {format_date(as_of)}.")
    if spend_currency == "mixed":
        return result("currency_mismatch", "The spend in this scope is in several currencies; pick a reporting "
                                           "currency and rates to pace it.")
    if budget.currency and spend_currency and budget.currency != spend_currency:
        return result("currency_mismatch", f"The budget is in {budget.currency} but the spend is in "
                                           f"{spend_currency}; enter the budget in {spend_currency}.")
    month_days = [first + timedelta(days=i) for i in range((through - first).days + 1)]
    if not covered.intersection(month_days):
        return result("no_data", f"The data has no day in {format_bucket(first, 'month')} up to {format_date(through)}.")

    spend_to_date = math.fsum(daily_spend.get(day) or 0.0 for day in month_days)
    window = [through - timedelta(days=i) for i in range(RUN_RATE_DAYS)]
    window_days = [day for day in window if day in covered]
    run_rate = math.fsum(daily_spend.get(day) or 0.0 for day in window_days) / len(window_days)
    elapsed = len(month_days)
    days_left = days_in_month - elapsed
    projected = spend_to_date + run_rate * days_left
    expected = budget.amount * elapsed / days_in_month
    gaps = sum(1 for day in month_days if day not in covered)
    note = (f"{gaps} day{'s' if gaps != 1 else ''} of this month up to {format_date(through)} "
            f"{'have' if gaps != 1 else 'has'} no data and count{'' if gaps != 1 else 's'} as no spend.") if gaps else None
    return result(
        status_for(projected / budget.amount - 1), note,
        spend_to_date=spend_to_date, run_rate=run_rate, run_rate_days=len(window_days), projected=projected,
        projected_vs_budget=projected / budget.amount - 1, pace_vs_expected=spend_to_date / expected - 1,
        remaining=budget.amount - spend_to_date,
        needed_per_day=max(budget.amount - spend_to_date, 0.0) / days_left if days_left else None,
    )


# --- from the activity table ---------------------------------------------------------------------------------


def pace_budgets(
    frame: pl.DataFrame | pl.LazyFrame,
    budgets: Iterable[Budget],
    *,
    as_of: date | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Pacing, ...]:
    """Pace every budget against the activity table (spend totals from `metrics.kpis.summarize`).

    `as_of` defaults to the last day of the data, and is capped there: days after it are not known yet. A
    platform or campaign budget whose name the data never mentions gets `no_data` with a note saying so
    (campaign names match ignoring case and surrounding spaces).
    """
    budgets = list(budgets)
    if not budgets:
        return ()
    lazy = frame.lazy()
    covered = set(lazy.select(pl.col("date").drop_nulls().unique()).collect()["date"].to_list())
    if not covered:
        return tuple(pace(b, {}, as_of=as_of or b.month, covered_days=()) for b in budgets)
    as_of = min(as_of, max(covered)) if as_of else max(covered)
    first = min(b.month for b in budgets) - timedelta(days=RUN_RATE_DAYS)
    last = max(month_end(b.month) for b in budgets)
    daily = {
        kind: kpis.summarize(lazy, ["date"] + ([kind] if kind != "all" else []), date_from=first, date_to=last,
                             filters=filters)
        for kind in {b.scope for b in budgets}
    }
    out = []
    for budget in budgets:
        rows = daily[budget.scope]
        if budget.scope != "all":
            names = rows[budget.scope]
            if budget.scope == "campaign":
                matches = names.str.strip_chars().str.to_lowercase() == budget.scope_value.strip().casefold()
            else:
                matches = names == budget.scope_value
            rows = rows.filter(matches.fill_null(False))
            if rows.is_empty() and not _mentioned(lazy, budget):
                unknown = pace(budget, {}, as_of=as_of, covered_days=())
                note = f"No {budget.scope} named {budget.scope_value!r} is in the data; check the name."
                out.append(dataclasses.replace(unknown, status="no_data", note=note))
                continue
        spend = rows.group_by("date").agg(kpis.group_total("spend").alias("spend"))
        daily_spend = {d: s for d, s in spend.iter_rows() if s is not None}
        out.append(pace(budget, daily_spend, as_of=as_of, covered_days=covered,
                        spend_currency=_spend_currency(lazy, budget, rows, as_of)))
    return tuple(out)


def _mentioned(lazy: pl.LazyFrame, budget: Budget) -> bool:
    column = pl.col(budget.scope)
    if budget.scope == "campaign":
        test = column.str.strip_chars().str.to_lowercase() == budget.scope_value.strip().casefold()
    else:
        test = column == budget.scope_value
    return bool(lazy.select(test.any()).collect().item())


def _spend_currency(lazy: pl.LazyFrame, budget: Budget, rows: pl.DataFrame, as_of: date) -> str | None:
    """The currency of the scope's spend in the budget's month: `summarize`'s own `currency` when it reports one,
    else the frame's currency column ("mixed" when rows with spend disagree, an unknown one included)."""
    if "currency" in rows.columns:
        # A day whose spend mixes currencies has null spend and currency "mixed": it counts as a currency too.
        in_month = (pl.col("date") >= budget.month) & (pl.col("date") <= as_of) & (
            pl.col("spend").is_not_null() | (pl.col("currency") == kpis.MIXED))
        values = rows.filter(in_month)["currency"].unique().to_list()
        return values[0] if len(values) == 1 else ("mixed" if values else None)
    scope = lazy.filter(
        (pl.col("date") >= budget.month) & (pl.col("date") <= min(as_of, month_end(budget.month)))
        & pl.col("spend").is_not_null()
    )
    if budget.scope == "platform":
        scope = scope.filter(pl.col("platform") == budget.scope_value)
    elif budget.scope == "campaign":
        scope = scope.filter(pl.col("campaign").str.strip_chars().str.to_lowercase()
                             == budget.scope_value.strip().casefold())
    values = scope.select(pl.col("currency").unique()).collect()["currency"].to_list()
    return values[0] if len(values) == 1 else ("mixed" if values else None)


# --- the budget sheet ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSheet:
    """Budgets read from a sheet, and one sentence per row that could not be used (that row is left out)."""

    budgets: tuple[Budget, ...]
    issues: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"budgets": [b.to_dict() for b in self.budgets], "issues": list(self.issues)}


_HEADERS: dict[str, set[str]] = {
    "month": {"month", "period", "budget month", "месяц", "monat", "mes", "mois", "mese"},
    "platform": {normalize_header(a) for a in COLUMN_BY_NAME["platform"].aliases} | {"platform"},
    "campaign": {normalize_header(a) for a in COLUMN_BY_NAME["campaign"].aliases} | {"campaign"},
    "amount": {"amount", "budget", "monthly budget", "planned spend", "plan", "spend plan", "бюджет", "сумма"},
    "currency": {"currency", "валюта", "währung", "moneda", "moeda", "devise", "valuta"},
}
_MONTH_NAMES = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB", "¥": "JPY", "₹": "INR"}


def parse_month(text: str) -> date | None:
    """'2024-02', '2024-02-01', '2024-02-01 00:00:00', '02/2024', '2024/02', 'Feb 2024', 'February 2024'."""
    value = text.strip()
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[ T]00:00(?::00)?(?:\.0+)?)?", value)
    if match:
        year, month = int(match[1]), int(match[2])
    elif match := re.fullmatch(r"(\d{1,2})[-/.](\d{4})", value):
        year, month = int(match[2]), int(match[1])
    elif match := re.fullmatch(r"([A-Za-z]+)\.?[ -](\d{4})", value):
        year, month = int(match[2]), _MONTH_NAMES.get(match[1].lower(), 0)
    else:
        return None
    return date(year, month, 1) if 1 <= month <= 12 and 1900 <= year <= 2999 else None


def _parse_amount(text: str, decimal_comma: bool) -> tuple[float | None, str | None]:
    """A positive amount and the currency its symbol names ('$1,200.50' → 1200.5, 'USD')."""
    from metrics.ingest.clean import number_expr

    symbol = next((code for sym, code in _CURRENCY_SYMBOLS.items() if sym in text), None)
    value = pl.select(number_expr(pl.lit(text.strip()), decimal_comma)).item()
    if "%" in text or value is None or not math.isfinite(value) or value <= 0:
        return None, symbol
    return float(value), symbol


def _rows_of(data: bytes, filename: str) -> tuple[list[tuple[int, list[str]]], bool]:
    """The sheet's non-blank rows as (line or spreadsheet row number, cells as text), and whether a `;`
    separated them (then a decimal comma is likely)."""
    from metrics.ingest.excel import check_workbook
    from metrics.ingest.sniff import DELIMITERS, ZIP_MAGIC, decode, detect_encoding, looks_binary

    if data.startswith(ZIP_MAGIC):
        check_workbook(data, filename)
        try:
            cells = pl.read_excel(io.BytesIO(data), engine="calamine", has_header=False, infer_schema_length=0)
        except Exception:  # fastexcel raises its own types
            raise InputError(f"{filename} could not be read as a workbook; save the budget sheet as CSV.") from None
        rows = [(number, ["" if v is None else str(v) for v in row])
                for number, row in enumerate(cells.iter_rows(), start=1)]
        return [(n, row) for n, row in rows if any(c.strip() for c in row)], False
    text = decode(data, detect_encoding(data[:65536]))
    if looks_binary(text):
        raise InputError(f"{filename} is not a text or Excel sheet; save the budgets as CSV or XLSX.")
    sample = "\n".join(text.splitlines()[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
            if len(rows) > MAX_SHEET_ROWS + 1:
                break
    except csv.Error as error:
        raise InputError(f"{filename} could not be read as a table ({error}); save it as CSV with one header "
                         "row.") from None
    return rows, delimiter == ";"


def read_budget_sheet(data: bytes, filename: str = "budgets.csv") -> BudgetSheet:
    """Budgets from a CSV (any delimiter, UTF-8/UTF-16/Windows-1252) or XLSX sheet.

    Columns (header names are case-insensitive; the usual synonyms work): `month` (2024-02, Feb 2024, 02/2024),
    `platform` or `campaign` (a row with neither is a budget for the whole account), `amount` or `budget`
    (positive; "$1,200.50" and "1 200,50" are read), optional `currency` (an ISO code; else the amount's symbol).
    Rows that cannot be used are left out with one sentence each; a repeated month and scope keeps the first.
    Raises InputError (one sentence) when the sheet itself cannot be used.
    """
    if len(data) > MAX_SHEET_BYTES:
        raise InputError(f"{filename} is larger than {MAX_SHEET_BYTES // 1024 // 1024} MB; a budget sheet needs "
                         "one row per month and platform or campaign.")
    if not data.strip():
        raise InputError(f"{filename} is empty; add a header row month,platform,amount and one row per budget.")
    rows, decimal_comma = _rows_of(data, filename)
    if len(rows) > MAX_SHEET_ROWS + 1:
        raise InputError(f"{filename} has more than {MAX_SHEET_ROWS:,} rows; a budget sheet needs one row per "
                         "month and platform or campaign.")
    if not rows:
        raise InputError(f"{filename} is empty; add a header row month,platform,amount and one row per budget.")
    header = [normalize_header(cell) for cell in rows[0][1]]
    columns = {name: next((i for i, h in enumerate(header) if h in names), None) for name, names in _HEADERS.items()}
    missing = [name for name in ("month", "amount") if columns[name] is None]
    if missing:
        raise InputError(f"{filename} has no {' or '.join(missing)} column; its header must read like "
                         "month,platform,amount[,currency] (or campaign instead of platform).")

    def cell(row: list[str], name: str) -> str:
        index = columns[name]
        return row[index].strip() if index is not None and index < len(row) else ""

    budgets: list[Budget] = []
    issues: list[str] = []
    seen: dict[tuple, int] = {}
    for line, row in rows[1:]:
        month_text, amount_text = cell(row, "month"), cell(row, "amount")
        platform, campaign = cell(row, "platform"), cell(row, "campaign")
        month = parse_month(month_text)
        if month is None:
            issues.append(f"Line {line}: {month_text!r} is not a month; write it like 2024-02.")
            continue
        amount, symbol = _parse_amount(amount_text, decimal_comma)
        if amount is None:
            issues.append(f"Line {line}: the amount {amount_text!r} is not a positive number.")
            continue
        if platform and campaign:
            issues.append(f"Line {line}: fill platform or campaign, not both.")
            continue
        currency = cell(row, "currency").upper() or symbol
        if currency and not re.fullmatch(r"[A-Z]{3}", currency):
            issues.append(f"Line {line}: {currency!r} is not a currency code; write it like USD or EUR.")
            continue
        scope: ScopeKind = "platform" if platform else "campaign" if campaign else "all"
        budget = Budget(month, scope, platform or campaign or None, amount, currency or None)
        if budget.key in seen:
            issues.append(f"Line {line} repeats the budget of line {seen[budget.key]} "
                          f"({budget.month.strftime('%Y-%m')}, {budget.scope_value or 'whole account'}); "
                          "only the first is used.")
            continue
        seen[budget.key] = line
        budgets.append(budget)
    if not budgets and issues:
        raise InputError(f"{filename} has no usable budget row; {issues[0][0].lower()}{issues[0][1:]}")
    return BudgetSheet(tuple(budgets), tuple(issues))

