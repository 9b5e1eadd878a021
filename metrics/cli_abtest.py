"""The `abtest` and `samplesize` commands of `python -m metrics` (SPEC §6).

``register(subparsers)`` adds both subcommands; each sets ``handler`` to a function that takes the parsed
arguments and returns a dict (the JSON printed by ``metrics.cli``). Usage mistakes raise
``metrics.errors.UsageError`` (exit 2); a file that cannot be read raises ``InputError`` (exit 3). Files are read
by ``metrics.ingest.read_table``, the reader behind uploads (encodings, `;`, decimal commas, thousands
separators, the .xlsx zip-bomb guard).

    python -m metrics abtest ab_data.csv --variant group --converted converted --unit user_id
    python -m metrics abtest sales.csv --variant Promotion --control 1 --value SalesInThousands --cap-percentile 99
    python -m metrics abtest ads.csv --variant variant --numerator spend --denominator conversions --lower-is-better
    python -m metrics samplesize --baseline 0.10 --mde -20% --relative --daily-traffic 1000
    python -m metrics samplesize --baseline 52 --sd 30 --mde 5% --relative
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from metrics.abtest.kinds import INPUT_SHAPES, InputShape, kind_spec
from metrics.cli_common import read_input
from metrics.errors import InputError, UsageError

# polars, scipy and statsmodels are imported inside the handlers (`metrics.abtest.kinds`, read here for the shapes'
# flags, only declares): registering these commands must not slow down every other `python -m metrics` command
# (statsmodels alone takes seconds to import on a busy machine).
# Same values as metrics.abtest.DEFAULT_ALPHA / DEFAULT_TUNING / verdict.DEFAULT_PLANNED_MDE (a test keeps them
# equal).
DEFAULT_ALPHA = 0.05
DEFAULT_TUNING = 5000
DEFAULT_PLANNED_MDE = 0.10

# argparse reads "-20%" as an option; "-20", "-0.2" and "-20%" are values of --mde.
_NEGATIVE_VALUE = re.compile(r"^-\d+%?$|^-\d*\.\d+%?$")



def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `abtest` and `samplesize` subcommands to the main parser's subparsers."""
    ab = subparsers.add_parser(
        "abtest", help="Analyse an A/B test from a file of users, ad rows, aggregated rows or summary statistics.",
        description="Each variant against the control, as GrowthBook's frequentist engine: relative lift with its "
                    "interval and p-value (adjusted for several variants), absolute difference, Bayesian chance "
                    "to beat for conversions, sample-ratio check and warnings.")
    ab.add_argument("file", metavar="FILE", help="CSV, TSV, XLSX or Parquet file.")
    ab.add_argument("--variant", required=True, metavar="COL", help="Column with the variant (arm) label.")
    ab.add_argument("--control", metavar="NAME",
                    help="Label of the control variant (default: one named control/baseline/original/A, "
                         "else the first label in natural order).")
    shape = ab.add_argument_group("metric (give exactly one of these shapes)")
    for role in {role.flag: role for declared in INPUT_SHAPES.values() for role in declared.roles}.values():
        shape.add_argument(role.flag, dest=role.dest, metavar="COL", help=role.cli_help)
    ab.add_argument("--unit", metavar="COL",
                    help="Unit id (user, visitor): rows of one unit are combined first; units seen in more than "
                         f"one variant are left out. With {_shape_flags(lambda s: s.per_unit)}.")
    ab.add_argument("--lower-is-better", action="store_true",
                    help="A lower value is better (CPA, CPC, cost per lead, bounce rate).")
    ab.add_argument("--cap-percentile", type=float, metavar="Q",
                    help="Cap per-unit values at the Q-th percentile of all units (99 = the 99th), to tame "
                         "outliers in revenue-like values; with --value or --numerator (the numerator is capped).")
    ab.add_argument("--expected-split", metavar="P,P[,P...]",
                    help="Planned traffic shares in percent, control first then the others in natural order "
                         "(default: equal), e.g. 50,50 or 30,70.")
    ab.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="Significance level (default 0.05).")
    ab.add_argument("--correction", choices=["holm", "bh", "none"], default="holm",
                    help="Multiple-comparison adjustment across variants (default holm).")
    ab.add_argument("--sequential", action="store_true",
                    help="Always-valid intervals and p-values, safe to check every day (GrowthBook-style).")
    ab.add_argument("--tuning", type=float, default=None, metavar="N",
                    help=f"Sequential tuning parameter: total units expected at the end (default {DEFAULT_TUNING}).")
    ab.add_argument("--mde", default=None, metavar="PCT",
                    help="The smallest relative lift worth detecting, used by the table format's verdicts to say "
                         "how many more units the test needs (default 10%%).")
    ab.add_argument("--format", choices=["json", "table"], default="json")
    ab.set_defaults(handler=run_abtest)

    ss = subparsers.add_parser(
        "samplesize", help="Units needed per variant to detect a change of a conversion rate or a mean.",
        description="Conversion rates: two-sided pooled (Fleiss) formula. Means (--sd): two-sample t test. With "
                    "more than 2 variants alpha is split (Bonferroni) over the comparisons with the control.")
    ss._negative_number_matcher = _NEGATIVE_VALUE  # a drop: --mde -20% (argparse would read it as an option)
    ss.add_argument("--baseline", required=True, metavar="P",
                    help="Current conversion rate as a fraction (0.10) or percent (10%%); with --sd, the current "
                         "mean (52.0).")
    ss.add_argument("--mde", required=True, metavar="D",
                    help="Minimum detectable effect: absolute in rate units (0.02 = 2 points) or in the mean's "
                         "units, or with --relative a fraction of the baseline (0.2 or 20%%; negative for a drop).")
    ss.add_argument("--relative", action="store_true", help="Read --mde as relative to the baseline.")
    ss.add_argument("--sd", type=float, default=None, metavar="S",
                    help="Standard deviation per unit: plan a test of a mean (average order value) instead of a "
                         "rate.")
    ss.add_argument("--alpha", type=float, default=0.05, help="Significance level (default 0.05).")
    ss.add_argument("--power", type=float, default=0.8, help="Power (default 0.8).")
    ss.add_argument("--variants", type=int, default=2, help="Number of variants including the control (default 2).")
    ss.add_argument("--daily-traffic", type=float, default=None, metavar="N",
                    help="Units per day across all variants; adds the number of days needed.")
    ss.add_argument("--format", choices=["json", "table"], default="json")
    ss.set_defaults(handler=run_samplesize)


