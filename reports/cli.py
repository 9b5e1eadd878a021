"""`python -m reports`: client report files and scheduled delivery for automations (SPEC §6, §9).

    python -m reports render FILE... --out PATH [--format pdf|html] [--title T] [--client NAME]
        [--from DATE] [--to DATE] [--compare previous|previous_year|none] [--platform P...] [--campaign C...]
        [--grain day|week|month] [--extra-costs X] [--mapping FILE] [--goals FILE]
        [--currency CODE] [--rates FILE] [--file-currency NAME=CODE ...]
        [--logo FILE] [--accent #RRGGBB] [--footer TEXT]
    python -m reports render --snapshot ID --out PATH [--format pdf|html] [--title T]
    python -m reports deliver [--loop] [--interval SECONDS]

Exit codes as `python -m metrics`: 0 when the file is written (its path is the only thing on stdout),
2 on a usage error, 3 on input that cannot be read (a file, or a snapshot id the database does not
have) — then one plain sentence on stderr, no traceback. The files are loaded, filtered and summarised
exactly as `python -m metrics report` does, so the report shows the same totals; a snapshot is
reported with its saved filters, goals and A/B test and its workspace's branding, as the app shows it.

`deliver` sends every scheduled report that is due (one line per delivery on stdout) and exits: 0 when
every attempt went out (or nothing was due), 4 when some did not (each is recorded, shown in the app,
and retried when its failure was temporary). With `--loop` it keeps running, checking every
`--interval` seconds, until it is stopped (SIGTERM or Ctrl-C finish the delivery in hand first).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from metrics.cli_common import LoadedFiles, Parser, add_input_flags, iso_date, load_files, run_guarded
from metrics.errors import InputError, UsageError

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m reports", description="Campaign Lens client report files (PDF, HTML).")
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="{render,deliver}")
    sub.required = True

    render = sub.add_parser("render", help="Write a client report for exported files or a saved snapshot.")
    render.add_argument("files", nargs="*", metavar="FILE", help="CSV, TSV, XLSX or Parquet exports.")
    render.add_argument("--snapshot", type=_snapshot_id, metavar="ID",
                        help="A saved snapshot (database from DATABASE_URL), with its saved filters, goals, A/B "
                             "test and its workspace's branding.")
    render.add_argument("--out", required=True, type=Path, help="Where to write the report.")
    render.add_argument("--format", choices=["pdf", "html"],
                        help="pdf or html (default: from the --out file's extension).")
    render.add_argument("--title", help="The report's title (default: Campaign report, or the snapshot's name).")
    render.add_argument("--client", help="The client's name, shown on the cover.")
    # The filters of `python -m metrics report`, with the dashboard's defaults (compare with the previous
    # period).
    render.add_argument("--from", dest="date_from", type=iso_date, help="First day, inclusive (YYYY-MM-DD).")
    render.add_argument("--to", dest="date_to", type=iso_date, help="Last day, inclusive (YYYY-MM-DD).")
    render.add_argument("--compare", choices=["previous", "previous_year", "none"],
                        help="The period the changes compare with (default: previous).")
    render.add_argument("--platform", nargs="+", default=[], metavar="P", help="Only these platforms.")
    render.add_argument("--campaign", nargs="+", default=[], metavar="C", help="Only these campaigns.")
    render.add_argument("--grain", choices=["day", "week", "month"], help="Trend chart grain (default: day).")
    render.add_argument("--extra-costs", type=float,
                        help="Team, content and tool costs added to spend in ROI (same currency).")
    add_input_flags(render)  # --mapping and the currency flags, as for python -m metrics report
    render.add_argument("--goals", type=Path, help="Goals exported from the Goals page (JSON).")
    render.add_argument("--logo", type=Path, help="PNG or JPEG logo for the cover.")
    render.add_argument("--accent", default=None, help="Accent colour as #RRGGBB.")
    render.add_argument("--footer", default=None, help="Footer text on every page.")
    render.set_defaults(handler=run_render)

    deliver = sub.add_parser("deliver", help="Send the scheduled reports that are due (CAMPAIGN_LENS_SMTP_URL).")
    deliver.add_argument("--loop", action="store_true", help="Keep running, checking every --interval seconds.")
    deliver.add_argument("--interval", type=_interval, default=60.0, metavar="SECONDS",
                         help="Seconds between checks with --loop (default: 60).")
    deliver.set_defaults(handler=run_deliver)
    return parser


def _snapshot_id(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a snapshot id (a whole number)")
    return int(text)


def _interval(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 1 <= seconds <= 86_400:
        raise argparse.ArgumentTypeError("the interval must be between 1 and 86400 seconds")
    return seconds


# Flags that choose what a report on files shows; a snapshot brings its own (and its workspace's branding).
_FILE_ONLY = {"files": "FILE", "date_from": "--from", "date_to": "--to", "compare": "--compare", "grain": "--grain",
              "platform": "--platform", "campaign": "--campaign", "extra_costs": "--extra-costs",
              "mapping": "--mapping", "currency": "--currency", "rates": "--rates",
              "file_currency": "--file-currency", "goals": "--goals", "logo": "--logo", "accent": "--accent",
              "footer": "--footer", "client": "--client"}


def run_render(args: argparse.Namespace) -> Path:
    from reports import render_file
    from reports.model import build_report

    fmt = args.format or FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        raise UsageError("Say which file to write with --format pdf or --format html (or end --out with .pdf or "
                         ".html).")
    if not args.out.parent.is_dir():
        raise UsageError(f"The folder {args.out.parent} does not exist; create it or pick another --out path.")
    if args.snapshot is not None:
        report = _snapshot_report(args)
    else:
        if not args.files:
            raise UsageError("Name the exported files to report on, or a saved snapshot with --snapshot ID.")
        if args.date_from and args.date_to and args.date_to < args.date_from:
            raise UsageError("The --to date is before the --from date.")
        frame, options, branding = _from_files(args)
        report = build_report(frame, options, branding)
    _write_atomically(args.out, render_file(report, fmt))
    return args.out


def _snapshot_report(args: argparse.Namespace):
    """The report of a saved snapshot, as the app shows it (reports.stored.snapshot_report)."""
    given = [flag for name, flag in _FILE_ONLY.items() if getattr(args, name) not in (None, [])]
    if given:
        raise UsageError(f"--snapshot reports the snapshot with its saved filters, goals and branding; leave out "
                         f"{given[0]}.")
    from sqlmodel import Session

    from reports.stored import snapshot_report

    engine = _database()
    try:
        with Session(engine) as session:
            return snapshot_report(session=session, snapshot_id=args.snapshot, title=args.title)
    except _database_errors() as error:
        raise _database_unavailable(error) from None
    finally:
        engine.dispose()


def _database():
    """The engine of DATABASE_URL, migrated to the current schema (as the app does on first use)."""
    from models.db import make_engine, upgrade_database

    try:
        engine = make_engine()
        upgrade_database(engine)
    except _database_errors() as error:
        raise _database_unavailable(error) from None
    return engine


def _database_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    return SQLAlchemyError, ArgumentError, OSError


def _database_unavailable(error: BaseException) -> InputError:
    # The driver's message can carry the URL; say which setting to check instead.
    return InputError(f"The database in DATABASE_URL could not be used ({type(error).__name__}); check the "
                      "setting and that the database server is running.")


def run_deliver(args: argparse.Namespace) -> int:
    """Send what is due (once, or in a loop); one line per delivery on stdout."""
    import signal
    import time

    from reports.deliver import deliver_due
    from reports.mail import MailError, smtp_settings

    try:
        smtp = smtp_settings()  # before touching the database: nothing is claimed without a mail server
    except MailError as error:
        raise UsageError(str(error)) from None
    engine = _database()
    stopping: list[bool] = []
    if args.loop:  # finish the delivery in hand, then exit 0
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: stopping.append(True))
    try:
        missed = False
        while True:
            try:
                results = deliver_due(engine, smtp=smtp, stopping=lambda: bool(stopping))
            except _database_errors() as error:
                if not args.loop:
                    raise _database_unavailable(error) from None
                print(_database_unavailable(error), file=sys.stderr, flush=True)
                results = []
            for result in results:
                print(result.describe(), flush=True)
            missed = missed or any(r.outcome not in ("sent", "lost") for r in results)
            if not args.loop:
                if not results:
                    print("Nothing is due.")
                return 4 if missed else 0
            deadline = time.monotonic() + args.interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, deadline - time.monotonic()))
            if stopping:
                return 0
    finally:
        engine.dispose()


def _from_files(args: argparse.Namespace):
    """The frame, options and branding of a report on exported files, read as `python -m metrics report` reads
    them (mapping, files' currencies, rates into --currency); the report converts the money itself."""
    from metrics.goals import GoalError, parse_goals
    from metrics.schema import normalize_platform
    from reports.branding import Branding
    from reports.model import ReportOptions

    loaded = load_files(args)
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
    compare = args.compare or "previous"
    options = ReportOptions(
        title=args.title or "Campaign report", client=args.client, date_from=args.date_from, date_to=args.date_to,
        compare=None if compare == "none" else compare, grain=args.grain or "day",
        platforms=tuple(normalize_platform(p) for p in args.platform), campaigns=tuple(args.campaign),
        extra_costs=args.extra_costs or 0.0, goals=goals, sources=_sources(loaded),
        currency_settings=loaded.currency, notes=tuple(w["message"] for w in loaded.warnings),
    )
    return loaded.frame, options, branding


def _sources(loaded: LoadedFiles):
    from reports.model import SourceFile

    return tuple(SourceFile(f["name"], f["rows_loaded"], f["rows_rejected"]) for f in loaded.files)


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
    return run_guarded(lambda: _run(list(sys.argv[1:] if argv is None else argv)))


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "deliver":
        return args.handler(args)
    print(args.handler(args))  # the written file's path is the only thing on stdout
    return 0
