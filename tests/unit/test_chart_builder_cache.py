"""Chart builders are cached by the content of their inputs (ui.charts.cached_builder): a rerun that draws
the same chart again does not build it again, and any changed input (a cell, a filter, an option) does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import altair as alt
import polars as pl
import pytest
import streamlit as st

from metrics.insights.annotations import Annotation
from ui import charts, insight_charts

CALLS: list[tuple] = []


@charts.cached_builder
def counted_chart(frame: pl.DataFrame, *, metric: str) -> alt.Chart:
    CALLS.append((frame.height, metric))
    return alt.Chart(frame).mark_line().encode(x="date:T", y=f"{metric}:Q")


@charts.cached_builder
def counted_layers(start: date) -> list[alt.Chart]:
    CALLS.append(("layers", start))
    return [alt.Chart(pl.DataFrame({"date": [start]})).mark_rule().encode(x="date:T")]


@dataclass(frozen=True)
class Options:
    metric: str
    currency: str | None


@charts.cached_builder
def counted_with_options(frame: pl.DataFrame, options: Options) -> alt.Chart:
    CALLS.append(("options", options.metric, options.currency))
    return alt.Chart(frame).mark_bar().encode(x=f"{options.metric}:Q")


@pytest.fixture(autouse=True)
def empty_caches():
    st.cache_resource.clear()
    CALLS.clear()
    yield
    st.cache_resource.clear()


def daily(days: int = 10, spend: float = 100.0) -> pl.DataFrame:
    start = date(2026, 9, 1)
    return pl.DataFrame({"date": [start + timedelta(days=i) for i in range(days)],
                         "spend": [spend + i for i in range(days)]})


def spec_values(chart: alt.TopLevelMixin) -> list:
    """The numbers a chart's spec carries, read from the spec Streamlit is sent."""
    return sorted(v for row in chart.to_dict(validate=False)["datasets"].popitem()[1] for v in [row["spend"]])


def test_a_second_identical_run_does_not_build_the_chart_again():
    first = counted_chart(daily(), metric="spend")
    again = counted_chart(daily(), metric="spend")  # an equal frame built anew, as a rerun does
    assert len(CALLS) == 1
    assert again is first


def test_a_changed_cell_option_or_filter_builds_a_new_chart():
    base = counted_chart(daily(), metric="spend")
    changed_cell = daily().with_columns(pl.when(pl.col("date") == date(2026, 9, 5)).then(999.0)
                                        .otherwise(pl.col("spend")).alias("spend"))
    other_cell = counted_chart(changed_cell, metric="spend")
    fewer_days = counted_chart(daily(days=7), metric="spend")  # another date filter
    other_metric = counted_chart(daily().rename({"spend": "clicks"}), metric="clicks")
    assert other_metric.to_dict(validate=False)["encoding"]["y"]["field"] == "clicks"
    assert len(CALLS) == 4
    assert 999.0 in spec_values(other_cell) and 999.0 not in spec_values(base)
    assert len(spec_values(fewer_days)) == 7


def test_dataclass_inputs_are_keyed_field_by_field():
    counted_with_options(daily(), Options("spend", "EUR"))
    counted_with_options(daily(), Options("spend", "EUR"))
    counted_with_options(daily(), Options("spend", "USD"))
    assert CALLS == [("options", "spend", "EUR"), ("options", "spend", "USD")]


def test_a_returned_list_of_layers_is_a_copy_the_caller_may_extend():
    layers = counted_layers(date(2026, 9, 1))
    layers += [alt.Chart(pl.DataFrame({"x": [1]})).mark_point()]
    assert len(counted_layers(date(2026, 9, 1))) == 1
    assert len(CALLS) == 1


def test_an_input_that_cannot_be_keyed_builds_every_time():
    @charts.cached_builder
    def with_object(thing: object) -> alt.Chart:
        CALLS.append(("object",))
        return alt.Chart(pl.DataFrame({"x": [1]})).mark_point()

    thing = object()
    with_object(thing)
    with_object(thing)
    assert len(CALLS) == 2


def test_overlays_on_cached_charts_are_cached_and_follow_a_changed_annotation():
    trend = charts.trend_chart(daily(), "spend", label="Spend", kind="currency", by_platform=False)
    start, end = date(2026, 9, 1), date(2026, 9, 10)
    launch = [Annotation(date(2026, 9, 3), "Launch")]
    first = insight_charts.with_overlays(trend, *insight_charts.annotation_layers(launch, start, end))
    again = insight_charts.with_overlays(
        charts.trend_chart(daily(), "spend", label="Spend", kind="currency", by_platform=False),
        *insight_charts.annotation_layers([Annotation(date(2026, 9, 3), "Launch")], start, end))
    assert again is first
    moved = insight_charts.with_overlays(
        trend, *insight_charts.annotation_layers([Annotation(date(2026, 9, 4), "Launch")], start, end))
    assert moved is not first
    texts = [layer.to_dict(validate=False) for layer in moved.layer[1:]]  # the annotation's layers
    assert "2026-09-04" in repr(texts) and "2026-09-03" not in repr(texts)


def test_a_cached_chart_converts_to_the_spec_of_the_chart_built_uncached():
    """The spec found through the builder's key is the spec the same chart built afresh converts to."""
    if charts._convert_altair is None:
        pytest.skip("this Streamlit has no altair converter to cache")
    cached = charts.vega_lite_spec(charts.trend_chart(daily(), "spend", label="Spend", kind="currency",
                                                      by_platform=False))
    fresh = charts._convert_altair(charts.trend_chart.uncached(daily(), "spend", label="Spend", kind="currency",
                                                                 by_platform=False))
    assert cached == fresh
    other = charts.vega_lite_spec(charts.trend_chart(daily(spend=5.0), "spend", label="Spend", kind="currency",
                                                     by_platform=False))
    assert other != cached
