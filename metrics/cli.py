"""`python -m metrics`: the engine for automations. JSON on stdout, one sentence on stderr.

Exit codes (SPEC §6): 0 success (warnings are part of the JSON), 2 usage error,
3 input that cannot be read. No traceback ever reaches the terminal for those.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from metrics.bounded import MAPPING_LIMITS, BoundedJsonError
from metrics.errors import CampaignLensError, InputError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that raises a UsageError (one sentence, exit 2) instead of printing usage and exiting."""

    def error(self, message: str):  # noqa: D401 - argparse hook
        raise UsageError(f"{message[0].upper()}{message[1:]}; run with --help to see the options.")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def build_parser(*, with_abtest: bool = True) -> argparse.ArgumentParser:
    """The argument parser. `with_abtest=False` skips the A/B commands, whose scipy/statsmodels
    imports cost seconds that a `report` call (timed as a whole process) should not pay."""
    parser = _Parser(prog="python -m metrics", description="Campaign Lens engine: KPIs and A/B tests as JSON.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="{report,insights,abtest,samplesize}")
    sub.required = True

    report = sub.add_parser("report", help="Load exports and print measures and KPIs.")
    report.add_argument("files", nargs="+", metavar="FILE", help="CSV, TSV, XLSX or Parquet exports.")
    report.add_argument("--by", default="", help="Comma-separated dimensions to group by, e.g. platform,date.")
    report.add_argument("--grain", choices=["day", "week", "month"], help="Bucket dates (implies grouping by date).")
    report.add_argument("--from", dest="date_from", type=_iso_date, help="First day, inclusive (YYYY-MM-DD).")
    report.add_argument("--to", dest="date_to", type=_iso_date, help="Last day, inclusive (YYYY-MM-DD).")
    report.add_argument("--platform", nargs="+", default=[], metavar="P", help="Only these platforms.")
    report.add_argument("--compare", choices=["previous", "previous_year"],
                        help="Add <kpi>_prev, _delta and _delta_rel for the comparison period.")
    report.add_argument("--extra-costs", type=float, default=0.0,
                        help="Team, content and tool costs added to spend in ROI (same currency).")
    report.add_argument("--mapping", type=Path,
                        help="JSON file with a column mapping {source header: canonical name} "
                             "(or {file name: {...}} per file).")
    report.add_argument("--currency", metavar="CODE",
                        help="Reporting currency: convert all money into it (bundled ECB rates unless --rates "
                             "names the currency).")
    report.add_argument("--rates", type=Path, metavar="FILE",
                        help="CSV of rates into --currency: currency,rate or date,currency,rate "
                             "(1 unit of currency = rate units of the reporting currency).")
    report.add_argument("--file-currency", action="append", default=[], metavar="NAME=CODE",
                        help="The currency of a file that does not say (repeatable), e.g. sheet.csv=EUR.")
    report.add_argument("--format", choices=["json", "table"], default="json")
    report.set_defaults(handler=run_report)

    if with_abtest:
        from metrics import cli_abtest, cli_insights

        cli_abtest.register(sub)
        cli_insights.register(sub)
    return parser


def _read_mapping(path: Path | None, names: Sequence[str]) -> dict[str, dict[str, str]] | None:
    if path is None:
        return None
    try:
        with path.open("rb") as handle:  # read one byte past the limit, never a whole huge file
            raw = handle.read(MAPPING_LIMITS.max_bytes + 1)
        data = MAPPING_LIMITS.load(raw, what=f"The mapping file {path}")
    except FileNotFoundError:
        raise UsageError(f"The mapping file {path} does not exist; check the path.") from None
    except OSError:
        raise UsageError(f"The mapping file {path} cannot be read; check the path and its permissions.") from None
    except BoundedJsonError as error:
        if error.reason in ("syntax", "encoding"):
            raise UsageError(f"The mapping file {path} is not valid JSON; save it again from the upload page.") \
                from None
        raise UsageError(str(error)) from None
    if not isinstance(data, dict) or not all(isinstance(v, (str, dict)) for v in data.values()):
        raise UsageError(f"The mapping file {path} must hold an object of source header to canonical name.")
    if all(isinstance(v, str) for v in data.values()):
        return {name: data for name in names}
    return {name: data.get(name) or data.get(Path(name).name) for name in names}


def _file_currencies(pairs: Sequence[str], names: Sequence[str]) -> dict[str, str]:
    """--file-currency NAME=CODE values as {loaded file name: ISO code}; one sentence for a bad one."""
    from metrics.currency import currency_code

    chosen: dict[str, str] = {}
    for pair in pairs:
        name, sep, code = pair.rpartition("=")
        if not sep or not name.strip():
            raise UsageError(f"--file-currency {pair!r} is not NAME=CODE, e.g. sheet.csv=EUR.")
        match = [n for n in names if name.strip() in (n, Path(n).name)]
        if not match:
            raise UsageError(f"--file-currency names {name.strip()}, which is not one of the files given "
                             f"({', '.join(Path(n).name for n in names)}).")
        iso = currency_code(code)
        if iso is None:
            raise UsageError(f"--file-currency {pair!r}: {code.strip()!r} is not a three-letter currency code "
                             "such as USD or EUR.")
        chosen[Path(match[0]).name] = iso
    return chosen


def _reporting_rates(args: argparse.Namespace, frame) -> Any:
    """The rates into --currency: the --rates file over the bundled ECB history (a currency the file
    names is taken from the file only); None without --currency."""
    from metrics import currency

    if args.currency is None:
        return None
    reporting = currency.currency_code(args.currency)
    if reporting is None:
        raise UsageError(f"--currency {args.currency!r} is not a three-letter currency code such as USD or EUR.")
    given = None
    if args.rates is not None:
        try:
            text = args.rates.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UsageError(f"The rates file {args.rates} does not exist; check the path.") from None
        except (OSError, UnicodeDecodeError):
            raise UsageError(f"The rates file {args.rates} cannot be read as UTF-8 text; save it as CSV.") from None
        given = currency.parse_rates_csv(text, reporting, source=f"rates file {args.rates.name}")
    import polars as pl

    dates = frame.select(pl.col("date").min(), pl.col("date").max().alias("last")).row(0)
    if dates[0] is None or reporting not in currency.bundled_currencies():
        if given is None:
            raise UsageError(f"There are no bundled rates into {reporting} for this data; give them with --rates.")
        return given
    bundled = currency.bundled_rates(reporting, currency.needed_currencies(frame), dates[0], dates[1])
    return bundled.merged(given) if given is not None else bundled


def report_warnings(total: dict, frame, *, files: int) -> list[dict[str, str]]:
    """`mixed_currency` and `partial_coverage` warnings for a report's total (its rows are parts of it:
    a row is mixed or partly covered only when the total is)."""
    from metrics import currency, kpis

    warnings: list[dict[str, str]] = []
    if total.get("currency") == kpis.MIXED:
        mix = currency.money_currencies(frame)
        unknown = mix.filter(mix["currency"].is_null())["source_file"].unique().sort().to_list()
        fix = (f"give the file its currency (--file-currency {unknown[0]}=CODE) or " if unknown else "")
        warnings.append({"code": "mixed_currency", "message": (
            f"Spend and revenue are in more than one currency: {currency.describe_mix(mix)}; money totals and "
            f"money KPIs are left out. To fix it, {fix}convert everything with --currency CODE (and --rates FILE).")})
    partial = [n for n in kpis.KPI_NAMES
               if total.get(n) is not None and 0 < (total.get(kpis.coverage_name(n)) or 0) < 1]
    if partial:
        by_file = _coverage_by_file(frame, partial) if files > 1 else {}
        for name in partial:
            needed = kpis.kpi(name).needs or kpis.kpi(name).measures()[1]
            joined = " and ".join(needed) if kpis.kpi(name).needs else " or ".join(needed)
            share = total[kpis.coverage_name(name)]
            where = f" ({by_file[name]})" if name in by_file else ""
            warnings.append({"code": "partial_coverage", "message": (
                f"{name} is based on {share:.1%} of the rows{where}: those that report {joined}.")})
    return warnings


def _coverage_by_file(frame, names: Sequence[str]) -> dict[str, str]:
    """'based on 1 of 2 files' per KPI, from one summary by file."""
    from metrics import kpis

    per_file = kpis.summarize(frame, ["source_file"])
    out = {}
    for name in names:
        covered, count = kpis.covering(name, per_file, "source_file")
        out[name] = f"{len(covered)} of {count} files: {', '.join(str(f) for f in covered)}"
    return out


def run_report(args: argparse.Namespace) -> dict[str, Any]:
    from metrics import currency, ingest, kpis
    from metrics.schema import DIMENSIONS, normalize_platform

    by = [part.strip() for part in args.by.split(",") if part.strip()]
    unknown = [key for key in by if key not in DIMENSIONS and key != "source_file"]
    if unknown:
        raise UsageError(f"Cannot group by {', '.join(unknown)}; use any of {', '.join(DIMENSIONS)}.")
    if args.date_from and args.date_to and args.date_to < args.date_from:
        raise UsageError("The --to date is before the --from date.")
    if args.currency is None and args.rates is not None:
        raise UsageError("--rates needs --currency, the currency the rates convert into.")

    mappings = _read_mapping(args.mapping, args.files)
    file_currencies = _file_currencies(args.file_currency, args.files)
    files, frames = [], []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise InputError(f"{name} does not exist or is not a file; check the path.")
        mapping = (mappings or {}).get(name)
        try:
            # Only the dimensions this report groups by are parsed; measures are always validated. The rows
            # come summed by date and dimensions (one streaming pass for a plain file): summarize reads the
            # sums like the rows, and a 2 GB export never sits in memory.
            result = ingest.load_path_summed(path, mapping=mapping, keep=by)
        except ingest.UnreadableFileError as error:
            raise InputError(str(error)) from None
        files.append(result.report.to_dict())
        frames.append(result.frame)

    import polars as pl

    frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    warnings: list[dict[str, str]] = []
    for report in files:
        code = file_currencies.get(report["name"])
        if code is None:
            continue
        if report.get("currency") and report["currency"] != code:
            warnings.append({"code": "file_currency_override", "message": (
                f"{report['name']} said its money is in {report['currency']}; it is read as {code} as asked.")})
        frame = currency.set_file_currency(frame, report["name"], code)
        report["currency"] = code
    rates = _reporting_rates(args, frame)
    conversion = None
    if rates is not None:
        converted = currency.convert(frame, rates)
        frame = converted.frame
        warnings += [{"code": "missing_rate", "message": m.message} for m in converted.missing]
        conversion = {"reporting": rates.reporting, "source": rates.source}

    filters = {"platform": [normalize_platform(p) for p in args.platform]} if args.platform else None
    options = dict(date_from=args.date_from, date_to=args.date_to, filters=filters, extra_costs=args.extra_costs)
    row_keys = ["date", *by] if args.grain and "date" not in by else by
    levels = [[], row_keys] if (by or args.grain) else [[]]
    # The total and the rows from one pass over the data.
    summaries = kpis.summarize_levels(frame, levels, grain=args.grain, compare=args.compare, **options)
    total = summaries[0].to_dicts()[0]
    rows = summaries[1] if len(summaries) > 1 else None
    scoped = kpis.apply_filters(frame.lazy(), date_from=args.date_from, date_to=args.date_to, filters=filters)
    warnings += report_warnings(total, scoped, files=len(files))
    out = {
        "files": files,
        "total": total,
        "rows": rows.to_dicts() if rows is not None else [],
        "warnings": warnings,
    }
    if conversion:
        out["conversion"] = conversion
    return out


def _json_safe(value: Any) -> Any:
    """Dates as ISO strings; NaN and infinities as null (JSON has neither)."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {k if type(k) is str else str(k): _json_safe(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_json_safe(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _as_table(result: dict[str, Any]) -> str:
    """A readable rendering for people (`--format table`): only columns that hold values."""
    import polars as pl

    def table(records: list[dict]) -> str:
        frame = pl.DataFrame([_json_safe(r) for r in records], strict=False, infer_schema_length=None)
        frame = frame.select([c for c in frame.columns if frame[c].null_count() < frame.height])
        return str(frame)

    lines: list[str] = []
    for report in result.get("files", []):
        lines.append(f"{report['name']}: {report['source_format']}, {report['rows_loaded']} rows loaded, "
                     f"{report['rows_rejected']} rejected")
        lines.extend(f"  - {issue['message']}" for issue in report.get("issues", []))
    with pl.Config(tbl_rows=500, tbl_cols=30, tbl_width_chars=250, fmt_str_lengths=40, tbl_hide_dataframe_shape=True,
                   float_precision=4):
        total = result.get("total")
        if isinstance(total, dict) and total:
            lines.append("total:")
            width = max(len(k) for k in total)
            lines.extend(f"  {k.ljust(width)}  {v:,.4f}" if isinstance(v, float) else f"  {k.ljust(width)}  {v}"
                         for k, v in total.items() if v is not None)
        for key in ("rows", "variants", "comparisons"):
            if result.get(key):
                lines.append(f"{key}:")
                lines.append(table(result[key]))
        warnings = result.get("warnings") or []
        readable = all(isinstance(w, dict) and "message" in w for w in warnings)
        if warnings and readable:
            lines.append("warnings:")
            lines.extend(f"  - {w['message']}" for w in warnings)
        listed = {"files", "rows", "variants", "comparisons"} | ({"warnings"} if readable else set())
        for key, value in result.items():
            if key not in listed and not (key == "total" and isinstance(value, dict)):
                lines.append(f"{key}: {json.dumps(_json_safe(value), ensure_ascii=False)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = build_parser(with_abtest=argv[:1] != ["report"]).parse_args(argv)
        result = args.handler(args)
        if getattr(args, "format", "json") == "table":
            print(_as_table(result))
        else:
            # dumps, not dump: only the one-shot encoder runs in C (3-5x faster on a big report).
            sys.stdout.write(json.dumps(_json_safe(result), ensure_ascii=False, allow_nan=False))
            sys.stdout.write("\n")
        return 0
    except CampaignLensError as error:
        print(str(error), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except MemoryError:
        print("The input is too large to process in memory; split it into smaller files.", file=sys.stderr)
        return 3
    except Exception as error:  # a bug: still one sentence, never a traceback
        print(f"Unexpected error ({type(error).__name__}); please report it with the command you ran.",
              file=sys.stderr)
        return 1
