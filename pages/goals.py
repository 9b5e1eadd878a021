"""Goals: SMART targets with progress, the pace needed, a projection at the deadline and a status."""

import json
from datetime import date, timedelta

import polars as pl
import streamlit as st

from metrics import display
from metrics import goals as goal_math
from metrics.kpis import MIXED
from ui import charts, content_charts, data, insight_charts, insights, report_tables, widgets
from ui.router import require_router
from ui.state import GOAL_PICK, GOALS, current_viewer, kpi_settings

require_router(__file__)

NEW_GOAL = "__new__"
BADGES = {
    "on_track": ("green", ":material/check_circle:"), "achieved": ("green", ":material/emoji_events:"),
    "at_risk": ("orange", ":material/warning:"), "off_track": ("red", ":material/trending_down:"),
    "missed": ("red", ":material/cancel:"), "no_data": ("gray", ":material/help:"),
}
DIRECTION_LABELS = {"auto": "Automatic (from the metric)", "higher": "Reach at least the target",
                    "lower": "Stay at or below the target"}
TARGET_MODES = {"absolute": "A value", "relative": "A change from the start (%)"}
RECURRENCES = {"none": "Once, by the deadline", "monthly": "Every month"}


@st.cache_data(max_entries=128, ttl=3600, show_spinner=False)
def evaluate(dataset_key: str, _frame: pl.DataFrame, goal_json: str, extra_costs: float, weights_json: str):
    """Progress, chart points and (monthly goals) the months of one goal, cached per (dataset, goal, KPI
    settings)."""
    goal = goal_math.Goal.from_dict(json.loads(goal_json))
    weights = json.loads(weights_json) or None
    months = goal_math.monthly_progress(goal, _frame, extra_costs=extra_costs, weights=weights) \
        if goal.recurrence == "monthly" else []
    progress = months[-1].progress if months else goal_math.evaluate(goal, _frame, extra_costs=extra_costs,
                                                                     weights=weights)
    points = goal_math.timeline(progress, _frame, extra_costs=extra_costs, weights=weights)
    return progress, points, months


def percent_metric(metric: str) -> bool:
    return widgets.kind_of(metric) == "percent"


def typed_in_percent(metric: str, target_mode: str) -> bool:
    """Rates and relative changes are typed in percent (2.5 for 2.5 %) and stored as fractions."""
    return target_mode == "relative" or percent_metric(metric)


def needed_text(result: goal_math.GoalProgress) -> str:
    """The pace column: per day for totals and levels, the rate the remaining days must hold for rates."""
    if result.pace_needed is None:
        return display.MISSING
    value = fmt(result.goal.metric, result.pace_needed, money_of(result))
    if result.goal.kind == "rate":
        return f"{'≤' if result.goal.lower_is_better else '≥'} {value}"
    if result.goal.kind == "cumulative" and result.goal.lower_is_better:
        return f"≤ {value} per day"
    return f"{value} per day"


def target_text(result: goal_math.GoalProgress) -> str:
    """'≥ 5,000', or for a relative goal its change and the value it comes to: '+30.0 % (≥ 81,731)'."""
    goal = result.goal
    sign = "≤ " if goal.lower_is_better else "≥ "
    if not goal.relative:
        return sign + fmt(goal.metric, goal.target, money_of(result))
    change = display.format_change(goal.target)
    if result.target is None:
        return change
    return f"{change} ({sign}{fmt(goal.metric, result.target, money_of(result))})"


st.title("Goals")
st.caption(
    "SMART goals: a metric, a target, a deadline and a scope. Each goal has its own period (its start date, or the "
    "first day of data, up to the last day of data); the filter bar does not apply here."
)

dataset = widgets.require_dataset()

viewer = current_viewer()
editable = not viewer.is_client
settings = kpi_settings()
extra_costs = float(settings["extra_costs"])
weights_json = json.dumps(settings["weights"], sort_keys=True)
currency = data.dataset_currency(dataset)
first_day, last_day = data.date_bounds(dataset.key, dataset.frame)

# Goals live in session state as plain dicts (snapshots save them); read them defensively.
stored = st.session_state.get(GOALS) or []
goals: list[goal_math.Goal] = []
unreadable = 0
for raw in stored:
    try:
        goals.append(goal_math.Goal.from_dict(raw))
    except goal_math.GoalError:
        unreadable += 1
