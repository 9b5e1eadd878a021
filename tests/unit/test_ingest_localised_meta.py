"""Ads Manager exports in more languages are recognised as Meta (platform facebook, currency from the header)."""

from __future__ import annotations

import pytest

from metrics import ingest, kpis
from tests.conftest import DATA


@pytest.mark.parametrize(
    ("fixture", "currency", "loaded", "excluded", "totals"),
    [
        # Semicolons, decimal commas, "1.234,50", day-first dates and a Total row at the bottom.
        ("meta_es_semicolon_totals.csv", "EUR", 2, 1,
         {"spend": 2000.0, "impressions": 15000.0, "reach": 12500.0, "link_clicks": 200.0, "conversions": 8.0}),
        # BOM, a quoted campaign name with a comma, "R$ 1.234,56".
        ("meta_pt_brl_quoted.csv", "BRL", 1, 0,
         {"spend": 1234.56, "impressions": 1000.0, "reach": 900.0, "link_clicks": 10.0, "conversions": 2.0}),
        ("meta_it.csv", "EUR", 2, 0,
         {"spend": 20.0, "impressions": 1500.0, "reach": 1250.0, "link_clicks": 20.0, "conversions": 1.0}),
    ],
)
def test_localised_meta_exports(fixture, currency, loaded, excluded, totals):
    result = ingest.load((DATA / fixture).read_bytes(), fixture)
    report = result.report
    assert (report.source_format, report.platform, report.currency) == ("meta_ads", "facebook", currency)
    assert (report.rows_loaded, report.rows_rejected, report.rows_excluded) == (loaded, 0, excluded)
    assert set(result.frame["platform"].unique()) == {"facebook"}
    total = kpis.total(result.frame)
    for name, value in totals.items():
        assert total[name] == pytest.approx(value, abs=1e-6), name
