"""`python -m metrics report` as an automation sees it: JSON on stdout, exit codes 0/2/3, one sentence on stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metrics import ingest, kpis
from tests.conftest import DATA, REPO

X_ADS = DATA / "x_ads_total_row.csv"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def strict_json(text: str) -> dict:
    def refuse(constant):
        raise AssertionError(f"JSON contains {constant}")

    return json.loads(text, parse_constant=refuse)


def test_report_totals_and_rows_match_the_engine():
    result = run("report", str(X_ADS), "--by", "campaign")
    assert result.returncode == 0, result.stderr
    out = strict_json(result.stdout)
    [file] = out["files"]
    assert file["name"] == "x_ads_total_row.csv"
    assert file["source_format"] == "x_ads"
    assert (file["rows_read"], file["rows_loaded"], file["rows_rejected"]) == (4, 3, 0)
    # The "Total" row at the bottom is not counted.
    assert out["total"]["spend"] == pytest.approx(25.0)
    assert out["total"]["impressions"] == pytest.approx(2300.0)
    frame = ingest.load(X_ADS.read_bytes(), X_ADS.name).frame
    expected = kpis.summarize(frame, ["campaign"])
    assert [row["campaign"] for row in out["rows"]] == expected["campaign"].to_list()
    for row, want in zip(out["rows"], expected.iter_rows(named=True)):
        for name in ("spend", "impressions", "ctr", "cpm", "engagement_rate"):
            assert row[name] == (pytest.approx(want[name]) if want[name] is not None else None), name


def test_report_by_platform_and_date_with_date_range_and_platform_synonym():
    result = run("report", str(X_ADS), "--by", "platform,date", "--from", "2024-03-02", "--to", "2024-03-02",
                 "--platform", "Twitter")
    assert result.returncode == 0, result.stderr
    out = strict_json(result.stdout)
    assert [(r["platform"], r["date"]) for r in out["rows"]] == [("x", "2024-03-02")]
    assert out["total"]["spend"] == pytest.approx(8.0)
    assert out["total"]["ctr"] is None or out["total"]["ctr"] >= 0


def test_report_grain_week_and_comparison_keys():
    result = run("report", str(X_ADS), "--grain", "week", "--compare", "previous")
    assert result.returncode == 0, result.stderr
    out = strict_json(result.stdout)
    assert {"cpa_prev", "cpa_delta", "cpa_delta_rel", "spend_prev"} <= set(out["total"])
    assert [r["date"] for r in out["rows"]] == ["2024-02-26"]  # the Monday of that ISO week


def test_several_files_are_combined_with_their_reports():
    result = run("report", str(X_ADS), str(DATA / "meta_ru_decimal_comma.csv"), "--by", "platform")
    assert result.returncode == 0, result.stderr
    out = strict_json(result.stdout)
    assert [f["name"] for f in out["files"]] == ["x_ads_total_row.csv", "meta_ru_decimal_comma.csv"]
    assert {r["platform"] for r in out["rows"]} == {"x", "facebook"}


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["report", "missing.csv"], 3, "does not exist"),
        (["report", str(DATA / "generic_no_measures.csv")], 3, "no column recognised as a measure"),
        (["report", str(X_ADS), "--by", "spend"], 2, "Cannot group by spend"),
        (["report", str(X_ADS), "--from", "yesterday"], 2, "not a date"),
        (["report", str(X_ADS), "--from", "2024-03-05", "--to", "2024-03-01"], 2, "before"),
        (["report"], 2, "required"),
        (["nonsense"], 2, "invalid choice"),
    ],
)
def test_errors_are_one_plain_sentence_with_the_right_exit_code(args, code, phrase):
    result = run(*args)
    assert result.returncode == code
    assert result.stdout == ""
    message = result.stderr.strip()
    assert phrase in message
    assert "\n" not in message and "Traceback" not in message


def test_unreadable_binary_file_exits_3(tmp_path):
    junk = tmp_path / "export.csv"
    junk.write_bytes(bytes(range(256)) * 50)
    result = run("report", str(junk))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_a_saved_mapping_makes_an_unrecognised_file_readable(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"name": "campaign", "colour": "", "score": "conversions"}))
    result = run("report", str(DATA / "generic_no_measures.csv"), "--mapping", str(mapping), "--by", "campaign")
    assert result.returncode == 0, result.stderr
    out = strict_json(result.stdout)
    assert out["total"]["conversions"] == 7.0
    assert [(r["campaign"], r["conversions"]) for r in out["rows"]] == [("Alpha", 3.0), ("Beta", 4.0)]


def test_a_broken_mapping_file_is_a_usage_error(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{not json")
    result = run("report", str(X_ADS), "--mapping", str(mapping))
    assert result.returncode == 2 and "not valid JSON" in result.stderr


def test_table_format_is_for_people():
    result = run("report", str(X_ADS), "--by", "campaign", "--format", "table")
    assert result.returncode == 0, result.stderr
    assert "x_ads_total_row.csv: x_ads, 3 rows loaded" in result.stdout
    assert "Launch" in result.stdout and "spend" in result.stdout
