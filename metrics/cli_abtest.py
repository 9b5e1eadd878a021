"""The `abtest` and `samplesize` commands of `python -m metrics` (SPEC §6).

``register(subparsers)`` adds both subcommands; each sets ``handler`` to a function that takes the parsed
arguments and returns a dict (the JSON printed by ``metrics.cli``). Usage mistakes raise
``metrics.errors.UsageError`` (exit 2); a file that cannot be read raises ``InputError`` (exit 3).

    python -m metrics abtest ab_data.csv --variant group --control control --converted converted
    python -m metrics abtest sales.csv --variant Promotion --control 1 --value SalesInThousands
    python -m metrics abtest campaign.csv --variant variant --trials clicks --successes conversions --sequential
    python -m metrics samplesize --baseline 0.10 --mde 0.02 --daily-traffic 1000
"""

from __future__ import annotations

import argparse
import csv
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics.errors import InputError, UsageError

if TYPE_CHECKING:
    import polars as pl

# polars, scipy and statsmodels are imported inside the handlers: registering these commands must not slow down
# every other `python -m metrics` command (statsmodels alone takes seconds to import on a busy machine).
# Same values as metrics.abtest.DEFAULT_ALPHA / DEFAULT_TUNING (a test keeps them equal).
DEFAULT_ALPHA = 0.05
DEFAULT_TUNING = 5000

_SNIFF_BYTES = 64 * 1024
# Refuse spreadsheets that would unpack to more than this (zip-bomb guard; calamine loads whole sheets).
_MAX_XLSX_UNPACKED = 1_000_000_000
_MAX_XLSX_RATIO = 200


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `abtest` and `samplesize` subcommands to the main parser's subparsers."""
    ab = subparsers.add_parser(
        "abtest", help="Analyse an A/B test from a file of users, aggregated rows or summary statistics.",
        description="Each variant against the control: lift with confidence intervals, p-values (adjusted for "
                    "several variants), Bayesian chance to beat for conversions, sample-ratio check and warnings.")
    ab.add_argument("file", metavar="FILE", help="CSV, TSV, XLSX or Parquet file.")
    ab.add_argument("--variant", required=True, metavar="COL", help="Column with the variant (arm) label.")
    ab.add_argument("--control", metavar="NAME",
                    help="Label of the control variant (default: one named control/baseline/original/A, "
                         "else the first label in natural order).")
    shape = ab.add_argument_group("metric (give exactly one of these shapes)")
    shape.add_argument("--converted", metavar="COL", help="User-level 0/1 or true/false outcome (a proportion).")
    shape.add_argument("--successes", metavar="COL", help="Aggregated conversions per row (with --trials).")
    shape.add_argument("--trials", metavar="COL", help="Aggregated visitors/clicks per row (with --successes).")
    shape.add_argument("--value", metavar="COL", help="User-level numeric value such as revenue (a mean).")
    shape.add_argument("--n", dest="n_col", metavar="COL", help="Units per row (with --mean and --sd).")
    shape.add_argument("--mean", dest="mean_col", metavar="COL", help="Mean per row (with --n and --sd).")
    shape.add_argument("--sd", dest="sd_col", metavar="COL", help="Sample standard deviation (with --n, --mean).")
    ab.add_argument("--expected-split", metavar="P,P[,P...]",
                    help="Planned traffic shares in percent, control first then the others in natural order "
                         "(default: equal), e.g. 50,50 or 30,70.")
    ab.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="Significance level (default 0.05).")
    ab.add_argument("--correction", choices=["holm", "bh", "none"], default="holm",
                    help="Multiple-comparison adjustment across variants (default holm).")
    ab.add_argument("--sequential", action="store_true",
                    help="Always-valid intervals and p-values, safe to check every day (GrowthBook-style).")
    ab.add_argument("--tuning", type=float, default=None, metavar="N",
                    help=f"Sequential tuning parameter: total users expected at the end (default "
                         f"{DEFAULT_TUNING}).")
    ab.add_argument("--format", choices=["json", "table"], default="json")
    ab.set_defaults(handler=run_abtest)

    ss = subparsers.add_parser(
        "samplesize", help="Users needed per variant to detect a change of a conversion rate.",
        description="Two-sided pooled (Fleiss) formula; with more than 2 variants alpha is split (Bonferroni) "
                    "over the comparisons with the control.")
    ss.add_argument("--baseline", required=True, metavar="P",
                    help="Current conversion rate as a fraction (0.10) or percent (10%%).")
    ss.add_argument("--mde", required=True, metavar="D",
                    help="Minimum detectable effect: absolute in rate units (0.02 = 2 points) or, with "
                         "--relative, a fraction of the baseline (0.2 or 20%%).")
    ss.add_argument("--relative", action="store_true", help="Read --mde as relative to the baseline.")
    ss.add_argument("--alpha", type=float, default=0.05, help="Significance level (default 0.05).")
    ss.add_argument("--power", type=float, default=0.8, help="Power (default 0.8).")
    ss.add_argument("--variants", type=int, default=2, help="Number of variants including the control (default 2).")
    ss.add_argument("--daily-traffic", type=float, default=None, metavar="N",
                    help="Users per day across all variants; adds the number of days needed.")
    ss.add_argument("--format", choices=["json", "table"], default="json")
    ss.set_defaults(handler=run_samplesize)


