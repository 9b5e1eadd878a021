"""Goals: SMART targets with progress, the pace needed, a projection at the deadline and a status."""

import json
from datetime import timedelta

import polars as pl
import streamlit as st

from metrics import display
from metrics import goals as goal_math
from ui import charts, content_charts, data, widgets
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
SCOPE_NAMES = {"all": "All data", "platform": "Platform", "campaign": "Campaign"}


@st.cache_data(max_entries=128, ttl=3600, show_spinner=False)
def evaluate(dataset_key: str, _frame: pl.DataFrame, goal_json: str, extra_costs: float, weights_json: str):
    """Progress and chart points of one goal, cached per (dataset, goal, KPI settings)."""
    goal = goal_math.Goal.from_dict(json.loads(goal_json))
    weights = json.loads(weights_json) or None
    progress = goal_math.evaluate(goal, _frame, extra_costs=extra_costs, weights=weights)
    points = goal_math.timeline(progress, _frame, extra_costs=extra_costs, weights=weights)
    return progress, points


def percent_metric(metric: str) -> bool:
    return widgets.kind_of(metric) == "percent"


def needed_text(result: goal_math.GoalProgress) -> str:
    """The pace column: per day for totals and levels, the rate the remaining days must hold for rates."""
    if result.pace_needed is None:
        return "—"
    value = fmt(result.goal.metric, result.pace_needed)
    if result.goal.kind == "rate":
        return f"{'≤' if result.goal.lower_is_better else '≥'} {value}"
    if result.goal.kind == "cumulative" and result.goal.lower_is_better:
        return f"≤ {value} per day"
    return f"{value} per day"


def scope_label(goal: goal_math.Goal) -> str:
    return SCOPE_NAMES["all"] if goal.scope == "all" else f"{SCOPE_NAMES[goal.scope]}: {goal.scope_value}"


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


def fmt(metric: str, value: float | None) -> str:
    return display.format_metric(metric, value, currency)


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
        with st.form(f"goal_form_{picked}", clear_on_submit=editing is None, border=False):
            name = st.text_input("Name (optional)", value=editing.name if editing else "",
                                 placeholder="Q4 conversions", max_chars=200)
            left, right = st.columns(2)
            metric = left.selectbox(
                "Metric", metrics, index=metrics.index(editing.metric if editing else "conversions"),
                format_func=goal_math.metric_label, key=f"goal_metric_{picked}",
            )
            shown_target = (editing.target * 100 if percent_metric(editing.metric) else editing.target) if editing \
                else None
            target = right.number_input(
                "Target", value=shown_target, min_value=None, step=1.0, format="%.2f", key=f"goal_target_{picked}",
                help="In the metric's unit; rates in percent (type 2.5 for 2.5 %).",
            )
            left, right = st.columns(2)
            deadline = left.date_input("Deadline", value=editing.deadline if editing else default_deadline,
                                       key=f"goal_deadline_{picked}")
            start = right.date_input("Start date (optional)", value=editing.start if editing else None,
                                     key=f"goal_start_{picked}",
                                     help="Cumulative goals count from here; empty = the first day of data.")
            current_scope = (editing.scope, editing.scope_value) if editing else ("all", None)
            left, right = st.columns(2)
            scope = left.selectbox(
                "Scope", scopes, index=scopes.index(current_scope) if current_scope in scopes else 0,
                format_func=lambda s: SCOPE_NAMES["all"] if s[0] == "all" else f"{SCOPE_NAMES[s[0]]}: {s[1]}",
                key=f"goal_scope_{picked}",
            )
            direction = right.selectbox(
                "Direction", list(DIRECTION_LABELS), format_func=DIRECTION_LABELS.get,
                index=list(DIRECTION_LABELS).index(editing.direction if editing else "auto"),
                key=f"goal_direction_{picked}",
                help="Automatic: lower is better for costs (CPA, CPC, CPM…) and unfollows, higher for the rest.",
            )
            submitted = st.form_submit_button("Save goal", type="primary", icon=":material/flag:")
        if submitted:
            raw = {
                "id": editing.id if editing else None, "name": name, "metric": metric,
                "target": None if target is None else (target / 100 if percent_metric(metric) else target),
                "deadline": deadline.isoformat() if deadline else None,
                "start": start.isoformat() if start else None,
                "scope": scope[0], "scope_value": scope[1], "direction": direction,
            }
            try:
                goal = goal_math.Goal.from_dict(raw)
            except goal_math.GoalError as error:
                st.error(str(error).replace("The goal", "This goal", 1))
            else:
                goals = [goal if g.id == goal.id else g for g in goals] if editing else [*goals, goal]
                save_goals(goals)
                st.success(f"Saved: {widgets.md_escape(goal.title)}")
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
for goal in goals:
    progress, points = evaluate(dataset.key, dataset.frame, json.dumps(goal.to_dict(), sort_keys=True),
                                extra_costs, weights_json)
    results.append(progress)
    points_by_goal[goal.id] = points

