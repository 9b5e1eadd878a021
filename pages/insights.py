"""Insights: why KPIs moved, budget pacing, days outside their expected band, forecasts to the period end, and
annotations. Editors add budgets and annotations for the workspace; a snapshot (and a client's shared link)
shows the ones it was saved with, read-only."""

from datetime import date, timedelta

import polars as pl
import streamlit as st

from metrics import display
from metrics.insights import tables
from metrics.insights.annotations import KIND_LABELS, KINDS, Annotation, country_names, public_holidays
from metrics.insights.anomalies import SENSITIVITIES
from metrics.insights.pacing import Budget, month_start, read_budget_sheet
from models import repository
from ui import charts, data, filters, insight_charts, insights, report_tables, widgets
from ui.errors import user_errors
from ui.persistence import session_scope
from ui.router import require_router
from ui.session import current_workspace_id
from ui.state import (
    INS_ANOMALY_METRIC,
    INS_BUDGET_FORM,
    INS_BUDGET_PICK,
    INS_BUDGET_SHEET,
    INS_FORECAST_METRIC,
    INS_FORECAST_SPAN,
    INS_HOLIDAY_COUNTRY,
    INS_KPI,
    INS_NOTE_FORM,
    INS_NOTE_PICK,
    INS_NOTICE,
    INS_SENSITIVITY,
    NEW_ITEM,
    current_viewer,
    keyed,
)

require_router(__file__)

SENSITIVITY_LABELS = {"low": "Low (fewer flags)", "medium": "Medium", "high": "High (more flags)"}
SPAN_LABELS = {"month": "End of the month", "quarter": "End of the quarter"}
# Status cells: green on pace, yellow under, orange over, red far off, grey without a verdict (the label says it too).
STATUS_COLORS = {"on_pace": "#D3F9D8", "under": "#FFF3BF", "over": "#FFE8CC", "far_under": "#FFC9C9",
                 "far_over": "#FFC9C9", "not_started": "#F1F3F5", "no_data": "#F1F3F5", "currency_mismatch": "#F1F3F5"}
SCOPE_ALL = ("all", None)

st.title("Insights")
dataset = widgets.require_dataset()

viewer = current_viewer()
flt = filters.current()
currency = data.dataset_currency(dataset)
notes = insights.notes_for(dataset)
workspace_id = current_workspace_id()
# Budgets and annotations belong to the editor's workspace; a snapshot keeps the ones it was saved with.
editable = viewer.is_editor and not notes.saved and workspace_id is not None
period_text = display.format_period(flt.date_from, flt.date_to) if flt.date_from and flt.date_to else None

st.caption(flt.scope_text())
if notes.saved and viewer.is_editor:
    st.info("This snapshot keeps the budgets and annotations it was saved with, so its client link never changes. "
            "Edit the workspace's own on its live data (the Data page shows it).", icon=":material/lock:")

notice = st.session_state.pop(INS_NOTICE, None)
if notice:
    getattr(st, notice[0])(widgets.md_escape(notice[1]))


def done(message: str) -> None:
    """Keep the sentence for the next run and rerun, so every section reads the stored notes afresh."""
    st.session_state[INS_NOTICE] = ("success", message)
    st.rerun()


def fmt(metric: str, value: float | None) -> str:
    return display.format_metric(metric, value, currency)


drivers_tab, pacing_tab, anomalies_tab, forecast_tab, notes_tab = st.tabs(
    ["Why KPIs moved", "Budget pacing", "Anomalies", "Forecast", "Annotations"])