if unreadable:
    st.warning(f"{unreadable} saved goal(s) could not be read and are not shown.")


def save_goals(new_goals: list[goal_math.Goal]) -> None:
    st.session_state[GOALS] = [g.to_dict() for g in new_goals]


def fmt(metric: str, value: float | None, money: str | None = None) -> str:
    return display.format_metric(metric, value, money or currency)


def money_of(result: goal_math.GoalProgress) -> str | None:
    """The currency of the goal's own scope: a goal on a EUR platform of a report in several currencies shows €."""
    return result.currency if result.currency != MIXED else None


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def where_it_stands(dataset_key: str, _frame: pl.DataFrame, metric: str, scope: tuple, extra_costs: float,
                    weights_json: str):
    """The metric now, in the goal's scope (shown while a goal is being set)."""
    return goal_math.current_value(metric, _frame, scope=scope[0], scope_value=scope[1], extra_costs=extra_costs,
                                   weights=json.loads(weights_json) or None)


def scope_text(scope: tuple) -> str:
    return goal_math.Goal(metric="spend", target=0.0, deadline=date.max, scope=scope[0],
                          scope_value=scope[1]).scope_text


# --- add / edit (editor only) ----------------------------------------------------------------------
if editable:
    with st.expander("Add or edit a goal", expanded=not goals, icon=":material/edit:"):
        titles = {g.id: g.title for g in goals}
        picked = st.selectbox("Goal", [NEW_GOAL, *titles], key=GOAL_PICK,
                              format_func=lambda i: "New goal" if i == NEW_GOAL else titles.get(i, i))
        editing = next((g for g in goals if g.id == picked), None)
        metrics = list(goal_math.goal_metrics())
        platforms = data.dimension_values(dataset.key, dataset.frame, "platform")
        campaigns = data.dimension_values(dataset.key, dataset.frame, "campaign")
        scopes = [("all", None)] + [("platform", p) for p in platforms] + [("campaign", c) for c in campaigns]
        default_deadline = (last_day or first_day) + timedelta(days=30) if (last_day or first_day) else None
        # What the goal is about sits outside the form, so where the metric stands now follows each choice.
        left, right = st.columns(2)
        metric = left.selectbox(
            "Metric", metrics, index=metrics.index(editing.metric if editing else "conversions"),
            format_func=goal_math.metric_label, key=f"goal_metric_{picked}",
        )
        current_scope = (editing.scope, editing.scope_value) if editing else ("all", None)
        scope = right.selectbox(
            "Scope", scopes, index=scopes.index(current_scope) if current_scope in scopes else 0,
            format_func=scope_text, key=f"goal_scope_{picked}",
        )
        left, right = st.columns(2)
        target_mode = left.radio("Target", list(TARGET_MODES), format_func=TARGET_MODES.get, horizontal=True,
                                 index=list(TARGET_MODES).index(editing.target_mode if editing else "absolute"),
                                 key=f"goal_mode_{picked}")
        recurrence = right.radio("Repeats", list(RECURRENCES), format_func=RECURRENCES.get, horizontal=True,
                                 index=list(RECURRENCES).index(editing.recurrence if editing else "none"),
                                 key=f"goal_recurrence_{picked}",
                                 help="Every month: the same target each calendar month, each month judged.")
        now, now_from, now_to = where_it_stands(*data.report_frame(dataset), metric, scope, extra_costs, weights_json)
        if now is None:
            # Money in several currencies is never added up: say so, not "no data".
            mixed = goal_math.mixed_money_note(goal_math.Goal(metric=metric, target=0.0, deadline=date.max,
                                                              scope=scope[0], scope_value=scope[1]),
                                               data.report_frame(dataset)[1])
            st.caption(widgets.md_escape(mixed) if mixed else
                       f"{goal_math.metric_label(metric)} has no data in this scope yet.")
        elif goal_math.metric_kind(metric) == "level":
            st.info(f"Now: **{widgets.md_escape(fmt(metric, now))}** on {display.format_date(now_to)} "
                    f"({widgets.md_escape(scope_text(scope))}).", icon=":material/my_location:")
        else:
            st.info(f"Now: **{widgets.md_escape(fmt(metric, now))}** over the last 30 days of data, "
                    f"{display.format_period(now_from, now_to)} ({widgets.md_escape(scope_text(scope))}).",
                    icon=":material/my_location:")
        in_percent = typed_in_percent(metric, target_mode)
        with st.form(f"goal_form_{picked}", clear_on_submit=editing is None, border=False):
            name = st.text_input("Name (optional)", value=editing.name if editing else "",
                                 placeholder="Q4 conversions", max_chars=200)
            left, right = st.columns(2)
            shown_target = None
            if editing and editing.target_mode == target_mode:
                shown_target = editing.target * 100 if typed_in_percent(editing.metric, editing.target_mode) \
                    else editing.target
            target = left.number_input(
                "Change in %" if target_mode == "relative" else ("Target in %" if in_percent else "Target"),
                value=shown_target, min_value=None, step=1.0, format="%.2f", key=f"goal_target_{picked}",
                help="+30 for thirty percent more than at the start, -10 for ten percent less."
                if target_mode == "relative" else "In the metric's unit; rates in percent (type 2.5 for 2.5 %).",
            )
            direction = right.selectbox(
                "Direction", list(DIRECTION_LABELS), format_func=DIRECTION_LABELS.get,
                index=list(DIRECTION_LABELS).index(editing.direction if editing else "auto"),
                key=f"goal_direction_{picked}",
                help="Automatic: lower is better for costs (CPA, CPC, CPM…) and unfollows, higher for the rest.",
            )
            left, right = st.columns(2)
            deadline = left.date_input("Deadline" if recurrence == "none" else "Last month (any day in it)",
                                       value=editing.deadline if editing else default_deadline,
                                       key=f"goal_deadline_{picked}")
            start = right.date_input(
                "Start date" + ("" if target_mode == "relative" else " (optional)"),
                value=editing.start if editing else (last_day if target_mode == "relative" else None),
                key=f"goal_start_{picked}",
                help="A relative target grows from the value on this day; cumulative goals count from here "
                     "(empty = the first day of data).",
            )
            submitted = st.form_submit_button("Save goal", type="primary", icon=":material/flag:")
        if submitted:
            raw = {
                "id": editing.id if editing else None, "name": name, "metric": metric,
                "target": None if target is None else (target / 100 if in_percent else target),
                "deadline": deadline.isoformat() if deadline else None,
                "start": start.isoformat() if start else None,
                "scope": scope[0], "scope_value": scope[1], "direction": direction,
                "target_mode": target_mode, "recurrence": recurrence,
            }
            try:
                goal = goal_math.Goal.from_dict(raw)
            except goal_math.GoalError as error:
                st.error(str(error).replace("The goal", "This goal", 1))
            else:
                goals = [goal if g.id == goal.id else g for g in goals] if editing else [*goals, goal]
                save_goals(goals)
                st.success(f"Saved: {widgets.md_escape(goal.title)}")
                if goal.kind == "level" and not goal.relative and now is not None and goal_math.meets_target(
                        now, goal.target, goal.lower_is_better):
                    st.warning(f"{goal_math.metric_label(metric)} is already {fmt(metric, now)}, which meets this "
                               "target: the goal shows as achieved. For growth, set a higher target or a change "
                               "in % from a start date.")
        if editing is not None and st.button("Delete this goal", icon=":material/delete:", key="goal_delete"):
            save_goals([g for g in goals if g.id != editing.id])
            st.session_state.pop(GOAL_PICK, None)
            st.rerun()

