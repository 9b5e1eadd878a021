"""`python -m metrics abtest|samplesize`: JSON on stdout, exit codes 0/2/3, one sentence on stderr; results on the
shared real datasets equal an independent computation with pandas + scipy/statsmodels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from metrics.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def run_inprocess(capsys, *args: str) -> tuple[int, dict | str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.lstrip().startswith("{") else out), err


def assert_one_sentence(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and lines[0].endswith(".")


# ----------------------------------------------------------------------------------------------------------------
# Exit codes through a real subprocess
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture
def ab_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ab.csv"
    rows = ["user,group,converted"] + [f"{i},{'A' if i % 2 else 'B'},{int(i % 7 == 0)}" for i in range(2000)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_subprocess_success_prints_json(ab_csv):
    proc = run_cli("abtest", ab_csv, "--variant", "group", "--converted", "converted")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["control"] == "A" and out["metric_kind"] == "proportion"
    assert [v["n"] for v in out["variants"]] == [1000, 1000]


def test_subprocess_usage_error_exit_2(ab_csv):
    proc = run_cli("abtest", ab_csv, "--variant", "grp", "--converted", "converted")
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_sentence(proc.stderr)
    assert "'grp'" in proc.stderr and "'group'" in proc.stderr


def test_subprocess_unreadable_input_exit_3(tmp_path):
    proc = run_cli("abtest", tmp_path / "missing.csv", "--variant", "g", "--converted", "c")
    assert proc.returncode == 3 and proc.stdout == ""
    assert_one_sentence(proc.stderr)


def test_subprocess_samplesize():
    proc = run_cli("samplesize", "--baseline", "0.10", "--mde", "0.02", "--daily-traffic", "1000")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"per_variant": 3841, "total": 7682, "days": 8}
    bad = run_cli("samplesize", "--baseline", "0.10", "--mde", "0")
    assert bad.returncode == 2
    assert_one_sentence(bad.stderr)


# ----------------------------------------------------------------------------------------------------------------
# Usage errors and input shapes (in-process: same main(), faster)
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [
    [],                                                       # no metric shape
    ["--converted", "converted", "--value", "converted"],      # two shapes
    ["--successes", "converted"],                              # half of a shape
    ["--converted", "converted", "--tuning", "100"],           # tuning without --sequential
    ["--converted", "converted", "--alpha", "1.5"],
    ["--converted", "converted", "--expected-split", "50,30,20"],
    ["--converted", "converted", "--expected-split", "fifty"],
    ["--converted", "converted", "--correction", "bonferroni"],
    ["--value", "group"],                                      # text labels as a value: all unreadable
])
def test_usage_errors_exit_2(capsys, ab_csv, extra):
    code, _, err = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", *extra)
    if extra == ["--value", "group"]:
        assert code == 0  # every value unreadable: a result with warnings, not a crash
        return
    assert code == 2, err
    assert_one_sentence(err)


def test_non_binary_converted_column_is_a_usage_error(capsys, ab_csv):
    code, _, err = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", "--converted", "user")
    assert code == 2 and "--value" in err


@pytest.mark.parametrize("content, name", [(b"", "empty.csv"), (b"PK\x03\x04garbage", "broken.xlsx"),
                                           (b"not parquet", "x.parquet")])
def test_unreadable_files_exit_3(capsys, tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = run_inprocess(capsys, "abtest", path, "--variant", "g", "--converted", "c")
    assert code == 3, err
    assert_one_sentence(err)


def test_control_missing_is_a_warning(capsys, ab_csv):
    code, out, _ = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", "--converted", "converted",
                                 "--control", "Z")
    assert code == 0 and out["comparisons"] == []
    assert [w["code"] for w in out["warnings"]] == ["control_missing"]


def test_control_name_case_is_forgiven(capsys, ab_csv):
    code, out, _ = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", "--converted", "converted",
                                 "--control", "b")
    assert code == 0 and out["control"] == "B"


def test_aggregated_semicolon_bom_csv(capsys, tmp_path):
    path = tmp_path / "campaign.csv"
    text = "date;variant;clicks;conversions\n2024-01-01;A;5000;500\n2024-01-02;A;5000;500\n" \
           "2024-01-01;B;5000;575\n2024-01-02;B;5000;575\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "variant", "--trials", "clicks",
                                   "--successes", "conversions")
    assert code == 0, err
    c = out["comparisons"][0]
    assert c["p_value"] == pytest.approx(0.00061645, abs=5e-9) and c["ci_rel"] == pytest.approx([0.05790, 0.24210],
                                                                                                   abs=5e-6)


def test_summary_statistics_xlsx_and_parquet(capsys, tmp_path):
    frame = pl.DataFrame({"arm": ["A", "B"], "users": [3407, 3461], "avg": [0.41, 0.70], "std": [3.9, 6.2]})
    frame.write_excel(tmp_path / "summary.xlsx")
    frame.write_parquet(tmp_path / "summary.parquet")
    for name in ("summary.xlsx", "summary.parquet"):
        code, out, err = run_inprocess(capsys, "abtest", tmp_path / name, "--variant", "arm", "--n", "users",
                                       "--mean", "avg", "--sd", "std")
        assert code == 0, err
        c = out["comparisons"][0]
        assert out["metric_kind"] == "mean"
        assert c["lift_abs"] == pytest.approx(0.29) and c["p_value"] == pytest.approx(0.02016, abs=5e-6)


def test_sequential_and_table_format(capsys, ab_csv):
    code, out, _ = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", "--converted", "converted",
                                 "--sequential", "--tuning", "2000")
    assert code == 0 and out["sequential"] is True
    code, text, _ = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", "--converted", "converted",
                                  "--format", "table")
    assert code == 0 and "verdicts" in text and "B" in text


def test_cli_defaults_match_engine_and_import_lazily():
    from metrics import abtest, cli_abtest

    assert (cli_abtest.DEFAULT_ALPHA, cli_abtest.DEFAULT_TUNING) == (abtest.DEFAULT_ALPHA, abtest.DEFAULT_TUNING)
    # registering the commands must not import the statistics stack (it slows every other command)
    code = "import sys, metrics.cli; metrics.cli.build_parser(); print('statsmodels' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr


def test_samplesize_options(capsys):
    code, out, _ = run_inprocess(capsys, "samplesize", "--baseline", "10%", "--mde", "20%", "--relative")
    assert code == 0 and out == {"per_variant": 3841, "total": 7682}
    code, out, _ = run_inprocess(capsys, "samplesize", "--baseline", "0.1", "--mde", "0.02", "--variants", "3")
    assert out == {"per_variant": 4652, "total": 13956}
    code, _, err = run_inprocess(capsys, "samplesize", "--baseline", "10", "--mde", "0.02")
    assert code == 2 and "percent" in err


# ----------------------------------------------------------------------------------------------------------------
# Real datasets: CLI result == independent pandas + scipy/statsmodels computation
# ----------------------------------------------------------------------------------------------------------------


def check_proportions(out: dict, df: pd.DataFrame, variant: str, outcome: str, control: str) -> None:
    y = df[outcome].astype(str).str.lower().map({"1": 1, "0": 0, "true": 1, "false": 0})
    counts = df.assign(_y=y).groupby(df[variant].astype(str))["_y"].agg(["count", "sum"])
    treatment = next(name for name in counts.index if name != control)
    (nc, xc), (nt, xt) = counts.loc[control], counts.loc[treatment]
    assert out["control"] == control
    assert [(v["name"], v["n"], v["successes"]) for v in out["variants"]] == [(control, nc, xc), (treatment, nt, xt)]
    c = out["comparisons"][0]
    _, p = proportions_ztest([xt, xc], [nt, nc])
    lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff")
    assert c["p_value"] == pytest.approx(p, rel=1e-9)
    assert c["lift_abs"] == pytest.approx(xt / nt - xc / nc, rel=1e-12)
    assert c["ci_abs"] == pytest.approx([lo, hi], rel=1e-9)
    assert c["lift_rel"] == pytest.approx((xt / nt) / (xc / nc) - 1, rel=1e-12)
    assert out["variants"][0]["ci"] == pytest.approx(list(proportion_confint(xc, nc, method="wilson")), rel=1e-12)
    assert out["srm"]["p_value"] == pytest.approx(sps.chisquare([nc, nt]).pvalue, rel=1e-9)
    assert c["significant"] == (p < 0.05)


@pytest.mark.datasets
def test_udacity_ab_data(shared_datasets, capsys):
    path = shared_datasets / "udacity-ab-test" / "ab_data.csv"
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "group", "--converted", "converted")
    assert code == 0, err
    check_proportions(out, pd.read_csv(path), "group", "converted", "control")
    assert out["comparisons"][0]["significant"] is False  # the well-known answer: no effect of the new page


@pytest.mark.datasets
@pytest.mark.parametrize("outcome", ["retention_1", "retention_7"])
def test_cookie_cats_retention(shared_datasets, capsys, outcome):
    path = shared_datasets / "cookie-cats" / "cookie_cats.csv"
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "version", "--converted", outcome)
    assert code == 0, err
    check_proportions(out, pd.read_csv(path), "version", outcome, "gate_30")


@pytest.mark.datasets
def test_cookie_cats_game_rounds_mean(shared_datasets, capsys):
    path = shared_datasets / "cookie-cats" / "cookie_cats.csv"
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "version", "--value", "sum_gamerounds")
    assert code == 0, err
    df = pd.read_csv(path)
    a = df.loc[df.version == "gate_30", "sum_gamerounds"].to_numpy(float)
    b = df.loc[df.version == "gate_40", "sum_gamerounds"].to_numpy(float)
    c = out["comparisons"][0]
    assert c["p_value"] == pytest.approx(sps.ttest_ind(b, a, equal_var=False).pvalue, rel=1e-6)
    lo, hi = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(usevar="unequal")
    assert c["ci_abs"] == pytest.approx([lo, hi], rel=1e-6)
    assert out["variants"][0]["sd"] == pytest.approx(a.std(ddof=1), rel=1e-9)


@pytest.mark.datasets
def test_marketing_ad_vs_psa(shared_datasets, capsys):
    path = shared_datasets / "marketing-ab-ad-psa" / "marketing_AB_sample.csv"
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "test group", "--control", "psa",
                                   "--converted", "converted")
    assert code == 0, err
    check_proportions(out, pd.read_csv(path), "test group", "converted", "psa")
    codes = {w["code"] for w in out["warnings"]}
    assert {"few_conversions", "srm"} <= codes  # 5 conversions in psa; a 96/4 split against the default 50/50
    code, out, _ = run_inprocess(capsys, "abtest", path, "--variant", "test group", "--control", "psa",
                                 "--converted", "converted", "--expected-split", "4,96")
    assert out["srm"]["expected_split"] == [4.0, 96.0] and not out["srm"]["mismatch"]


@pytest.mark.datasets
def test_fast_food_three_promotions(shared_datasets, capsys):
    path = shared_datasets / "fast-food-marketing-ab" / "WA_Marketing-Campaign.csv"
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "Promotion", "--control", "1", "--value",
                                   "SalesInThousands")
    assert code == 0, err
    df = pd.read_csv(path)
    groups = {k: g["SalesInThousands"].to_numpy(float) for k, g in df.groupby("Promotion")}
    raw = [sps.ttest_ind(groups[k], groups[1], equal_var=False).pvalue for k in (2, 3)]
    assert [c["variant"] for c in out["comparisons"]] == ["2", "3"]
    assert [c["p_value"] for c in out["comparisons"]] == pytest.approx(raw, rel=1e-6)
    assert [c["p_value_adjusted"] for c in out["comparisons"]] == pytest.approx(
        list(multipletests(raw, method="holm")[1]), rel=1e-6)
    assert [v["mean"] for v in out["variants"]] == pytest.approx([groups[k].mean() for k in (1, 2, 3)], rel=1e-12)
    assert out["srm"]["p_value"] == pytest.approx(sps.chisquare([172, 188, 188]).pvalue, rel=1e-9)
