"""What the command lines share: `python -m metrics` (report, insights, abtest) and `python -m reports` (render).

- `Parser`: argparse that raises `UsageError` (one sentence, exit 2) instead of printing usage and exiting.
- `iso_date`: the `type=` of every date flag.
- `add_input_flags(parser)`: `--mapping`, `--currency`, `--rates`, `--file-currency NAME=CODE` (SPEC §6), so
  every command that reads exports reads them with the same flags.
- `load_files(args, ...)`: the named exports as one canonical frame with the files' currencies set, and the
  `CurrencySettings` (files' currencies, rates into `--currency`) the caller converts with.
- `convert(loaded)`: money in the reporting currency, with a `missing_rate` warning per currency left out.
- `run_guarded(command)`: the exit-code contract (0, 2 usage, 3 unreadable input, one sentence on stderr, never a
  traceback) around a command line's work.

polars and the currency model are imported inside the functions: `samplesize` and `--help` stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics.bounded import MAPPING_LIMITS, BoundedJsonError
from metrics.errors import CampaignLensError, InputError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from metrics.currency import CurrencySettings, Rates


class Parser(argparse.ArgumentParser):
    """argparse that raises a UsageError (one sentence, exit 2) instead of printing usage and exiting."""

    def error(self, message: str):  # noqa: D401 - argparse hook
        raise UsageError(f"{message[0].upper()}{message[1:]}; run with --help to see the options.")


def iso_date(text: str) -> date:
    """A YYYY-MM-DD flag value; argparse turns the refusal into one usage sentence."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def add_input_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say how to read exports: a column mapping and the currency flags of SPEC §6."""
    parser.add_argument("--mapping", type=Path,
                        help="JSON file with a column mapping {source header: canonical name} "
                             "(or {file name: {...}} per file).")
    parser.add_argument("--currency", metavar="CODE",
                        help="Reporting currency: convert all money into it (bundled ECB rates unless --rates "
                             "names the currency).")
    parser.add_argument("--rates", type=Path, metavar="FILE",
                        help="CSV of rates into --currency: currency,rate or date,currency,rate "
                             "(1 unit of currency = rate units of the reporting currency).")
    parser.add_argument("--file-currency", action="append", default=[], metavar="NAME=CODE",
                        help="The currency of a file that does not say (repeatable), e.g. sheet.csv=EUR.")


def read_mapping(path: Path | None, names: Sequence[str]) -> dict[str, dict[str, str]] | None:
    """The `--mapping` file as {file name given: mapping} (one mapping for every file, or one per file name)."""
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


def file_currencies(pairs: Sequence[str], names: Sequence[str]) -> dict[str, str]:
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


def _reporting_currency(args: argparse.Namespace) -> str | None:
    from metrics.currency import currency_code

    if args.currency is None:
        if args.rates is not None:
            raise UsageError("--rates needs --currency, the currency the rates convert into.")
        return None
    reporting = currency_code(args.currency)
    if reporting is None:
        raise UsageError(f"--currency {args.currency!r} is not a three-letter currency code such as USD or EUR.")
    return reporting


def reporting_rates(reporting: str | None, rates_file: Path | None, frame: pl.DataFrame) -> Rates | None:
    """The rates into `reporting`: the rates file over the bundled ECB history (a currency the file names
    is taken from the file only); None without a reporting currency."""
    from metrics import currency

    if reporting is None:
        return None
    given = None
    if rates_file is not None:
        try:
            if rates_file.stat().st_size > 4 * currency.MAX_RATES_CHARS:  # never read a huge file to refuse it
                raise UsageError(f"The rates file {rates_file.name} is larger than "
                                 f"{currency.MAX_RATES_CHARS // 1_000_000} MB; give the rates of the currencies and "
                                 "days the report needs.")
            text = rates_file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UsageError(f"The rates file {rates_file} does not exist; check the path.") from None
        except (OSError, UnicodeDecodeError):
            raise UsageError(f"The rates file {rates_file} cannot be read as UTF-8 text; save it as CSV.") from None
        given = currency.parse_rates_csv(text, reporting, source=f"rates file {rates_file.name}")
    import polars as pl

    first, last = frame.select(pl.col("date").min(), pl.col("date").max().alias("last")).row(0)
    if first is None or reporting not in currency.bundled_currencies():
        if given is None:
            raise UsageError(f"There are no bundled rates into {reporting} for this data; give them with --rates.")
        return given
    bundled = currency.bundled_rates(reporting, currency.needed_currencies(frame), first, last)
    return bundled.merged(given) if given is not None else bundled