st.subheader("Status")
st.caption(
    "Projection at the deadline from the last 14 days of data. On track: the projection reaches the target "
    "(for costs such as CPA: stays at or below it); at risk: within 10 % of the target; off track: further away. "
    "Once the data covers the deadline a goal is achieved or missed."
)
goal_table = pl.DataFrame(
    [
        {
            "Goal": r.goal.title, "Scope": scope_label(r.goal), "Status": r.status_label,
            "Target": ("≤ " if r.goal.lower_is_better else "≥ ") + fmt(r.goal.metric, r.goal.target),
            "Current": fmt(r.goal.metric, r.current), "Progress": r.progress,
            "Projection at deadline": fmt(r.goal.metric, r.projection),
            "Needed from now": needed_text(r),
            "Deadline": r.goal.deadline, "Days left": r.days_left,
        }
        for r in results
    ],
    schema={"Goal": pl.String, "Scope": pl.String, "Status": pl.String, "Target": pl.String, "Current": pl.String,
            "Progress": pl.Float64, "Projection at deadline": pl.String, "Needed from now": pl.String, "Deadline": pl.Date,
            "Days left": pl.Int64},
)
st.dataframe(
    goal_table, hide_index=True, width="stretch", key="goals_table",
    column_config={"Progress": st.column_config.ProgressColumn("Progress", min_value=0.0, max_value=1.0,
                                                               format="percent")},
)
widgets.download_table(goal_math.progress_table(results), "goal_progress", key="goals_download",
                       label="Download status")

cards = st.columns(2, gap="medium")
for index, result in enumerate(results):
    goal = result.goal
    color, icon = BADGES[result.status]
    with cards[index % 2].container(border=True):
        st.markdown(f"**{widgets.md_escape(goal.title)}**")
        st.badge(result.status_label, color=color, icon=icon)
        st.caption(f"{widgets.md_escape(scope_label(goal))} · {widgets.md_escape(goal_math.metric_label(goal.metric))}"
                   f" · deadline {goal.deadline:%d %b %Y}")
        if result.status == "no_data":
            st.write("No data in this goal's scope and period yet.")
            continue
        target_text = fmt(goal.metric, goal.target)
        # Progress text and captions are Markdown: escape them ("$" would start a formula).
        st.progress(result.progress or 0.0,
                    text=widgets.md_escape(f"{fmt(goal.metric, result.current)} of {target_text} "
                                           f"({(result.progress or 0) * 100:.0f} %)"))
        lines = [f"Measured {result.start:%d %b} – {result.as_of:%d %b %Y}."]
        if result.days_left:
            lines.append(f"Projected {fmt(goal.metric, result.projection)} at the deadline, "
                         f"{result.days_left} days away.")
            if result.pace_needed is not None and goal.kind == "cumulative":
                verb = "allows" if goal.lower_is_better else "needs"
                lines.append(f"It {verb} {fmt(goal.metric, result.pace_needed)} per day; the last 14 days averaged "
                             f"{fmt(goal.metric, result.pace_recent)} per day.")
            elif result.pace_needed is not None and goal.kind == "level":
                lines.append(f"It needs {fmt(goal.metric, result.pace_needed)} per day; the recent trend is "
                             f"{fmt(goal.metric, result.pace_recent)} per day.")
            elif goal.kind == "rate":
                needed = ""
                if result.pace_needed is not None:
                    bound = "can run at up to" if goal.lower_is_better else "need at least"
                    needed = f"To land on the target the remaining days {bound} {fmt(goal.metric, result.pace_needed)}; "
                lines.append(f"{needed}the last 14 days gave {fmt(goal.metric, result.pace_recent)}.")
        else:
            lines.append(f"The deadline is covered by the data: final value {fmt(goal.metric, result.current)}.")
        st.caption(widgets.md_escape(" ".join(lines)))

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
    charts.show_chart(
        content_charts.goal_progress_chart(points_by_goal[chart_goal], metric=chosen.goal.metric,
                                           label=goal_math.metric_label(chosen.goal.metric), currency=currency),
        key="goal_chart", name="goal_progress",
    )
