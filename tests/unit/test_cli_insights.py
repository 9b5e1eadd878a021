"""`python -m metrics insights` on generated data with known causes: the CLI names the driver, flags the spike
(and only it) and projects the overspend. Expected numbers are computed here from the CSV with the csv module."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from metrics.cli import main
from tests.conftest import REPO

FIRST = date(2024, 1, 1)
LAST = date(2024, 3, 20)
RANGE_FROM = date(2024, 2, 22)  # 28 days to 20 March; the previous period is 25 January – 21 February
SPIKE = date(2024, 3, 12)
WEEKDAY = (1.0, 1.05, 1.1, 1.08, 1.0, 0.8, 0.75)
# platform: (CPM, CTR, conversion rate, AOV)
PLATFORMS = {"Facebook Ads": (10.0, 0.012, 0.05, 60.0), "Google Ads": (14.0, 0.02, 0.04, 80.0)}


def write_export(path: Path) -> None:
    """Two platforms, a weekday pattern and 2-3 % noise. Known causes: Facebook's CPM is 25 % higher from the
    start of the range; on 12 March Google's spend triples (a runaway bid) with the same impressions."""
    rng = np.random.default_rng(42)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Date", "Platform", "Campaign", "Impressions", "Clicks", "Conversions", "Spend",
                         "Revenue"])
        day = FIRST
        while day <= LAST:
            for platform, (cpm, ctr, cvr, aov) in PLATFORMS.items():
                impressions = 100_000 * WEEKDAY[day.weekday()] * (1 + 0.03 * rng.standard_normal())
                clicks = impressions * ctr * (1 + 0.02 * rng.standard_normal())
                conversions = clicks * cvr * (1 + 0.02 * rng.standard_normal())
                price = cpm * (1.25 if platform == "Facebook Ads" and day >= RANGE_FROM else 1.0)
                spend = impressions / 1000 * price * (1 + 0.02 * rng.standard_normal())
                if platform == "Google Ads" and day == SPIKE:
                    spend *= 3
                writer.writerow([day.isoformat(), platform, f"{platform} always on", round(impressions),
                                 round(clicks, 2), round(conversions, 2), round(spend, 2),
                                 round(conversions * aov, 2)])
            day += timedelta(days=1)


def spend_by_platform_and_day(path: Path) -> dict[str, dict[date, float]]:
    out: dict[str, dict[date, float]] = defaultdict(dict)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            out[row["Platform"]][date.fromisoformat(row["Date"])] = float(row["Spend"])
    return out


def projected_march(spend: dict[date, float]) -> float:
    """Spend 1–20 March + the mean of 14–20 March × the 11 days left (the documented pacing rule)."""
    to_date = sum(v for d, v in spend.items() if d >= date(2024, 3, 1))
    run_rate = sum(spend[LAST - timedelta(days=i)] for i in range(7)) / 7
    return to_date + run_rate * 11


@pytest.fixture(scope="module")
def acceptance(tmp_path_factory):
    folder = tmp_path_factory.mktemp("insights")
    export = folder / "ads.csv"
    write_export(export)
    spend = spend_by_platform_and_day(export)
    facebook, google = projected_march(spend["Facebook Ads"]), projected_march(spend["Google Ads"])
    budgets = folder / "budgets.csv"
    # Facebook's budget is 25 % below where it is heading; Google's matches its projection.
    budgets.write_text(f"month,platform,amount,currency\n2024-03,Facebook,{facebook * 0.75:.2f},\n"
                       f"2024-03,Google Ads,{google:.2f},\n2024-03,Snapchat,100,\n")
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "insights", str(export), "--from", RANGE_FROM.isoformat(), "--to",
         LAST.isoformat(), "--compare", "previous", "--budgets", str(budgets), "--holidays", "US"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), {"facebook": facebook, "google_ads": google}


def test_the_cli_names_cpm_on_facebook_as_the_driver_of_cpa(acceptance):
    out, _ = acceptance
    assert set(out) >= {"drivers", "anomalies", "pacing", "forecast", "warnings"}
    assert out["period"] == {"from": "2024-02-22", "to": "2024-03-20"}
    assert out["previous_period"] == {"from": "2024-01-25", "to": "2024-02-21"}
    cpa = next(d for d in out["drivers"] if d["kpi"] == "cpa")
    assert cpa["change_rel"] > 0.05 and cpa["top_factor"] == "cpm"
    assert cpa["mix"]["top_platform"] == "facebook"
    facebook = next(p for p in cpa["platforms"] if p["platform"] == "facebook")
    assert facebook["top_factor"] == "cpm"
    assert facebook["factors"][0]["factor"] == "cpm" and facebook["factors"][0]["change_rel"] == pytest.approx(0.25,
                                                                                                               abs=0.02)
    assert "The largest part came from Facebook" in cpa["sentence"] and "its CPM +2" in cpa["sentence"]
    # The parts add up: factors to the KPI's log change, mix + own to the same.
    assert sum(f["effect_log"] for f in cpa["factors"]) == pytest.approx(cpa["change_log"], abs=1e-12)
    assert cpa["mix"]["mix_effect_log"] + cpa["mix"]["own_effect_log"] == pytest.approx(cpa["change_log"],
                                                                                         abs=1e-12)
    assert {d["kpi"] for d in out["drivers"]} == {"cpa", "roas", "cpc"}  # no leads in the data: no CPL


