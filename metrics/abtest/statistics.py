"""Sufficient statistics of one arm, one class per metric kind (as gbstats' ``models/statistics.py``).

Every class gives ``n`` (units), ``mean`` (None when undefined) and ``variance`` (the per-unit variance the tests
divide by ``n``; 0 when undefined), and adds to another of its kind with ``+`` (rows, days or files of one arm
merge exactly), and reads back its ``to_dict()`` with ``from_dict``. A new metric kind is one class here, its
spec in ``kinds`` and its builder in ``inputs``: the comparisons in ``frequentist``, ``sequential`` and
``analysis`` only read ``n``, ``mean`` and ``variance``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# The name of a metric kind: a key of `kinds.KINDS` ("proportion", "mean", "ratio"). Not a Literal, so that a
# kind registered there is a valid kind everywhere without a fourth file to edit.
MetricKind = str

# Relative size below which sum_squares − sum²/n is floating-point cancellation, not spread: 200 × 0.1 leaves
# 4e-18 instead of 0. Such data is constant for any A/B purpose (a coefficient of variation under 0.0001 %).
_CANCELLATION = 1e-12


def _sample_variance(n: float, total: float, sum_squares: float) -> float:
    """Sample variance (n − 1 denominator) from sums; 0 when n ≤ 1 or when the spread is rounding noise."""
    if n <= 1:
        return 0.0
    variance = (sum_squares - total * total / n) / (n - 1)
    if variance <= _CANCELLATION * (sum_squares / n):
        return 0.0
    return variance


@dataclass(frozen=True)
class ProportionStatistic:
    """A 0/1 outcome: ``n`` units, ``sum`` of them converted. Variance p(1 − p) (gbstats' convention)."""

    n: float
    sum: float

    kind = "proportion"

    @property
    def sum_squares(self) -> float:
        return self.sum

    @property
    def mean(self) -> float | None:
        """The conversion rate (a fraction); None when n = 0."""
        return self.sum / self.n if self.n > 0 else None

    @property
    def variance(self) -> float:
        p = self.mean
        return 0.0 if p is None else max(p * (1 - p), 0.0)

    @property
    def valid(self) -> bool:
        return _finite(self.n, self.sum) and self.n >= 0 and 0 <= self.sum <= self.n

    def __add__(self, other: ProportionStatistic) -> ProportionStatistic:
        if not isinstance(other, ProportionStatistic):
            return NotImplemented
        return ProportionStatistic(n=self.n + other.n, sum=self.sum + other.sum)

    def to_dict(self) -> dict[str, float]:
        return {"n": self.n, "sum": self.sum, "sum_squares": self.sum}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProportionStatistic:
        return cls(n=float(data["n"]), sum=float(data["sum"]))

    @classmethod
    def from_sums(cls, n: float, total: float, sum_squares: float) -> ProportionStatistic:
        """From per-unit 0/1 values: their count and sum (the sum of squares is the sum)."""
        return cls(n=n, sum=total)


@dataclass(frozen=True)
class SampleMeanStatistic:
    """A numeric outcome per unit (revenue per user): ``n`` units, ``sum`` and ``sum_squares`` of the values.
    Variance: the sample variance (n − 1 denominator)."""

    n: float
    sum: float
    sum_squares: float

    kind = "mean"

    @classmethod
    def from_values(cls, values: Any) -> SampleMeanStatistic:
        values = [float(v) for v in values]
        return cls(n=float(len(values)), sum=math.fsum(values), sum_squares=math.fsum(v * v for v in values))

    @classmethod
    def from_summary(cls, n: float, mean: float, sd: float | None) -> SampleMeanStatistic:
        """From n, mean and the sample standard deviation: sum = n·mean, sum_squares = (n − 1)·sd² + n·mean².
        A missing sd counts as 0."""
        sd = 0.0 if sd is None or not math.isfinite(sd) else float(sd)
        return cls(n=float(n), sum=float(n) * float(mean), sum_squares=max(n - 1, 0) * sd * sd + n * mean * mean)

    @property
    def mean(self) -> float | None:
        return self.sum / self.n if self.n > 0 else None

    @property
    def variance(self) -> float:
        return _sample_variance(self.n, self.sum, self.sum_squares)

    @property
    def sd(self) -> float | None:
        return math.sqrt(self.variance) if self.n >= 2 else None

    @property
    def valid(self) -> bool:
        return _finite(self.n, self.sum, self.sum_squares) and self.n >= 0

    def __add__(self, other: SampleMeanStatistic) -> SampleMeanStatistic:
        if not isinstance(other, SampleMeanStatistic):
            return NotImplemented
        return SampleMeanStatistic(n=self.n + other.n, sum=self.sum + other.sum,
                                   sum_squares=self.sum_squares + other.sum_squares)

    def to_dict(self) -> dict[str, float]:
        return {"n": self.n, "sum": self.sum, "sum_squares": self.sum_squares}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleMeanStatistic:
        return cls(n=float(data["n"]), sum=float(data["sum"]), sum_squares=float(data["sum_squares"]))

    @classmethod
    def from_sums(cls, n: float, total: float, sum_squares: float) -> SampleMeanStatistic:
        return cls(n=n, sum=total, sum_squares=sum_squares)


@dataclass(frozen=True)
class RatioStatistic:
    """A ratio metric (spend / conversions for CPA, revenue / spend for ROAS): per unit a numerator and a
    denominator value. The arm's value is Σ numerator / Σ denominator; its per-unit variance comes from the delta
    method with the numerator–denominator covariance, exactly as gbstats' ``RatioStatistic``."""

    n: float
    numerator: SampleMeanStatistic
    denominator: SampleMeanStatistic
    sum_of_products: float

    kind = "ratio"

    @classmethod
    def from_pairs(cls, pairs: Any) -> RatioStatistic:
        pairs = [(float(m), float(d)) for m, d in pairs]
        return cls(n=float(len(pairs)), numerator=SampleMeanStatistic.from_values(m for m, _ in pairs),
                   denominator=SampleMeanStatistic.from_values(d for _, d in pairs),
                   sum_of_products=math.fsum(m * d for m, d in pairs))

    @property
    def mean(self) -> float | None:
        """Σ numerator / Σ denominator; None when the denominators sum to 0."""
        return self.numerator.sum / self.denominator.sum if self.denominator.sum != 0 else None

    @property
    def covariance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.sum_of_products - self.numerator.sum * self.denominator.sum / self.n) / (self.n - 1)

    @property
    def variance(self) -> float:
        """gbstats' ``variance_of_ratios`` of the per-unit means: Var(M)/μ_D² + Var(D)·μ_M²/μ_D⁴ − 2·Cov·μ_M/μ_D³."""
        mean_m, mean_d = self.numerator.mean, self.denominator.mean
        if self.n <= 1 or not mean_d:
            return 0.0
        value = (self.numerator.variance / mean_d ** 2 + self.denominator.variance * mean_m ** 2 / mean_d ** 4
                 - 2 * self.covariance * mean_m / mean_d ** 3)
        return value if math.isfinite(value) else 0.0

    @property
    def valid(self) -> bool:
        return (_finite(self.n, self.sum_of_products) and self.n >= 0 and self.numerator.valid
                and self.denominator.valid and self.numerator.n == self.n == self.denominator.n)

    def __add__(self, other: RatioStatistic) -> RatioStatistic:
        if not isinstance(other, RatioStatistic):
            return NotImplemented
        return RatioStatistic(n=self.n + other.n, numerator=self.numerator + other.numerator,
                              denominator=self.denominator + other.denominator,
                              sum_of_products=self.sum_of_products + other.sum_of_products)

    def to_dict(self) -> dict[str, float]:
        return {"n": self.n, "numerator_sum": self.numerator.sum,
                "numerator_sum_squares": self.numerator.sum_squares, "denominator_sum": self.denominator.sum,
                "denominator_sum_squares": self.denominator.sum_squares, "sum_of_products": self.sum_of_products}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RatioStatistic:
        n = float(data["n"])
        return cls(n=n, numerator=SampleMeanStatistic(n=n, sum=float(data["numerator_sum"]),
                                                      sum_squares=float(data["numerator_sum_squares"])),
                   denominator=SampleMeanStatistic(n=n, sum=float(data["denominator_sum"]),
                                                   sum_squares=float(data["denominator_sum_squares"])),
                   sum_of_products=float(data["sum_of_products"]))


Statistic = ProportionStatistic | SampleMeanStatistic | RatioStatistic


def _finite(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
