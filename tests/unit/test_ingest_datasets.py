"""The real public activity files in ../shared/datasets (never copied into this repository).

Activity data = rows of marketing activity with additive measures. Chosen: both Kaggle Facebook
conversion files, the Meta Ads Manager export, the multichannel daily file, the campaign
performance subset and the digital-marketing conversion file (customer rows, but each carries
ad spend, shares and a conversion, so its sums are meaningful). The pure A/B user-level files
(udacity, cookie cats, marketing A/B, fast-food) are for the A/B engine, not the loader.

Each total is checked against an independent reading with Python's csv module (not polars),
applying the loader's documented rule: a row with a negative or non-numeric measure is rejected.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import polars as pl
import pytest

from metrics import schema
from metrics.ingest import load

# file, expected source_format, expected platforms, {source header: canonical measure}
ACTIVITY_FILES = [
    ("fb-ads-kag-conversion/KAG_conversion_data.csv", "generic", {"facebook"},
     {"Impressions": "impressions", "Clicks": "clicks", "Spent": "spend", "Total_Conversion": "conversions"}),
    ("fb-ads-kag-conversion/KAG_conversion_data__bom_crlf.csv", "generic", {"facebook"},
     {"Impressions": "impressions", "Clicks": "clicks", "Spent": "spend", "Total_Conversion": "conversions"}),
    ("meta-ads-manager-export/meta_ads_manager_export.csv", "meta_ads", {"facebook"},
     {"Amount spent (USD)": "spend", "Impressions": "impressions", "Reach": "reach", "Link clicks": "link_clicks",
      "Clicks (all)": "clicks"}),
    ("multichannel-campaign-daily/marketing_campaign_dataset.csv", "generic",
     {"facebook", "google_ads", "instagram", "tiktok", "youtube", "linkedin", "email", "affiliate"},
     {"impressions": "impressions", "clicks": "clicks", "leads": "leads", "conversions": "conversions",
      "spend": "spend", "revenue": "revenue"}),
    ("marketing-campaign-performance/marketing_campaign_dataset_subset.csv", "generic",
     {"email", "instagram", "youtube", "facebook", "google_ads", "website"},
     {"Acquisition_Cost": "spend", "Clicks": "clicks", "Impressions": "impressions"}),
    ("digital-marketing-conversion/digital_marketing_campaign_dataset.csv", "generic",
     {"affiliate", "google_ads", "email", "seo", "social_media"},
     {"AdSpend": "spend", "SocialShares": "shares", "Conversion": "conversions"}),
]


def independent_totals(path: Path, measures: dict[str, str]) -> tuple[int, int, dict[str, float]]:
    """(data rows, rows rejected, sums) with the csv module: BOM stripped, any line ending."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], [r for r in rows[1:] if any(cell.strip() for cell in r)]
    positions = {canonical: header.index(source) for source, canonical in measures.items()}
    sums = {canonical: 0.0 for canonical in positions}
    rejected = 0
    for row in body:
        values = {}
        for canonical, position in positions.items():
            cell = row[position].strip()
            if cell:
                values[canonical] = float(cell)
        if any(v < 0 or not math.isfinite(v) for v in values.values()):
            rejected += 1
            continue
        for canonical, value in values.items():
            sums[canonical] += value
    return len(body), rejected, sums


@pytest.mark.parametrize("relative, family, platforms, measures", ACTIVITY_FILES, ids=[f[0] for f in ACTIVITY_FILES])
def test_activity_file_loads_with_exact_totals(shared_datasets, relative, family, platforms, measures):
    path = shared_datasets / relative
    result = load(path.read_bytes(), path.name)
    report, frame = result.report, result.frame

    assert report.source_format == family
    assert frame.schema == pl.Schema(schema.CANONICAL_SCHEMA)
    assert set(frame["platform"].drop_nulls().unique().to_list()) == platforms
    assert frame["platform"].null_count() == 0
    assert report.mapping.items() >= measures.items()

    rows, rejected, sums = independent_totals(path, measures)
    assert report.rows_read == rows
    assert report.rows_rejected == rejected
    assert report.rows_loaded == rows - rejected - report.rows_excluded
    assert report.rows_excluded == 0
    for canonical, expected in sums.items():
        assert frame[canonical].sum() == pytest.approx(expected, rel=1e-12, abs=1e-6), canonical


def test_meta_export_details(shared_datasets):
    path = shared_datasets / "meta-ads-manager-export" / "meta_ads_manager_export.csv"
    result = load(path.read_bytes(), path.name)
    frame, report = result.frame, result.report
    assert report.currency == "USD"
    assert frame["spend"].sum() == pytest.approx(268.15)
    assert frame["date"].min().isoformat() == "2024-11-28"
    assert frame["date"].max().isoformat() == "2024-12-04"
    assert frame["ad_group"].n_unique() == 4
    assert frame["ad"].n_unique() == 15
    assert {"female 18-24", "male 65+"} <= set(frame["audience"].unique().to_list())
    # Ratio columns are listed, not used; the duplicated "Objective" header is reported.
    assert {"Cost per result", "CPM (cost per 1,000 impressions)", "CTR (all)"} <= set(report.unmapped)
    assert "duplicate_header" in {i.code for i in report.issues}


def test_meta_results_of_type_link_clicks_are_not_conversions(shared_datasets):
    """Result type is "Link clicks": the export's 949 Results are link clicks, held by its own Link clicks column."""
    path = shared_datasets / "meta-ads-manager-export" / "meta_ads_manager_export.csv"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    types = {row["Result type"] for row in rows if row["Results"].strip()}
    results = sum(float(row["Results"]) for row in rows if row["Results"].strip())
    link_clicks = sum(float(row["Link clicks"]) for row in rows if row["Link clicks"].strip())
    assert types == {"Link clicks"} and results == 949

    result = load(path.read_bytes(), path.name)
    frame, report = result.frame, result.report
    assert frame["conversions"].null_count() == frame.height  # not 949 conversions at a $0.28 CPA
    assert frame["link_clicks"].sum() == pytest.approx(link_clicks)  # the explicit column, not doubled
    assert report.mapping["Results"] == "results" and report.mapping["Result type"] == "result_type"
    explained = next(i for i in report.issues if i.code == "results_explicit_column")
    assert "'Link clicks' (949)" in explained.message


def test_multichannel_negative_spend_rows_are_rejected_with_lines(shared_datasets):
    path = shared_datasets / "multichannel-campaign-daily" / "marketing_campaign_dataset.csv"
    report = load(path.read_bytes(), path.name).report
    assert report.rows_rejected > 0
    lines = path.read_bytes().decode().split("\r\n")
    for rejected in report.rejected:
        text = lines[rejected.line - 1]
        assert "-" in text.split(",", 7)[-1], (rejected.line, text)  # a negative number after the dimensions
        assert rejected.reason.endswith(".") and "negative" in rejected.reason


def test_kag_files_are_the_same_data(shared_datasets):
    folder = shared_datasets / "fb-ads-kag-conversion"
    a = load((folder / "KAG_conversion_data.csv").read_bytes(), "a.csv").frame.drop("source_file")
    b = load((folder / "KAG_conversion_data__bom_crlf.csv").read_bytes(), "a.csv").frame.drop("source_file")
    assert a.sort(pl.all()).equals(b.sort(pl.all()))