def test_the_cli_flags_the_spike_and_only_it(acceptance):
    out, _ = acceptance
    assert out["anomalies"], "the spike was not flagged"
    assert {a["date"] for a in out["anomalies"]} == {SPIKE.isoformat()}
    flagged = {a["metric"]: a for a in out["anomalies"]}
    assert {"spend", "cpm", "cpc", "cpa"} <= set(flagged)
    assert flagged["spend"]["direction"] == "above" and flagged["spend"]["value"] > flagged["spend"]["upper"]
    assert flagged["spend"]["notes"] == []  # 12 March is no US public holiday
    assert not [w for w in out["warnings"] if w["code"] == "anomalies_not_judged"]


def test_the_cli_projects_the_overspend(acceptance):
    out, projected = acceptance
    by_platform = {row["scope_value"]: row for row in out["pacing"]}
    facebook, google, snapchat = by_platform["facebook"], by_platform["google_ads"], by_platform["snapchat"]
    assert facebook["as_of"] == "2024-03-20" and facebook["days_left"] == 11
    assert facebook["projected"] == pytest.approx(projected["facebook"], rel=1e-9)
    assert facebook["projected"] > facebook["amount"]
    assert facebook["projected_vs_budget"] == pytest.approx(1 / 0.75 - 1, abs=1e-4)
    assert facebook["status"] == "far_over"
    assert google["projected"] == pytest.approx(projected["google_ads"], rel=1e-9)
    assert google["status"] == "on_pace"
    assert snapchat["status"] == "no_data" and "check the name" in snapchat["note"]


def test_the_cli_forecasts_to_month_end_and_lists_holidays(acceptance):
    out, _ = acceptance
    forecast = {f["metric"]: f for f in out["forecast"]}
    assert set(forecast) == {"spend", "conversions", "revenue"}
    spend = forecast["spend"]
    assert spend["period"] == {"from": "2024-03-01", "to": "2024-03-31"} and spend["days_left"] == 11
    assert spend["lower"] <= spend["projected"] <= spend["upper"]
    assert spend["actual_to_date"] < spend["projected"]
    assert [(a["date"], a["text"]) for a in out["annotations"]] == []  # no US federal holiday 22 Feb – 20 Mar


@pytest.mark.parametrize(
    ("extra", "code", "phrase"),
    [
        (["--from", "2024-03-10", "--to", "2024-03-01"], 2, "The --to date is before the --from date."),
        (["--holidays", "XX"], 2, "'XX' is not a country code"),
        (["--budgets", "missing.csv"], 3, "The budget sheet missing.csv does not exist"),
        (["--sensitivity", "extreme"], 2, "invalid choice"),
    ],
)
def test_usage_and_input_errors_are_one_sentence(tmp_path, capsys, extra, code, phrase):
    export = tmp_path / "ads.csv"
    export.write_text("Date,Platform,Spend,Impressions\n2024-03-01,Facebook,10,1000\n")
    assert main(["insights", str(export), *extra]) == code
    captured = capsys.readouterr()
    assert phrase in captured.err and captured.err.count("\n") == 1 and captured.out == ""


def test_an_unusable_budget_sheet_exits_3(tmp_path, capsys):
    export = tmp_path / "ads.csv"
    export.write_text("Date,Platform,Spend,Impressions\n2024-03-01,Facebook,10,1000\n")
    sheet = tmp_path / "budgets.csv"
    sheet.write_text("platform,amount\nfacebook,10\n")
    assert main(["insights", str(export), "--budgets", str(sheet)]) == 3
    assert "budgets.csv has no month column" in capsys.readouterr().err


def test_a_tiny_file_gives_warnings_not_errors(tmp_path, capsys):
    export = tmp_path / "ads.csv"
    export.write_text("Date,Platform,Spend,Impressions,Clicks,Conversions\n"
                      "2024-03-01,Facebook,10,1000,20,2\n2024-03-02,Facebook,12,1100,21,2\n")
    assert main(["insights", str(export)]) == 0
    out = json.loads(capsys.readouterr().out)
    codes = {w["code"] for w in out["warnings"]}
    assert {"not_decomposed", "anomalies_not_judged", "no_forecast"} <= codes
    assert out["anomalies"] == [] and out["pacing"] == []
    # The default range is the 28 days to the last day (4 February – 2 March); before it, 7 January – 3 February.
    assert out["drivers"][0]["reason"] == ("There is no data for the previous 28 days (7 Jan – 3 Feb 2024) to "
                                           "compare with.")


def test_report_still_does_not_import_statsmodels():
    code = ("import sys; from metrics.cli import main; "
            f"main(['report', {str(REPO / 'tests' / 'data' / 'x_ads_total_row.csv')!r}]); "
            "sys.stderr.write(str('statsmodels' in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.stderr.strip().endswith("False")