# ---------------------------------------------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------------------------------------------


def _decode(raw: bytes) -> tuple[str, bool]:
    """Text of a CSV and whether it was strict UTF-8. UTF-8 and UTF-16 byte-order marks are honoured."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), True
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        # Spreadsheet programs on Windows save CSV as Windows-1252; it decodes every byte but five.
        return raw.decode("cp1252", errors="replace"), False


def _sniff_separator(text: str, suffix: str) -> str:
    sample = text[:_SNIFF_BYTES]
    if "\n" in sample:  # the last line of the sample may be cut in half: leave it out
        sample = sample[: sample.rfind("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if suffix in (".tsv", ".tab") else ","


def _read_csv(raw: bytes, path: Path) -> pl.DataFrame:
    import polars as pl

    text, _ = _decode(raw)
    if "\r" in text and "\n" not in text:  # classic Mac line endings (CR only)
        text = text.replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{path.name} is empty; export the data again.")
    separator = _sniff_separator(text, path.suffix.lower())
    data = text.encode("utf-8")
    try:
        return pl.read_csv(io.BytesIO(data), separator=separator, infer_schema_length=10_000)
    except pl.exceptions.PolarsError:
        pass
    try:  # a late odd cell broke type inference: read every column as text, the builders parse it
        return pl.read_csv(io.BytesIO(data), separator=separator, infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(f"{path.name} could not be read as a table ({_first_line(error)}); save it as CSV "
                         "with one header row.") from None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__


def _read_excel(raw: bytes, path: Path) -> pl.DataFrame:
    import polars as pl

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InputError(f"{path.name} is not a valid Excel workbook; open it in Excel and save it again.") from None
    if unpacked > _MAX_XLSX_UNPACKED or unpacked > _MAX_XLSX_RATIO * max(len(raw), 1):
        raise InputError(f"{path.name} would unpack to {unpacked:,} bytes, too large to read safely; export the "
                         "sheet as CSV.")
    try:
        return pl.read_excel(io.BytesIO(raw), engine="calamine")
    except Exception as error:  # fastexcel raises its own types
        raise InputError(f"{path.name} could not be read as a workbook ({_first_line(error)}); export it as CSV.") \
            from None


def read_table(path: str | Path) -> pl.DataFrame:
    """A CSV/TSV (delimiter sniffed on the first 64 KB; UTF-8 with or without BOM, UTF-16, Windows-1252),
    XLSX (first sheet) or Parquet file as a polars frame. Raises InputError when it cannot be read."""
    import polars as pl

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; check the path.")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path} could not be opened ({error.strerror or 'read error'}); check its permissions.") \
            from None
    if not raw:
        raise InputError(f"{path.name} is empty; export the data again.")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            return pl.read_parquet(io.BytesIO(raw))
        except Exception as error:
            raise InputError(f"{path.name} is not a readable Parquet file ({_first_line(error)}).") from None
    if suffix in (".xlsx", ".xlsm") or raw[:4] == b"PK\x03\x04":
        return _read_excel(raw, path)
    if suffix == ".xls" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # legacy binary workbook (OLE2)
        try:
            return pl.read_excel(io.BytesIO(raw), engine="calamine")
        except Exception as error:
            raise InputError(f"{path.name} could not be read as a workbook ({_first_line(error)}); export it as "
                             "CSV.") from None
    return _read_csv(raw, path)


# ---------------------------------------------------------------------------------------------------------------
# abtest
# ---------------------------------------------------------------------------------------------------------------


def _shape(args: argparse.Namespace) -> str:
    """Which input shape the options describe; UsageError unless exactly one is complete."""
    groups = {
        "converted": ["converted"],
        "value": ["value"],
        "aggregated": ["successes", "trials"],
        "summary": ["n_col", "mean_col", "sd_col"],
    }
    flags = {"converted": "--converted", "value": "--value", "successes": "--successes", "trials": "--trials",
             "n_col": "--n", "mean_col": "--mean", "sd_col": "--sd"}
    used = {name: [a for a in attrs if getattr(args, a, None)] for name, attrs in groups.items()}
    started = [name for name, present in used.items() if present]
    if not started:
        raise UsageError("Say which column holds the outcome: --converted COL, --value COL, "
                         "--successes COL --trials COL, or --n COL --mean COL --sd COL.")
    if len(started) > 1:
        shown = " and ".join(flags[used[name][0]] for name in started)
        raise UsageError(f"Use one metric shape at a time, not {shown}.")
    name = started[0]
    missing = [flags[a] for a in groups[name] if not getattr(args, a, None)]
    if missing:
        raise UsageError(f"{' and '.join(flags[a] for a in used[name])} also needs {' and '.join(missing)}.")
    return name


def _parse_split(text: str | None) -> list[float] | None:
    if text is None:
        return None
    parts = [p.strip().rstrip("%") for p in text.replace("/", ",").replace(";", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UsageError(f"--expected-split {text!r} is not a list of numbers; write it like 50,50.") from None
    if len(values) < 2 or not all(v > 0 for v in values):
        raise UsageError("--expected-split needs a positive share for each variant, like 50,50 or 30,70.")
    return values


def _resolve_control(requested: str | None, names: list[str]) -> str:
    from metrics import abtest

    if requested is None:
        return abtest.guess_control(names) or ""
    if requested in names:
        return requested
    folded = [n for n in names if n.strip().lower() == requested.strip().lower()]
    # A different case ("Control" for "control") is what the user meant; anything else stays a warning.
    return folded[0] if len(folded) == 1 else requested


def run_abtest(args: argparse.Namespace) -> dict[str, Any]:
    """Read FILE, build per-variant sufficient statistics, analyse. Returns the SPEC §6 dict (plus a
    "verdicts" list of plain sentences when --format table)."""
    from metrics import abtest

    shape = _shape(args)
    if not 0 < args.alpha < 1:
        raise UsageError("--alpha must be between 0 and 1, for example 0.05.")
    if args.tuning is not None and not args.sequential:
        raise UsageError("--tuning only applies with --sequential; add --sequential or drop --tuning.")
    tuning = DEFAULT_TUNING if args.tuning is None else args.tuning
    if not tuning > 0:
        raise UsageError("--tuning must be a positive number of users, for example 5000.")
    split = _parse_split(args.expected_split)

    frame = read_table(args.file)
    if args.variant not in frame.columns:
        raise UsageError(f"Column {args.variant!r} is not in {Path(args.file).name}; available columns: "
                         f"{', '.join(repr(c) for c in frame.columns)}.")
    if shape == "converted":
        stats, kind = abtest.stats_from_rows(frame, args.variant, args.converted, kind="proportion"), "proportion"
    elif shape == "value":
        stats, kind = abtest.stats_from_rows(frame, args.variant, args.value, kind="mean"), "mean"
    elif shape == "aggregated":
        stats, kind = abtest.stats_from_aggregates(frame, args.variant, args.trials, args.successes), "proportion"
    else:
        stats, kind = abtest.stats_from_summary(frame, args.variant, args.n_col, args.mean_col, args.sd_col), "mean"
    if not stats:
        raise InputError(f"{Path(args.file).name} has no rows with a variant label in column {args.variant!r}.")

    names = [s.name for s in stats]
    control = _resolve_control(args.control, names)
    if split is not None and len(split) != len(names):
        raise UsageError(f"--expected-split has {len(split)} shares but the data has {len(names)} variants "
                         f"({', '.join(sorted(names, key=abtest.natural_key))}); give one share per variant.")
    result = abtest.analyze(stats, control, kind, alpha=args.alpha, correction=args.correction,
                            expected_split=split, sequential=args.sequential, tuning=tuning)
    out = result.to_dict()
    if getattr(args, "format", "json") == "table":
        out["verdicts"] = [abtest.verdict(result, c) for c in result.comparisons]
    return out


# ---------------------------------------------------------------------------------------------------------------
# samplesize
# ---------------------------------------------------------------------------------------------------------------


def _fraction(text: str, option: str) -> float:
    """"0.10" → 0.10 and "10%" → 0.10."""
    raw = str(text).strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a number; write a fraction like 0.10 or a percent like 10%.") \
            from None
    return value / 100 if percent else value


def run_samplesize(args: argparse.Namespace) -> dict[str, Any]:
    """Per-variant and total users (and days with --daily-traffic) for a two-proportion test."""
    from metrics.samplesize import samplesize_proportions

    baseline = _fraction(args.baseline, "--baseline")
    mde = _fraction(args.mde, "--mde")
    if baseline >= 1 and baseline < 100 and not str(args.baseline).strip().endswith("%"):
        raise UsageError(f"--baseline {args.baseline} looks like a percent; write it as a fraction "
                         f"({baseline / 100:g}) or with a percent sign ({args.baseline}%).")
    try:
        plan = samplesize_proportions(baseline, mde, relative=args.relative, alpha=args.alpha, power=args.power,
                                      variants=args.variants, daily_traffic=args.daily_traffic)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return plan.to_dict()
