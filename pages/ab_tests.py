"""A/B tests: a verdict from the campaign table's variants (CPA, ROAS, CTR... per ad row) or an uploaded file, a
quick calculator, a planner. Every number comes from `metrics.abtest`, the engine behind `python -m metrics abtest`,
so the page and the command line agree for the same input. Clients see the report's saved test read-only."""

import polars as pl
import streamlit as st

from metrics.abtest import display, inputs, saved
from metrics.abtest.curves import cumulative_lift
from metrics.display import format_value
from metrics.ingest import MAX_UPLOAD_BYTES
from metrics.samplesize import detectable_effect, samplesize_curve, samplesize_means, samplesize_proportions
from ui import ab, filters
from ui.charts import show_chart
from ui.errors import user_errors
from ui.router import require_router
from ui.state import (
    AB_CALC_GRID,
    AB_CALC_MODE,
    AB_CALC_ROWS,
    AB_CALC_SETTINGS,
    AB_CONFIG,
    AB_DATA_CAMPAIGN,
    AB_DATA_CAP,
    AB_DATA_METRIC,
    AB_DATA_SETTINGS,
    AB_DATA_SOURCE,
    AB_PLAN,
    AB_SEEDED,
    AB_UPLOAD,
    current_viewer,
    get_dataset,
    keyed,
)
from ui.widgets import md_escape

require_router(__file__)

ALL_CAMPAIGNS = ""

st.title("A/B tests")
viewer = current_viewer()
dataset = get_dataset()
frame = dataset.frame if dataset is not None else None
config: dict = st.session_state.get(AB_CONFIG) or {}

# --- clients: the saved test, read-only ------------------------------------------------------------------------
if viewer.is_client:
    ab.render_saved(config, frame, filters.current(), key="saved")
    st.stop()


def save_button(new_config: dict, *, key: str) -> None:
    """Editor only: make this the report's A/B test (saved with the next snapshot)."""
    if st.button("Save as the report's A/B test", key=key, icon=":material/bookmark_add:",
                 help="Stores these settings with the report; a snapshot shares them with clients (read-only)."):
        new_config = {"version": saved.CONFIG_VERSION, **new_config}
        st.session_state[AB_CONFIG] = new_config
        st.session_state[AB_SEEDED] = saved.config_hash(new_config)
        st.toast("Saved as the report's A/B test.", icon=":material/bookmark_added:")
        st.rerun()


# --- a saved configuration (opened snapshot or an earlier save) fills the widgets once -------------------------
if config and st.session_state.get(AB_SEEDED) != saved.config_hash(config):
    st.session_state[AB_SEEDED] = saved.config_hash(config)
    if config.get("source") == "campaign":
        st.session_state[AB_DATA_SOURCE] = "campaign"
        st.session_state[AB_DATA_METRIC] = config.get("metric")
        st.session_state[AB_DATA_CAMPAIGN] = config.get("campaign") or ALL_CAMPAIGNS
        st.session_state[AB_DATA_CAP] = config.get("cap_percentile")
        ab.seed_settings(AB_DATA_SETTINGS, config, direction_key=str(config.get("metric")))
    elif config.get("source") == "upload":
        st.session_state[AB_DATA_SOURCE] = "upload"
    elif config.get("source") == "calculator":
        mode = "means" if config.get("metric") == "means" else "counts"
        st.session_state[AB_CALC_MODE] = mode
        st.session_state[keyed(AB_CALC_ROWS, mode)] = list(config.get("calculator_rows") or [])
        st.session_state.pop(keyed(AB_CALC_GRID, mode), None)
        ab.seed_settings(AB_CALC_SETTINGS, config, direction_key=mode)

if config:
    with st.expander(f"The report's A/B test (what clients see): {md_escape(saved.describe_config(config))}",
                     icon=":material/bookmark:"):
        ab.render_saved(config, frame, filters.current(), key="saved")
        if st.button("Remove it from the report", key="ab_remove_saved", icon=":material/delete:"):
            st.session_state[AB_CONFIG] = {}
            st.rerun()

tab_data, tab_calc, tab_plan = st.tabs(["From your data", "Quick calculator", "Planner"])

