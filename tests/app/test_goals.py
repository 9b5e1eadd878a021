"""Goals page: a goal added through the form shows progress and status; JSON round trip; read-only clients."""

from __future__ import annotations

import json
from datetime import date

import pytest

import ui.state
from metrics import demo
from metrics import goals as goal_math
from ui.state import GOALS
from ui.widgets import md_escape

PAGE = "pages/goals.py"
SUBMIT = "FormSubmitter:goal_form___new__-Save goal"


@pytest.fixture
def goals_page(demo_app):
    demo_app.switch_page(PAGE).run()
    assert not demo_app.exception, demo_app.exception
    return demo_app


def _add_goal(at, metric: str, target: float, deadline: date, scope=("all", None)):
    at.selectbox(key="goal_metric___new__").set_value(metric)
    at.number_input(key="goal_target___new__").set_value(target)
    at.date_input(key="goal_deadline___new__").set_value(deadline)
    at.selectbox(key="goal_scope___new__").set_value(scope)
    at.button(key=SUBMIT).click().run()
    assert not at.exception, at.exception


def _status_table(at):
    return next(df.value for df in at.dataframe if list(df.value.columns)[:2] == ["Goal", "Scope"])


def test_empty_state_offers_the_demo(app):
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert app.button(key="empty_state_demo")


def test_goal_added_through_the_form_shows_progress_and_status(goals_page):
    at = goals_page
    _add_goal(at, "conversions", 15_000, date(2026, 12, 31))
    saved = at.session_state[GOALS]
    assert len(saved) == 1 and saved[0]["metric"] == "conversions" and saved[0]["target"] == 15_000
    json.dumps(saved)  # plain JSON for snapshots

    expected = goal_math.evaluate(saved[0], demo.generate())
    table = _status_table(at)
    assert table["Status"].tolist() == [expected.status_label]
    assert table["Current"].tolist() == [f"{expected.current:,.0f}"]
    assert table["Progress"].tolist() == pytest.approx([expected.progress * 100])  # shown as "100.00 %"
    assert table["Projection at deadline"].tolist() == [f"{expected.projection:,.0f}"]
    assert len(at.get("progress")) == 1
    assert any(badge.value.endswith(f"{expected.status_label}]") for badge in at.markdown)
    keys = {button.key for button in at.get("download_button")}
    assert {"goals_export", "goals_download_csv", "goals_download_xlsx", "goal_chart_png"} <= keys


def test_percent_targets_are_typed_in_percent_and_lower_is_better_inverts(goals_page):
    at = goals_page
    _add_goal(at, "ctr", 2.0, date(2026, 12, 31))
    _add_goal(at, "cpa", 10.0, date(2026, 12, 31), scope=("platform", "facebook"))
    saved = at.session_state[GOALS]
    assert saved[0]["target"] == pytest.approx(0.02)
    assert saved[1]["scope"] == "platform" and saved[1]["scope_value"] == "facebook"
    table = _status_table(at)
    frame = demo.generate()
    assert table["Status"].tolist() == [goal_math.evaluate(g, frame).status_label for g in saved]
    assert table["Target"].tolist() == ["≥ 2.00 %", "≤ $10.00"]
    assert goal_math.Goal.from_dict(saved[1]).lower_is_better


def test_json_export_import_round_trip(goals_page):
    at = goals_page
    _add_goal(at, "revenue", 500_000, date(2026, 12, 31))
    _add_goal(at, "roas", 4.0, date(2026, 11, 30))
    exported = goal_math.dump_goals(at.session_state[GOALS])  # what the export button serves
    at.session_state[GOALS] = []
    at.run()
    assert any("No goals yet" in info.value for info in at.info)
    at.file_uploader(key="goals_import_file").set_value(("goals.json", exported.encode("utf-8"),
                                                         "application/json")).run()
    at.button(key="goals_import").click().run()
    assert not at.exception
    assert at.session_state[GOALS] == json.loads(exported)
    assert len(_status_table(at)) == 2


def test_invalid_json_gives_one_sentence(goals_page):
    at = goals_page
    at.file_uploader(key="goals_import_file").set_value(("goals.json", b"{oops", "application/json")).run()
    at.button(key="goals_import").click().run()
    assert not at.exception
    assert [error.value for error in at.error] == [
        "This file is not valid JSON; export goals from the Goals page and import that file."
    ]


def test_unreadable_saved_goal_is_skipped(goals_page):
    at = goals_page
    at.session_state[GOALS] = [{"kpi": "spend"}, {"metric": "spend", "target": 1000, "deadline": "2026-12-31"}]
    at.run()
    assert not at.exception
    assert any("could not be read" in w.value for w in at.warning)
    assert len(_status_table(at)) == 1