# --- why KPIs moved ---------------------------------------------------------------------------------------
with drivers_tab:
    if flt.comparison is None or period_text is None:
        st.info("Pick a comparison in the sidebar (“Compare with”) to see why CPA, ROAS, CPL and CPC moved.")
    else:
        with st.spinner("Splitting each KPI's change into its factors…"):
            changes = insights.drivers(dataset, flt)
        if not changes:
            st.info("No KPI here can be split into its factors: that needs spend, impressions, clicks and "
                    "conversions (or leads, or revenue) reported together.")
        else:
            for change in changes:
                st.markdown(f"- {widgets.md_escape(change.sentence)}")
            partial = [f"{c.total.label} is {c.based_on}" for c in changes if c.based_on]
            if partial:
                st.caption(widgets.md_escape(f"Each KPI counts only the rows that report every measure its factors "
                                             f"use: {'; '.join(partial)}."))
            explained = {c.kpi: c for c in changes if c.total.explained}
            if explained:
                kpi = st.segmented_control("Explain", list(explained), format_func=display.label, key=INS_KPI,
                                           default=next(iter(explained)), required=True) or next(iter(explained))
                change = explained[kpi]
                label = change.total.label
                st.caption(f"How each factor moved {label}, in percentage points of its change "
                           f"({display.format_change(change.total.change_rel)}); the parts add up to it.")
                charts.show_chart(insight_charts.waterfall_chart(change), key="ins_waterfall",
                                  name=f"drivers_{kpi}", title=f"Why {label} moved")
                st.markdown(widgets.md_escape(tables.mix_sentence(change)))
                factor_columns = {f"{f.name}_delta_rel": pl.Float64 for f in change.total.factors}
                platform_table = pl.DataFrame(tables.platform_rows(change), schema={
                    "platform": pl.String, f"{kpi}_prev": pl.Float64, kpi: pl.Float64, f"{kpi}_delta_rel": pl.Float64,
                    **factor_columns, "share_of_spend_prev": pl.Float64, "share_of_spend": pl.Float64,
                    "Own part": pl.String, "Budget-mix part": pl.String, "Note": pl.String})
                st.markdown(f"**{label} by platform**")
                st.caption("Each platform's own factors; the parts are percentage points of the total change, "
                           "from the platform's own KPI and from budget moving to or from it.")
                report_tables.show_table(platform_table, key="ins_platforms", file_name=f"drivers_{kpi}_by_platform",
                                         currency=currency)
            elif changes:
                st.caption("None of these changes can be split further; the sentences above say why.")