# --- From your data ---------------------------------------------------------------------------------------------
with tab_data:
    campaign_metrics = saved.available_campaign_metrics(frame) if frame is not None else []
    sources = {"campaign": "Campaign data (variant column)", "upload": "A file"}
    st.session_state.setdefault(AB_DATA_SOURCE, "campaign" if campaign_metrics else "upload")
    source = st.segmented_control("Data", list(sources), format_func=sources.get, key=AB_DATA_SOURCE,
                                  required=True) or "campaign"

    if source == "campaign":
        if not campaign_metrics:
            st.info("The current data has no `variant` column with spend, clicks, conversions or revenue. Upload "
                    "exports that include the A/B variant on the Data page, use the demo data, or upload a file "
                    "here.")
        else:
            left, mid, right = st.columns([1.4, 1.4, 1])
            ab.default(AB_DATA_METRIC, campaign_metrics[0], campaign_metrics)
            metric = saved.CAMPAIGN_METRICS[left.selectbox(
                "Metric", campaign_metrics, key=AB_DATA_METRIC,
                format_func=lambda m: saved.CAMPAIGN_METRICS[m].title)]
            report_filters = filters.current()
            in_filters = saved.campaign_rows(frame, filters=report_filters)
            campaigns = (sorted(in_filters.get_column("campaign").drop_nulls().unique().to_list())
                         if "campaign" in in_filters.columns else [])
            ab.default(AB_DATA_CAMPAIGN, ALL_CAMPAIGNS, [ALL_CAMPAIGNS] + campaigns)
            campaign = mid.selectbox("Campaign", [ALL_CAMPAIGNS] + campaigns, key=AB_DATA_CAMPAIGN,
                                     format_func=lambda c: c or "All campaigns",
                                     help="Restrict the test to the ads of one campaign.")
            cap = ab.capping_widget(AB_DATA_CAP, right)
            rows = saved.campaign_rows(frame, filters=report_filters, campaign=campaign or None)
            st.caption(f"Each row of the data with a variant label (a day of one ad, in the report's filters) is a "
                       f"unit: {metric.label} per variant is the sum of {metric.numerator} over the sum of "
                       f"{metric.denominator} ({metric.direction} is better).")
            problem = saved.currency_problem(rows, metric)
            data = saved.campaign_data(rows, metric, cap) if problem is None else None
            if problem:
                st.error(md_escape(problem))
            elif not data.arms:
                st.info("No rows with a variant label in the current filters; widen the date range or the "
                        "platform and campaign filters.")
            else:
                settings = ab.settings_widgets(AB_DATA_SETTINGS, data.names, direction=metric.direction,
                                               direction_key=metric.key)
                if settings is not None:
                    result = saved.run(data, settings)
                    daily = cumulative_lift(rows, numerator=metric.numerator, denominator=metric.denominator,
                                            control=settings.control, alpha=result.alpha_adjusted,
                                            sequential=settings.sequential, tuning=settings.tuning)
                    currency = saved.rows_currency(rows)
                    ab.render_result(result, key="data", daily=daily, planned_mde=settings.planned_mde,
                                     value_format=lambda x: format_value(x, metric.format, currency))
                    save_button({"source": "campaign", "metric": metric.key, "campaign": campaign or None,
                                 "cap_percentile": cap, **settings.to_config()}, key="ab_save_data")
    else:
        uploaded = st.file_uploader(
            "A file with the test's data (CSV, TSV, XLSX or Parquet)", type=["csv", "tsv", "txt", "xlsx", "parquet"],
            key=AB_UPLOAD, max_upload_size=MAX_UPLOAD_BYTES // (1024 * 1024),
            help="One row per user (user_id, group, converted or revenue), one row per ad and day (variant, spend, "
                 "conversions), totals or summary statistics per variant. Read in this session only.")
        if uploaded is None and config.get("source") == "upload":
            st.caption("The report's saved test came from an uploaded file; its results are in the panel above. "
                       "Upload a file to analyse another one.")
        table = None
        if uploaded is not None:
            with user_errors("The file could not be read") as outcome:
                table = ab.read_upload(uploaded.name, uploaded.getvalue())
            if table is not None and table.width < 2:
                st.error("The file needs at least two columns: the variant and what was measured.")
                table = None
        if table is not None:
            choice = ab.upload_choices(table, f"{uploaded.name}:{uploaded.file_id}")
            data = None
            with user_errors("The A/B test could not be computed from this file") as outcome:
                data = inputs.build(table, shape=choice.shape, variant=choice.variant, columns=choice.columns,
                                    unit=choice.unit, cap_percentile=choice.cap_percentile)
            if data is not None and not data.arms:
                st.info(md_escape(f"Column {choice.variant} has no variant labels."))
            elif data is not None:
                settings = ab.settings_widgets(AB_DATA_SETTINGS, data.names, direction_key="upload")
                if settings is not None:
                    result = saved.run(data, settings)
                    ab.render_result(result, key="upload", planned_mde=settings.planned_mde)
                    save_button({"source": "upload", "metric": data.metric, **settings.to_config(),
                                 "upload": {"file_name": uploaded.name, "shape": choice.shape,
                                            "columns": {"variant": choice.variant, "unit": choice.unit,
                                                        **choice.columns},
                                            "data": saved.data_to_json(data)}}, key="ab_save_upload")

