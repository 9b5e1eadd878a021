"""User mappings, several files at once, and double counting."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import polars as pl
import pytest

from metrics import schema
from metrics.ingest import CombinedLoad, UnreadableFileError, load, load_many

DATA = Path(__file__).resolve().parents[1] / "data"


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_user_mapping_overrides_the_automatic_one():
    automatic = load(fixture_bytes("google_ads_utf16_preamble_totals.csv"), "g.csv")
    assert automatic.report.mapping["Conversions"] == "conversions"
    mapped = load(fixture_bytes("google_ads_utf16_preamble_totals.csv"), "g.csv",
                  {"Conversions": "leads", "Clicks": "", "CTR": ""})
    report, frame = mapped.report, mapped.frame
    assert report.mapping["Conversions"] == "leads"
    assert "Clicks" not in report.mapping and "Clicks" in report.unmapped
    assert frame["leads"].sum() == 4
    assert frame["conversions"].null_count() == frame.height
    assert frame["clicks"].null_count() == frame.height
    # Everything else the family recognised still applies.
    assert report.mapping["Cost"] == "spend" and frame["spend"].sum() == pytest.approx(1345.06)


def test_user_mapping_can_swap_an_ambiguous_choice():
    data = fixture_bytes("meta_title_case_duplicate_headers.csv")
    result = load(data, "meta.csv", {"Reporting Ends": "date", "Reporting Starts": ""})
    assert result.report.mapping["Reporting Ends"] == "date"
    assert result.frame["date"].unique().to_list()[0].isoformat() == "2024-05-31"


def test_no_measures_unreadable_without_mapping_readable_with_one():
    data = fixture_bytes("generic_no_measures.csv")
    with pytest.raises(UnreadableFileError):
        load(data, "scores.csv")
    result = load(data, "scores.csv", {"score": "clicks", "name": "campaign", "colour": ""})
    assert result.report.mapping == {"name": "campaign", "score": "clicks"}
    assert result.frame["clicks"].sum() == 7
    assert sorted(result.frame["campaign"].to_list()) == ["Alpha", "Beta"]


def test_mapping_keys_match_headers_loosely_and_unknown_targets_are_reported():
    data = b"Nombre;Gasto total;Zona\nA;1,5;N\nB;2,5;S\n"
    result = load(data, "es.csv", {"nombre": "campaign", "GASTO TOTAL": "spend", "Zona": "territory"})
    assert result.report.mapping == {"Nombre": "campaign", "Gasto total": "spend"}
    assert result.frame["spend"].sum() == pytest.approx(4.0)
    assert "unknown_mapping_target" in {i.code for i in result.report.issues}


def test_load_many_concatenates_with_source_file():
    files = [
        ("google.csv", fixture_bytes("google_ads_utf16_preamble_totals.csv")),
        ("x.csv", fixture_bytes("x_ads_total_row.csv")),
        ("tiktok.xlsx", fixture_bytes("tiktok_header_row3.xlsx")),
        ("broken.xlsx", b"\x89PNG\r\n\x1a\nnot a workbook"),
    ]
    combined = load_many(files)
    assert isinstance(combined, CombinedLoad)
    assert combined.frame.schema == pl.Schema(schema.CANONICAL_SCHEMA)
    assert [r.name for r in combined.reports] == ["google.csv", "x.csv", "tiktok.xlsx"]
    assert list(combined.errors) == ["broken.xlsx"]
    assert combined.errors["broken.xlsx"].endswith(".")
    per_file = combined.frame.group_by("source_file").agg(pl.len(), pl.col("spend").sum()).sort("source_file")
    assert per_file.rows() == [("google.csv", 3, pytest.approx(1345.06)), ("tiktok.xlsx", 3, 36.0),
                               ("x.csv", 3, 25.0)]
    by_platform = combined.frame.group_by("platform").agg(pl.col("spend").sum()).sort("platform")
    assert by_platform["platform"].to_list() == ["google_ads", "tiktok", "x"]


def test_load_many_with_mappings_per_file():
    combined = load_many(
        [("scores.csv", fixture_bytes("generic_no_measures.csv")), ("x.csv", fixture_bytes("x_ads_total_row.csv"))],
        mappings={"scores.csv": {"score": "clicks"}},
    )
    assert not combined.errors
    assert combined.frame.filter(pl.col("source_file") == "scores.csv")["clicks"].sum() == 7


def test_double_counting_within_a_file_is_excluded_and_reported():
    result = load(fixture_bytes("generic_double_counting.csv"), "dc.csv")
    report = result.report
    assert (report.rows_read, report.rows_loaded, report.rows_excluded) == (5, 3, 2)
    assert result.frame["spend"].sum() == 35
    issue = next(i for i in report.issues if i.code == "double_counting")
    assert issue.severity == "warning" and "4, 6" in issue.message


def test_undated_row_that_does_not_match_is_kept():
    data = b"date,campaign,spend\n2024-01-01,A,10\n2024-01-02,A,20\n,A,7\n"
    result = load(data, "keep.csv")
    assert result.report.rows_loaded == 3 and result.frame["spend"].sum() == 37
    assert "double_counting" not in {i.code for i in result.report.issues}


def test_same_file_twice_is_counted_once():
    data = fixture_bytes("x_ads_total_row.csv")
    combined = load_many([("a.csv", data), ("copy of a.csv", data)])
    assert combined.frame["spend"].sum() == 25
    assert [i.code for i in combined.issues] == ["duplicate_file"]


def test_overlapping_files_are_reported():
    a = b"date,platform,campaign,spend\n2024-01-01,facebook,A,10\n2024-01-02,facebook,A,20\n"
    b = b"date,platform,campaign,spend\n2024-01-02,Facebook Ads,A,20\n2024-01-03,facebook,A,5\n"
    combined = load_many([("jan-a.csv", a), ("jan-b.csv", b)])
    assert combined.frame.height == 4
    issue = next(i for i in combined.issues if i.code == "possible_double_counting")
    assert "1 row(s) of jan-b.csv" in issue.message and "jan-a.csv" in issue.message


def test_a_report_shared_by_sessions_cannot_be_changed_by_one_of_them():
    # Load results live in caches shared by every session: one page editing its copy would change everyone's.
    data = fixture_bytes("google_ads_utf16_preamble_totals.csv")
    combined = load_many([("g.csv", data), ("broken.csv", b"")])
    report = combined.reports[0]
    before = json.dumps(combined.to_dict(), sort_keys=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.rows_loaded = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.mapping["Clicks"] = "spend"  # type: ignore[index]
    with pytest.raises(AttributeError):
        report.issues.append(report.issues[0])  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        combined.errors["other.csv"] = "x"  # type: ignore[index]
    assert json.dumps(combined.to_dict(), sort_keys=True) == before
    # Still copyable and picklable (a cache or a test may need either), and equal to itself after.
    assert pickle.loads(pickle.dumps(report)) == report == copy.deepcopy(report)
    edited = dict(report.mapping) | {"Clicks": "spend"}  # a caller changes a copy
    assert edited["Clicks"] == "spend" and report.mapping["Clicks"] == "clicks"


def test_load_many_of_nothing():
    combined = load_many([])
    assert combined.frame.is_empty() and combined.frame.schema == pl.Schema(schema.CANONICAL_SCHEMA)
    assert combined.reports == () and combined.errors == {}


def test_load_many_keeps_per_file_double_counting_exclusions():
    combined = load_many([("dc.csv", fixture_bytes("generic_double_counting.csv")),
                          ("x.csv", fixture_bytes("x_ads_total_row.csv"))])
    report = next(r for r in combined.reports if r.name == "dc.csv")
    assert "double_counting" in {i.code for i in report.issues}
    assert combined.frame.filter(pl.col("source_file") == "dc.csv")["spend"].sum() == 35
    assert combined.frame["spend"].sum() == 35 + 25
