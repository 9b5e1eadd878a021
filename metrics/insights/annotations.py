"""Annotations: dated notes drawn on trend charts (launches, outages, holidays), as plain values.

An annotation covers one day, or `date` through `end` inclusive. `kind` is a free label; the app uses
`KINDS` ("note", "launch", "outage", "holiday"). Public holidays come from the `holidays` package (offline,
its own calendars), in English where the package has English names for the country.

Snapshots and report files keep annotations as plain dicts (`to_dict(iso_dates=True)`); `read_annotations`
reads such a list back, leaving out what it cannot use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from metrics.errors import UsageError

HOLIDAY = "holiday"
KINDS: tuple[str, ...] = ("note", "launch", "outage", HOLIDAY)
KIND_LABELS: dict[str, str] = {"note": "Note", "launch": "Launch", "outage": "Outage", HOLIDAY: "Holiday"}
MAX_TEXT = 200


@dataclass(frozen=True)
class Annotation:
    date: date
    text: str
    end: date | None = None
    kind: str = "note"

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.date:
            raise ValueError("an annotation cannot end before it starts")
        object.__setattr__(self, "text", " ".join(str(self.text).split())[:MAX_TEXT])

    @property
    def last_day(self) -> date:
        return self.end or self.date

    def covers(self, day: date) -> bool:
        return self.date <= day <= self.last_day

    def to_dict(self, *, iso_dates: bool = False) -> dict[str, Any]:
        """With `iso_dates`, dates as 'YYYY-MM-DD' text (JSON, as snapshots store them)."""
        if iso_dates:
            return {"date": self.date.isoformat(), "end": self.end.isoformat() if self.end else None,
                    "text": self.text, "kind": self.kind}
        return {"date": self.date, "end": self.end, "text": self.text, "kind": self.kind}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Annotation:
        """From `to_dict` (dates or ISO text). Raises ValueError, TypeError or KeyError when it cannot."""
        def day(value: Any) -> date:
            return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])

        end = raw.get("end")
        text = raw["text"]
        if not isinstance(text, str) or not text.strip():
            raise ValueError("an annotation needs a text")
        return cls(day(raw["date"]), text, end=day(end) if end else None, kind=str(raw.get("kind") or "note"))


def read_annotations(raw: Any) -> tuple[tuple[Annotation, ...], int]:
    """Annotations from a stored list of dicts, in date order, and how many entries could not be read."""
    if not isinstance(raw, (list, tuple)):
        return (), 0
    read, unreadable = [], 0
    for item in raw:
        try:
            read.append(Annotation.from_dict(item))
        except (ValueError, TypeError, KeyError, AttributeError):
            unreadable += 1
    return tuple(sorted(read, key=lambda a: (a.date, a.text))), unreadable


def on_day(annotations: Iterable[Annotation], day: date) -> tuple[Annotation, ...]:
    """The annotations covering `day`, in date order."""
    return tuple(sorted((a for a in annotations if a.covers(day)), key=lambda a: (a.date, a.text)))


def within(annotations: Iterable[Annotation], start: date, end: date) -> tuple[Annotation, ...]:
    """The annotations overlapping [start, end], in date order (what a chart of that range draws)."""
    return tuple(sorted((a for a in annotations if a.date <= end and a.last_day >= start),
                        key=lambda a: (a.date, a.text)))


def supported_countries() -> dict[str, tuple[str, ...]]:
    """Country codes the holidays package knows (ISO 3166-1 alpha-2), each with its subdivision codes."""
    import holidays

    return {code: tuple(subdivisions) for code, subdivisions in holidays.list_supported_countries().items()
            if len(code) == 2}


def country_names() -> dict[str, str]:
    """{ISO code: English name} of the countries `public_holidays` knows, by name ('US': 'United States').
    Names come from the package's own registry (class names such as UnitedStates); a code it does not name
    is its own name."""
    import re

    try:
        from holidays.registry import COUNTRIES
        named = {entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0]) for entry in COUNTRIES.values()}
    except (ImportError, AttributeError, IndexError, TypeError):  # the registry is not public API
        named = {}
    names = {code: named.get(code, code) for code in supported_countries()}
    return dict(sorted(names.items(), key=lambda item: item[1]))


def public_holidays(country: str, start: date, end: date, *, subdivision: str | None = None) -> tuple[Annotation, ...]:
    """Public holidays of `country` (ISO code such as US, DE, GB; optional `subdivision` such as a state)
    from `start` to `end` inclusive, as holiday annotations. An unknown code raises UsageError (one sentence)."""
    import holidays

    code = country.strip().upper()
    subdivision = subdivision.strip().upper() if subdivision else None
    known = supported_countries()
    if code not in known:
        raise UsageError(f"{country!r} is not a country code the holiday calendar knows; use a two-letter ISO code "
                         "such as US, GB or DE.")
    if subdivision is not None and subdivision not in known[code]:
        raise UsageError(f"{subdivision!r} is not a subdivision of {code} in the holiday calendar; use one of "
                         f"{', '.join(known[code][:12])}{', …' if len(known[code]) > 12 else ''}.")
    calendar = holidays.country_holidays(code, subdiv=subdivision)
    language = "en_US" if "en_US" in calendar.supported_languages else None
    years = range(start.year, end.year + 1)
    calendar = holidays.country_holidays(code, subdiv=subdivision, years=years, language=language)
    return tuple(Annotation(day, name, kind=HOLIDAY) for day, name in sorted(calendar.items()) if start <= day <= end)