# --- export / import ----------------------------------------------------------------------------------
export_col, import_col = st.columns([1, 2], gap="large")
if editable:  # import first, so the export button below already holds the imported goals
    with import_col:
        upload = st.file_uploader("Import goals (JSON)", type=["json"], key="goals_import_file",
                                  help="A file exported from this page. Goals with the same id are replaced.")
        if upload is not None and st.button("Import goals", icon=":material/upload:", key="goals_import"):
            try:
                imported = [goal_math.Goal.from_dict(raw) for raw in goal_math.parse_goals(upload.getvalue())]
            except goal_math.GoalError as error:
                st.error(str(error))
            else:
                by_id = {g.id: g for g in imported}
                goals = [by_id.pop(g.id, g) for g in goals] + list(by_id.values())
                save_goals(goals)
                st.success(f"Imported {len(imported)} goal(s).")
with export_col:
    st.download_button(
        "Export goals (JSON)", goal_math.dump_goals([g.to_dict() for g in goals]), file_name="goals.json",
        mime="application/json", icon=":material/download:", key="goals_export", on_click="ignore",
        disabled=not goals,
    )

if not goals:
    st.info("No goals yet. Add one above: pick a metric, a target and a deadline." if editable
            else "No goals were saved with this report.")
    st.stop()