# --- budget pacing ----------------------------------------------------------------------------------------
with pacing_tab:
    pacings = insights.pacing(dataset, notes.budgets)
    if pacings:
        st.caption(f"Paced on {display.format_date(pacings[0].as_of)}, the last day in the data: spend to date "
                   "against an even spread of the budget, and the month end projected from the last 7 days' "
                   "average. On pace: within 5 % of the budget; under or over: 5–20 % off; far off: beyond 20 %.")
        shown = pl.DataFrame(tables.pacing_rows(pacings), schema={c: pl.String for c in tables.PACING_COLUMNS})
        colours = [f"background-color: {STATUS_COLORS[p.status]}" for p in pacings]
        st.dataframe(shown.to_pandas().style.apply(lambda _: colours, subset=["Status"]), hide_index=True,
                     width="stretch", key="ins_pacing_table")
        widgets.download_table(shown, "budget_pacing", key="ins_pacing_download")
        for p in pacings:
            if p.status not in ("on_pace", "not_started"):
                st.markdown(f"- {widgets.md_escape(tables.pacing_sentence(p))}")
    elif editable:
        st.info("No budgets yet. Add a monthly budget below, or import a sheet with the columns month, platform "
                "(or campaign) and amount.")
    else:
        st.info("No budgets were saved with this report.")

    if editable:
        first_day, last_day = data.date_bounds(dataset.key, dataset.frame)
        budget_names = {r.id: f"{tables.describe_budget(repository.budget_of(r))} · "
                               f"{display.format_metric('spend', r.amount, r.currency or currency)}"
                        for r in notes.budget_records}
        with st.expander("Add or change a budget", icon=":material/edit:", expanded=not budget_names):
            picked = st.selectbox("Budget", [NEW_ITEM, *budget_names], key=INS_BUDGET_PICK,
                                  format_func=lambda i: budget_names.get(i, "New budget"))
            editing = next((r for r in notes.budget_records if r.id == picked), None)
            start = month_start(first_day or date.today())
            end = month_start((last_day or date.today()) + timedelta(days=100))
            months = []
            while start <= end:
                months.append(start)
                start = month_start(start + timedelta(days=32))
            current_month = editing.month if editing else month_start(last_day or date.today())
            if current_month not in months:
                months.append(current_month)
                months.sort()
            scopes = [SCOPE_ALL] + [("platform", p) for p in data.dimension_values(dataset.key, dataset.frame, "platform")] \
                + [("campaign", c) for c in data.dimension_values(dataset.key, dataset.frame, "campaign")]
            current_scope = (editing.scope, editing.scope_value) if editing else SCOPE_ALL
            if current_scope not in scopes:
                scopes.append(current_scope)
            with st.form(keyed(INS_BUDGET_FORM, picked), border=False):
                left, right = st.columns(2)
                month = left.selectbox("Month", months, index=months.index(current_month),
                                       format_func=lambda m: display.format_bucket(m, "month"),
                                       key=keyed(INS_BUDGET_FORM, f"month_{picked}"))
                chosen_scope = right.selectbox(
                    "Scope", scopes, index=scopes.index(current_scope),
                    format_func=lambda s: "Whole account" if s == SCOPE_ALL else
                    f"{'Platform' if s[0] == 'platform' else 'Campaign'}: "
                    f"{display.platform_label(s[1]) if s[0] == 'platform' else s[1]}",
                    key=keyed(INS_BUDGET_FORM, f"scope_{picked}"))
                left, right = st.columns(2)
                amount = left.number_input("Amount", min_value=0.0, value=editing.amount if editing else None,
                                           step=100.0, format="%.2f", key=keyed(INS_BUDGET_FORM, f"amount_{picked}"))
                budget_currency = right.text_input(
                    "Currency (optional)", value=(editing.currency or "") if editing else "", max_chars=3,
                    placeholder=currency or "USD", key=keyed(INS_BUDGET_FORM, f"currency_{picked}"),
                    help="An ISO code such as USD or EUR; empty: the spend's own currency.")
                saved = st.form_submit_button("Save budget", type="primary", icon=":material/savings:")
            if saved:
                if not amount or amount <= 0:
                    st.error("Type the month's budget: an amount above zero.")
                else:
                    with user_errors("The budget could not be saved") as outcome:
                        with session_scope() as db:
                            repository.save_budget(
                                session=db, workspace_id=workspace_id, budget_id=editing.id if editing else None,
                                budget=Budget(month, chosen_scope[0], chosen_scope[1], float(amount),
                                              budget_currency.strip() or None))
                    if not outcome.failed:
                        st.session_state.pop(INS_BUDGET_PICK, None)
                        done("Budget saved.")
            if editing is not None and st.button("Delete this budget", icon=":material/delete:",
                                                 key="ins_budget_delete"):
                with user_errors("The budget could not be deleted") as outcome:
                    with session_scope() as db:
                        repository.delete_budget(session=db, budget_id=editing.id, workspace_id=workspace_id)
                if not outcome.failed:
                    st.session_state.pop(INS_BUDGET_PICK, None)
                    done("Budget deleted.")
        with st.expander("Import a budget sheet", icon=":material/upload:"):
            st.caption("A CSV or XLSX sheet with the columns month (2026-10 or Oct 2026), platform or campaign "
                       "(neither: the whole account), amount and, optionally, currency. A month and scope that "
                       "already has a budget takes the sheet's amount.")
            sheet = st.file_uploader("Budget sheet", type=["csv", "tsv", "txt", "xlsx"], key=INS_BUDGET_SHEET)
            if sheet is not None and st.button("Import budgets", icon=":material/upload:", key="ins_budget_import"):
                with user_errors("The budget sheet could not be imported") as outcome:
                    read = read_budget_sheet(sheet.getvalue(), sheet.name)
                    with session_scope() as db:
                        result = repository.import_budgets(session=db, workspace_id=workspace_id, budgets=read.budgets)
                if not outcome.failed:
                    skipped = f" {len(read.issues)} row(s) were left out: {' '.join(read.issues[:5])}" \
                        if read.issues else ""
                    done(f"{result.describe().capitalize()}.{skipped}")

