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
from typing import Any

from metrics.cli_common import Parser, add_input_flags, convert, iso_date, load_files, run_guarded
from metrics.errors import UsageError


def build_parser(*, with_abtest: bool = True) -> argparse.ArgumentParser:
    """The argument parser. `with_abtest=False` skips the A/B commands, whose scipy/statsmodels
    imports cost seconds that a `report` call (timed as a whole process) should not pay."""
    parser = Parser(prog="python -m metrics", description="Campaign Lens engine: KPIs and A/B tests as JSON.")
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="{report,insights,abtest,samplesize}")
    sub.required = True

    report = sub.add_parser("report", help="Load exports and print measures and KPIs.")
    report.add_argument("files", nargs="+", metavar="FILE", help="CSV, TSV, XLSX or Parquet exports.")
    report.add_argument("--by", default="", help="Comma-separated dimensions to group by, e.g. platform,date.")
    report.add_argument("--grain", choices=["day", "week", "month"], help="Bucket dates (implies grouping by date).")
    report.add_argument("--from", dest="date_from", type=iso_date, help="First day, inclusive (YYYY-MM-DD).")
    report.add_argument("--to", dest="date_to", type=iso_date, help="Last day, inclusive (YYYY-MM-DD).")
    report.add_argument("--platform", nargs="+", default=[], metavar="P", help="Only these platforms.")
    report.add_argument("--compare", choices=["previous", "previous_year"],
                        help="Add <kpi>_prev, _delta and _delta_rel for the comparison period.")
    report.add_argument("--extra-costs", type=float, default=0.0,
                        help="Team, content and tool costs added to spend in ROI (same currency).")
    add_input_flags(report)
    report.add_argument("--format", choices=["json", "table"], default="json")
    report.set_defaults(handler=run_report)

    if with_abtest:
        from metrics import cli_abtest, cli_insights

        cli_abtest.register(sub)
        cli_insights.register(sub)
    return parser


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
    from metrics import kpis
    from metrics.schema import DIMENSIONS, normalize_platform

    by = [part.strip() for part in args.by.split(",") if part.strip()]
    unknown = [key for key in by if key not in DIMENSIONS and key != "source_file"]
    if unknown:
        raise UsageError(f"Cannot group by {', '.join(unknown)}; use any of {', '.join(DIMENSIONS)}.")
    if args.date_from and args.date_to and args.date_to < args.date_from:
        raise UsageError("The --to date is before the --from date.")

    # Only the dimensions this report groups by are parsed; measures are always validated. The rows come
    # summed by date and dimensions (one streaming pass for a plain file): summarize reads the sums like the
    # rows, and a 2 GB export never sits in memory.
    loaded = load_files(args, keep=by, summed=True)
    converted = convert(loaded)
    frame = converted.frame
    warnings = [*loaded.warnings, *converted.warnings]

    filters = {"platform": [normalize_platform(p) for p in args.platform]} if args.platform else None
    options = dict(date_from=args.date_from, date_to=args.date_to, filters=filters, extra_costs=args.extra_costs)
    row_keys = ["date", *by] if args.grain and "date" not in by else by
    levels = [[], row_keys] if (by or args.grain) else [[]]
    # The total and the rows from one pass over the data.
    summaries = kpis.summarize_levels(frame, levels, grain=args.grain, compare=args.compare, **options)
    total = summaries[0].to_dicts()[0]
    rows = summaries[1] if len(summaries) > 1 else None
    scoped = kpis.apply_filters(frame.lazy(), date_from=args.date_from, date_to=args.date_to, filters=filters)
    warnings += report_warnings(total, scoped, files=len(loaded.files))
    out = {
        "files": list(loaded.files),
        "total": total,
        "rows": rows.to_dicts() if rows is not None else [],
        "warnings": warnings,
    }
    if converted.conversion:
        out["conversion"] = converted.conversion
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
    return run_guarded(lambda: _run(list(sys.argv[1:] if argv is None else argv)))


def _run(argv: list[str]) -> int:
    args = build_parser(with_abtest=argv[:1] != ["report"]).parse_args(argv)
    result = args.handler(args)
    if getattr(args, "format", "json") == "table":
        print(_as_table(result))
    else:
        # dumps, not dump: only the one-shot encoder runs in C (3-5x faster on a big report).
        sys.stdout.write(json.dumps(_json_safe(result), ensure_ascii=False, allow_nan=False))
        sys.stdout.write("\n")
    return 0
