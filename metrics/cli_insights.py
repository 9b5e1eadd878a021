"""The `insights` command of `python -m metrics`: why KPIs moved, anomalies, budget pacing and forecasts as JSON.

    python -m metrics insights meta.csv google.csv --from 2024-03-01 --to 2024-03-28 --compare previous
    python -m metrics insights export.csv --budgets budgets.csv --sensitivity high --holidays US
    python -m metrics insights meta.csv sheet.csv --file-currency sheet.csv=EUR --currency USD --rates rates.csv

Prints `{"files", "period", "previous_period", "drivers", "anomalies", "pacing", "forecast", "warnings"}` (plus
`"annotations"` with --holidays, `"conversion"` with --currency); see `run_insights`. Files are read with the
mapping and currency flags of `report` (`metrics.cli_common`): money is compared and paced in the reporting
currency, and money in several currencies is not decomposed or paced until one is chosen. Exit codes as for
every command (SPEC §6). statsmodels, scipy and holidays are imported inside the handler only.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from metrics.cli_common import add_input_flags, convert, iso_date, load_files, read_input
from metrics.errors import InputError, UsageError

DEFAULT_DAYS = 28


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `insights` subcommand to the main parser's subparsers."""
    command = subparsers.add_parser(
        "insights", help="Why KPIs moved, anomalies, budget pacing and forecasts to period end.",
        description="For the selected range: CPA, ROAS, CPL and CPC changes split into their factors and into "
                    "budget mix vs each platform's own change; days outside the expected band; monthly budgets "
                    "against spend; spend, conversions and revenue forecast to the period end.")
    command.add_argument("files", nargs="+", metavar="FILE", help="CSV, TSV, XLSX or Parquet exports.")
    command.add_argument("--from", dest="date_from", type=iso_date,
                         help=f"First day, inclusive (default: {DEFAULT_DAYS} days before --to).")
    command.add_argument("--to", dest="date_to", type=iso_date,
                         help="Last day, inclusive (default: the last day of data).")
    command.add_argument("--compare", choices=["previous", "previous_year"], default="previous",
                         help="The period the drivers compare with (default: the previous period of equal length).")
    command.add_argument("--platform", nargs="+", default=[], metavar="P", help="Only these platforms.")
    command.add_argument("--budgets", type=Path, metavar="FILE",
                         help="Budget sheet (CSV or XLSX): month, platform or campaign, amount[, currency].")
    command.add_argument("--as-of", dest="as_of", type=iso_date,
                         help="The day budgets are paced on (default: --to, at most the last day of data).")
    command.add_argument("--sensitivity", choices=["low", "medium", "high"], default="medium",
                         help="Anomaly band width: low 5.5, medium 4.5, high 3.5 robust standard deviations.")
    command.add_argument("--holidays", metavar="CC[-SUB]",
                         help="Add the public holidays of a country (US, GB, DE-BY, ...) as annotations and "
                              "name them next to anomalies on those days.")
    add_input_flags(command)
    command.add_argument("--format", choices=["json", "table"], default="json")
    command.set_defaults(handler=run_insights)


def _read_budgets(path: Path):
    from metrics.insights.pacing import read_budget_sheet

    data = read_input(path, what="The budget sheet")
    return read_budget_sheet(data, path.name)


def _forecast_period(date_from: date, date_to: date, last_day: date) -> tuple[date, date]:
    """The range itself when it reaches past the data (a period in progress); else the month of --to."""
    from metrics.insights.pacing import month_end, month_start

    if date_to > last_day:
        return date_from, date_to
    return month_start(date_to), month_end(date_to)


