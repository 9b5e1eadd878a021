"""`python -m metrics abtest|samplesize`: JSON on stdout, exit codes 0/2/3, one sentence on stderr; results on the
shared real datasets equal an independent computation with pandas + scipy/statsmodels."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import tt_ind_solve_power
from statsmodels.stats.proportion import proportion_confint, samplesize_proportions_2indep_onetail
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
    # gbstats TwoSidedTTest on 10,000/1,000 vs 10,000/1,150 (the rows of each variant summed)
    assert round(c["p_value"], 5) == 0.00141 and [round(x, 5) for x in c["ci_rel"]] == [0.0579, 0.2421]


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
        # gbstats' published example: relative p 0.06191, absolute interval (0.04538, 0.53462)
        assert c["lift_abs"] == pytest.approx(0.29) and round(c["p_value"], 5) == 0.06191
        assert [round(x, 5) for x in c["ci_abs"]] == [0.04538, 0.53462]


def test_sequential_and_table_format(capsys, ab_csv):
    code, out, _ = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", "--converted", "converted",
                                 "--sequential", "--tuning", "2000")
    assert code == 0 and out["sequential"] is True
    code, text, _ = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", "--converted", "converted",
                                  "--format", "table")
    assert code == 0 and "verdicts" in text and "B" in text


def test_cli_defaults_match_engine_and_import_lazily():
    from metrics import abtest, cli_abtest
    from metrics.abtest.verdict import DEFAULT_PLANNED_MDE

    assert (cli_abtest.DEFAULT_ALPHA, cli_abtest.DEFAULT_TUNING, cli_abtest.DEFAULT_PLANNED_MDE) == (
        abtest.DEFAULT_ALPHA, abtest.DEFAULT_TUNING, DEFAULT_PLANNED_MDE)
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


def test_samplesize_negative_percent_and_means(capsys):
    # A planned 20 % drop from 10 %: statsmodels samplesize_proportions_2indep_onetail(-0.02, 0.1, 0.8) = 3212.6
    code, out, err = run_inprocess(capsys, "samplesize", "--baseline", "0.10", "--mde", "-20%", "--relative",
                                   "--daily-traffic", "1000")
    assert code == 0, err
    assert out == {"per_variant": math.ceil(samplesize_proportions_2indep_onetail(-0.02, 0.1, 0.8)), "total": 6426,
                   "days": 7}
    # Average order value 52 with sd 30, +5 %: tt_ind_solve_power(effect_size=2.6 / 30) = 2090.8
    expected = math.ceil(tt_ind_solve_power(effect_size=2.6 / 30, alpha=0.05, power=0.8))
    for mde in (["--mde", "5%", "--relative"], ["--mde", "2.6"]):
        code, out, err = run_inprocess(capsys, "samplesize", "--baseline", "52", "--sd", "30", *mde)
        assert code == 0, err
        assert out == {"per_variant": expected, "total": 2 * expected}
    code, _, err = run_inprocess(capsys, "samplesize", "--baseline", "52", "--sd", "-3", "--mde", "2")
    assert code == 2
    assert_one_sentence(err)


# ----------------------------------------------------------------------------------------------------------------
# Real datasets: CLI result == independent pandas + scipy/statsmodels computation
# ----------------------------------------------------------------------------------------------------------------


def relative_test(n_c, mean_c, var_c, n_t, mean_t, var_t, alpha=0.05):
    """gbstats' relative t test written out: (μt − μc)/|μc|, delta-method variance, Welch df."""
    estimate = (mean_t - mean_c) / abs(mean_c)
    se = math.sqrt(var_t / n_t / mean_c**2 + var_c / n_c * mean_t**2 / mean_c**4)
    a, b = var_t / n_t, var_c / n_c
    df = (a + b) ** 2 / (a * a / (n_t - 1) + b * b / (n_c - 1))
    half = sps.t.ppf(1 - alpha / 2, df) * se
    return estimate, [estimate - half, estimate + half], 2 * sps.t.sf(abs(estimate / se), df)


