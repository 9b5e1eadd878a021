"""The dashboard's daily rollup gives `summarize` IDENTICAL answers to the raw rows: measures, KPIs,
coverages and currencies, for any grouping and filter on its keys, whatever is missing where."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from metrics import demo, kpis
from metrics.rollup import daily_rollup
from metrics.schema import MEASURES, conform


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return demo.generate(rows=60_000)  # about 140 rows a day: the rollup (about 55 a day) is far smaller


def same(rolled: pl.DataFrame, raw: pl.DataFrame, by, **options) -> None:
    assert_frame_equal(kpis.summarize(rolled, by, **options), kpis.summarize(raw, by, **options),
                       check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize(
    ("by", "options"),
    [
        ((), {"compare": "previous", "date_from": date(2026, 10, 2), "date_to": date(2026, 10, 31)}),
        (("platform",), {}),
        (("platform",), {"grain": "week", "filters": {"campaign": ["Organic", "Spring Sale 2026"]}}),
        (("platform", "campaign"), {"filters": {"platform": ["tiktok", "x"]}, "extra_costs": 500.0}),
        ((), {"grain": "month", "compare": "previous_year"}),
    ],
)
def test_same_results_as_the_raw_rows(frame, by, options):
    rolled = daily_rollup(frame)
    assert rolled.height < frame.height / 2
    same(rolled, frame, by, **options)


def test_nulls_stay_null_and_followers_stay_a_stock():
    raw = conform(pl.DataFrame({
        "date": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 2)],
        "platform": ["x", "x", "x", "x"],
        "campaign": ["Organic"] * 4,
        "followers": [100.0, 50.0, 120.0, None],
        "spend": [None, None, None, None],
        "impressions": [10.0, None, 5.0, 5.0],
    }))
    rolled = daily_rollup(raw)
    assert rolled["spend"].null_count() == rolled.height
    assert kpis.total(rolled)["followers"] == kpis.total(raw)["followers"] == 120.0
    assert kpis.total(rolled)["impressions"] == 20.0
    assert kpis.total(rolled)["cpm"] is None


def test_a_rollup_refuses_a_dimension_it_does_not_keep(frame):
    with pytest.raises(ValueError, match="raw rows"):
        kpis.summarize(daily_rollup(frame), ["ad_group"])


# --- property: any frame, any nulls, several currencies and files ---------------------------------

START = date(2026, 1, 26)  # a Monday; 40 days cross month and week boundaries
MEASURE_VALUE = st.one_of(st.none(), st.integers(0, 500).map(float))

row_strategy = st.fixed_dictionaries({
    "day": st.integers(0, 39),
    "platform": st.sampled_from(["facebook", "x", None]),
    "campaign": st.sampled_from(["A", "B", None]),
    "currency": st.sampled_from(["USD", "EUR", None]),
    "source_file": st.sampled_from(["ads.csv", "sheet.csv"]),
    **{m: MEASURE_VALUE for m in MEASURES},
})


def rows_frame(rows: list[dict]) -> pl.DataFrame:
    records = [{**{k: v for k, v in r.items() if k != "day"}, "date": START + timedelta(days=r["day"])}
               for r in rows]
    return conform(pl.DataFrame(records, infer_schema_length=None))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, min_size=1, max_size=30),
       single_currency=st.booleans(), cut=st.integers(0, 39), platform=st.sampled_from(["facebook", "x"]))
def test_rollup_equals_raw_for_every_grouping_and_filter(rows, single_currency, cut, platform):
    if single_currency:  # also exercise groups with one known currency, not only "mixed"
        rows = [{**r, "currency": "USD"} for r in rows]
    raw = rows_frame(rows)
    rolled = daily_rollup(raw)
    same(rolled, raw, ())
    same(rolled, raw, ("platform",))
    same(rolled, raw, ("platform", "campaign"), extra_costs=50.0)
    same(rolled, raw, ("currency",))
    same(rolled, raw, ("source_file",))
    same(rolled, raw, (), grain="week")
    same(rolled, raw, ("platform",), grain="month")
    same(rolled, raw, ("campaign",), date_from=START + timedelta(days=cut), filters={"platform": [platform]})
    same(rolled, raw, ("platform",), date_to=START + timedelta(days=cut), compare="previous",
         date_from=START + timedelta(days=cut // 2))
