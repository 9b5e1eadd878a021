"""The settings a report is shown with: filters, goals, the saved A/B test, KPI settings and currency.

One typed, versioned value, written with every snapshot and read back by the editor, the client
view and the report files:

    settings = ReportSettings(filters=ReportFilters(platforms=("facebook",)), goals=(goal.to_dict(),))
    stored = settings.to_dict()                  # JSON-able, {"version": 2, ...}
    ReportSettings.from_dict(stored) == settings

`from_dict` never raises: unknown keys are ignored and a value it cannot use falls back to the
default, so a snapshot saved by an older (or newer) version still opens. Version 1 is the untyped
dict the app wrote before this module: `{"filters": {...}, "grain", "comparison", "goals", "ab",
"kpi"}` with the same filter keys.

Goals and the A/B configuration are kept as the plain dicts their own modules define
(`metrics.goals.Goal.to_dict`, `ui.ab`); the currency settings as the plain dict the currency
module defines (reporting currency and rates); a snapshot's annotations and budgets as the dicts of
`metrics.insights` (`Annotation.to_dict(iso_dates=True)`, `Budget.to_dict()`, read back with
`read_annotations` / `read_budgets`), so a shared report keeps the notes it was saved with. This
module only carries them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, get_args

from metrics.kpis import DEFAULT_ENGAGEMENT_WEIGHTS
from metrics.trends import (
    DEFAULT_PRESET,
    PRESET_LABELS,
    ComparePeriod,
    Comparison,
    Grain,
    comparison_range,
    matching_preset,
    preset_range,
)

SETTINGS_VERSION = 2
GRAINS: tuple[str, ...] = get_args(Grain)
COMPARISONS: tuple[str, ...] = get_args(Comparison)
DEFAULT_COMPARISON: Comparison = "previous"
# What the sidebar's "Compare with" holds: a named comparison or "custom" (with `compare_from`/`compare_to`).
CompareChoice = Literal["previous", "previous_year", "custom"]
COMPARE_CHOICES: tuple[str, ...] = get_args(CompareChoice)


@dataclass(frozen=True)
class ReportFilters:
    """The sidebar filters. Empty `platforms`/`campaigns` mean all; `compare=None` means no comparison,
    "custom" the period `compare_from`–`compare_to`. `preset` names the date preset the dates came from
    ("last_30", …, `metrics.trends.PRESET_LABELS`), "custom" for dates picked by hand. Pass
    `comparison` (not `compare`) to `summarize`."""

    date_from: date | None = None
    date_to: date | None = None
    platforms: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    grain: Grain = "day"
    compare: CompareChoice | None = DEFAULT_COMPARISON
    compare_from: date | None = None
    compare_to: date | None = None
    preset: str = "custom"

    @property
    def comparison(self) -> ComparePeriod | None:
        """`summarize(compare=...)`: "previous", "previous_year", (first, last) or None (also for a custom
        comparison whose dates are not set)."""
        if self.compare == "custom":
            return (self.compare_from, self.compare_to) if self.compare_from and self.compare_to else None
        return self.compare

    def comparison_dates(self) -> tuple[date, date] | None:
        """The compared period's first and last day, when there is one."""
        if self.comparison is None or self.date_from is None or self.date_to is None:
            return None
        return comparison_range(self.date_from, self.date_to, self.comparison)

    def scope_text(self) -> str:
        """What a page shows, in one line: '2 – 31 Oct 2026 · compared with 2 Sep – 1 Oct 2026 · all platforms'."""
        from metrics.display import format_period, platform_label  # display reads the schema; keep this module light

        scope = [format_period(self.date_from, self.date_to) if self.date_from and self.date_to else "All dates"]
        if compared := self.comparison_dates():
            scope.append(f"compared with {format_period(*compared)}")
        scope.append(", ".join(platform_label(p) for p in self.platforms) if self.platforms else "all platforms")
        if self.campaigns:
            scope.append(f"{len(self.campaigns)} campaign(s)")
        return " · ".join(scope)

    def within(self, first_day: date, last_day: date) -> ReportFilters:
        """The filters as the app shows them on data from `first_day` to `last_day`: saved dates outside
        it (or none) become the default preset's, and `preset` names the preset the dates are (the saved
        one when its dates are still these, else the first that matches, else "custom")."""
        date_from, date_to = self.date_from, self.date_to
        if not (date_from and date_to and first_day <= date_from <= date_to <= last_day):
            date_from, date_to = preset_range(DEFAULT_PRESET, first_day, last_day)
        if self.preset in PRESET_LABELS and self.preset != "custom" and \
                preset_range(self.preset, first_day, last_day) == (date_from, date_to):  # type: ignore[arg-type]
            preset = self.preset
        else:
            preset = matching_preset(date_from, date_to, first_day, last_day)
        return replace(self, date_from=date_from, date_to=date_to, preset=preset)

    def dimension_filters(self) -> dict[str, list[str]]:
        """{canonical dimension: allowed values} for `metrics.kpis.summarize(filters=...)`."""
        out: dict[str, list[str]] = {}
        if self.platforms:
            out["platform"] = list(self.platforms)
        if self.campaigns:
            out["campaign"] = list(self.campaigns)
        return out

    def filters_json(self) -> str:
        """`dimension_filters` as canonical JSON (a cache key part)."""
        return json.dumps(self.dimension_filters(), sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "platforms": list(self.platforms),
            "campaigns": list(self.campaigns),
            "grain": self.grain,
            "compare": self.compare,
            "compare_from": self.compare_from.isoformat() if self.compare_from else None,
            "compare_to": self.compare_to.isoformat() if self.compare_to else None,
            "preset": self.preset,
        }

    @classmethod
    def from_dict(cls, raw: Any, *, grain: Any = None, compare: Any = ...) -> ReportFilters:
        """Read filters; `grain`/`compare` are fallbacks for version-1 dicts that kept them at the top level."""
        raw = raw if isinstance(raw, Mapping) else {}
        date_from, date_to = _date(raw.get("date_from")), _date(raw.get("date_to"))
        if date_from is None or date_to is None or date_from > date_to:
            date_from = date_to = None  # half a range or a reversed one: the whole period
        chosen_grain = raw.get("grain", grain)
        chosen_compare = _comparison(raw["compare"] if "compare" in raw else compare)
        compare_from, compare_to = _date(raw.get("compare_from")), _date(raw.get("compare_to"))
        if chosen_compare != "custom" or compare_from is None or compare_to is None or compare_from > compare_to:
            compare_from = compare_to = None
        if chosen_compare == "custom" and compare_from is None:
            chosen_compare = DEFAULT_COMPARISON  # a custom period without its dates: the default comparison
        preset = raw.get("preset")
        return cls(
            date_from=date_from,
            date_to=date_to,
            platforms=_names(raw.get("platforms")),
            campaigns=_names(raw.get("campaigns")),
            grain=chosen_grain if chosen_grain in GRAINS else "day",
            compare=chosen_compare,
            compare_from=compare_from,
            compare_to=compare_to,
            preset=preset if preset in PRESET_LABELS and date_from is not None else "custom",
        )


