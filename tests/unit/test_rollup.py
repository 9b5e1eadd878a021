"""The dashboard's daily platform × campaign rollup gives `summarize` the same answers as the raw rows."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import demo, kpis
from metrics.rollup import daily_rollup
from metrics.schema import conform


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return demo.generate(rows=60_000)  # about 140 rows a day: the rollup (about 55 a day) is far smaller


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
    assert_frame_equal(kpis.summarize(rolled, by, **options), kpis.summarize(frame, by, **options),
                       check_exact=False, rel_tol=1e-9)


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
    assert rolled.height == 2
    assert rolled["spend"].to_list() == [None, None]
    assert kpis.total(rolled)["followers"] == kpis.total(raw)["followers"] == 120.0
    assert kpis.total(rolled)["impressions"] == 20.0
    assert kpis.total(rolled)["cpm"] is None