def run_insights(args: argparse.Namespace) -> dict[str, Any]:
    """Load the files and compute every insight for the selected range (JSON shape in the module docstring)."""
    import polars as pl

    from metrics.insights import annotations as notes
    from metrics.insights.anomalies import scan_anomalies
    from metrics.insights.drivers import explain_changes, explainable_kpis
    from metrics.insights.forecast import forecast_period
    from metrics.insights.pacing import pace_budgets
    from metrics.schema import normalize_platform
    from metrics.trends import comparison_range

    if args.date_from and args.date_to and args.date_to < args.date_from:
        raise UsageError("The --to date is before the --from date.")
    country, _, subdivision = (args.holidays or "").partition("-")
    budgets = _read_budgets(args.budgets) if args.budgets else None
    loaded = load_files(args, keep=["platform", "campaign"])
    converted = convert(loaded)
    frame = converted.frame

    warnings: list[dict[str, Any]] = [*loaded.warnings, *converted.warnings]
    platforms = [normalize_platform(p) for p in args.platform]
    filters = {"platform": platforms} if platforms else None
    scoped = frame.lazy().filter(pl.col("platform").is_in(platforms)) if platforms else frame.lazy()
    last_day = scoped.select(pl.col("date").max()).collect().item()
    if last_day is None:
        raise InputError("The files have no dated rows" + (" for the chosen platforms" if platforms else "")
                         + "; insights need a date column.")
    date_to = args.date_to or last_day
    date_from = args.date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_to < date_from:
        raise UsageError(f"--from {date_from} is after the last day of data ({date_to}); give an earlier date.")
    if date_to > last_day:
        warnings.append({"code": "range_after_data", "message": f"The data ends on {last_day}, before the end of "
                                                                f"the range ({date_to})."})

    # A KPI is explained only when the data reports every measure of its identity somewhere.
    kpi_names = explainable_kpis(scoped)
    changes = explain_changes(frame, date_from=date_from, date_to=date_to, compare=args.compare, filters=filters,
                              kpi_names=kpi_names)
    for change in changes:
        if change.total.reason:
            warnings.append({"code": "not_decomposed", "kpi": change.kpi, "message": change.total.reason})

    scans = scan_anomalies(frame, sensitivity=args.sensitivity, judge_from=date_from, judge_to=date_to,
                           filters=filters)
    for scan in scans:
        if scan.reason:
            warnings.append({"code": "anomalies_not_judged", "metric": scan.metric, "message": scan.reason})

    holiday_notes: tuple = ()
    if country:
        holiday_notes = notes.public_holidays(country, date_from - timedelta(days=366), date_to,
                                              subdivision=subdivision or None)
    anomalies = []
    for scan in scans:
        for anomaly in scan.anomalies:
            found = anomaly.to_dict()
            if country:
                found["notes"] = [a.text for a in notes.on_day(holiday_notes, anomaly.date)]
            anomalies.append(found)
    anomalies.sort(key=lambda a: (a["date"], a["metric"]))

    pacing = []
    if budgets is not None:
        warnings += [{"code": "budget_row_skipped", "message": issue} for issue in budgets.issues]
        as_of = min(args.as_of or date_to, last_day)
        pacing = [p.to_dict() for p in pace_budgets(frame, budgets.budgets, as_of=as_of, filters=filters)]

    start, end = _forecast_period(date_from, date_to, last_day)
    forecasts = forecast_period(frame, period_start=start, period_end=end, filters=filters)
    for forecast in forecasts:
        if forecast.reason:
            warnings.append({"code": "no_forecast", "metric": forecast.metric, "message": forecast.reason})

    out: dict[str, Any] = {
        "files": list(loaded.files),
        "period": {"from": date_from, "to": date_to},
        "previous_period": dict(zip(("from", "to"), comparison_range(date_from, date_to, args.compare))),
        "drivers": [c.to_dict() for c in changes],
        "anomalies": anomalies,
        "pacing": pacing,
        "forecast": [f.to_dict() for f in forecasts],
        "warnings": warnings,
    }
    if converted.conversion:
        out["conversion"] = converted.conversion
    if country:
        out["annotations"] = [a.to_dict() for a in notes.within(holiday_notes, date_from, date_to)]
    if getattr(args, "format", "json") == "table":
        return _for_people(out, [c.sentence for c in changes])
    return out


def _for_people(out: dict[str, Any], sentences: list[str]) -> dict[str, Any]:
    """`--format table`: one line per finding instead of the full numbers."""
    def amount(value: float | None) -> str:
        return "—" if value is None else f"{value:,.4g}" if abs(value) < 10 else f"{value:,.0f}"

    return {
        "files": out["files"],
        "period": f"{out['period']['from']} to {out['period']['to']}",
        "drivers": sentences,
        "anomalies": [f"{a['date']} {a['label']} {amount(a['value'])} (expected {amount(a['lower'])}–"
                      f"{amount(a['upper'])})" for a in out["anomalies"]],
        "pacing": [f"{p['month']} {p['scope_value'] or 'whole account'}: {p['status_label']}, spent "
                   f"{amount(p['spend_to_date'])} of {amount(p['amount'])}, heading for {amount(p['projected'])}"
                   for p in out["pacing"]],
        "forecast": [f"{f['label']} by {f['period']['to']}: {amount(f['projected'])} ({amount(f['lower'])}–"
                     f"{amount(f['upper'])})" for f in out["forecast"] if f["reason"] is None],
        "warnings": [w["message"] for w in out["warnings"]],
    }