# --- Quick calculator -------------------------------------------------------------------------------------------
with tab_calc:
    modes = {"counts": "Conversions (visitors, conversions)", "means": "Means (n, mean, sd)"}
    st.session_state.setdefault(AB_CALC_MODE, "counts")
    mode = st.segmented_control("Metric", list(modes), format_func=modes.get, key=AB_CALC_MODE,
                                required=True) or "counts"
    st.caption("Type your numbers over the example; add a row for each further variant. The first variant is the "
               "control unless you pick another one below.")
    if mode == "counts":
        base = st.session_state.setdefault(keyed(AB_CALC_ROWS, "counts"),
                                           [dict(r) for r in saved.CALCULATOR_COUNTS])
        schema = {"name": pl.String, "visitors": pl.Int64, "conversions": pl.Int64}
        column_config = {
            "name": st.column_config.TextColumn("Variant", width=160, required=True),
            "visitors": st.column_config.NumberColumn("Visitors", width=160, min_value=0, step=1,
                                                      help="Users (or sessions, clicks) in the variant."),
            "conversions": st.column_config.NumberColumn("Conversions", width=160, min_value=0, step=1),
        }
    else:
        base = st.session_state.setdefault(keyed(AB_CALC_ROWS, "means"), [dict(r) for r in saved.CALCULATOR_MEANS])
        schema = {"name": pl.String, "n": pl.Int64, "mean": pl.Float64, "sd": pl.Float64}
        column_config = {
            "name": st.column_config.TextColumn("Variant", width=160, required=True),
            "n": st.column_config.NumberColumn("Users (n)", width=120, min_value=0, step=1),
            "mean": st.column_config.NumberColumn("Mean", width=120, help="For example revenue per user."),
            "sd": st.column_config.NumberColumn("Standard deviation", width=160, min_value=0.0,
                                                help="Sample standard deviation of the value per user."),
        }
    base_frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in base], schema=schema, strict=False)
    edited = st.data_editor(base_frame, key=keyed(AB_CALC_GRID, mode), num_rows="dynamic", hide_index=True,
                            column_config=column_config, width="content")
    edited_rows = (edited if isinstance(edited, pl.DataFrame) else pl.from_pandas(edited)).to_dicts()
    calc_data, problems = saved.calculator_data(edited_rows, mode)
    for problem in problems:  # one sentence per invalid input, and no result built on it
        st.error(md_escape(problem))
    if not problems and len(calc_data.names) < 2:
        st.info("Enter at least two variants with different names.")
    elif not problems:
        calc_settings = ab.settings_widgets(AB_CALC_SETTINGS, calc_data.names, direction_key=mode)
        if calc_settings is not None:
            calc_result = saved.run(calc_data, calc_settings)
            ab.render_result(calc_result, key="calc", planned_mde=calc_settings.planned_mde)
            save_button({"source": "calculator", "metric": mode, **calc_settings.to_config(),
                         "calculator_rows": [{k: r.get(k) for k in schema} for r in edited_rows]},
                        key="ab_save_calc")

