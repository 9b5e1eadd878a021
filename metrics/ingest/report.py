"""What a load returns: the canonical frame plus a plain account of what happened.

Expected bad data is a value (an `Issue`, a `RejectedRow`), never an exception; the one
exception is `UnreadableFileError`, raised when nothing at all can be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import polars as pl

from metrics.errors import InputError

Severity = Literal["info", "warning", "error"]
# Where a file's currency came from: a currency column, a header suffix such as "(EUR)", the export
# family, or symbols in the values ("€1.234,50"); None when the file does not say (never assumed).
CurrencySource = Literal["column", "header", "values", "family"]

# The JSON report lists at most this many rejected rows; the counts stay exact.
MAX_REJECTED_IN_REPORT = 1000
# Raw row text kept per rejected row (characters).
MAX_RAW_CHARS = 200


class UnreadableFileError(InputError):
    """Nothing in the file can be read. The message is one plain sentence saying what to do.

    `headers` is set when the table itself was readable but no column was recognised as a
    measure: the UI then offers to map those headers by hand.
    """

    def __init__(self, message: str, headers: list[str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers


@dataclass(frozen=True)
class Issue:
    """Something a person should know about a load. `code` is snake_case and stable."""

    code: str
    message: str
    severity: Severity = "info"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be read.

    `line` is 1-based, as a person sees it: the line in a text editor for text files,
    the spreadsheet row number for Excel, the row position (+1) for Parquet.
    """

    line: int
    reason: str
    raw: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ValueGuess:
    """A cell value read by guess ("PPC" → google_ads) or not known at all ("Social Media" kept as social_media).

    Exact synonyms ("Facebook Ads" → facebook) are not listed. `rows` counts the rows holding the value.
    """

    column: str
    value: str
    reading: str
    kind: Literal["guess", "unknown"]
    rows: int

    def to_dict(self) -> dict:
        return asdict(self)


class ReadOnlyDict(dict):
    """A dict that refuses changes: load reports live in caches shared by every session, so no caller may
    edit one in place (copy it with `dict(...)` to change it)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a load report is read-only; copy it with dict(...) to change it")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):  # pickling and deepcopy rebuild it from a plain dict
        return (type(self), (dict(self),))


@dataclass(frozen=True)
class FileReport:
    """What was recognised in one file, what was mapped, loaded, rejected and why.

    Counts: `rows_read == rows_loaded + rows_rejected + rows_excluded`, where excluded rows
    are total/subtotal rows that would double count. Completely blank lines are not rows.

    Frozen (it is shared through caches): the loader builds a new one with `dataclasses.replace`
    and `with_issues`; lists are tuples and `mapping` is read-only.
    """

    name: str
    source_format: str = "generic"
    file_type: str = "csv"
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 0
    mapping: Mapping[str, str] = field(default_factory=ReadOnlyDict)
    unmapped: tuple[str, ...] = ()
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_excluded: int = 0
    rejected: tuple[RejectedRow, ...] = ()
    issues: tuple[Issue, ...] = ()
    platform: str | None = None
    currency: str | None = None
    currency_source: CurrencySource | None = None
    masked_cells: int = 0
    # False when the rows carry no dates (one row per customer, per video, ...): no trends or period comparisons.
    has_dates: bool = True
    value_guesses: tuple[ValueGuess, ...] = ()

    def __post_init__(self) -> None:
        # Whatever the caller passed (lists, a dict), the stored values cannot change.
        for name in ("unmapped", "rejected", "issues", "value_guesses"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "mapping", ReadOnlyDict(self.mapping))

    def with_issues(self, *issues: Issue) -> FileReport:
        """This report with `issues` added after its own."""
        return replace(self, issues=(*self.issues, *issues)) if issues else self

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "source_format": self.source_format,
            "file_type": self.file_type,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_row": self.header_row,
            "mapping": dict(self.mapping),
            "unmapped": list(self.unmapped),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_excluded": self.rows_excluded,
            "rejected": [r.to_dict() for r in self.rejected[:MAX_REJECTED_IN_REPORT]],
            "issues": [i.to_dict() for i in self.issues],
            "platform": self.platform,
            "currency": self.currency,
            "currency_source": self.currency_source,
            "masked_cells": self.masked_cells,
            "has_dates": self.has_dates,
            "value_guesses": [g.to_dict() for g in self.value_guesses],
        }


@dataclass(frozen=True)
class LoadResult:
    """One file, normalised: `frame` has exactly `schema.CANONICAL_SCHEMA`."""

    frame: pl.DataFrame
    report: FileReport


@dataclass(frozen=True)
class CombinedLoad:
    """Several files: the readable ones concatenated (`source_file` says which file each row came from).

    `errors` maps an unreadable file's name to its one-sentence message; `issues` are
    cross-file findings such as the same rows uploaded twice.
    """

    frame: pl.DataFrame
    reports: tuple[FileReport, ...]
    errors: Mapping[str, str]
    issues: tuple[Issue, ...]
    # For unreadable files whose columns were read but not recognised: their headers, to map by hand.
    unmapped_headers: Mapping[str, tuple[str, ...]] = field(default_factory=ReadOnlyDict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reports", tuple(self.reports))
        object.__setattr__(self, "issues", tuple(self.issues))
        object.__setattr__(self, "errors", ReadOnlyDict(self.errors))
        object.__setattr__(self, "unmapped_headers",
                           ReadOnlyDict({k: tuple(v) for k, v in self.unmapped_headers.items()}))

    def to_dict(self) -> dict:
        return {
            "files": [r.to_dict() for r in self.reports],
            "errors": dict(self.errors),
            "issues": [i.to_dict() for i in self.issues],
        }
