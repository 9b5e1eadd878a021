"""The report's saved A/B test and the inputs the page builds it from (pure; the widgets live in ``ui.ab``).

The saved test is a JSON-able dict (snapshots store it):

    {"version": 2,
     "source": "campaign" | "upload" | "calculator",
     "metric": a CAMPAIGN_METRICS key (campaign) | a label (upload) | "counts" | "means" (calculator),
     "campaign": None | "<campaign name>",                   (campaign: restricted to one campaign)
     "cap_percentile": None | 99.0,                          (campaign: capping of the numerator)
     "control": "A", "expected_split": None | [50, 50], "alpha": 0.05, "correction": "holm" | "bh" | "none",
     "sequential": False, "tuning": 5000, "direction": "higher" | "lower", "planned_mde": 0.1,
     "calculator_rows": [{"name", "visitors", "conversions"} | {"name", "n", "mean", "sd"}, ...],  (calculator)
     "upload": {"file_name", "shape", "columns": {role: column}, "data": data_to_json(...)}}      (upload)

An uploaded file is not part of a snapshot, so an upload-based test keeps its sufficient statistics (and the
notes of unit aggregation and capping), which is all the analysis needs to give the same numbers again.
Version 1 configurations (before ratio metrics) still open with the analysis they were saved with.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from metrics.abtest.analysis import DEFAULT_ALPHA, DEFAULT_TUNING, analyze
from metrics.abtest.curves import cumulative_lift
from metrics.abtest.data import Arm, ExperimentData, from_counts, from_summaries
from metrics.abtest.inputs import from_aggregates, from_ratio_rows
from metrics.abtest.kinds import kind_spec
from metrics.abtest.results import AbResult, AbWarning, Capping, Correction, Direction
from metrics.abtest.verdict import DEFAULT_PLANNED_MDE

CONFIG_VERSION = 2
CORRECTIONS: dict[str, str] = {"holm": "Holm (default)", "bh": "Benjamini–Hochberg", "none": "None"}
CALCULATOR_COUNTS = [{"name": "A", "visitors": 5000, "conversions": 400},
                     {"name": "B", "visitors": 5000, "conversions": 460}]
CALCULATOR_MEANS = [{"name": "A", "n": 1000, "mean": 52.0, "sd": 30.0},
                    {"name": "B", "n": 1000, "mean": 55.0, "sd": 31.0}]
_MONEY = frozenset({"spend", "revenue"})


# ---------------------------------------------------------------------------------------------------------------
# Ratio metrics of the campaign table
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignMetric:
    """A ratio metric of the canonical table tested with each row (a day of an ad) as a unit."""

    key: str
    label: str
    numerator: str
    denominator: str
    direction: Direction

    @property
    def money(self) -> bool:
        return bool({self.numerator, self.denominator} & _MONEY)

    @property
    def title(self) -> str:
        return f"{self.label} ({self.numerator} / {self.denominator})"

    @property
    def format(self) -> str:
        """How its values are shown (the display catalog's format of the KPI of the same name)."""
        from metrics.display import describe

        known = describe(self.key)
        if known.format != "number":
            return known.format
        return "currency" if self.numerator in _MONEY and self.denominator not in _MONEY else "percent"

    @property
    def in_sentence(self) -> str:
        """The label inside a sentence: "CPA" stays, "Conversion rate" becomes "conversion rate"."""
        return self.label if self.label[:2].isupper() else self.label[:1].lower() + self.label[1:]


def _campaign_metric(key: str, numerator: str, denominator: str, label: str | None = None) -> CampaignMetric:
    """Label and direction come from the KPI of the same name (CPA is lower-is-better there too)."""
    from metrics.kpis import find_kpi

    kpi = find_kpi(key)
    direction = kpi.direction if kpi is not None and kpi.direction in ("higher", "lower") else "higher"
    return CampaignMetric(key, label or (kpi.label if kpi else key), numerator, denominator, direction)


CAMPAIGN_METRICS: dict[str, CampaignMetric] = {m.key: m for m in (
    _campaign_metric("cvr", "conversions", "clicks"),
    _campaign_metric("ctr", "clicks", "impressions"),
    _campaign_metric("cpa", "spend", "conversions"),
    _campaign_metric("cpc", "spend", "clicks"),
    _campaign_metric("cpl", "spend", "leads"),
    _campaign_metric("roas", "revenue", "spend"),
    _campaign_metric("revenue_per_click", "revenue", "clicks", "Revenue per click"),
    _campaign_metric("aov", "revenue", "conversions"),
    _campaign_metric("leads_per_click", "leads", "clicks", "Leads per click"),
)}
# Version 1 tested these as conversion rates with every click (impression) a unit.
_V1_CAMPAIGN = {"cvr": ("clicks", "conversions"), "ctr": ("impressions", "clicks"),
                "leads_per_click": ("clicks", "leads")}


def available_campaign_metrics(frame: pl.DataFrame) -> list[str]:
    """Campaign metrics whose two columns hold values together on some rows that have a variant."""
    if "variant" not in frame.columns:
        return []
    tagged = frame.filter(pl.col("variant").is_not_null())
    return [key for key, m in CAMPAIGN_METRICS.items()
            if {m.numerator, m.denominator} <= set(tagged.columns) and tagged.select(
                (pl.col(m.numerator).is_not_null() & pl.col(m.denominator).is_not_null()).any()).item()]


def campaign_rows(frame: pl.DataFrame, *, filters: Any = None, campaign: str | None = None) -> pl.DataFrame:
    """The rows with a variant label a test on the campaign table uses: the report's filters (an object with
    ``date_from``, ``date_to`` and ``dimension_filters()``) and optionally one campaign."""
    from metrics.kpis import apply_filters

    lazy = frame.lazy()
    if filters is not None:
        lazy = apply_filters(lazy, date_from=filters.date_from, date_to=filters.date_to,
                             filters=filters.dimension_filters())
    if campaign:
        lazy = lazy.filter(pl.col("campaign") == campaign)
    return lazy.filter(pl.col("variant").is_not_null()).collect()


def rows_currency(rows: pl.DataFrame) -> str | None:
    """The one currency of the rows, or None (unknown, or several: :func:`currency_problem` says so)."""
    if "currency" not in rows.columns:
        return None
    found = rows.get_column("currency").unique().to_list()
    return found[0] if len(found) == 1 else None


def currency_problem(rows: pl.DataFrame, metric: CampaignMetric) -> str | None:
    """A sentence when a money ratio would mix currencies (SPEC §4: an unknown currency differs from any)."""
    if not metric.money or "currency" not in rows.columns:
        return None
    used = rows.filter(pl.col(metric.numerator).is_not_null() & pl.col(metric.denominator).is_not_null())
    currencies = used.get_column("currency").unique().to_list()
    if len(currencies) <= 1:
        return None
    shown = ", ".join(sorted(c or "unknown" for c in currencies))
    return (f"These rows are in several currencies ({shown}), so {metric.label} would add up different money; "
            "restrict the test to one campaign or platform with a single currency.")


def campaign_data(rows: pl.DataFrame, metric: CampaignMetric, cap_percentile: float | None = None) -> ExperimentData:
    """Each row a unit: Σ numerator / Σ denominator per variant (gbstats' RatioStatistic)."""
    data = from_ratio_rows(rows, variant="variant", numerator=metric.numerator, denominator=metric.denominator,
                           cap_percentile=cap_percentile)
    return replace(data, metric=metric.in_sentence)


# ---------------------------------------------------------------------------------------------------------------
# Settings shared by every tab
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisSettings:
    control: str
    alpha: float = DEFAULT_ALPHA
    correction: Correction = "holm"
    expected_split: list[float] | None = None
    sequential: bool = False
    tuning: float = DEFAULT_TUNING
    direction: Direction = "higher"
    planned_mde: float = DEFAULT_PLANNED_MDE

    def to_config(self) -> dict[str, Any]:
        return {"control": self.control, "alpha": self.alpha, "correction": self.correction,
                "expected_split": self.expected_split, "sequential": self.sequential, "tuning": self.tuning,
                "direction": self.direction, "planned_mde": self.planned_mde}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AnalysisSettings:
        """Settings of a saved test; anything missing or odd falls back to the default."""
        alpha, tuning, mde = (_number(config.get(k)) for k in ("alpha", "tuning", "planned_mde"))
        split = config.get("expected_split") or None
        return cls(
            control=str(config.get("control") or ""),
            alpha=alpha if alpha is not None and 0 < alpha < 1 else DEFAULT_ALPHA,
            correction=config.get("correction") if config.get("correction") in CORRECTIONS else "holm",
            expected_split=[float(x) for x in split] if split else None,
            sequential=bool(config.get("sequential")),
            tuning=tuning if tuning is not None and tuning > 0 else float(DEFAULT_TUNING),
            direction="lower" if config.get("direction") == "lower" else "higher",
            planned_mde=mde if mde is not None and mde > 0 else DEFAULT_PLANNED_MDE,
        )


def run(data: ExperimentData, settings: AnalysisSettings) -> AbResult:
    return analyze(data, control=settings.control, alpha=settings.alpha, correction=settings.correction,
                   expected_split=settings.expected_split, sequential=settings.sequential, tuning=settings.tuning,
                   direction=settings.direction)


def parse_split(text: str | None) -> list[float] | None:
    """"50,50" or "30/70" or "50 %, 50 %" → [50.0, 50.0]; empty → None (equal split).
    Raises ValueError with one plain sentence when it is not a list of positive numbers."""
    if text is None or not str(text).strip():
        return None
    parts = [p.strip().rstrip("%").strip() for p in str(text).replace("/", ",").replace(";", ",").split(",")
             if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"The expected split {text!r} is not a list of numbers; write it like 50,50.") from None
    if len(values) < 2 or not all(math.isfinite(v) and v >= 0 for v in values) or sum(v > 0 for v in values) < 2:
        raise ValueError("The expected split needs a share for each variant (at least two above 0), like 50,50 or "
                         "30,70.")
    return values


# ---------------------------------------------------------------------------------------------------------------
# The quick calculator
# ---------------------------------------------------------------------------------------------------------------


def calculator_data(rows: Sequence[dict[str, Any]], mode: str) -> tuple[ExperimentData, list[str]]:
    """Rows typed in the calculator → (data, problems). mode: "counts" (visitors, conversions) or "means" (n,
    mean, sd). Blank rows are skipped; a blank name becomes "Variant N". ``problems`` has one plain sentence per
    invalid input (a missing or impossible number, a repeated name); the data then holds only the valid rows and
    should not be analysed."""
    counts: list[tuple[str, float, float]] = []
    summaries: list[tuple[str, float, float, float]] = []
    problems: list[str] = []
    seen: set[str] = set()
    fields = ("visitors", "conversions") if mode == "counts" else ("n", "mean", "sd")
    for index, row in enumerate(rows):
        raw_name = row.get("name")
        name = "" if raw_name is None or (isinstance(raw_name, float) and math.isnan(raw_name)) else str(raw_name)
        name = name.strip()
        values = [_number(row.get(f)) for f in fields]
        if not name and all(v is None for v in values):
            continue
        name = name or f"Variant {index + 1}"
        if name in seen:
            problems.append(f"Two rows are named {name}; give each variant its own name.")
            continue
        seen.add(name)
        problem = (_count_problem(name, *values) if mode == "counts" else _summary_problem(name, *values))
        if problem:
            problems.append(problem)
        elif mode == "counts":
            counts.append((name, values[0], values[1]))
        else:
            summaries.append((name, values[0], values[1], values[2]))
    return (from_counts(counts) if mode == "counts" else from_summaries(summaries)), problems


def _count_problem(name: str, visitors: float | None, conversions: float | None) -> str | None:
    if visitors is None or visitors <= 0:
        return f"{name} has no visitors; enter how many visitors it had (more than 0)."
    if conversions is None or conversions < 0:
        return f"{name} has no conversions entered; enter how many visitors converted (0 or more)."
    if conversions > visitors:
        return (f"{name} has more conversions ({conversions:,.0f}) than visitors ({visitors:,.0f}); check the "
                "numbers.")
    return None


def _summary_problem(name: str, n: float | None, mean: float | None, sd: float | None) -> str | None:
    if n is None or n < 2:
        return f"{name} needs at least 2 users; enter its number of users."
    if mean is None:
        return f"{name} has no mean; enter the average value per user."
    if sd is None or sd < 0:
        return f"{name} has no standard deviation; enter the spread of the value per user (0 or more)."
    return None


# ---------------------------------------------------------------------------------------------------------------
# Sufficient statistics as JSON (an upload's test, saved without the file)
# ---------------------------------------------------------------------------------------------------------------


def data_to_json(data: ExperimentData) -> dict[str, Any]:
    return {
        "kind": data.kind,
        "metric": data.metric,
        "arms": [{"name": arm.name, "rows_ignored": arm.rows_ignored, **arm.stat.to_dict()} for arm in data.arms],
        "warnings": [w.to_dict() for w in data.warnings],
        "capping": None if data.capping is None else {"percentile": data.capping.percentile,
                                                      "value": data.capping.value, "units": data.capping.units},
    }


def data_from_json(body: dict[str, Any]) -> ExperimentData:
    """The inverse of :func:`data_to_json`. Raises KeyError, TypeError or ValueError for a dict of another shape."""
    statistic = kind_spec(body["kind"] or "proportion").statistic
    arms = tuple(Arm(str(i["name"]), statistic.from_dict(i), int(i.get("rows_ignored") or 0))
                 for i in body.get("arms") or [])
    warnings = tuple(AbWarning(w["code"], w["message"], w.get("variant"), w.get("count"))
                     for w in body.get("warnings") or [])
    cap = body.get("capping")
    capping = None if not cap else Capping(percentile=float(cap["percentile"]), value=float(cap["value"]),
                                           units=int(cap.get("units") or 0))
    return ExperimentData(arms=arms, warnings=warnings, capping=capping, metric=body.get("metric"))


def _upload_data(upload: dict[str, Any]) -> ExperimentData:
    """An upload's saved statistics; version 1 kept ``{"kind", "stats": [...]}`` (proportions or means)."""
    if "data" in upload:
        return data_from_json(upload["data"])
    statistic = kind_spec("mean" if upload.get("kind") == "mean" else "proportion").statistic
    return ExperimentData(arms=tuple(Arm(str(i["name"]), statistic.from_dict(i), int(i.get("rows_ignored") or 0))
                                     for i in upload.get("stats") or []))


# ---------------------------------------------------------------------------------------------------------------
# The saved test
# ---------------------------------------------------------------------------------------------------------------


def analyze_config(config: dict[str, Any], frame: pl.DataFrame | None,
                   filters: Any = None) -> tuple[AbResult | None, pl.DataFrame | None, str | None]:
    """The saved test's result (and, for the campaign table, its lift over time), or a plain sentence saying why
    there is none. Never raises for a stale or odd configuration."""
    source = config.get("source")
    settings = AnalysisSettings.from_config(config)
    daily = None
    try:
        if source == "campaign":
            rows, data, daily_columns, problem = _campaign_config(config, frame, filters)
            if problem:
                return None, None, problem
        elif source == "upload":
            data = _upload_data(config.get("upload") or {})
        elif source == "calculator":
            data, problems = calculator_data(config.get("calculator_rows") or [],
                                             "means" if config.get("metric") == "means" else "counts")
            if problems:
                return None, None, problems[0]
        else:
            return None, None, "This report has no A/B test."
    except (KeyError, TypeError, ValueError):
        return None, None, "The saved A/B test could not be read; set it up again and save it."
    if not data.arms:
        return None, None, "There are no rows with a variant label for the saved A/B test in the current filters."
    try:
        result = run(data, settings)
    except ValueError as error:
        return None, None, str(error)
    if source == "campaign":
        numerator, denominator, ratio = daily_columns
        daily = cumulative_lift(rows, numerator=numerator, denominator=denominator, control=settings.control,
                                alpha=result.alpha_adjusted, ratio=ratio, sequential=settings.sequential,
                                tuning=settings.tuning)
    return result, daily, None


def _campaign_config(config: dict[str, Any], frame: pl.DataFrame | None, filters: Any):
    key = config.get("metric")
    legacy = config.get("version", 1) == 1 and key in _V1_CAMPAIGN
    metric = CAMPAIGN_METRICS.get(key)
    columns = _V1_CAMPAIGN[key] if legacy else ((metric.denominator, metric.numerator) if metric else None)
    if columns is None or frame is None or "variant" not in frame.columns or not set(columns) <= set(frame.columns):
        return None, None, None, ("The saved A/B test uses the campaign table's variant column, which this data "
                                  "does not have.")
    rows = campaign_rows(frame, filters=filters, campaign=config.get("campaign") or None)
    if legacy:
        trials, successes = columns
        return rows, from_aggregates(rows, variant="variant", trials=trials, successes=successes), \
            (successes, trials, False), None
    problem = currency_problem(rows, metric)
    if problem:
        return None, None, None, problem
    cap = _number(config.get("cap_percentile"))
    return rows, campaign_data(rows, metric, cap), (metric.numerator, metric.denominator, True), None


def config_hash(config: dict[str, Any] | None) -> str:
    """A fingerprint of a saved test (to copy it into the widgets once, not on every run)."""
    return hashlib.sha256(json.dumps(config or {}, sort_keys=True, default=str).encode()).hexdigest()


def describe_config(config: dict[str, Any]) -> str:
    """One plain line (not Markdown: escape it to show it) saying what the saved test is."""
    source = config.get("source")
    if source == "campaign":
        metric = CAMPAIGN_METRICS.get(config.get("metric"))
        label = metric.title if metric else str(config.get("metric"))
        where = f"campaign {config['campaign']}" if config.get("campaign") else "all campaigns"
        text = f"{label} by variant, {where}"
    elif source == "upload":
        up = config.get("upload") or {}
        columns = up.get("columns") or {"outcome": up.get("outcome_column"), "variant": up.get("variant_column")}
        text = f"uploaded file {up.get('file_name', '')}: {config.get('metric') or columns.get('outcome')}"
    else:
        text = "numbers typed in the calculator"
    settings = AnalysisSettings.from_config(config)
    extra = f"α {settings.alpha:g}, control {settings.control}"
    if settings.direction == "lower":
        extra += ", lower is better"
    if settings.sequential:
        extra += f", sequential (N* {settings.tuning:,.0f})"
    return f"{text} · {extra}"


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