# --- Planner ----------------------------------------------------------------------------------------------------
with tab_plan:
    kinds = {"rate": "A conversion rate", "mean": "An average (order value, revenue per user)"}
    kind = st.segmented_control("What the test measures", list(kinds), format_func=kinds.get, default="rate",
                                required=True, key=keyed(AB_PLAN, "kind")) or "rate"
    means = kind == "mean"
    st.caption("How many units a test needs before it starts: a two-sided test of two conversion rates (pooled "
               "formula) or of two means (t test). With more than two variants α is split over the comparisons "
               "with the control.")
    c1, c2, c3, c4 = st.columns([1, 1, 1.1, 1])
    if means:
        baseline = c1.number_input("Current average", value=50.0, step=1.0, key=keyed(AB_PLAN, "mean"),
                                   help="The control's mean, for example the average order value.")
        sd = c1.number_input("Standard deviation per unit", min_value=0.0, value=30.0, step=1.0,
                             key=keyed(AB_PLAN, "sd"), help="The spread of the value between units.")
    else:
        baseline = c1.number_input("Baseline conversion rate (%)", min_value=0.01, max_value=99.99, value=10.0,
                                   step=0.5, key=keyed(AB_PLAN, "baseline"), help="The control's current rate.") / 100
        sd = None
    effect_labels = {"absolute": "Absolute (points)" if not means else "Absolute (units)", "relative": "Relative (%)"}
    relative = (c2.segmented_control("Effect given as", list(effect_labels), format_func=effect_labels.get,
                                     default="absolute", required=True, key=keyed(AB_PLAN, "effect")) == "relative")
    if relative:
        mde_input = c3.number_input("Minimum detectable effect (% of baseline)", value=20.0 if not means else 5.0,
                                    step=5.0, key=keyed(AB_PLAN, "mde_rel"),
                                    help="20 means a change from 10 % to 12 %; negative for a drop.")
        mde = mde_input / 100
    else:
        mde_input = c3.number_input("Minimum detectable effect (points)" if not means else
                                    "Minimum detectable effect", value=2.0 if not means else 2.5, step=0.5,
                                    key=keyed(AB_PLAN, "mde_abs"),
                                    help="Percentage points: 2 means a change from 10 % to 12 %." if not means else
                                    "In the average's units: 2.5 means from 50 to 52.5.")
        mde = mde_input / 100 if not means else mde_input
    plan_alpha = c4.selectbox("Significance level α", ab.ALPHAS, index=1, key=keyed(AB_PLAN, "alpha"),
                              format_func=lambda a: f"{a:g} ({display.level_label(a)} confidence)")
    c5, c6, c7, c8 = st.columns([1, 1, 1.1, 1])
    power = c5.selectbox("Power", [0.8, 0.85, 0.9, 0.95], key=keyed(AB_PLAN, "power"),
                         format_func=lambda p: f"{p:.0%}",
                         help="The chance of detecting an effect of exactly the minimum size; 80 % is usual.")
    n_variants = int(c6.number_input("Variants (including the control)", min_value=2, max_value=20, value=2, step=1,
                                     key=keyed(AB_PLAN, "variants")))
    daily_traffic = c7.number_input("Daily traffic (units per day, all variants)", min_value=0, value=1000,
                                    step=100, key=keyed(AB_PLAN, "traffic"), help="0 if you do not know it yet.")
    days = int(c8.number_input("Days you can run the test", min_value=1, value=14, step=1, key=keyed(AB_PLAN, "days"),
                               help="For the lift this many days of traffic can detect."))
    plan = None
    with user_errors("The sample size could not be computed") as outcome:
        try:
            if means:
                plan = samplesize_means(sd, mde, baseline=baseline, relative=relative, alpha=plan_alpha, power=power,
                                        variants=n_variants, daily_traffic=daily_traffic or None)
            else:
                plan = samplesize_proportions(baseline, mde, relative=relative, alpha=plan_alpha, power=power,
                                              variants=n_variants, daily_traffic=daily_traffic or None)
        except ValueError as error:  # an impossible plan (zero effect, a rate past 100 %): one sentence
            st.error(md_escape(error))
    if plan is not None:
        absolute = abs(baseline) * mde if relative else mde
        m1, m2, m3 = st.columns(3)
        m1.metric("Per variant", f"{plan.per_variant:,}")
        m2.metric("Total", f"{plan.total:,}", help=f"{plan.per_variant:,} × {n_variants} variants")
        m3.metric("Days needed", f"{plan.days:,}" if plan.days is not None else "—",
                  help="Total ÷ daily traffic, rounded up." if plan.days is not None else "Give the daily traffic.")
        change = (f"from {baseline:.2%} to {baseline + absolute:.2%}" if not means else
                  f"from {baseline:,.4g} to {baseline + absolute:,.4g} (sd {sd:,.4g})")
        st.caption(f"Detects a change {change} with {power:.0%} power at α {plan_alpha:g}" + (
            f" ({plan.alpha_per_comparison:.3g} per comparison)." if n_variants > 2 else "."))
        curve = samplesize_curve(baseline, sd=sd, alpha=plan_alpha, power=power, variants=n_variants)
        chart = ab.samplesize_chart(curve, (abs(absolute / baseline), plan.per_variant) if baseline else None)
        if chart is not None:
            show_chart(chart, key="plan_curve", name="ab_sample_size")

    st.subheader("What lift can I detect in this time?")
    if not daily_traffic:
        st.caption("Give the daily traffic above to see the smallest lift the test can detect in the days you have.")
    else:
        per_variant = daily_traffic * days / n_variants
        try:
            found = detectable_effect(per_variant, baseline=baseline, sd=sd, alpha=plan_alpha, power=power,
                                      variants=n_variants)
        except ValueError as error:
            st.error(md_escape(error))
        else:
            d1, d2 = st.columns(2)
            d1.metric(f"Detectable lift in {days:,} days", display.fmt_lift(found.relative),
                      help=f"{int(per_variant):,} units per variant ({daily_traffic:,} a day over {days:,} days, "
                           f"{n_variants} variants).")
            d2.metric("The same as a change of", f"{found.absolute * 100:+.2f} points" if not means else
                      f"{found.absolute:+,.4g}")
            st.caption("Smaller true lifts are likely to end as \"no clear winner\". A drop of about the same size is "
                       "detectable too.")
