"""Each export family and quirk of SPEC §7, on tiny hand-written fixtures (tests/data/make_fixtures.py).

Expected totals were added up by hand from the fixture text; they are not produced by the loader.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from metrics import schema
from metrics.ingest import load, load_path

DATA = Path(__file__).resolve().parents[1] / "data"


def load_fixture(name: str, mapping: dict[str, str] | None = None):
    return load((DATA / name).read_bytes(), name, mapping)


def totals(frame: pl.DataFrame, measures: list[str]) -> dict[str, float | None]:
    return {m: frame[m].sum() if frame[m].null_count() < frame.height else None for m in measures}


def codes(result) -> set[str]:
    return {issue.code for issue in result.report.issues}


def assert_counts_add_up(report) -> None:
    assert report.rows_read == report.rows_loaded + report.rows_rejected + report.rows_excluded


CASES = [
    # fixture, family, platform, currency, header_row, (read, loaded, rejected, excluded), expected totals, mapping subset
    (
        "google_ads_utf16_preamble_totals.csv", "google_ads", "google_ads", "USD", 2, (5, 3, 0, 2),
        {"impressions": 3734, "clicks": 101, "spend": 1345.06, "conversions": 4, "revenue": 350},
        {"Impr.": "impressions", "Cost": "spend", "Conv. value": "revenue", "Currency code": "currency"},
    ),
    (
        "google_ads_web_comma.csv", "google_ads", "google_ads", None, 2, (3, 2, 0, 1),
        {"impressions": 15000, "clicks": 300, "spend": 150, "conversions": 5, "revenue": 1000},
        {"Impr.": "impressions", "Cost": "spend"},
    ),
    (
        "meta_ru_decimal_comma.csv", "meta_ads", "facebook", "RUB", 0, (3, 3, 0, 0),
        {"impressions": 3500, "reach": 2750, "clicks": 140, "link_clicks": 55, "conversions": 9, "spend": 177.2},
        {"Потраченная сумма (RUB)": "spend", "Результаты": "conversions", "Клики (все)": "clicks",
         "Клики по ссылке": "link_clicks", "День": "date"},
    ),
    (
        "meta_de_semicolon.csv", "meta_ads", "facebook", "EUR", 0, (3, 2, 0, 1),
        {"spend": 2000, "impressions": 15000, "reach": 12000, "conversions": 20},
        {"Ausgegebener Betrag (EUR)": "spend", "Impressionen": "impressions", "Tag": "date"},
    ),
    (
        "meta_fr.csv", "meta_ads", "facebook", "EUR", 0, (2, 2, 0, 0),
        {"spend": 2000, "impressions": 20000, "reach": 15000, "clicks": 500, "conversions": 15},
        {"Montant dépensé (EUR)": "spend", "Nom de la campagne": "campaign", "Couverture": "reach"},
    ),
    (
        "meta_title_case_duplicate_headers.csv", "meta_ads", "facebook", "USD", 0, (3, 3, 0, 0),
        {"spend": 200, "impressions": 19000, "reach": 15500, "link_clicks": 240, "conversions": 15},
        {"Amount Spent (USD)": "spend", "Results": "conversions", "Reporting Starts": "date"},
    ),
    (
        "linkedin_title_lines.csv", "linkedin_ads", "linkedin", None, 5, (2, 2, 0, 0),
        {"spend": 1200, "impressions": 30000, "clicks": 300, "likes": 50, "comments": 10, "shares": 5,
         "new_followers": 5, "engagements": 370, "leads": 10, "conversions": 5},
        {"Start Date (in UTC)": "date", "Total Spent": "spend", "Reactions": "likes", "Follows": "new_followers",
         "Total Engagements": "engagements"},
    ),
    (
        "tiktok_header_row3.xlsx", "tiktok_ads", "tiktok", "USD", 2, (4, 3, 0, 1),
        {"spend": 36, "impressions": 3500, "link_clicks": 60, "clicks": 97, "conversions": 8, "video_views": 500},
        {"Cost": "spend", "Clicks (destination)": "link_clicks", "Clicks (all)": "clicks",
         "2-second video views": "video_views", "By Day": "date"},
    ),
    (
        "x_ads_total_row.csv", "x_ads", "x", None, 0, (4, 3, 0, 1),
        {"spend": 25, "impressions": 2300, "engagements": 100, "shares": 8, "comments": 5, "likes": 40,
         "new_followers": 3, "link_clicks": 22},
        {"Time": "date", "Retweets": "shares", "Replies": "comments", "Follows": "new_followers"},
    ),
    (
        "generic_windows1252.csv", "generic", None, "EUR", 0, (3, 3, 0, 0),
        {"spend": 2100, "impressions": 17000, "clicks": 450, "conversions": 21},
        {"Coût": "spend", "Canal": "platform", "Campagne": "campaign"},
    ),
    (
        "generic_day_first_semicolon.csv", "generic", None, None, 0, (4, 3, 0, 1),
        {"spend": 1500, "impressions": 18000, "clicks": 180, "leads": 8},
        {"channel": "platform", "cost": "spend"},
    ),
    (
        "generic_currency_symbols.csv", "generic", None, "USD", 0, (2, 2, 0, 0),
        {"spend": 1300, "revenue": 2500},
        {"cost": "spend", "revenue": "revenue"},
    ),
    (
        "generic_small.parquet", "generic", None, None, 0, (2, 2, 0, 0),
        {"spend": 20, "clicks": 30},
        {"Channel": "platform", "Spend": "spend"},
    ),
]


@pytest.mark.parametrize(
    "fixture, family, platform, currency, header_row, counts, expected, mapping", CASES, ids=[c[0] for c in CASES]
)
def test_export_family(fixture, family, platform, currency, header_row, counts, expected, mapping):
    result = load_fixture(fixture)
    report = result.report
    assert report.source_format == family
    assert report.platform == platform
    assert report.currency == currency
    assert report.header_row == header_row
    assert (report.rows_read, report.rows_loaded, report.rows_rejected, report.rows_excluded) == counts
    assert_counts_add_up(report)
    assert report.mapping.items() >= mapping.items()
    assert totals(result.frame, list(expected)) == pytest.approx(expected, abs=1e-9)
    # The frame is exactly the canonical table, with provenance.
    assert result.frame.schema == pl.Schema(schema.CANONICAL_SCHEMA)
    assert result.frame["source_file"].unique().to_list() == [fixture]


@pytest.mark.parametrize("fixture", [c[0] for c in CASES])
def test_report_is_json_ready(fixture):
    import json

    as_dict = load_fixture(fixture).report.to_dict()
    json.dumps(as_dict)
    assert {"name", "source_format", "rows_read", "rows_loaded", "rows_rejected", "issues", "mapping", "unmapped",
            "rejected"} <= as_dict.keys()
    for issue in as_dict["issues"]:
        assert set(issue) == {"code", "message", "severity"}
        assert issue["severity"] in ("info", "warning", "error")
        assert "\n" not in issue["message"] and issue["message"].endswith(".")


def test_derived_ratio_columns_are_never_measures():
    """Cost per result, Cost / conv., CPC, CPM, CTR are ratios: listed as unmapped, never spend/results/clicks."""
    for fixture, derived in [
        ("meta_ru_decimal_comma.csv", "Цена за результаты"),
        ("meta_de_semicolon.csv", "Kosten pro Ergebnis"),
        ("meta_fr.csv", "Coût par résultat"),
        ("meta_title_case_duplicate_headers.csv", "Cost per Result"),
        ("google_ads_utf16_preamble_totals.csv", "Cost / conv."),
        ("google_ads_utf16_preamble_totals.csv", "CTR"),
        ("google_ads_web_comma.csv", "Avg. CPC"),
        ("linkedin_title_lines.csv", "Average CPC"),
        ("tiktok_header_row3.xlsx", "CTR (destination)"),
        ("x_ads_total_row.csv", "Engagement rate"),
    ]:
        report = load_fixture(fixture).report
        assert derived not in report.mapping, fixture
        assert derived in report.unmapped, fixture
        assert "derived_columns_ignored" in {i.code for i in report.issues}


def test_google_ads_utf16_details():
    result = load_fixture("google_ads_utf16_preamble_totals.csv")
    report = result.report
    assert (report.encoding, report.delimiter, report.file_type) == ("utf-16-le", "\t", "tsv")
    assert {"preamble_skipped", "total_rows_excluded"} <= codes(result)
    # "--" is "not reported": null, never 0.
    brand_day2 = result.frame.filter(pl.col("date") == dt.date(2024, 1, 2))
    assert brand_day2["conversions"].to_list() == [None]
    assert brand_day2["revenue"].to_list() == [None]
    total_issue = next(i for i in report.issues if i.code == "total_rows_excluded")
    assert "7, 8" in total_issue.message  # the two Total: lines as a text editor numbers them


def test_meta_ru_audience_and_dates():
    frame = load_fixture("meta_ru_decimal_comma.csv").frame.sort("campaign", "date")
    assert frame["audience"].to_list() == ["female 25-34", "female 25-34", "male 35-44"]
    assert frame["date"].to_list() == [dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 1)]
    # Empty cells in Results stay null.
    assert frame.filter(pl.col("campaign") == "Лето")["conversions"].to_list() == [None]


def test_meta_title_case_duplicates_and_reporting_start():
    result = load_fixture("meta_title_case_duplicate_headers.csv")
    assert {"duplicate_header", "date_from_reporting_start"} <= codes(result)
    assert result.frame["date"].unique().to_list() == [dt.date(2024, 5, 1)]
    assert result.report.encoding == "utf-8-sig"


def test_tiktok_masked_cells_are_null_and_counted():
    result = load_fixture("tiktok_header_row3.xlsx")
    assert result.report.masked_cells == 3
    frame = result.frame.sort("date")
    assert frame["conversions"].to_list() == [None, 6, 2]
    assert frame["video_views"].to_list() == [400, None, 100]
    assert frame["date"].to_list() == [dt.date(2024, 2, 1), dt.date(2024, 2, 2), dt.date(2024, 2, 3)]


def test_generic_platforms_are_normalised():
    frame = load_fixture("generic_windows1252.csv").frame.sort("date")
    assert frame["platform"].to_list() == ["facebook", "instagram", "google_ads"]
    assert frame["campaign"].to_list() == ["Été 2024", "Été 2024", "Noël"]
    frame = load_fixture("generic_day_first_semicolon.csv").frame.sort("date")
    assert frame["platform"].to_list() == ["facebook", "facebook", "linkedin"]
    assert frame["date"].to_list() == [dt.date(2024, 2, 3), dt.date(2024, 2, 4), dt.date(2024, 2, 13)]
    frame = load_fixture("generic_small.parquet").frame.sort("date")
    assert frame["platform"].to_list() == ["youtube", "email"]


def test_engagements_computed_when_absent():
    # likes + comments + shares + saves + clicks of the row; null when every part is null.
    data = b"campaign,likes,comments,shares,clicks,spend\nA,1,2,,4,1\nB,,,,,2\n"
    frame = load(data, "parts.csv").frame.sort("campaign")
    assert frame["engagements"].to_list() == [7, None]


def test_exported_engagements_are_kept():
    frame = load_fixture("x_ads_total_row.csv").frame
    assert frame["engagements"].sum() == 100  # not likes + comments + shares + clicks


def test_load_path_matches_load(tmp_path):
    for fixture in ("google_ads_utf16_preamble_totals.csv", "meta_de_semicolon.csv", "tiktok_header_row3.xlsx",
                    "generic_small.parquet", "generic_windows1252.csv"):
        from_bytes = load_fixture(fixture)
        from_path = load_path(DATA / fixture)
        assert from_path.frame.sort(pl.all()).equals(from_bytes.frame.sort(pl.all())), fixture
        assert from_path.report.to_dict() == from_bytes.report.to_dict()


def test_classic_mac_line_endings():
    data = b"date,platform,spend,clicks\r2024-01-01,Facebook,1.5,2\r2024-01-02,TikTok Ads,2.5,3"
    result = load(data, "mac.csv")
    assert result.report.rows_loaded == 2
    assert totals(result.frame, ["spend", "clicks"]) == {"spend": 4.0, "clicks": 5.0}
    assert sorted(result.frame["platform"].to_list()) == ["facebook", "tiktok"]


@pytest.mark.parametrize(
    "cells, expected, ambiguous",
    [
        (["2024-03-01", "2024-03-15"], [dt.date(2024, 3, 1), dt.date(2024, 3, 15)], False),
        (["01.03.2024", "15.03.2024"], [dt.date(2024, 3, 1), dt.date(2024, 3, 15)], False),
        (["01.03.24", "15.03.24"], [dt.date(2024, 3, 1), dt.date(2024, 3, 15)], False),
        (["3/1/2024", "3/15/2024"], [dt.date(2024, 3, 1), dt.date(2024, 3, 15)], False),  # 15 forces month first
        (["01/03/2024", "02/03/2024"], [dt.date(2024, 3, 1), dt.date(2024, 3, 2)], True),  # generic: day first
        (['"Jan 5, 2024"', '"Feb 10, 2024"'], [dt.date(2024, 1, 5), dt.date(2024, 2, 10)], False),
        (["2024-03-01 00:00:00", "2024-03-15T13:45:00"], [dt.date(2024, 3, 1), dt.date(2024, 3, 15)], False),
    ],
)
def test_date_formats(cells, expected, ambiguous):
    data = ("date,spend\n" + "".join(f"{cell},1\n" for cell in cells)).encode()
    result = load(data, "dates.csv")
    assert result.frame.sort("date")["date"].to_list() == expected
    assert ("ambiguous_dates" in codes(result)) is ambiguous
