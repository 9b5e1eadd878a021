"""`python -m metrics report` as an automation sees it: JSON on stdout, exit codes 0/2/3, one sentence on stderr."""

from __future__ import annotations

import csv
import json
import math
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


# --- blended files: coverage, currencies, conversion (SPEC §2, §4, §6) ------------------------------

META = "meta-ads-manager-export/meta_ads_manager_export.csv"
SHEET = "multichannel-campaign-daily/marketing_campaign_dataset.csv"
SHEET_NAME = "marketing_campaign_dataset.csv"


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def independent_rows(datasets) -> list[dict]:
    """Both files read with the csv module, applying the loader's documented rules: a row with a negative
    measure is rejected; a Meta row's engagements are its clicks (no likes/comments/shares/saves columns)."""
    rows = []
    with open(datasets / META, encoding="utf-8-sig", newline="") as handle:
        for r in csv.DictReader(handle):
            clicks = _number(r["Clicks (all)"])
            rows.append({"file": "meta", "day": r["Day"], "platform": "facebook", "clicks": clicks,
                         "impressions": _number(r["Impressions"]), "reach": _number(r["Reach"]),
                         "engagements": clicks, "spend": _number(r["Amount spent (USD)"])})
    with open(datasets / SHEET, encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            values = {m: _number(r[m]) for m in ("impressions", "clicks", "leads", "conversions", "spend", "revenue")}
            if any(v is not None and v < 0 for v in values.values()):
                continue
            rows.append({"file": "sheet", "day": r["date"], "platform": r["channel"].lower().split()[0],
                         "reach": None, "engagements": values["clicks"], **values})
    return rows


def matched_ratio(rows: list[dict], numerator: str, denominator: str) -> tuple[float, float]:
    """(Σ numerator / Σ denominator over rows reporting both, share of rows reporting both)."""
    both = [r for r in rows if r.get(numerator) is not None and r.get(denominator) is not None]
    return (math.fsum(r[numerator] for r in both) / math.fsum(r[denominator] for r in both),
            len(both) / len(rows))


def blended(datasets, *args: str) -> dict:
    result = run("report", str(datasets / META), str(datasets / SHEET), *args)
    assert result.returncode == 0, result.stderr
    return strict_json(result.stdout)


@pytest.mark.datasets
def test_blended_exports_give_coverage_matched_rates_and_no_money_total(shared_datasets):
    rows = independent_rows(shared_datasets)
    out = blended(shared_datasets, "--by", "platform")
    total = out["total"]
    engagement_rate, engagement_coverage = matched_ratio(rows, "engagements", "reach")
    ctr, ctr_coverage = matched_ratio(rows, "clicks", "impressions")
    assert total["engagement_rate"] == pytest.approx(engagement_rate, abs=1e-9)
    assert total["engagement_rate"] < 1  # never engagements of both files over the reach of one (8,372 %)
    assert total["engagement_rate_coverage"] == pytest.approx(engagement_coverage, abs=1e-9)
    assert total["ctr"] == pytest.approx(ctr, abs=1e-9)
    assert total["ctr_coverage"] == pytest.approx(ctr_coverage, abs=1e-9)
    facebook = next(r for r in out["rows"] if r["platform"] == "facebook")
    fb_rows = [r for r in rows if r["platform"] == "facebook"]
    assert facebook["engagement_rate"] == pytest.approx(matched_ratio(fb_rows, "engagements", "reach")[0], abs=1e-9)
    # USD (the Meta header) and a sheet that never says its currency: no money total, a warning that says why.
    assert (total["currency"], total["spend"], total["cpc"], total["roas"]) == ("mixed", None, None, None)
    codes = {w["code"] for w in out["warnings"]}
    assert {"mixed_currency", "partial_coverage"} <= codes
    mixed = next(w["message"] for w in out["warnings"] if w["code"] == "mixed_currency")
    assert "USD (meta_ads_manager_export.csv)" in mixed and f"unknown ({SHEET_NAME})" in mixed
    assert f"--file-currency {SHEET_NAME}=CODE" in mixed
    # A platform only the sheet has carries the sheet's (unknown) currency: amounts without a code.
    email = next(r for r in out["rows"] if r["platform"] == "email")
    assert email["currency"] is None
    assert email["spend"] == pytest.approx(math.fsum(r["spend"] for r in rows if r["platform"] == "email"), rel=1e-12)


@pytest.mark.datasets
def test_file_currency_makes_the_money_total_whole(shared_datasets):
    rows = independent_rows(shared_datasets)
    out = blended(shared_datasets, "--file-currency", f"{SHEET_NAME}=usd")
    assert out["total"]["currency"] == "USD"
    assert out["total"]["spend"] == pytest.approx(math.fsum(r["spend"] for r in rows), rel=1e-12)
    assert "mixed_currency" not in {w["code"] for w in out["warnings"]}
    assert next(f for f in out["files"] if f["name"] == SHEET_NAME)["currency"] == "USD"


@pytest.mark.datasets
def test_rates_convert_each_row_at_its_days_rate(shared_datasets, tmp_path):
    rows = independent_rows(shared_datasets)
    rates = tmp_path / "rates.csv"
    # USD from 1 Dec 2024 (three Meta days before it have no rate), GBP at any date.
    rates.write_text("date,currency,rate\n2024-12-01,USD,0.95\n2024-12-03,USD,0.97\n2024-01-01,GBP,1.2\n")
    out = blended(shared_datasets, "--currency", "EUR", "--rates", str(rates),
                  "--file-currency", f"{SHEET_NAME}=GBP")

    def rate(row: dict) -> float | None:
        if row["file"] == "sheet":
            return 1.2
        return 0.97 if row["day"] >= "2024-12-03" else 0.95 if row["day"] >= "2024-12-01" else None

    converted = [r["spend"] * rate(r) for r in rows if r["spend"] is not None and rate(r) is not None]
    assert out["total"]["currency"] == "EUR"
    assert out["total"]["spend"] == pytest.approx(math.fsum(converted), rel=1e-12)
    missing = [w["message"] for w in out["warnings"] if w["code"] == "missing_rate"]
    early = sum(1 for r in rows if r["file"] == "meta" and r["day"] < "2024-12-01")
    assert missing == [(f"{early:,} row(s) in USD from 2024-11-28 to 2024-11-30 have no rate into EUR, so their "
                        "spend and revenue are left out; add a rate for USD.")]
    assert out["conversion"]["reporting"] == "EUR"


def test_currency_from_a_header_suffix_and_its_conversion(tmp_path):
    export = tmp_path / "meta_eur.csv"
    export.write_text("Campaign name,Day,Amount spent (EUR),Impressions,Clicks (all)\n"
                      "Winter,2026-01-05,10.50,1000,20\nWinter,2026-01-06,4.50,500,5\n", encoding="utf-8")
    plain = strict_json(run("report", str(export)).stdout)
    assert (plain["total"]["currency"], plain["total"]["spend"]) == ("EUR", 15.0)
    assert plain["warnings"] == []
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,1.1\n")
    converted = strict_json(run("report", str(export), "--currency", "USD", "--rates", str(rates)).stdout)
    assert (converted["total"]["currency"], converted["total"]["spend"]) == ("USD", pytest.approx(16.5, abs=1e-9))
    assert converted["total"]["cpc"] == pytest.approx(16.5 / 25, abs=1e-9)


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--file-currency", "nope.csv=USD"], "not one of the files given"),
        (["--file-currency", "x_ads_total_row.csv=dollars"], "not a three-letter currency code"),
        (["--file-currency", "USD"], "is not NAME=CODE"),
        (["--currency", "EUR", "--rates", "missing_rates.csv"], "does not exist"),
        (["--rates", "rates.csv"], "--rates needs --currency"),
        (["--currency", "euro"], "not a three-letter currency code"),
    ],
)
def test_currency_flags_refuse_bad_input_with_one_sentence(args, phrase):
    result = run("report", str(X_ADS), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert phrase in result.stderr and result.stderr.strip().count("\n") == 0


def test_a_bad_rates_file_names_the_line(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,1.1\nGBP,zero\n")
    result = run("report", str(X_ADS), "--currency", "USD", "--rates", str(rates))
    assert result.returncode == 2
    assert "Line 3 of the rates file rates.csv" in result.stderr and "Traceback" not in result.stderr
