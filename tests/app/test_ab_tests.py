"""The A/B tests page (AppTest): calculator, planner, the campaign table's variants, an uploaded file of users,
degenerate input, the saved configuration — and the page shows the same numbers as `python -m metrics abtest`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.app.dashboard_helpers import LAST_30
from tests.conftest import REPO
from ui import ab
from ui.state import AB_CONFIG

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


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", "abtest", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def cli_json(*args: str) -> dict:
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cli_verdicts(*args: str) -> list[str]:
    done = run_cli(*args, "--format", "table")
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("verdicts: "))
    return json.loads(line.removeprefix("verdicts: "))


# --- Quick calculator -------------------------------------------------------------------------------------------


def test_calculator_verdict_and_numbers(app, tmp_path):
    open_page(app)
    calc = edit_calculator(app, {0: {"visitors": 10000, "conversions": 1000},
                                 1: {"visitors": 10000, "conversions": 1150}})
    said = verdicts(calc)
    assert len(said) == 1 and said[0].startswith("B converts 15.0 % better than A"), said
    tiles = metrics(calc)
    assert tiles["p-value"] == "0.000616"
    assert tiles["Relative lift"] == "+15.00 %"
    rows = table(calc)
    assert [r["Variant"] for r in rows] == ["A", "B"]
    assert rows[1]["p-value"] == "0.000616" and rows[1]["Significant"] == "yes"

    # The same four numbers through the command line give the same table and the same sentence.
    path = tmp_path / "calc.csv"
    path.write_text("name,visitors,conversions\nA,10000,1000\nB,10000,1150\n")
    args = (str(path), "--variant", "name", "--trials", "visitors", "--successes", "conversions")
    assert rows == ab.table_rows(cli_json(*args))
    assert said == cli_verdicts(*args)


def test_calculator_zero_visitors_warns_without_crashing(app):
    open_page(app)
    calc = edit_calculator(app, {0: {"visitors": 0, "conversions": 0}})
    assert not app.exception
    said = " ".join(verdicts(calc))
    assert "not enough data" in said and "A has no units" in said
    assert table(calc)[1]["p-value"] == "—"


def test_calculator_three_variants_and_means(app):
    open_page(app)
    calc = edit_calculator(app, {}, added=[{"name": "C", "visitors": 5000, "conversions": 520}])
    rows = table(calc)
    assert [r["Variant"] for r in rows] == ["A", "B", "C"]
    assert len(verdicts(calc)) == 2  # one sentence per challenger
    assert rows[2]["Adjusted p"] != rows[2]["p-value"]  # Holm doubles the smallest of two p-values

    app.get_by_key("ab_calc_mode").set_value("means").run()
    assert not app.exception, app.exception
    calc = tab(app, "Quick calculator")
    rows = table(calc)
    assert rows[0]["Mean"] == "52.00" and rows[1]["Mean"] == "55.00"
    assert len(verdicts(calc)) == 1 and "higher than A" in verdicts(calc)[0]


def test_not_significant_says_how_much_more_data(app):
    open_page(app)
    calc = edit_calculator(app, {0: {"visitors": 1000, "conversions": 100},
                                 1: {"visitors": 1000, "conversions": 110}})
    said = verdicts(calc)[0]
    assert said.startswith("No clear winner yet") and "more units per variant" in said


def test_save_calculator_as_report_test(app):
    open_page(app)
    edit_calculator(app, {0: {"visitors": 10000, "conversions": 1000},
                          1: {"visitors": 10000, "conversions": 1150}})
    app.get_by_key("ab_save_calc").click().run()
    assert not app.exception, app.exception
    config = app.session_state[AB_CONFIG]
    assert config["source"] == "calculator" and config["metric"] == "counts"
    assert config["calculator_rows"][1] == {"name": "B", "visitors": 10000, "conversions": 1150}
    assert config["control"] == "A" and config["alpha"] == 0.05 and config["correction"] == "holm"
    json.dumps(config)  # JSON-able, as the snapshot stores it
    # The saved test is shown (read-only) above the tabs with the same verdict.
    saved = app.expander[0]
    assert "what clients see" in saved.label
    assert verdicts(saved)[0].startswith("B converts 15.0 % better than A")
    assert not saved.get("data_editor") and not saved.get("file_uploader")


# --- Planner ----------------------------------------------------------------------------------------------------


def test_planner_ten_to_twelve_percent(app):
    open_page(app)
    plan = tab(app, "Planner")
    tiles = metrics(plan)
    assert tiles["Per variant"] == "3,841"
    assert tiles["Total"] == "7,682"
    assert tiles["Days needed"] == "8"  # 7,682 users at 1,000 a day

    app.get_by_key("ab_plan_effect").set_value("relative").run()
    app.get_by_key("ab_plan_mde_rel").set_value(20.0).run()
    assert metrics(tab(app, "Planner"))["Per variant"] == "3,841"  # +20 % of 10 % is the same 12 %

    app.get_by_key("ab_plan_mde_rel").set_value(0.0).run()
    assert not app.exception
    assert any("must not be zero" in e for e in texts(tab(app, "Planner"), "error"))


# --- From your data ---------------------------------------------------------------------------------------------


def test_campaign_variants_match_the_cli(demo_app, tmp_path):
    demo_app.switch_page(PAGE).run()
    assert not demo_app.exception, demo_app.exception
    data = tab(demo_app, "From your data")
    said = verdicts(data)
    assert len(said) == 1 and said[0].startswith("B converts"), said
    assert any("Sample-ratio check passed" in c for c in texts(data, "caption"))
    assert len(data.get("vega_lite_chart")) == 3  # rates, lift distribution, lift over time
    rows = table(data)

    # The page reads the sidebar's period: the default view, the last 30 days.
    frame = demo_app.session_state["cl_dataset"].frame.filter(pl.col("date").is_between(*LAST_30))
    path = tmp_path / "campaign.csv"
    frame.select("date", "campaign", "variant", "clicks", "conversions").write_csv(path)
    args = (str(path), "--variant", "variant", "--trials", "clicks", "--successes", "conversions")
    assert rows == ab.table_rows(cli_json(*args))
    assert said == cli_verdicts(*args)

    # One campaign, click-through rate.
    demo_app.get_by_key("ab_data_metric").set_value("ctr").run()
    demo_app.get_by_key("ab_data_campaign").set_value("Spring Sale 2026").run()
    assert not demo_app.exception, demo_app.exception
    rows = table(tab(demo_app, "From your data"))
    one = frame.filter(pl.col("campaign") == "Spring Sale 2026")
    stats = ab.abtest.stats_from_aggregates(one, "variant", "impressions", "clicks")
    assert rows[0]["Units"] == f"{int(stats[0].n):,}" and rows[1]["Conversions"] == f"{int(stats[1].sum):,}"


def test_cumulative_lift_ends_at_the_overall_lift():
    from metrics import demo

    frame = demo.generate()
    stats = ab.abtest.stats_from_aggregates(frame, "variant", "clicks", "conversions")
    result = ab.abtest.analyze(stats, "A", "proportion")
    daily = ab.cumulative_lift(frame, "clicks", "conversions", "A", alpha=0.05)
    last = daily.sort("date").row(-1, named=True)
    comparison = result.comparisons[0]
    assert last["lift"] == pytest.approx(comparison.lift_rel, rel=1e-12)
    assert (last["low"], last["high"]) == pytest.approx(comparison.ci_rel, rel=1e-12)
    # Every day from the first on which both arms have 25 conversions (the engine's guardrail).
    cumulative = (frame.filter(pl.col("variant").is_not_null()).group_by("date", "variant")
                  .agg(pl.col("conversions").sum()).sort("date")
                  .with_columns(pl.col("conversions").cum_sum().over("variant")))
    ready = cumulative.group_by("date").agg(pl.col("conversions").min()).filter(pl.col("conversions") >= 25)
    assert daily.get_column("date").n_unique() == ready.height


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
    app.get_by_key("ab_data_source").set_value("upload").run()
    app.get_by_key("ab_upload").set_value(("users.csv", path.read_bytes(), "text/csv")).run()
    assert not app.exception, app.exception
    data = tab(app, "From your data")
    # The columns are guessed from their names: "test group" is the variant, "converted" the outcome.
    assert app.get_by_key("ab_upload_variant").value == "test group"
    assert app.get_by_key("ab_upload_outcome").value == "converted"
    rows = table(data)
    assert [r["Variant"] for r in rows] == ["control", "variant 2", "variant 10"]
    said = verdicts(data)
    args = (str(path), "--variant", "test group", "--converted", "converted")
    assert rows == ab.table_rows(cli_json(*args))
    assert said == cli_verdicts(*args)

    # Revenue per user, Benjamini–Hochberg, α 0.10, sequential: the mean path with every setting changed.
    app.get_by_key("ab_upload_outcome").set_value("revenue").run()
    app.get_by_key("ab_data_correction").set_value("bh").run()
    app.get_by_key("ab_data_alpha").set_value(0.10).run()
    app.get_by_key("ab_data_sequential").set_value(True).run()
    app.get_by_key("ab_data_tuning").set_value(3000).run()
    assert not app.exception, app.exception
    rows = table(tab(app, "From your data"))
    assert "Mean" in rows[0]
    expected = cli_json(*args[:3], "--value", "revenue", "--correction", "bh", "--alpha", "0.1", "--sequential",
                        "--tuning", "3000")
    assert rows == ab.table_rows(expected)


def test_upload_wrong_outcome_type_is_one_sentence(app, tmp_path):
    path = _users_csv(tmp_path / "users.csv")
    open_page(app)
    app.get_by_key("ab_data_source").set_value("upload").run()
    app.get_by_key("ab_upload").set_value(("users.csv", path.read_bytes(), "text/csv")).run()
    app.get_by_key("ab_upload_outcome").set_value("revenue").run()
    app.radio[0].set_value("proportion").run()
    assert not app.exception, app.exception
    assert any("holds values other than 0/1" in e for e in texts(app, "error"))

    app.get_by_key("ab_upload").set_value(("empty.csv", b"", "text/csv")).run()
    assert not app.exception, app.exception
    assert any("empty" in e for e in texts(app, "error"))


def test_expected_split_is_checked(app):
    open_page(app)
    edit_calculator(app, {})
    app.get_by_key("ab_calc_split").set_value("50,30,20").run()
    assert any("one share per variant" in e for e in texts(tab(app, "Quick calculator"), "error"))
    app.get_by_key("ab_calc_split").set_value("90,10").run()
    calc = tab(app, "Quick calculator")
    assert any("Sample-ratio mismatch" in e for e in texts(calc, "error"))
    assert verdicts(calc)[0].startswith("Caution: the traffic split does not match the plan")


# --- The saved configuration ------------------------------------------------------------------------------------


SAVED = {"version": 1, "source": "calculator", "metric": "counts", "control": "A", "expected_split": None,
         "alpha": 0.05, "correction": "holm", "sequential": False, "tuning": 5000,
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
    assert table(at)[1]["p-value"] == "0.000616"

    upload = {"version": 1, "source": "upload", "metric": "converted", "control": "ctrl", "alpha": 0.05,
              "correction": "holm", "sequential": False, "tuning": 5000, "expected_split": None,
              "upload": {"file_name": "<b>users</b>.csv", "variant_column": "group", "outcome_column": "converted",
                         "kind": "proportion",
                         "stats": [{"name": "ctrl", "n": 10000, "sum": 1000, "sum_squares": 1000},
                                   {"name": "new", "n": 10000, "sum": 1150, "sum_squares": 1150}]}}
    at.session_state["config"] = upload
    at.run()
    assert plain(at.success[0].value).startswith("new converts 15.0 % better than ctrl")
    assert "\\<b\\>users\\</b\\>" in at.caption[0].value  # upload text is escaped, never HTML

    at.session_state["config"] = {"source": "campaign", "metric": "cvr", "control": "A"}
    at.run()
    assert not at.exception
    assert "variant column" in at.info[0].value


@pytest.mark.datasets
def test_public_ad_vs_psa_file_matches_the_cli(app, shared_datasets):
    """Kaggle "Marketing A/B testing" sample: spaces in the column names, True/False outcome, a 96/4 split."""
    path = shared_datasets / "marketing-ab-ad-psa" / "marketing_AB_sample.csv"
    open_page(app)
    app.get_by_key("ab_data_source").set_value("upload").run()
    app.get_by_key("ab_upload").set_value((path.name, path.read_bytes(), "text/csv")).run()
    app.get_by_key("ab_upload_variant").set_value("test group").run()
    app.get_by_key("ab_upload_outcome").set_value("converted").run()
    app.get_by_key("ab_data_control").set_value("psa").run()
    app.get_by_key("ab_data_split").set_value("4,96").run()
    assert not app.exception, app.exception
    data = tab(app, "From your data")
    args = (str(path), "--variant", "test group", "--converted", "converted", "--control", "psa",
            "--expected-split", "4,96")
    assert table(data) == ab.table_rows(cli_json(*args))
    assert verdicts(data) == cli_verdicts(*args)