def check_proportions(out: dict, df: pd.DataFrame, variant: str, outcome: str, control: str) -> None:
    y = df[outcome].astype(str).str.lower().map({"1": 1, "0": 0, "true": 1, "false": 0})
    counts = df.assign(_y=y).groupby(df[variant].astype(str))["_y"].agg(["count", "sum"])
    treatment = next(name for name in counts.index if name != control)
    (nc, xc), (nt, xt) = counts.loc[control], counts.loc[treatment]
    assert out["control"] == control
    assert [(v["name"], v["n"], v["successes"]) for v in out["variants"]] == [(control, nc, xc), (treatment, nt, xt)]
    c = out["comparisons"][0]
    pc, pt = xc / nc, xt / nt
    lift, ci, p = relative_test(nc, pc, pc * (1 - pc), nt, pt, pt * (1 - pt))
    assert c["lift_rel"] == pytest.approx(lift, rel=1e-12)
    assert c["ci_rel"] == pytest.approx(ci, rel=1e-9) and c["ci_rel_adjusted"] == c["ci_rel"]
    assert c["p_value"] == pytest.approx(p, rel=1e-7)
    assert c["lift_abs"] == pytest.approx(pt - pc, rel=1e-12)
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
def test_udacity_with_units(shared_datasets, capsys):
    """294,478 rows for 290,584 users: with --unit the duplicates are reported and each user counts once."""
    path = shared_datasets / "udacity-ab-test" / "ab_data.csv"
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "group", "--converted", "converted",
                                   "--unit", "user_id")
    assert code == 0, err
    df = pd.read_csv(path)
    arms = df.groupby("user_id")["group"].nunique()
    single = df[df.user_id.isin(arms[arms == 1].index)].groupby("user_id").agg(group=("group", "first"),
                                                                               converted=("converted", "max"))
    check_proportions(out, single.reset_index(), "group", "converted", "control")
    counts = {w["code"]: w["count"] for w in out["warnings"]}
    assert counts == {"repeated_units": int((df.user_id.value_counts() > 1).sum()),
                      "units_in_several_arms": int((arms > 1).sum())}


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
    lift, ci, p = relative_test(a.size, a.mean(), a.var(ddof=1), b.size, b.mean(), b.var(ddof=1))
    assert c["p_value"] == pytest.approx(p, rel=1e-6) and c["ci_rel"] == pytest.approx(ci, rel=1e-6)
    lo, hi = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(usevar="unequal")
    assert c["ci_abs"] == pytest.approx([lo, hi], rel=1e-6)
    assert out["variants"][0]["sd"] == pytest.approx(a.std(ddof=1), rel=1e-9)


@pytest.mark.datasets
def test_cookie_cats_capped(shared_datasets, capsys):
    """One player has 49,854 rounds: capping at the 99th percentile of all players tames it."""
    path = shared_datasets / "cookie-cats" / "cookie_cats.csv"
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "version", "--value", "sum_gamerounds",
                                   "--cap-percentile", "99")
    assert code == 0, err
    df = pd.read_csv(path)
    cap = float(np.percentile(df.sum_gamerounds.to_numpy(float), 99))
    assert out["capping"] == {"percentile": 99, "value": pytest.approx(cap)}
    capped = df.sum_gamerounds.clip(upper=cap)
    means = capped.groupby(df.version).mean()
    assert [v["mean"] for v in out["variants"]] == pytest.approx([means["gate_30"], means["gate_40"]], rel=1e-12)


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
    tests = [relative_test(groups[1].size, groups[1].mean(), groups[1].var(ddof=1), groups[k].size,
                           groups[k].mean(), groups[k].var(ddof=1)) for k in (2, 3)]
    raw = [t[2] for t in tests]
    assert [c["variant"] for c in out["comparisons"]] == ["2", "3"]
    assert [c["p_value"] for c in out["comparisons"]] == pytest.approx(raw, rel=1e-6)
    assert [c["p_value_adjusted"] for c in out["comparisons"]] == pytest.approx(
        list(multipletests(raw, method="holm")[1]), rel=1e-6)
    # Holm's quoted intervals are at the Bonferroni level α/2
    for c, k in zip(out["comparisons"], (2, 3)):
        _, ci, _ = relative_test(groups[1].size, groups[1].mean(), groups[1].var(ddof=1), groups[k].size,
                                 groups[k].mean(), groups[k].var(ddof=1), alpha=0.025)
        assert c["ci_rel_adjusted"] == pytest.approx(ci, rel=1e-9)
    assert [v["mean"] for v in out["variants"]] == pytest.approx([groups[k].mean() for k in (1, 2, 3)], rel=1e-12)
    assert out["srm"]["p_value"] == pytest.approx(sps.chisquare([172, 188, 188]).pvalue, rel=1e-9)


