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
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UsageError(f"The mapping file {path} does not exist; check the path.") from None
    except (OSError, ValueError):
        raise UsageError(f"The mapping file {path} is not valid JSON; save it again from the upload page.") from None
    if not isinstance(data, dict) or not all(isinstance(v, (str, dict)) for v in data.values()):
        raise UsageError(f"The mapping file {path} must hold an object of source header to canonical name.")
    if all(isinstance(v, str) for v in data.values()):
        return {name: data for name in names}
    return {name: data.get(name) or data.get(Path(name).name) for name in names}


def run_report(args: argparse.Namespace) -> dict[str, Any]:
    from metrics import ingest, kpis
    from metrics.schema import DIMENSIONS, normalize_platform

    by = [part.strip() for part in args.by.split(",") if part.strip()]
    unknown = [key for key in by if key not in DIMENSIONS and key != "source_file"]
    if unknown:
        raise UsageError(f"Cannot group by {', '.join(unknown)}; use any of {', '.join(DIMENSIONS)}.")
    if args.date_from and args.date_to and args.date_to < args.date_from:
        raise UsageError("The --to date is before the --from date.")

    mappings = _read_mapping(args.mapping, args.files)
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
    filters = {"platform": [normalize_platform(p) for p in args.platform]} if args.platform else None
    options = dict(date_from=args.date_from, date_to=args.date_to, filters=filters, extra_costs=args.extra_costs)
    total = kpis.summarize(frame, (), compare=args.compare, **options)
    rows = kpis.summarize(frame, by, grain=args.grain, compare=args.compare, **options) if (by or args.grain) else None
    return {
        "files": files,
        "total": total.to_dicts()[0],
        "rows": rows.to_dicts() if rows is not None else [],
    }


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
        for key, value in result.items():
            if key not in ("files", "rows", "variants", "comparisons") and not (key == "total" and isinstance(value, dict)):
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