# --- progress ------------------------------------------------------------------------------------------
results = []
points_by_goal = {}
months_by_goal = {}
for goal in goals:
    progress, points, months = evaluate(*data.report_frame(dataset), json.dumps(goal.to_dict(), sort_keys=True),
                                        extra_costs, weights_json)
    results.append(progress)
    points_by_goal[goal.id] = points
    months_by_goal[goal.id] = months

st.subheader("Status")
st.caption(
    "Projection at the deadline from the last 14 days of data. On track: the projection reaches the target "
    "(for costs such as CPA: stays at or below it); at risk: within 10 % of the target; off track: further away. "
    "Once the data covers the deadline a goal is achieved or missed."
)
goal_table = pl.DataFrame(
    [
        {
            "Goal": r.goal.title, "Scope": r.goal.scope_text, "Status": r.status_label,
            "Target": target_text(r) + (" a month" if r.goal.recurrence == "monthly" else ""),
            "Current": fmt(r.goal.metric, r.current, money_of(r)),
            # One rounding rule: the table and the card both show the catalog's percent of the progress.
            "Progress": None if r.progress is None else r.progress * 100,
            "Projection at deadline": fmt(r.goal.metric, r.projection, money_of(r)),
            "Needed from now": needed_text(r),
            "Deadline": r.goal.deadline, "Days left": r.days_left, "Based on": r.based_on,
        }
        for r in results
    ],
    schema={"Goal": pl.String, "Scope": pl.String, "Status": pl.String, "Target": pl.String, "Current": pl.String,
            "Progress": pl.Float64, "Projection at deadline": pl.String, "Needed from now": pl.String, "Deadline": pl.Date,
            "Days left": pl.Int64, "Based on": pl.String},
)
if goal_table.get_column("Based on").null_count() == goal_table.height:
    goal_table = goal_table.drop("Based on")  # every goal rests on all of its rows
report_tables.dataframe(
    goal_table, key="goals_table",
    column_config={"Progress": st.column_config.ProgressColumn("Progress", min_value=0.0, max_value=100.0,
                                                               format="%.2f %%")},
)
widgets.download_table(goal_math.progress_table(results), "goal_progress", key="goals_download",
                       label="Download status")