# ---------------------------------------------------------------------------------------------------------------
# abtest
# ---------------------------------------------------------------------------------------------------------------


def _shape(args: argparse.Namespace) -> str:
    """Which input shape the options describe; UsageError unless exactly one is complete."""
    used = {name: [role.flag for role in declared.roles if getattr(args, role.dest, None)]
            for name, declared in INPUT_SHAPES.items()}
    started = [name for name, present in used.items() if present]
    if not started:
        options = [" ".join(f"{role.flag} COL" for role in declared.roles) for declared in INPUT_SHAPES.values()]
        raise UsageError(f"Say which column holds the outcome: {', '.join(options[:-1])}, or {options[-1]}.")
    if len(started) > 1:
        shown = " and ".join(used[name][0] for name in started)
        raise UsageError(f"Use one metric shape at a time, not {shown}.")
    name = started[0]
    missing = [role.flag for role in INPUT_SHAPES[name].roles if not getattr(args, role.dest, None)]
    if missing:
        raise UsageError(f"{' and '.join(used[name])} also needs {' and '.join(missing)}.")
    return name


def _shape_flags(test: Callable[[InputShape], bool]) -> str:
    """The shapes ``test`` accepts, as flags: "--converted, --value or --numerator/--denominator"."""
    flags = ["/".join(role.flag for role in declared.roles) for declared in INPUT_SHAPES.values() if test(declared)]
    return f"{', '.join(flags[:-1])} or {flags[-1]}" if len(flags) > 1 else "".join(flags)