def require_file(path: str | Path, *, what: str = "") -> Path:
    """`path` as a Path when it names a file; else an `InputError` (exit 3). `what` names it in the sentence
    ("The budget sheet")."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path}".strip() + " does not exist or is not a file; check the path.")
    return path


def read_input(path: str | Path, *, what: str = "") -> bytes:
    """The bytes of an input file named on the command line; an `InputError` (exit 3) when it is missing or
    cannot be opened."""
    path = require_file(path, what=what)
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"{what} {path}".strip() + f" could not be opened ({error.strerror or 'read error'}); "
                         "check its permissions.") from None


@dataclass(frozen=True)
class LoadedFiles:
    """Exports read for a command: `files` are their load reports as JSON dicts (`currency` as set by
    --file-currency), `frame` the canonical rows (or sums) of all of them with the files' currencies set,
    `currency` what --file-currency and --currency/--rates chose, `warnings` JSON warnings (`code`, `message`)."""

    files: tuple[dict[str, Any], ...]
    frame: pl.DataFrame
    currency: CurrencySettings
    warnings: tuple[dict[str, str], ...] = ()


def load_files(args: argparse.Namespace, *, keep: Sequence[str] | None = None, summed: bool = False) -> LoadedFiles:
    """`args.files` read with `args.mapping` and the currency flags (`add_input_flags`).

    `keep`: the dimensions the command needs (others are not parsed from text files); `summed`: rows summed by
    date and dimensions in one streaming pass (`ingest.load_path_summed`), for a command that only sums.
    A missing or unreadable file is an `InputError` (exit 3); a bad flag a `UsageError` (exit 2), raised before
    any file is read where the flag alone shows it.
    """
    import polars as pl

    from metrics import currency, ingest

    reporting = _reporting_currency(args)
    mappings = read_mapping(args.mapping, args.files) or {}
    chosen = file_currencies(args.file_currency, args.files)
    read = ingest.load_path_summed if summed else ingest.load_path
    files, frames = [], []
    for name in args.files:
        path = require_file(name)
        try:
            result = read(path, mapping=mappings.get(name), keep=keep)
        except ingest.UnreadableFileError as error:
            raise InputError(str(error)) from None
        files.append(result.report.to_dict())
        frames.append(result.frame)

    frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    warnings: list[dict[str, str]] = []
    for report in files:
        code = chosen.get(report["name"])
        if code is None:
            continue
        if report.get("currency") and report["currency"] != code:
            warnings.append({"code": "file_currency_override", "message": (
                f"{report['name']} said its money is in {report['currency']}; it is read as {code} as asked.")})
        frame = currency.set_file_currency(frame, report["name"], code)
        report["currency"] = code
    rates = reporting_rates(reporting, args.rates, frame)
    return LoadedFiles(tuple(files), frame, currency.CurrencySettings(chosen, rates), tuple(warnings))


@dataclass(frozen=True)
class Converted:
    """`LoadedFiles.frame` with money in the reporting currency (unchanged without one); `warnings` one
    `missing_rate` per currency left out; `conversion` {reporting, source} for the JSON, None without one."""

    frame: pl.DataFrame
    warnings: tuple[dict[str, str], ...]
    conversion: dict[str, str] | None


def convert(loaded: LoadedFiles) -> Converted:
    """The loaded money converted into the reporting currency (SPEC §2)."""
    from metrics import currency

    rates = loaded.currency.rates
    if rates is None:
        return Converted(loaded.frame, (), None)
    converted = currency.convert(loaded.frame, rates)
    return Converted(converted.frame, tuple({"code": "missing_rate", "message": m.message} for m in converted.missing),
                     {"reporting": rates.reporting, "source": rates.source})


def run_guarded(command: Callable[[], int]) -> int:
    """Run a command line's work and return its exit code: a domain error prints its one sentence on stderr and
    exits with its code; anything else is still one sentence, never a traceback."""
    try:
        return command()
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