@dataclass(frozen=True)
class KpiSettings:
    """Extra costs added to spend in ROI (in the report's currency) and the engagement-rate weights."""

    extra_costs: float = 0.0
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_ENGAGEMENT_WEIGHTS))

    def to_dict(self) -> dict[str, Any]:
        return {"extra_costs": self.extra_costs, "weights": dict(self.weights)}

    @classmethod
    def from_dict(cls, raw: Any) -> KpiSettings:
        raw = raw if isinstance(raw, Mapping) else {}
        extra = _number(raw.get("extra_costs"))
        weights = raw.get("weights")
        clean_weights = (
            {str(name): _number(value) for name, value in weights.items() if _number(value) is not None}
            if isinstance(weights, Mapping) else {}
        )
        return cls(extra_costs=extra if extra is not None else 0.0,
                   weights=clean_weights or dict(DEFAULT_ENGAGEMENT_WEIGHTS))


@dataclass(frozen=True)
class ReportSettings:
    filters: ReportFilters = ReportFilters()
    goals: tuple[dict[str, Any], ...] = ()
    ab: Mapping[str, Any] = field(default_factory=dict)
    kpi: KpiSettings = KpiSettings()
    # Reporting currency and rates, as `metrics.currency` writes them; {} = no conversion.
    currency: Mapping[str, Any] = field(default_factory=dict)
    # A snapshot's annotations and budgets as they were when it was saved (a workspace keeps its own in
    # tables; the editor's settings leave these empty).
    annotations: tuple[dict[str, Any], ...] = ()
    budgets: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (dates as ISO strings), with the format version."""
        return {
            "version": SETTINGS_VERSION,
            "filters": self.filters.to_dict(),
            "goals": [dict(goal) for goal in self.goals],
            "ab": dict(self.ab),
            "kpi": self.kpi.to_dict(),
            "currency": dict(self.currency),
            "annotations": [dict(a) for a in self.annotations],
            "budgets": [dict(b) for b in self.budgets],
        }

    @classmethod
    def from_dict(cls, raw: Any) -> ReportSettings:
        """Read stored settings of any version; never raises (see the module docstring)."""
        if not isinstance(raw, Mapping):
            return cls()
        ab, currency = raw.get("ab"), raw.get("currency")
        return cls(
            filters=ReportFilters.from_dict(raw.get("filters"), grain=raw.get("grain"),
                                            compare=raw.get("comparison", ...)),
            goals=_dicts(raw.get("goals")),
            ab=dict(ab) if isinstance(ab, Mapping) else {},
            kpi=KpiSettings.from_dict(raw.get("kpi")),
            currency=dict(currency) if isinstance(currency, Mapping) else {},
            annotations=_dicts(raw.get("annotations")),
            budgets=_dicts(raw.get("budgets")),
        )


# --- lenient readers ------------------------------------------------------------------------------


def _dicts(value: Any) -> tuple[dict[str, Any], ...]:
    """The mappings of a stored list, as dicts; anything else is left out."""
    return tuple(dict(item) for item in value if isinstance(item, Mapping)) if isinstance(value, list) else ()


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(dict.fromkeys(str(item) for item in value if isinstance(item, (str, int, float))))


def _comparison(value: Any) -> CompareChoice | None:
    if value is None or value == "none":
        return None
    return value if value in COMPARE_CHOICES else DEFAULT_COMPARISON


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