def _parse_split(text: str | None) -> list[float] | None:
    """--expected-split as shares, read as the page reads it (`metrics.abtest.saved.parse_split`)."""
    from metrics.abtest.saved import parse_split

    try:
        return parse_split(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _resolve_control(requested: str | None, names: list[str]) -> str:
    from metrics.abtest import guess_control

    if requested is None:
        return guess_control(names) or ""
    if requested in names:
        return requested
    folded = [n for n in names if n.strip().lower() == requested.strip().lower()]
    # A different case ("Control" for "control") is what the user meant; anything else stays a warning.
    return folded[0] if len(folded) == 1 else requested


def _check_options(args: argparse.Namespace, shape: str) -> None:
    if not 0 < args.alpha < 1:
        raise UsageError("--alpha must be between 0 and 1, for example 0.05.")
    if args.tuning is not None and not args.sequential:
        raise UsageError("--tuning only applies with --sequential; add --sequential or drop --tuning.")
    if args.tuning is not None and not args.tuning > 0:
        raise UsageError("--tuning must be a positive number of units, for example 5000.")
    declared = INPUT_SHAPES[shape]
    if args.unit and not declared.per_unit:
        raise UsageError("--unit combines rows of one unit, so it needs per-unit rows: "
                         f"{_shape_flags(lambda s: s.per_unit)}, not totals or summary statistics.")
    if args.cap_percentile is not None:
        if not declared.cappable and kind_spec(declared.kind).zero_one:
            raise UsageError("Capping applies to numeric values such as revenue, not to a 0/1 outcome; drop "
                             "--cap-percentile or use --value.")
        if not declared.cappable:
            raise UsageError(f"--cap-percentile needs a value per unit ({_shape_flags(lambda s: s.cappable)}), not "
                             "totals or summary statistics.")
        if not 0 < args.cap_percentile <= 100:
            raise UsageError("--cap-percentile must be above 0 and at most 100, for example 99.")


def read_file(path: str | Path):
    """FILE as a frame through the upload reader; InputError when it is missing or cannot be read."""
    from metrics.ingest import read_table

    data = read_input(path)
    return read_table(data, Path(path).name)


def build_data(args: argparse.Namespace, frame: Any, shape: str):
    """The ExperimentData the options describe (``inputs.build``, as the page does)."""
    from metrics.abtest import inputs

    columns = {role.name: getattr(args, role.dest) for role in INPUT_SHAPES[shape].roles}
    return inputs.build(frame, shape=shape, variant=args.variant, columns=columns, unit=args.unit,
                        cap_percentile=args.cap_percentile)


def run_abtest(args: argparse.Namespace) -> dict[str, Any]:
    """Read FILE, build per-variant sufficient statistics, analyse. Returns the SPEC §6 dict (plus a "verdicts"
    list of plain sentences with --format table)."""
    from metrics.abtest import analyze
    from metrics.abtest.verdict import verdict

    shape = _shape(args)
    _check_options(args, shape)
    split = _parse_split(args.expected_split)
    planned = DEFAULT_PLANNED_MDE if args.mde is None else _fraction(args.mde, "--mde")
    frame = read_file(args.file)
    if args.variant not in frame.columns:
        raise UsageError(f"Column {args.variant!r} is not in {Path(args.file).name}; available columns: "
                         f"{', '.join(repr(c) for c in frame.columns)}.")
    data = build_data(args, frame, shape)
    if not data.arms:
        raise InputError(f"{Path(args.file).name} has no rows with a variant label in column {args.variant!r}.")
    names = data.names
    if split is not None and len(split) != len(names):
        raise UsageError(f"--expected-split has {len(split)} shares but the data has {len(names)} variants "
                         f"({', '.join(names)}); give one share per variant.")
    result = analyze(data, control=_resolve_control(args.control, names), alpha=args.alpha,
                     correction=args.correction, expected_split=split, sequential=args.sequential,
                     tuning=DEFAULT_TUNING if args.tuning is None else args.tuning,
                     direction="lower" if args.lower_is_better else "higher")
    out = result.to_dict()
    if getattr(args, "format", "json") == "table":
        out["verdicts"] = [verdict(result, c, planned_mde=planned) for c in result.comparisons]
    return out


# ---------------------------------------------------------------------------------------------------------------
# samplesize
# ---------------------------------------------------------------------------------------------------------------


def _fraction(text: str, option: str) -> float:
    """"0.10" → 0.10, "10%" → 0.10, "-20%" → −0.20."""
    raw = str(text).strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a number; write a fraction like 0.10 or a percent like 10%.") \
            from None
    if not math.isfinite(value):
        raise UsageError(f"{option} {text!r} is not a finite number.")
    return value / 100 if percent else value


def run_samplesize(args: argparse.Namespace) -> dict[str, Any]:
    """Per-variant and total units (and days with --daily-traffic) for a test of a rate or, with --sd, a mean."""
    from metrics.samplesize import samplesize_means, samplesize_proportions

    mde = _fraction(args.mde, "--mde") if args.relative or args.sd is None else _number(args.mde, "--mde")
    try:
        if args.sd is not None:
            baseline = _number(args.baseline, "--baseline")
            plan = samplesize_means(args.sd, mde, baseline=baseline, relative=args.relative, alpha=args.alpha,
                                    power=args.power, variants=args.variants, daily_traffic=args.daily_traffic)
        else:
            baseline = _fraction(args.baseline, "--baseline")
            if 1 <= baseline < 100 and not str(args.baseline).strip().endswith("%"):
                raise UsageError(f"--baseline {args.baseline} looks like a percent; write it as a fraction "
                                 f"({baseline / 100:g}) or with a percent sign ({args.baseline}%).")
            plan = samplesize_proportions(baseline, mde, relative=args.relative, alpha=args.alpha, power=args.power,
                                          variants=args.variants, daily_traffic=args.daily_traffic)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return plan.to_dict()


def _number(text: str, option: str) -> float:
    """A number in the metric's units (a percent sign is not allowed: it would be ambiguous)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a number; write it in the metric's units, like 52.5.") from None
    if not math.isfinite(value):
        raise UsageError(f"{option} {text!r} is not a finite number.")
    return value