# ----------------------------------------------------------------------------------------------------------------
# New inputs: ratio metrics, units, direction, capping; the audit's semicolon file
# ----------------------------------------------------------------------------------------------------------------


def test_semicolon_decimal_comma_file(capsys, tmp_path):
    path = tmp_path / "summary.csv"
    path.write_text("arm;users;avg_revenue;sd_revenue\nA;10.000;10,5;3,2\nB;10.000;10,7;3,3\n", encoding="utf-8")
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "arm", "--n", "users", "--mean",
                                   "avg_revenue", "--sd", "sd_revenue", "--format", "table")
    assert code == 0, err
    assert "B averages 1.9 % higher than A" in out and "971" not in out


def test_cpa_from_ad_rows_lower_is_better(capsys, tmp_path):
    """A campaign export: each day × ad row is a unit; CPA = Σ spend / Σ conversions, lower is better."""
    rng = np.random.default_rng(4)
    lines = ["date,ad,variant,spend,conversions"]
    expected = {}
    for variant, cost in (("A", 25.0), ("B", 20.0)):
        spend, conv = [], []
        for day in range(60):
            for ad in range(3):
                c = int(rng.poisson(4))
                s = round(c * cost * rng.uniform(0.7, 1.3) + rng.uniform(0, 10), 2)
                lines.append(f"2024-01-{day % 28 + 1:02d},ad {ad},{variant},{s},{c}")
                spend.append(s)
                conv.append(c)
        expected[variant] = (len(spend), sum(spend) / sum(conv))
    path = tmp_path / "ads.csv"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "variant", "--numerator", "spend",
                                   "--denominator", "conversions", "--lower-is-better", "--format", "table")
    assert code == 0, err
    assert "B's spend / conversions is" in out and "lower than A's, which is better" in out
    code, out, err = run_inprocess(capsys, "abtest", path, "--variant", "variant", "--numerator", "spend",
                                   "--denominator", "conversions", "--lower-is-better")
    assert out["metric_kind"] == "ratio" and out["direction"] == "lower"
    assert [(v["n"], v["mean"]) for v in out["variants"]] == [
        (expected["A"][0], pytest.approx(expected["A"][1])), (expected["B"][0], pytest.approx(expected["B"][1]))]
    assert "chance_to_beat" not in out["comparisons"][0]


@pytest.mark.parametrize("extra, needle", [
    (["--successes", "converted", "--trials", "user", "--unit", "user"], "--unit"),
    (["--converted", "converted", "--cap-percentile", "99"], "0/1 outcome"),
    (["--value", "converted", "--cap-percentile", "150"], "at most 100"),
    (["--numerator", "converted"], "--denominator"),
    (["--converted", "converted", "--unit", "nope"], "'nope'"),
])
def test_new_option_mistakes_are_one_sentence(capsys, ab_csv, extra, needle):
    code, _, err = run_inprocess(capsys, "abtest", ab_csv, "--variant", "group", *extra)
    assert code == 2, err
    assert_one_sentence(err)
    assert needle in err
