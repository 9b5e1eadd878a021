"""What an analysis receives: named arms with their sufficient statistics, and what shaping the input noticed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from metrics.abtest.results import AbWarning, Capping
from metrics.abtest.statistics import (
    MetricKind,
    ProportionStatistic,
    SampleMeanStatistic,
    Statistic,
)

_CONTROL_NAMES = ("control", "ctrl", "baseline", "original", "a", "old", "old_page", "default")


def natural_key(name: str) -> tuple:
    """Sort key that puts "2" before "10" and "variant 2" before "variant 10"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.split(r"(\d+)", str(name)) if part != "")


def guess_control(names: Sequence[str]) -> str | None:
    """The control when none was named: a label such as "control", "baseline", "original" or "A"
    (case-insensitive), else the first label in natural order. None for no labels."""
    for candidate in _CONTROL_NAMES:
        for name in names:
            if str(name).strip().lower() == candidate:
                return name
    return min(names, key=natural_key) if names else None


@dataclass(frozen=True)
class Arm:
    """One variant: its label, its statistic and how many input rows of it were left out (no readable outcome)."""

    name: str
    stat: Statistic
    rows_ignored: int = 0


@dataclass(frozen=True)
class ExperimentData:
    """The arms of one test (any order; arms with the same name are merged by adding their statistics) plus the
    notes of input shaping (unit aggregation, rows without a unit id) and the capping applied, if any.
    ``metric``: a label for the metric (an input column, or "numerator / denominator")."""

    arms: tuple[Arm, ...]
    warnings: tuple[AbWarning, ...] = field(default=())
    capping: Capping | None = None
    metric: str | None = None

    @property
    def kind(self) -> MetricKind | None:
        kinds = {arm.stat.kind for arm in self.arms}
        if len(kinds) > 1:
            raise ValueError(f"The arms mix metric kinds ({', '.join(sorted(kinds))}); give one kind per test.")
        return next(iter(kinds), None)

    @property
    def names(self) -> list[str]:
        return sorted(dict.fromkeys(arm.name for arm in self.arms), key=natural_key)


def from_arms(arms: Iterable[Arm]) -> ExperimentData:
    return ExperimentData(arms=tuple(arms))


def from_counts(counts: Iterable[tuple[str, float, float]]) -> ExperimentData:
    """(name, visitors, conversions) per variant — the "numbers typed by hand" shape."""
    return ExperimentData(arms=tuple(Arm(str(name), ProportionStatistic(n=float(n), sum=float(x)))
                                     for name, n, x in counts))


def from_summaries(summaries: Iterable[tuple[str, float, float, float | None]]) -> ExperimentData:
    """(name, n, mean, sample sd) per variant."""
    return ExperimentData(arms=tuple(Arm(str(name), SampleMeanStatistic.from_summary(n, mean, sd))
                                     for name, n, mean, sd in summaries))
