"""Pure arithmetic of stored data sources: refreshing with a newer export, and the content key.

No database here: `models.repository` reads and writes the rows, this module decides what the
rows become.

Refresh rule (the weekly-export workflow): a newer export of a source covers the dates from its
first to its last day. The source's rows on those dates are replaced by the export's rows; its
rows on other dates are kept. A day inside that range the export has no rows for (no activity)
loses its old rows, and the change says so. Rows without a date: when the export has any, they
replace all of the source's undated rows; when it has none, the old undated rows are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from metrics.schema import conform


@dataclass(frozen=True)
class RefreshChange:
    """What a refresh did, counted in distinct dates (and rows for undated data)."""

    days_added: int  # dates the source did not have
    days_replaced: int  # dates the source had, now holding the export's rows
    days_dropped: int  # dates inside the export's range it has no rows for: their old rows are gone
    days_kept: int  # the source's dates outside the export's range, untouched
    undated_rows_before: int  # the source's rows without a date
    undated_rows_new: int  # the export's rows without a date (they replace the old ones)
    rows_before: int
    rows_after: int
    first_date: date | None  # the export's date range
    last_date: date | None

    def describe(self) -> str:
        """One line such as "+7 days, 3 days replaced"."""
        parts = []
        if self.days_added:
            parts.append(f"+{_days(self.days_added)}")
        if self.days_replaced:
            parts.append(f"{_days(self.days_replaced)} replaced")
        if self.days_dropped:
            parts.append(f"{_days(self.days_dropped)} emptied (the new file has no rows for them)")
        if self.undated_rows_new and self.undated_rows_before:
            parts.append(f"{self.undated_rows_before:,} undated rows replaced by {self.undated_rows_new:,}")
        elif self.undated_rows_new:
            parts.append(f"+{self.undated_rows_new:,} undated rows")
        if not parts:
            return "no rows changed"
        return ", ".join(parts)


@dataclass(frozen=True)
class RefreshResult:
    frame: pl.DataFrame
    change: RefreshChange


def _days(count: int) -> str:
    return f"{count:,} day" if count == 1 else f"{count:,} days"


def _distinct_dates(frame: pl.DataFrame) -> set[date]:
    return set(frame.get_column("date").drop_nulls().unique().to_list())


def merge_refresh(current: pl.DataFrame, newer: pl.DataFrame) -> RefreshResult:
    """The source's rows after storing `newer` (a newer export) over `current` (both canonical frames).

    See the module docstring for the rule. Row order: kept rows first, then the export's rows.
    """
    current, newer = conform(current), conform(newer)
    old_days, new_days = _distinct_dates(current), _distinct_dates(newer)
    new_undated = newer.get_column("date").null_count()
    old_undated = current.get_column("date").null_count()

    keep = pl.lit(True)
    first = last = None
    if new_days:
        first, last = min(new_days), max(new_days)
        keep = keep & ~pl.col("date").is_between(first, last).fill_null(False)
    if new_undated:
        keep = keep & pl.col("date").is_not_null()
    kept = current.filter(keep)
    frame = pl.concat([kept, newer], how="vertical")

    in_range = {d for d in old_days if first is not None and first <= d <= last}
    change = RefreshChange(
        days_added=len(new_days - old_days),
        days_replaced=len(new_days & old_days),
        days_dropped=len(in_range - new_days),
        days_kept=len(old_days - in_range),
        undated_rows_before=old_undated,
        undated_rows_new=new_undated,
        rows_before=current.height,
        rows_after=frame.height,
        first_date=first,
        last_date=last,
    )
    return RefreshResult(frame=frame, change=change)


def content_key(workspace_id: int, sources: Iterable[tuple[int, str]]) -> str:
    """Content key of a workspace's combined data from its enabled sources' (id, frame SHA-256).

    Any added, removed, disabled, enabled, refreshed or replaced source changes the key; renaming
    does not (the rows are the same). Every cache of the combined data is keyed by it.
    """
    digest = hashlib.sha256(f"workspace:{workspace_id}".encode())
    for source_id, frame_sha256 in sorted(sources):
        digest.update(f"\x00{source_id}:{frame_sha256}".encode())
    return digest.hexdigest()