cards = st.columns(2, gap="medium")
for index, result in enumerate(results):
    goal = result.goal
    money = money_of(result)
    color, icon = BADGES[result.status]
    with cards[index % 2].container(border=True):
        st.markdown(f"**{widgets.md_escape(goal.title)}**")
        st.badge(result.status_label, color=color, icon=icon)
        st.caption(f"{widgets.md_escape(goal.scope_text)} · {widgets.md_escape(goal_math.metric_label(goal.metric))}"
                   f" · {widgets.md_escape(goal.target_text(money or currency))}")
        if result.status == "no_data":
            st.write(result.note or "No data in this goal's scope and period yet.")
            continue
        target_value = result.target if result.target is not None else goal.target
        # Progress text and captions are Markdown: escape them ("$" would start a formula).
        st.progress(result.progress or 0.0,
                    text=widgets.md_escape(f"{fmt(goal.metric, result.current, money)} of "
                                           f"{fmt(goal.metric, target_value, money)} "
                                           f"({display.format_value(result.progress or 0.0, 'percent')})"))
        lines = [f"Measured {display.format_period(result.start, result.as_of)}."]
        if result.based_on:
            # A KPI resting on part of the scope (a file without conversions adds nothing to CPA) says so.
            lines.append(f"{goal_math.metric_label(goal.metric)} is {result.based_on}: only the rows that report "
                         "every measure it needs count.")
        if result.base is not None:
            lines.append(f"Started from {fmt(goal.metric, result.base, money)}.")
        if result.status == "achieved" and result.days_left:
            lines.append(f"Target reached, {result.days_left} days before the deadline.")
        elif result.days_left:
            lines.append(f"Projected {fmt(goal.metric, result.projection, money)} at the deadline, "
                         f"{result.days_left} days away.")
            if result.pace_needed is not None and goal.kind == "cumulative":
                verb = "allows" if goal.lower_is_better else "needs"
                lines.append(f"It {verb} {fmt(goal.metric, result.pace_needed, money)} per day; "
                             "the last 14 days averaged "
                             f"{fmt(goal.metric, result.pace_recent, money)} per day.")
            elif result.pace_needed is not None and goal.kind == "level":
                lines.append(f"It needs {fmt(goal.metric, result.pace_needed, money)} per day; the recent trend is "
                             f"{fmt(goal.metric, result.pace_recent, money)} per day.")
            elif goal.kind == "rate":
                needed = ""
                if result.pace_needed is not None:
                    bound = "can run at up to" if goal.lower_is_better else "need at least"
                    needed = (f"To land on the target the remaining days {bound} "
                              f"{fmt(goal.metric, result.pace_needed, money)}; ")
                lines.append(f"{needed}the last 14 days gave {fmt(goal.metric, result.pace_recent, money)}.")
        elif goal.recurrence == "monthly":
            lines.append(f"{display.format_bucket(result.start, 'month')} is complete: "
                         f"{fmt(goal.metric, result.current, money)}.")
        else:
            lines.append("The deadline is covered by the data: final value "
                         f"{fmt(goal.metric, result.current, money)}.")
        st.caption(widgets.md_escape(" ".join(lines)))
        if goal.recurrence == "monthly":
            months = months_by_goal[goal.id]
            report_tables.dataframe(pl.DataFrame(
                [{"Month": display.format_bucket(m.month, "month"),
                  "Value": fmt(goal.metric, m.progress.current, money),
                  "Status": m.progress.status_label} for m in reversed(months)],
                schema={"Month": pl.String, "Value": pl.String, "Status": pl.String},
            ), key=f"goal_months_{goal.id}", height=min(36 * (len(months) + 1) + 3, 300))

# --- chart --------------------------------------------------------------------------------------------
st.subheader("Actual vs needed pace")
charted = [r for r in results if not points_by_goal[r.goal.id].is_empty()]
if not charted:
    st.caption("No goal has data to chart yet.")
else:
    titles = {r.goal.id: r.goal.title for r in charted}
    chart_goal = st.selectbox("Goal", list(titles), format_func=titles.get, key="goal_chart_pick")
    chosen = next(r for r in charted if r.goal.id == chart_goal)
    if chosen.goal.kind == "cumulative":
        st.caption("Running total since the start against the straight line that reaches the target on the "
                   "deadline; the dotted line projects the last 14 days forward.")
    elif chosen.goal.kind == "level":
        st.caption("The level on each day against the straight line to the target; the dotted line extends the "
                   "14-day trend.")
    else:
        st.caption("The value over the period so far on each day against the target; the dotted line is the "
                   "projection from the last 14 days.")
    chart_label = goal_math.metric_label(chosen.goal.metric)
    chart_money = money_of(chosen) or currency
    chart = content_charts.goal_progress_chart(points_by_goal[chart_goal], metric=chosen.goal.metric,
                                               label=chart_label, currency=chart_money)
    # The forecast at the deadline (spend, conversions, revenue) and the workspace's annotations on top.
    forecast = insights.goal_forecast(dataset, chosen)
    if forecast is not None:
        st.caption(f"The diamond is the forecast at the deadline from the trend and weekday pattern of the last 8 "
                   f"weeks: {widgets.md_escape(fmt(forecast.metric, forecast.projected, chart_money))} (80 % band "
                   f"{widgets.md_escape(fmt(forecast.metric, forecast.lower, chart_money))} – "
                   f"{widgets.md_escape(fmt(forecast.metric, forecast.upper, chart_money))}).")
    layers = insight_charts.deadline_forecast_layers(forecast, label=chart_label, kind=widgets.kind_of(
        chosen.goal.metric), currency=chart_money)
    layers += insight_charts.annotation_layers(insights.notes_for(dataset).annotations,
                                               points_by_goal[chart_goal]["date"].min(),
                                               points_by_goal[chart_goal]["date"].max())
    charts.show_chart(
        insight_charts.with_overlays(chart, *layers),
        key="goal_chart", name="goal_progress", title=chosen.goal.title,
        period=display.format_period(chosen.start, chosen.goal.deadline),
    )
