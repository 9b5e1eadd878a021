"""`python -m reports`: client report files for automations (SPEC §6).

    python -m reports render FILE... --out PATH [--format pdf|html] [--title T] [--client NAME]
        [--from DATE] [--to DATE] [--compare previous|previous_year|none] [--platform P...] [--campaign C...]
        [--grain day|week|month] [--extra-costs X] [--mapping FILE] [--goals FILE]
        [--logo FILE] [--accent #RRGGBB] [--footer TEXT]

Exit codes as `python -m metrics`: 0 when the file is written (its path is the only thing on stdout),
2 on a usage error, 3 on input that cannot be read — then one plain sentence on stderr, no traceback.
The files are loaded, filtered and summarised exactly as `python -m metrics report` does, so the report
shows the same totals.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from metrics.cli import _iso_date, _Parser, _read_mapping
from metrics.errors import CampaignLensError, InputError, UsageError

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m reports", description="Campaign Lens client report files (PDF, HTML).")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="{render}")
    sub.required = True

    render = sub.add_parser("render", help="Write a client report for exported files.")
    # `render --snapshot ID` (a saved snapshot with its settings and the workspace's branding, read through
    # models.repository) becomes a second source next to FILE... once workspaces store them.
    render.add_argument("files", nargs="+", metavar="FILE", help="CSV, TSV, XLSX or Parquet exports.")
    render.add_argument("--out", required=True, type=Path, help="Where to write the report.")
    render.add_argument("--format", choices=["pdf", "html"],
                        help="pdf or html (default: from the --out file's extension).")
    render.add_argument("--title", default="Campaign report", help="The report's title.")
    render.add_argument("--client", help="The client's name, shown on the cover.")
    # The filters of `python -m metrics report`, with the dashboard's defaults (compare with the previous
    # period). Currency flags (--currency, --rates, --file-currency) join these with currency conversion.
    render.add_argument("--from", dest="date_from", type=_iso_date, help="First day, inclusive (YYYY-MM-DD).")
    render.add_argument("--to", dest="date_to", type=_iso_date, help="Last day, inclusive (YYYY-MM-DD).")
    render.add_argument("--compare", choices=["previous", "previous_year", "none"], default="previous",
                        help="The period the changes compare with (default: previous).")
    render.add_argument("--platform", nargs="+", default=[], metavar="P", help="Only these platforms.")
    render.add_argument("--campaign", nargs="+", default=[], metavar="C", help="Only these campaigns.")
    render.add_argument("--grain", choices=["day", "week", "month"], default="day", help="Trend chart grain.")
    render.add_argument("--extra-costs", type=float, default=0.0,
                        help="Team, content and tool costs added to spend in ROI (same currency).")
    render.add_argument("--mapping", type=Path, help="JSON column mapping, as for python -m metrics report.")
    render.add_argument("--goals", type=Path, help="Goals exported from the Goals page (JSON).")
    render.add_argument("--logo", type=Path, help="PNG or JPEG logo for the cover.")
    render.add_argument("--accent", default=None, help="Accent colour as #RRGGBB.")
    render.add_argument("--footer", default=None, help="Footer text on every page.")
    render.set_defaults(handler=run_render)
    return parser


def run_render(args: argparse.Namespace) -> Path:
    from reports import render_html, render_pdf
    from reports.model import build_report

    fmt = args.format or FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        raise UsageError("Say which file to write with --format pdf or --format html (or end --out with .pdf or "
                         ".html).")
    if not args.out.parent.is_dir():
        raise UsageError(f"The folder {args.out.parent} does not exist; create it or pick another --out path.")
    if args.date_from and args.date_to and args.date_to < args.date_from:
        raise UsageError("The --to date is before the --from date.")
    frame, options, branding = _from_files(args)
    report = build_report(frame, options, branding)
    content = render_pdf(report) if fmt == "pdf" else render_html(report).encode("utf-8")
    _write_atomically(args.out, content)
    return args.out


def _from_files(args: argparse.Namespace):
    """The frame, options and branding of a report on exported files (what `python -m metrics report` reads)."""
    import polars as pl

    from metrics import ingest
    from metrics.goals import GoalError, parse_goals
    from metrics.schema import normalize_platform
    from reports.branding import Branding
    from reports.model import ReportOptions, SourceFile

    mappings = _read_mapping(args.mapping, args.files)
    frames, sources = [], []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise InputError(f"{name} does not exist or is not a file; check the path.")
        try:
            result = ingest.load_path(path, mapping=(mappings or {}).get(name))
        except ingest.UnreadableFileError as error:
            raise InputError(str(error)) from None
        frames.append(result.frame)
        sources.append(SourceFile(path.name, result.report.rows_loaded, result.report.rows_rejected))
    goals: tuple = ()
    if args.goals is not None:
        try:
            goals = tuple(parse_goals(_read_file(args.goals, "goals file")))
        except GoalError as error:
            raise UsageError(str(error)) from None
    branding = Branding(
        logo=_read_file(args.logo, "logo") if args.logo else None,
        **{k: v for k, v in (("accent", args.accent), ("footer", args.footer)) if v is not None},
    )
    options = ReportOptions(
        title=args.title, client=args.client, date_from=args.date_from, date_to=args.date_to,
        compare=None if args.compare == "none" else args.compare, grain=args.grain,
        platforms=tuple(normalize_platform(p) for p in args.platform), campaigns=tuple(args.campaign),
        extra_costs=args.extra_costs, goals=goals, sources=tuple(sources),
    )
    frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    return frame, options, branding


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"The {what} {path} does not exist; check the path.") from None
    except OSError:
        raise UsageError(f"The {what} {path} cannot be read; check that it is a file you may open.") from None


def _write_atomically(path: Path, content: bytes) -> None:
    """Write next to the target and rename, so a failed run never leaves half a report behind."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"The report could not be written to {path}; check that the folder is writable.") from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        written = args.handler(args)
        print(written)
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
