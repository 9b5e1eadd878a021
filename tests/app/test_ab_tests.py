"""The A/B tests page (AppTest): calculator, planner, the campaign data's variants (ratio metrics per ad row),
uploaded files of every shape, degenerate input, the saved configuration — and the page shows the same numbers and
sentences as `python -m metrics abtest` for the same input, on the public datasets too."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from pathlib import Path

import polars as pl
import pytest
from statsmodels.stats.power import tt_ind_solve_power
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

from metrics.abtest.display import table_rows
from metrics.cli import main as cli_main
from tests.app.dashboard_helpers import LAST_30
from ui.state import AB_CONFIG, DATASET

PAGE = "pages/ab_tests.py"


def plain(text: str) -> str:
    """Markdown as the reader sees it (md_escape's backslashes removed)."""
    return re.sub(r"\\(.)", r"\1", text)


def open_page(app, **state):
    app.run()
    for key, value in state.items():
        app.session_state[key] = value
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def tab(app, label: str):
    return next(t for t in app.tabs if t.label == label)


def texts(node, kind: str) -> list[str]:
    return [plain(e.value) for e in node.get(kind)]


def verdicts(node) -> list[str]:
    """The verdict sentences in ``node`` (one per challenger, in the result's order)."""
    boxes = [b for b in node if getattr(b, "key", None) and str(b.key).endswith("_verdicts")]
    assert len(boxes) == 1, f"{len(boxes)} verdict blocks"
    return [plain(e.value) for e in boxes[0] if e.type in ("success", "info", "warning", "error")]


def table(node) -> list[dict[str, str]]:
    """The per-variant results table in ``node`` (the one with a p-value column)."""
    found = [d.value for d in node.get("dataframe") if "p-value" in d.value.columns]
    assert len(found) == 1, f"{len(found)} results tables"
    return found[0].to_dict("records")


def metrics(node) -> dict[str, str]:
    return {plain(m.label): m.value for m in node.get("metric")}


def edit_calculator(app, rows: dict[int, dict], added: list[dict] | None = None, mode: str = "counts"):
    """Seed the calculator's data editor with cell edits (AppTest cannot type into the grid)."""
    app.session_state[f"ab_calc_{mode}"] = {"edited_rows": rows, "added_rows": added or [], "deleted_rows": []}
    app.run()
    assert not app.exception, app.exception
    return tab(app, "Quick calculator")


def cli(*args: str) -> tuple[dict, list[str]]:
    """`python -m metrics abtest ...` in-process: the JSON, and the verdicts of --format table."""
    outputs = []
    for extra in ([], ["--format", "table"]):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = cli_main(["abtest", *map(str, args), *extra])
        assert code == 0, buffer.getvalue()
        outputs.append(buffer.getvalue())
    line = next(line for line in outputs[1].splitlines() if line.startswith("verdicts: "))
    return json.loads(outputs[0]), json.loads(line.removeprefix("verdicts: "))


def upload(app, path: Path, **choices):
    """Upload ``path`` on the data tab and pick columns (keys: variant, shape, unit, outcome, cap, ...)."""
    app.get_by_key("ab_data_source").set_value("upload").run()
    app.get_by_key("ab_upload").set_value((path.name, path.read_bytes(), "text/csv")).run()
    assert not app.exception, app.exception
    for name in ("variant", "shape", "unit"):
        if name in choices:
            app.get_by_key(f"ab_upload_{name}").set_value(choices.pop(name)).run()
    for name, value in choices.items():
        app.get_by_key(f"ab_upload_{name}").set_value(value).run()
    assert not app.exception, app.exception
    return tab(app, "From your data")


def assert_same_as_cli(node, *args: str) -> None:
    out, said = cli(*args)
    assert table(node) == table_rows(out)
    assert verdicts(node) == said


# --- Quick calculator -------------------------------------------------------------------------------------------


def test_calculator_verdict_numbers_and_cli(app, tmp_path):
    open_page(app)
    calc = edit_calculator(app, {0: {"visitors": 10000, "conversions": 1000},
                                 1: {"visitors": 10000, "conversions": 1150}})
    assert verdicts(calc) == ["B converts 15.0 % better than A (95 % CI +5.8 % to +24.2 %)."]
    tiles = metrics(calc)
    # gbstats' relative test: p 0.00141 (the pooled z-test's 0.000616 no longer decides)
    assert tiles["p-value"] == "0.00141" and tiles["Relative lift"] == "+15.00 %"
    rows = table(calc)
    assert [r["Variant"] for r in rows] == ["A", "B"] and rows[1]["Significant"] == "yes"
    path = tmp_path / "calc.csv"
    path.write_text("name,visitors,conversions\nA,10000,1000\nB,10000,1150\n")
    assert_same_as_cli(calc, path, "--variant", "name", "--trials", "visitors", "--successes", "conversions")


@pytest.mark.parametrize("edit, message", [
    ({0: {"visitors": 0, "conversions": 0}}, "A has no visitors; enter how many visitors it had (more than 0)."),
    ({1: {"visitors": 100, "conversions": 150}}, "B has more conversions (150) than visitors (100); check the "
                                                 "numbers."),
])
def test_invalid_calculator_input_is_one_error(app, edit, message):
    open_page(app)
    calc = edit_calculator(app, edit)
    assert texts(calc, "error") == [message]  # no sample-ratio error, no verdict on top
    assert not calc.get("dataframe") or all("p-value" not in d.value.columns for d in calc.get("dataframe"))


def test_calculator_three_variants_and_means(app):
    open_page(app)
    calc = edit_calculator(app, {}, added=[{"name": "C", "visitors": 5000, "conversions": 520}])
    rows = table(calc)
    assert [r["Variant"] for r in rows] == ["A", "B", "C"]
    assert len(verdicts(calc)) == 2  # one sentence per challenger
    assert rows[2]["Adjusted p"] != rows[2]["p-value"]  # Holm doubles the smallest of two p-values
    assert all("adjusted for 2 comparisons" in v for v in verdicts(calc))

    app.get_by_key("ab_calc_mode").set_value("means").run()
    assert not app.exception, app.exception
    calc = tab(app, "Quick calculator")
    rows = table(calc)
    assert rows[0]["Mean"] == "52.00" and rows[1]["Mean"] == "55.00"
    assert verdicts(calc) == ["B averages 5.8 % higher than A (95 % CI +0.5 % to +11.1 %)."]


def test_more_units_come_from_the_planned_minimum_effect(app):
    open_page(app)
    calc = edit_calculator(app, {0: {"visitors": 1000, "conversions": 100},
                                 1: {"visitors": 1000, "conversions": 110}})
    # statsmodels: detecting 10 % → 11 % (the default planned +10 %) needs 14,751 per arm
    expected = math.ceil(samplesize_proportions_2indep_onetail(0.01, 0.10, 0.8))
    assert f"needs about {expected:,} units per variant, {expected - 1000:,} more" in verdicts(calc)[0]
    app.get_by_key("ab_calc_mde").set_value(20.0).run()
    expected = math.ceil(samplesize_proportions_2indep_onetail(0.02, 0.10, 0.8))
    assert "a lift of 20.0 % (the planned minimum)" in verdicts(tab(app, "Quick calculator"))[0]
    assert f"needs about {expected:,} units per variant" in verdicts(tab(app, "Quick calculator"))[0]


def test_lower_is_better_in_the_calculator(app):
    open_page(app)
    edit_calculator(app, {0: {"visitors": 10000, "conversions": 1000},
                          1: {"visitors": 10000, "conversions": 1150}})
    app.get_by_key("ab_calc_lower_counts").set_value(True).run()
    calc = tab(app, "Quick calculator")
    assert verdicts(calc) == ["B's rate is 15.0 % higher than A's, which is worse (95 % CI +5.8 % to +24.2 %)."]
    assert calc.warning[0].value.startswith("B")  # the worse-verdict box
    bayes = next(d.value for d in calc.get("dataframe") if "Chance to beat the control" in d.value.columns)
    assert bayes.to_dict("records")[0]["Chance to beat the control"] == "< 0.1 %"


def test_save_calculator_as_report_test(app):
    open_page(app)
    edit_calculator(app, {0: {"visitors": 10000, "conversions": 1000},
                          1: {"visitors": 10000, "conversions": 1150}})
    app.get_by_key("ab_save_calc").click().run()
    assert not app.exception, app.exception
    config = app.session_state[AB_CONFIG]
    assert config["source"] == "calculator" and config["metric"] == "counts" and config["version"] == 2
    assert config["calculator_rows"][1] == {"name": "B", "visitors": 10000, "conversions": 1150}
    assert (config["control"], config["alpha"], config["correction"], config["direction"]) == ("A", 0.05, "holm",
                                                                                              "higher")
    json.dumps(config)  # JSON-able, as the snapshot stores it
    saved = app.expander[0]
    assert "what clients see" in saved.label
    assert verdicts(saved)[0].startswith("B converts 15.0 % better than A")
    assert not saved.get("data_editor") and not saved.get("file_uploader")


def test_expected_split_is_checked(app):
    open_page(app)
    edit_calculator(app, {})
    app.get_by_key("ab_calc_split").set_value("50,30,20").run()
    assert any("one share per variant" in e for e in texts(tab(app, "Quick calculator"), "error"))
    app.get_by_key("ab_calc_split").set_value("90,10").run()
    calc = tab(app, "Quick calculator")
    assert any("Sample-ratio mismatch" in e for e in texts(calc, "error"))
    assert verdicts(calc)[0].startswith("Caution: the traffic split does not match the plan")


# --- Planner ----------------------------------------------------------------------------------------------------


def test_planner_rates(app):
    open_page(app)
    plan = tab(app, "Planner")
    tiles = metrics(plan)
    assert (tiles["Per variant"], tiles["Total"], tiles["Days needed"]) == ("3,841", "7,682", "8")
    app.get_by_key("ab_plan_effect").set_value("relative").run()
    app.get_by_key("ab_plan_mde_rel").set_value(-20.0).run()  # a drop is planned the same way
    expected = math.ceil(samplesize_proportions_2indep_onetail(-0.02, 0.10, 0.8))
    assert metrics(tab(app, "Planner"))["Per variant"] == f"{expected:,}"
    app.get_by_key("ab_plan_mde_rel").set_value(0.0).run()
    assert not app.exception
    assert texts(tab(app, "Planner"), "error") == ["The minimum detectable effect must not be zero."]


def test_planner_means_and_the_lift_detectable_in_n_days(app):
    open_page(app)
    app.get_by_key("ab_plan_kind").set_value("mean").run()
    app.get_by_key("ab_plan_mde_abs").set_value(3.0).run()  # average 50, sd 30: detect +3
    plan = tab(app, "Planner")
    expected = math.ceil(tt_ind_solve_power(effect_size=3.0 / 30.0, alpha=0.05, power=0.8))
    assert metrics(plan)["Per variant"] == f"{expected:,}"
    # 1,000 units a day for 14 days, 2 variants: 7,000 per arm detect an effect size d with t-test power 0.8
    d = tt_ind_solve_power(effect_size=None, nobs1=7000, alpha=0.05, power=0.8)
    assert metrics(plan)["Detectable lift in 14 days"] == f"{d * 30 / 50 * 100:+.2f} %"
    app.get_by_key("ab_plan_kind").set_value("rate").run()
    app.get_by_key("ab_plan_days").set_value(7).run()
    plan = tab(app, "Planner")
    n = samplesize_proportions_2indep_onetail  # 3,500 per arm at a 10 % baseline: the lift that needs exactly that
    lift = float(metrics(plan)["Detectable lift in 7 days"].rstrip(" %")) / 100
    assert n(0.10 * lift, 0.10, 0.8) == pytest.approx(3500, rel=2e-3)


# --- From your data: the campaign data --------------------------------------------------------------------------


def test_campaign_ratio_metrics_match_the_cli(demo_app, tmp_path):
    demo_app.switch_page(PAGE).run()
    assert not demo_app.exception, demo_app.exception
    data = tab(demo_app, "From your data")
    assert any("Sample-ratio check passed" in c for c in texts(data, "caption"))
    assert len(data.get("vega_lite_chart")) == 3  # rates, lift distribution, lift over time
    # The page reads the report's filters: the default view, the last 30 days.
    frame = demo_app.session_state[DATASET].frame.filter(pl.col("date").is_between(*LAST_30))
    path = tmp_path / "campaign.csv"
    frame.filter(pl.col("variant").is_not_null()).select(
        "date", "campaign", "ad", "variant", "clicks", "conversions", "spend").write_csv(path)
    # Conversion rate per ad row = Σ conversions / Σ clicks, each day × ad row a unit
    out, _ = cli(path, "--variant", "variant", "--numerator", "conversions", "--denominator", "clicks")
    assert table(data) == table_rows(out)
    assert verdicts(data)[0].startswith("B's conversion rate is ")

    # CPA: spend / conversions, and the page knows lower is better
    demo_app.get_by_key("ab_data_metric").set_value("cpa").run()
    assert not demo_app.exception, demo_app.exception
    data = tab(demo_app, "From your data")
    assert demo_app.get_by_key("ab_data_lower_cpa").value is True
    out, said = cli(path, "--variant", "variant", "--numerator", "spend", "--denominator", "conversions",
                    "--lower-is-better")
    assert table(data) == table_rows(out) and out["direction"] == "lower"
    # the same sentence, with the metric's name where the command line names the columns
    assert verdicts(data) == [s.replace("spend / conversions", "CPA") for s in said]
    tiles = metrics(data)
    assert tiles["A CPA (control)"].startswith("$")  # the demo data is in USD

    # One campaign, capped at the 99th percentile
    demo_app.get_by_key("ab_data_campaign").set_value("Spring Sale 2026").run()
    demo_app.get_by_key("ab_data_cap").set_value(99.0).run()
    assert not demo_app.exception, demo_app.exception
    one = tmp_path / "one.csv"
    frame.filter((pl.col("campaign") == "Spring Sale 2026") & pl.col("variant").is_not_null()).select(
        "variant", "spend", "conversions").write_csv(one)
    out, _ = cli(one, "--variant", "variant", "--numerator", "spend", "--denominator", "conversions",
                 "--lower-is-better", "--cap-percentile", "99")
    assert table(tab(demo_app, "From your data")) == table_rows(out)


def test_money_ratio_refuses_mixed_currencies(demo_app):
    frame = demo_app.session_state[DATASET].frame
    half = frame.with_columns(pl.when(pl.col("date").dt.day() % 2 == 0).then(pl.lit("EUR"))
                              .otherwise(pl.col("currency")).alias("currency"))
    demo_app.session_state[DATASET] = type(demo_app.session_state[DATASET])(frame=half, key="mixed", label="mixed")
    demo_app.switch_page(PAGE).run()
    demo_app.get_by_key("ab_data_metric").set_value("cpa").run()
    assert not demo_app.exception, demo_app.exception
    errors = texts(tab(demo_app, "From your data"), "error")
    assert errors == ["These rows are in several currencies (EUR, USD), so CPA would add up different money; "
                      "restrict the test to one campaign or platform with a single currency."]


# --- From your data: uploaded files -----------------------------------------------------------------------------


def _users_csv(path: Path) -> Path:
    import numpy as np

    rng = np.random.default_rng(3)
    groups = np.repeat(["control", "variant 2", "variant 10"], [1200, 1180, 1210])
    rate = np.select([groups == "control", groups == "variant 2"], [0.10, 0.13], 0.11)
    converted = rng.random(groups.size) < rate
    revenue = np.round(np.where(converted, rng.gamma(2.0, 30.0, groups.size), 0.0), 2)
    pl.DataFrame({"user_id": np.arange(groups.size), "test group": groups, "converted": converted,
                  "revenue": revenue}).write_csv(path)
    return path


def test_uploaded_users_match_the_cli(app, tmp_path):
    path = _users_csv(tmp_path / "users.csv")
    open_page(app)
    data = upload(app, path)
    # Guessed from the names: "test group" is the variant, "converted" the outcome, "user_id" the unit.
    assert app.get_by_key("ab_upload_variant").value == "test group"
    assert app.get_by_key("ab_upload_outcome").value == "converted"
    assert app.get_by_key("ab_upload_unit").value == "user_id"
    assert [r["Variant"] for r in table(data)] == ["control", "variant 2", "variant 10"]
    assert_same_as_cli(data, path, "--variant", "test group", "--converted", "converted", "--unit", "user_id")

    # Revenue per user, capped, Benjamini–Hochberg, α 0.10, sequential: every setting changed.
    app.get_by_key("ab_upload_shape").set_value("value").run()
    app.get_by_key("ab_upload_outcome").set_value("revenue").run()
    app.get_by_key("ab_upload_cap").set_value(99.0).run()
    app.get_by_key("ab_data_correction").set_value("bh").run()
    app.get_by_key("ab_data_alpha").set_value(0.10).run()
    app.get_by_key("ab_data_sequential").set_value(True).run()
    app.get_by_key("ab_data_tuning").set_value(3000).run()
    assert not app.exception, app.exception
    data = tab(app, "From your data")
    assert "Mean" in table(data)[0]
    assert_same_as_cli(data, path, "--variant", "test group", "--value", "revenue", "--unit", "user_id",
                       "--cap-percentile", "99", "--correction", "bh", "--alpha", "0.1", "--sequential",
                       "--tuning", "3000")


def test_semicolon_summary_upload(app, tmp_path):
    path = tmp_path / "summary.csv"
    path.write_text("arm;users;avg_revenue;sd_revenue\nA;10.000;10,5;3,2\nB;10.000;10,7;3,3\n", encoding="utf-8")
    open_page(app)
    data = upload(app, path, variant="arm", shape="summary")
    assert (app.get_by_key("ab_upload_n").value, app.get_by_key("ab_upload_mean").value,
            app.get_by_key("ab_upload_sd").value) == ("users", "avg_revenue", "sd_revenue")
    assert [r["Units"] for r in table(data)] == ["10,000", "10,000"]
    assert verdicts(data)[0].startswith("B averages 1.9 % higher than A")


def test_upload_mistakes_are_one_sentence(app, tmp_path):
    path = _users_csv(tmp_path / "users.csv")
    open_page(app)
    upload(app, path, shape="converted", outcome="revenue")
    errors = texts(app, "error")
    assert len(errors) == 1 and "holds values other than 0/1" in errors[0]
    app.get_by_key("ab_upload").set_value(("empty.csv", b"", "text/csv")).run()
    assert not app.exception, app.exception
    assert texts(app, "error") == ["empty.csv is empty; export the data again."]


# --- The saved configuration ------------------------------------------------------------------------------------


SAVED = {"version": 2, "source": "calculator", "metric": "counts", "control": "A", "expected_split": None,
         "alpha": 0.05, "correction": "holm", "sequential": False, "tuning": 5000, "direction": "higher",
         "planned_mde": 0.1,
         "calculator_rows": [{"name": "A", "visitors": 10000, "conversions": 1000},
                             {"name": "B", "visitors": 10000, "conversions": 1150}]}


def test_saved_configuration_fills_the_calculator(app):
    open_page(app, **{AB_CONFIG: dict(SAVED, alpha=0.01)})
    calc = tab(app, "Quick calculator")
    assert app.get_by_key("ab_calc_alpha").value == 0.01
    rows = table(calc)
    assert rows[1]["Conversions"] == "1,150" and "99 % CI" in " ".join(rows[1])


def test_saved_test_read_only_rendering(app):
    """What a client sees: the saved result through `ui.ab.render_saved` — no upload, no editor, no save."""
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from ui import ab

        ab.render_saved(st.session_state["config"], None, None, key="saved")

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["config"] = SAVED
    at.run()
    assert not at.exception, at.exception
    assert plain(at.success[0].value).startswith("B converts 15.0 % better than A")
    assert not at.get("file_uploader") and not at.data_editor and not at.button
    assert table(at)[1]["p-value"] == "0.00141"

    # A version 1 upload (sufficient statistics without the file) still opens; names are escaped.
    upload_v1 = {"version": 1, "source": "upload", "metric": "converted", "control": "ctrl", "alpha": 0.05,
                 "correction": "holm", "sequential": False, "tuning": 5000, "expected_split": None,
                 "upload": {"file_name": "<b>users</b>.csv", "variant_column": "group", "outcome_column": "converted",
                            "kind": "proportion",
                            "stats": [{"name": "ctrl", "n": 10000, "sum": 1000, "sum_squares": 1000},
                                      {"name": "new", "n": 10000, "sum": 1150, "sum_squares": 1150}]}}
    at.session_state["config"] = upload_v1
    at.run()
    assert plain(at.success[0].value).startswith("new converts 15.0 % better than ctrl")
    assert "\\<b\\>users\\</b\\>" in at.caption[0].value  # upload text is escaped, never HTML

    at.session_state["config"] = {"source": "campaign", "metric": "cvr", "control": "A"}
    at.run()
    assert not at.exception
    assert "variant column" in at.info[0].value


# --- Public datasets: the page equals the command line ----------------------------------------------------------


@pytest.mark.datasets
def test_public_ad_vs_psa_file_matches_the_cli(app, shared_datasets):
    """Kaggle "Marketing A/B testing" sample: spaces in the column names, True/False outcome, a 96/4 split."""
    path = shared_datasets / "marketing-ab-ad-psa" / "marketing_AB_sample.csv"
    open_page(app)
    upload(app, path, variant="test group", outcome="converted")
    assert app.get_by_key("ab_upload_unit").value == "user id"
    app.get_by_key("ab_data_control").set_value("psa").run()
    app.get_by_key("ab_data_split").set_value("4,96").run()
    assert not app.exception, app.exception
    assert_same_as_cli(tab(app, "From your data"), path, "--variant", "test group", "--converted", "converted",
                       "--unit", "user id", "--control", "psa", "--expected-split", "4,96")


@pytest.mark.datasets
def test_public_cookie_cats_and_fast_food_match_the_cli(app, shared_datasets):
    cats = shared_datasets / "cookie-cats" / "cookie_cats.csv"
    open_page(app)
    data = upload(app, cats, outcome="retention_7")
    assert app.get_by_key("ab_upload_variant").value == "version"
    assert_same_as_cli(data, cats, "--variant", "version", "--converted", "retention_7", "--unit", "userid")
    app.get_by_key("ab_upload_shape").set_value("value").run()
    app.get_by_key("ab_upload_outcome").set_value("sum_gamerounds").run()
    app.get_by_key("ab_upload_cap").set_value(99.0).run()
    assert_same_as_cli(tab(app, "From your data"), cats, "--variant", "version", "--value", "sum_gamerounds",
                       "--unit", "userid", "--cap-percentile", "99")

    food = shared_datasets / "fast-food-marketing-ab" / "WA_Marketing-Campaign.csv"
    data = upload(app, food, variant="Promotion", shape="value", outcome="SalesInThousands")
    assert_same_as_cli(data, food, "--variant", "Promotion", "--value", "SalesInThousands")


@pytest.mark.datasets
def test_public_udacity_file_reports_duplicate_users(app, shared_datasets):
    path = shared_datasets / "udacity-ab-test" / "ab_data.csv"
    open_page(app)
    data = upload(app, path, variant="group", outcome="converted")
    assert app.get_by_key("ab_upload_unit").value == "user_id"
    warnings = texts(data, "warning")
    assert any(w.startswith("3,894 units have more than one row") for w in warnings)
    assert any(w.startswith("1,895 units appear in more than one variant") for w in warnings)
    assert_same_as_cli(data, path, "--variant", "group", "--converted", "converted", "--unit", "user_id")
