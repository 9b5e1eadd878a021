"""Small Ads Manager-style exports written in the tests, and what they add up to read independently
(with the csv module), for the stored-source tests (tests/db, tests/app)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

HEADER = ["Day", "Campaign name", "Amount spent (USD)", "Impressions", "Link clicks"]


def meta_export(first: date, days: int, campaigns=("Spring", "Summer"), spend=1.0, name="meta.csv") -> tuple[str, bytes]:
    """(file name, CSV bytes): one row per day and campaign; campaign number c spends `spend + c` a day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(days):
        for c, campaign in enumerate(campaigns):
            writer.writerow([(first + timedelta(days=i)).isoformat(), campaign, f"{spend + c:.2f}", 100 + i, 3])
    return name, out.getvalue().encode()


def totals_by_day(*files: tuple[str, bytes]) -> dict[date, float]:
    """Spend per day as the LAST of `files` covering that day says: each file replaces the days from
    its first to its last date (the refresh rule), read with the csv module."""
    by_day: dict[date, float] = {}
    for _, data in files:
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        days = {date.fromisoformat(r["Day"]) for r in rows}
        first, last = min(days), max(days)
        for day in [d for d in by_day if first <= d <= last]:
            del by_day[day]
        for row in rows:
            day = date.fromisoformat(row["Day"])
            by_day[day] = by_day.get(day, 0.0) + float(row["Amount spent (USD)"])
    return by_day