# --- anomalies ----------------------------------------------------------------------------------------------
with anomalies_tab:
    if period_text is None:
        st.info("The data has no dates, so no day can be judged.")
    else:
        sensitivity = st.segmented_control(
            "Sensitivity", list(SENSITIVITIES), format_func=SENSITIVITY_LABELS.get, default="medium",
            required=True, key=INS_SENSITIVITY,
            help="How far outside its expected range a day must be to be flagged: low 5.5, medium 4.5, high 3.5 "
                 "robust standard deviations.") or "medium"
        with st.spinner("Judging each day against its expected band…"):
            scans = insights.anomaly_scans(dataset, flt, sensitivity=sensitivity)
        judged = [s for s in scans if s.reason is None]
        unjudged = [s for s in scans if s.reason is not None]
        flagged = sorted((a for s in judged for a in s.anomalies), key=lambda a: (a.date, a.metric))
        st.caption("Each metric's daily total against the band a weekday-seasonal model (STL) expected from up to "
                   "half a year of history; a day outside it is flagged. Low-volume days of a rate are not judged.")
        if not scans:
            st.info("There is no daily series to judge in this selection.")
        elif not judged:
            st.info("Too short to judge: anomalies need at least three weeks of daily values to learn the weekday "
                    "pattern, and this selection has fewer.")
        elif not flagged:
            st.success(f"No day of {period_text} is outside its expected band "
                       f"({', '.join(s.label for s in judged)}).")
        else:
            on_day = {a.date: "; ".join(n.text for n in notes.annotations if n.covers(a.date)) for a in flagged}
            listing = pl.DataFrame([
                {"Date": a.date, "Metric": display.label(a.metric), "Value": fmt(a.metric, a.value),
                 "Expected": f"{fmt(a.metric, a.lower)} – {fmt(a.metric, a.upper)}",
                 "Flag": "Above the band" if a.direction == "above" else "Below the band",
                 "Annotation": on_day[a.date]} for a in flagged],
                schema={"Date": pl.Date, "Metric": pl.String, "Value": pl.String, "Expected": pl.String,
                        "Flag": pl.String, "Annotation": pl.String})
            st.markdown(f"**{len(flagged)} day{'s' if len(flagged) != 1 else ''} outside the expected band**")
            report_tables.dataframe(listing, key="ins_anomaly_table")
        if unjudged and judged:
            st.caption("Not judged: " + " ".join(widgets.md_escape(s.reason) for s in unjudged))
        if judged:
            by_metric = {s.metric: s for s in judged}
            default = next((a.metric for a in flagged), next(iter(by_metric)))
            metric = st.selectbox("Chart", list(by_metric), format_func=display.label, key=INS_ANOMALY_METRIC,
                                  index=list(by_metric).index(default))
            charts.show_chart(
                insight_charts.band_chart(by_metric[metric], start=flt.date_from, end=flt.date_to,
                                          kind=widgets.kind_of(metric), currency=currency,
                                          annotations=notes.annotations),
                key="ins_band", name=f"expected_band_{metric}", title=f"{display.label(metric)} and its expected band")

# --- forecast -----------------------------------------------------------------------------------------------
with forecast_tab:
    span = st.segmented_control("Forecast to", list(SPAN_LABELS), format_func=SPAN_LABELS.get, default="month",
                                required=True, key=INS_FORECAST_SPAN) or "month"
    with st.spinner("Projecting spend, conversions and revenue…"):
        forecasts = insights.forecasts(dataset, flt, span)
    if not forecasts:
        st.info("There is no spend, conversions or revenue in this selection to forecast.")
    else:
        period = insight_charts.forecast_span(forecasts[0])
        st.caption(f"{period}, from the data's last day on: a straight-line trend with a weekday pattern fitted "
                   "to the last 8 weeks (statsmodels OLS), with an 80 % band. The sidebar's platform and campaign "
                   "filters apply; its dates do not.")
        for forecast in forecasts:
            st.markdown(f"- {widgets.md_escape(tables.forecast_sentence(forecast, currency=currency))}")
        usable = {f.metric: f for f in forecasts if f.reason is None and not f.daily.is_empty()}
        if usable:
            metric = st.selectbox("Chart", list(usable), format_func=display.label, key=INS_FORECAST_METRIC)
            forecast = usable[metric]
            key, frame = data.dashboard_frame(dataset)
            shown_from = min(forecast.period_start, forecast.through - timedelta(days=27))
            actual = data.summarize(key, frame, (), grain="day", date_from=shown_from, date_to=forecast.through,
                                    filters_json=flt.filters_json()).filter(pl.col("date").is_not_null())
            charts.show_chart(
                insight_charts.forecast_chart(actual, forecast, kind=widgets.kind_of(metric), currency=currency,
                                              annotations=notes.annotations),
                key="ins_forecast", name=f"forecast_{metric}", title=f"{display.label(metric)} forecast",
                period=display.format_period(shown_from, forecast.period_end))