def test_client_sees_goals_read_only(goals_page, monkeypatch):
    at = goals_page
    at.session_state[GOALS] = [{"metric": "conversions", "target": 12_000, "deadline": "2026-12-31"}]
    monkeypatch.setattr(ui.state, "current_viewer", lambda: ui.state.Viewer("client", snapshot_id=1))
    at.run()
    assert not at.exception
    assert len(_status_table(at)) == 1
    assert not at.get("expander") or all("Add or edit" not in e.label for e in at.expander)
    assert not at.get("file_uploader")
    assert "goals_export" in {button.key for button in at.get("download_button")}


def test_the_current_value_is_shown_while_creating_a_goal(goals_page):
    at = goals_page
    at.selectbox(key="goal_metric___new__").set_value("followers").run()
    at.selectbox(key="goal_scope___new__").set_value(("platform", "instagram")).run()
    frame = demo.generate()
    value, _, last = goal_math.current_value("followers", frame, scope="platform", scope_value="instagram")
    shown = [info.value for info in at.info if info.value.startswith("Now:")]
    assert shown == [f"Now: **{md_escape(f'{value:,.0f}')}** on 31 Oct 2026 ({md_escape('Platform: Instagram')})."]
    assert last == date(2026, 10, 31)


def test_a_followers_target_already_met_is_achieved_and_the_page_says_so(goals_page):
    at = goals_page
    _add_goal(at, "followers", 60_000, date(2027, 1, 31), scope=("platform", "instagram"))
    assert any("already" in w.value and "meets this target" in w.value for w in at.warning)
    table = _status_table(at)
    assert table["Status"].tolist() == ["Achieved"]
    assert table["Needed from now"].tolist() == ["—"]
    assert table["Scope"].tolist() == ["Platform: Instagram"]


def test_a_relative_goal_and_its_card_and_table_agree(goals_page):
    at = goals_page
    at.selectbox(key="goal_metric___new__").set_value("followers").run()
    at.radio(key="goal_mode___new__").set_value("relative").run()
    at.number_input(key="goal_target___new__").set_value(30.0)
    at.date_input(key="goal_start___new__").set_value(date(2026, 8, 1))
    at.date_input(key="goal_deadline___new__").set_value(date(2026, 11, 1))
    at.button(key=SUBMIT).click().run()
    assert not at.exception, at.exception
    [saved] = at.session_state[GOALS]
    assert saved["target_mode"] == "relative" and saved["target"] == pytest.approx(0.30)
    expected = goal_math.evaluate(saved, demo.generate())
    assert expected.base is not None and expected.target == pytest.approx(expected.base * 1.3)
    table = _status_table(at)
    assert table["Target"].tolist() == [f"+30.0 % (≥ {expected.target:,.0f})"]
    # One rounding rule: the card's progress text has the number the table holds.
    percent = f"{expected.progress * 100:,.2f} %"
    assert table["Progress"].tolist() == pytest.approx([expected.progress * 100])
    assert any(md_escape(percent) in bar.proto.text for bar in at.get("progress"))


def test_a_monthly_goal_lists_each_month_with_its_status(goals_page):
    at = goals_page
    at.selectbox(key="goal_metric___new__").set_value("leads").run()
    at.radio(key="goal_recurrence___new__").set_value("monthly").run()
    at.number_input(key="goal_target___new__").set_value(4_000.0)
    at.date_input(key="goal_start___new__").set_value(date(2026, 6, 1))
    at.date_input(key="goal_deadline___new__").set_value(date(2026, 12, 31))
    at.button(key=SUBMIT).click().run()
    assert not at.exception, at.exception
    [saved] = at.session_state[GOALS]
    months = goal_math.monthly_progress(goal_math.Goal.from_dict(saved), demo.generate())
    table = next(df.value for df in at.dataframe if list(df.value.columns) == ["Month", "Value", "Status"])
    assert table["Month"].tolist() == ["Oct 2026", "Sep 2026", "Aug 2026", "Jul 2026", "Jun 2026"]
    assert table["Status"].tolist() == [m.progress.status_label for m in reversed(months)]
    # The demo's leads per month, counted independently of the goal code.
    frame = demo.generate()
    june = frame.filter((frame["date"] >= date(2026, 6, 1)) & (frame["date"] <= date(2026, 6, 30)))["leads"].sum()
    assert table["Value"].tolist()[-1] == f"{june:,.0f}"
    assert table["Status"].tolist()[-1] == ("Achieved" if june >= 4_000 else "Missed")