# --- annotations --------------------------------------------------------------------------------------------
with notes_tab:
    if notes.annotations:
        rows = pl.DataFrame(tables.annotation_rows(notes.annotations),
                            schema={c: pl.String for c in tables.ANNOTATION_COLUMNS})
        st.caption("Drawn on every trend chart (a dashed line on the day, a shaded span for several days).")
        report_tables.dataframe(rows, key="ins_notes_table")
    elif editable:
        st.info("No annotations yet. Add launches, outages or other notes below; they appear on every trend chart.")
    else:
        st.info("No annotations were saved with this report.")

    if editable:
        note_names = {r.id: f"{display.format_date(r.start_date)} · {r.text}" for r in notes.annotation_records}
        with st.expander("Add or change an annotation", icon=":material/edit_note:", expanded=not note_names):
            picked = st.selectbox("Annotation", [NEW_ITEM, *note_names], key=INS_NOTE_PICK,
                                  format_func=lambda i: note_names.get(i, "New annotation"))
            editing = next((r for r in notes.annotation_records if r.id == picked), None)
            _, last_day = data.date_bounds(dataset.key, dataset.frame)
            with st.form(keyed(INS_NOTE_FORM, picked), border=False, clear_on_submit=editing is None):
                text = st.text_input("What happened", value=editing.text if editing else "", max_chars=200,
                                     placeholder="New landing page live", key=keyed(INS_NOTE_FORM, f"text_{picked}"))
                left, middle, right = st.columns(3)
                day = left.date_input("Date", value=editing.start_date if editing else last_day,
                                      key=keyed(INS_NOTE_FORM, f"date_{picked}"))
                end = middle.date_input("Until (optional)", value=editing.end_date if editing else None,
                                        key=keyed(INS_NOTE_FORM, f"end_{picked}"))
                kind = right.selectbox("Kind", list(KINDS), format_func=KIND_LABELS.get,
                                       index=list(KINDS).index(editing.kind) if editing else 0,
                                       key=keyed(INS_NOTE_FORM, f"kind_{picked}"))
                saved = st.form_submit_button("Save annotation", type="primary", icon=":material/bookmark_add:")
            if saved:
                if day is None:
                    st.error("Pick the day it happened.")
                elif end is not None and end < day:
                    st.error("The end date is before the start date; swap them.")
                else:
                    with user_errors("The annotation could not be saved") as outcome:
                        with session_scope() as db:
                            repository.save_annotation(
                                session=db, workspace_id=workspace_id,
                                annotation_id=editing.id if editing else None,
                                annotation=Annotation(day, text, end=end if end and end != day else None, kind=kind))
                    if not outcome.failed:
                        st.session_state.pop(INS_NOTE_PICK, None)
                        done("Annotation saved.")
            if editing is not None and st.button("Delete this annotation", icon=":material/delete:",
                                                 key="ins_note_delete"):
                with user_errors("The annotation could not be deleted") as outcome:
                    with session_scope() as db:
                        repository.delete_annotation(session=db, annotation_id=editing.id, workspace_id=workspace_id)
                if not outcome.failed:
                    st.session_state.pop(INS_NOTE_PICK, None)
                    done("Annotation deleted.")
        with st.expander("Add public holidays", icon=":material/event:"):
            first_day, last_day = data.date_bounds(dataset.key, dataset.frame)
            countries = country_names()
            country = st.selectbox("Country", list(countries), format_func=countries.get, key=INS_HOLIDAY_COUNTRY,
                                   index=None, placeholder="Pick a country")
            years = f"{first_day.year}–{last_day.year + 1}" if first_day and last_day else ""
            st.caption(f"Adds the country's public holidays of {years or 'the data’s years'} as annotations, once.")
            if country and first_day and last_day and st.button("Add holidays", icon=":material/event_available:",
                                                                 key="ins_holidays_add"):
                with user_errors("The holidays could not be added") as outcome:
                    found = public_holidays(country, date(first_day.year, 1, 1), date(last_day.year + 1, 12, 31))
                    with session_scope() as db:
                        added = repository.add_annotations(session=db, workspace_id=workspace_id, annotations=found)
                if not outcome.failed:
                    done(f"{added} public holiday{'s' if added != 1 else ''} of {countries[country]} added"
                         + ("." if added == len(found) else f" ({len(found) - added} were there already)."))
