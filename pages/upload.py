"""Data: the workspace's stored sources, uploads (a new source or a newer export of one), column
mappings, KPI and workspace settings, or the demo account."""

import polars as pl
import streamlit as st

from metrics import display
from metrics.ingest import MAPPING_TARGETS, MAX_UPLOAD_BYTES, family_label
from metrics.schema import COLUMN_BY_NAME, COLUMNS
from models import repository
from ui import currency, report_tables, session, sources, widgets, workspaces
from ui.errors import user_errors
from ui.persistence import session_scope
from ui.router import require_router
from ui.state import (
    CURRENCY_FILE,
    CURRENCY_SOURCE,
    DATA_NOTICE,
    MAPPING_EDITOR,
    MAPPING_FIX_SOURCE,
    MAPPING_FIX_TARGET,
    PROFILE_TARGETS,
    SHOWING,
    SOURCE_CONFIRM_DELETE,
    SOURCE_RENAME,
    SOURCE_SELECTED,
    UNREADABLE_PICK,
    UPLOAD_REPLACE_ALL,
    UPLOAD_TARGET,
    UPLOAD_WIDGET,
    WS_SETTINGS_OPEN,
    ask_to_confirm,
    get_dataset,
    keyed,
    kpi_settings,
)

require_router(__file__)

IGNORE = "(ignore)"
TARGET_LABELS = {"auto": "Automatically: a newer export updates its source, anything else is added",
                 "new": "As a new source"}

st.title("Data")
st.caption(
    "Drop the exports you already have — Meta Ads Manager, Google Ads, LinkedIn, TikTok, X Ads, organic "
    "stats or your own sheets (CSV, TSV, XLSX, Parquet). They are stored in this workspace: the report "
    "combines its sources and is there after a reload. Upload a newer export of a source and it replaces "
    "the dates the new file covers."
)

workspace_id = session.current_workspace_id()
if workspace_id is None:  # the router already said why (the database did not answer)
    st.stop()


# --- actions: callbacks run before the next script run, so the sidebar sees their result -----------


def _notify(message: str, kind: str = "success") -> None:
    st.session_state[DATA_NOTICE] = (kind, message)


def _notify_error(message: str) -> None:
    _notify(message, "error")


def _on_upload() -> None:
    uploaded = st.session_state.get(UPLOAD_WIDGET) or []
    if not uploaded:
        return  # the visitor cleared the box: what was stored stays
    target = st.session_state.get(UPLOAD_TARGET) or "auto"
    replace_all = bool(st.session_state.get(UPLOAD_REPLACE_ALL)) and target not in ("auto", "new")
    with st.spinner(f"Reading and storing {len(uploaded)} file(s)…"):
        sources.store_files([(f.name, f.getvalue()) for f in uploaded], target=target, replace_all=replace_all)


def _apply_editor(index: int, base: dict[str, str]) -> None:
    """Apply the bulk editor's edits (rows in `base` order) as the file's mapping."""
    edits = (st.session_state.get(keyed(MAPPING_EDITOR, index)) or {}).get("edited_rows", {})
    names = list(base)
    mapping = dict(base)
    for row, change in edits.items():
        if "Maps to" in change:
            chosen = change["Maps to"]
            mapping[names[int(row)]] = "" if chosen in (None, IGNORE) else chosen
    sources.reread(index, mapping)


def _apply_one(index: int, base: dict[str, str]) -> None:
    column = st.session_state[keyed(MAPPING_FIX_SOURCE, index)]
    target = st.session_state[keyed(MAPPING_FIX_TARGET, index)]
    sources.reread(index, {**base, column: "" if target == IGNORE else target})


def _apply_unreadable(index: int, headers: list[str]) -> None:
    picks = [st.session_state.get(keyed(UNREADABLE_PICK, f"{index}_{position}")) for position in range(len(headers))]
    chosen = {h: ("" if p in (None, IGNORE) else p) for h, p in zip(headers, picks)}
    if any(chosen.values()):
        sources.reread(index, chosen)


def _apply_profile(mapping: dict[str, str]) -> None:
    for index in st.session_state.get(PROFILE_TARGETS) or []:
        sources.reread(index, mapping)


def _update_for(source_id: int) -> None:
    st.session_state[UPLOAD_TARGET] = source_id
    _notify("Now drop the newer export in the box above: it replaces the dates it covers in this source.", "info")


def _rename_source(source_id: int) -> None:
    with user_errors("The source could not be renamed", show=_notify_error) as outcome:
        with session_scope() as db:
            repository.rename_source(session=db, source_id=source_id, workspace_id=workspace_id,
                                     name=st.session_state.get(keyed(SOURCE_RENAME, source_id), ""))
    if not outcome.failed:
        _notify("Source renamed.")


def _set_enabled(source_id: int, enabled: bool) -> None:
    with user_errors("The source could not be changed", show=_notify_error) as outcome:
        with session_scope() as db:
            repository.set_source_enabled(session=db, source_id=source_id, enabled=enabled, workspace_id=workspace_id)
    if not outcome.failed:
        session.show_sources()
        _notify("Source enabled: its rows are in the report again." if enabled
                else "Source disabled: it stays stored but its rows are left out of the report.")


def _delete_source(source_id: int) -> None:
    with user_errors("The source could not be deleted", show=_notify_error) as outcome:
        with session_scope() as db:
            repository.delete_source(session=db, source_id=source_id, workspace_id=workspace_id)
    if outcome.failed:
        return
    st.session_state.pop(SOURCE_CONFIRM_DELETE, None)
    if st.session_state.get(UPLOAD_TARGET) == source_id:
        st.session_state[UPLOAD_TARGET] = "auto"
    session.show_sources()
    _notify("Source deleted with its rows.")


# --- what this workspace holds ----------------------------------------------------------------------

stored_sources = []
with user_errors("The workspace's sources could not be read") as listing:
    with session_scope() as db:
        stored_sources = repository.list_sources(session=db, workspace_id=workspace_id)
        profiles = {p.name: dict(p.mapping)
                    for p in repository.list_mapping_profiles(session=db, workspace_id=workspace_id)}
if listing.failed:
    st.stop()
by_id = {s.id: s for s in stored_sources}

if notice := st.session_state.pop(DATA_NOTICE, None):
    kind, message = notice
    {"success": st.success, "info": st.info}.get(kind, st.error)(widgets.md_escape(message))

showing = st.session_state.get(SHOWING, "sources")
if showing != "sources":
    what = "the demo account" if showing == "demo" else "a saved snapshot"
    with st.container(border=True, horizontal=True, vertical_alignment="center"):
        st.markdown(f"The report shows **{what}**; this workspace's sources are not in it.")
        st.button("Show this workspace's data", key="show_sources", on_click=session.show_sources,
                  disabled=not any(s.enabled for s in stored_sources))

# --- upload -------------------------------------------------------------------------------------------
targets = ["auto", "new", *by_id]
if st.session_state.get(UPLOAD_TARGET) not in targets:
    st.session_state[UPLOAD_TARGET] = "auto"
with st.container(border=True):
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    chosen_target = left.selectbox(
        "Store uploads", targets, key=UPLOAD_TARGET,
        format_func=lambda t: TARGET_LABELS.get(t) or f"As a newer export of “{by_id[t].name}”",
        help="A newer export of a source (same export type and columns, a campaign in common) updates it: the "
             "dates the new file covers are replaced, older dates kept. Uploading the same file again changes nothing.",
    )
    right.checkbox("Replace all of its rows", key=UPLOAD_REPLACE_ALL, disabled=chosen_target in ("auto", "new"),
                   help="Instead of only the dates the new file covers.")
    st.file_uploader(
        "Exports", type=["csv", "tsv", "txt", "xlsx", "parquet"], accept_multiple_files=True, key=UPLOAD_WIDGET,
        max_upload_size=MAX_UPLOAD_BYTES // (1024 * 1024), on_change=_on_upload,
        help="Stored in this workspace (the rows as compressed Parquet, with what was recognised).",
    )
    st.button("Use demo data", icon=":material/auto_awesome:", key="use_demo", on_click=session.show_demo,
              help="A generated account to explore; nothing is stored.")

dataset = get_dataset()
if dataset is not None:
    st.markdown(f"**Current data:** {widgets.md_escape(dataset.label)} · {dataset.frame.height:,} rows")

# --- this session's last upload: what happened to each file, and its column mapping ---------------------
last = sources.last_upload()
# Meta's Results and Result type are roles (read per row by result type), kept through a re-mapping.
canonical_options = [IGNORE] + [c.name for c in COLUMNS] + sorted(MAPPING_TARGETS - set(COLUMN_BY_NAME))
for index, upload in enumerate(last.files if last else ()):
    with st.container(border=True):
        if upload.result is None:
            st.markdown(f"**{widgets.md_escape(upload.name)}** — not loaded")
            st.error(widgets.md_escape(upload.read_error))
            if upload.unmapped_headers:
                # The table was read but nothing was recognised: let the user say what each column is.
                with st.form(f"map_unreadable_{index}", border=False):
                    st.caption("Say what each column holds; leave (ignore) for columns that do not matter.")
                    for position, header in enumerate(upload.unmapped_headers):
                        st.selectbox(header, canonical_options, key=keyed(UNREADABLE_PICK, f"{index}_{position}"))
                    st.form_submit_button("Load with this mapping", type="primary", on_click=_apply_unreadable,
                                          args=(index, list(upload.unmapped_headers)))
            continue
        report = upload.result.report
        st.markdown(f"**{widgets.md_escape(report.name)}**")
        if upload.store_error:
            st.error(widgets.md_escape(upload.store_error))
        elif upload.outcome is not None:
            (st.info if upload.outcome.action == "unchanged" else st.success)(widgets.md_escape(upload.outcome.message))
        cols = st.columns(5)
        # A name, not a number: as text it wraps instead of running out of a tile.
        cols[0].markdown("Recognised as  \n**" + widgets.md_escape(family_label(report.source_format)) + "**")
        cols[1].metric("Rows read", f"{report.rows_read:,}")
        cols[2].metric("Rows loaded", f"{report.rows_loaded:,}")
        cols[3].metric("Rows rejected", f"{report.rows_rejected:,}")
        cols[4].metric("Total rows excluded", f"{report.rows_excluded:,}")
        details = [f"type {report.file_type}"]
        if report.encoding:
            details.append(f"encoding {report.encoding}")
        if report.delimiter:
            details.append("delimiter " + {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(
                report.delimiter, report.delimiter))
        if report.platform:
            details.append(f"platform {display.platform_label(report.platform)}")
        if report.currency:
            details.append(f"currency {report.currency}")
        if report.masked_cells:
            details.append(f"{report.masked_cells:,} masked cells (like <5) read as empty")
        st.caption(" · ".join(widgets.md_escape(d) for d in details))
        stored_in = by_id.get(upload.outcome.source_id) if upload.outcome is not None else None
        if stored_in is not None:  # the source keeps the currency, for a reload and its newer exports
            sources.source_currency_select(stored_in, widget_key=keyed(CURRENCY_FILE, report.name))
        elif dataset is not None:
            currency.file_currency_select(dataset, report)
        widgets.issue_panel(report.issues)
        if report.value_guesses:
            st.caption("We read these values as shown; check them, and map the column by hand if a reading is wrong.")
            st.dataframe(pl.DataFrame([{"Column": g.column, "Value in file": g.value, "Read as": g.reading,
                                        "How sure": "a guess" if g.kind == "guess" else "not a platform we know",
                                        "Rows": g.rows} for g in report.value_guesses]),
                         hide_index=True, key=f"value_guesses_{index}")

        with st.expander("Column mapping", expanded=bool(report.unmapped) and index == 0):
            rows = [{"Column in file": src, "Maps to": dst or IGNORE} for src, dst in report.mapping.items()]
            rows += [{"Column in file": src, "Maps to": IGNORE} for src in report.unmapped
                     if src not in report.mapping]
            editor_frame = pl.DataFrame(rows, schema={"Column in file": pl.String, "Maps to": pl.String})
            edited = st.data_editor(
                editor_frame,
                key=keyed(MAPPING_EDITOR, index),
                hide_index=True,
                disabled=["Column in file"],
                column_config={
                    "Maps to": st.column_config.SelectboxColumn(
                        "Maps to", options=canonical_options, required=True,
                        help="Pick the canonical column, or (ignore) to leave the column out.",
                    )
                },
            )
            st.caption("Unmapped columns are listed with (ignore); nothing is guessed silently. A new mapping "
                       "reads the file again and stores it in place of the first reading.")
            base = {str(r["Column in file"]): ("" if r["Maps to"] == IGNORE else str(r["Maps to"]))
                    for r in editor_frame.iter_rows(named=True)}
            new_mapping = {
                str(row["Column in file"]): ("" if row["Maps to"] in (None, IGNORE) else str(row["Maps to"]))
                for row in pl.DataFrame(edited).iter_rows(named=True)
            }
            # One column at a time, from the keyboard: pick it, pick its meaning, press Enter.
            with st.form(f"fix_form_{index}", border=False, enter_to_submit=True):
                fix_src, fix_dst, fix_go = st.columns([2, 2, 1], vertical_alignment="bottom")
                fix_src.selectbox("Column in file", list(base), key=keyed(MAPPING_FIX_SOURCE, index))
                fix_dst.selectbox("Maps to", canonical_options, key=keyed(MAPPING_FIX_TARGET, index))
                fix_go.form_submit_button("Set column", on_click=_apply_one, args=(index, base))
            apply_col, save_col = st.columns(2)
            with apply_col:
                st.button("Apply mapping", key=f"apply_mapping_{index}", type="primary",
                          on_click=_apply_editor, args=(index, base))
            with save_col:
                with st.popover("Save as profile", icon=":material/save:"):
                    profile_name = st.text_input("Profile name", key=f"profile_name_{index}",
                                                 value=family_label(report.source_format))
                    if st.button("Save profile", key=f"save_profile_{index}"):
                        with user_errors("The profile could not be saved") as saved:
                            with session_scope() as db:
                                repository.save_mapping_profile(session=db, workspace_id=workspace_id,
                                                                name=profile_name, mapping=new_mapping)
                        if not saved.failed:
                            st.success("Mapping profile saved.")

if last and profiles:
    with st.expander("Apply a saved mapping profile"):
        chosen = st.selectbox("Profile", list(profiles), key="profile_pick")
        st.multiselect("To files", list(range(len(last.files))), format_func=lambda i: last.files[i].name,
                       key=PROFILE_TARGETS, default=list(range(len(last.files))))
        st.button("Apply profile", key="apply_profile", on_click=_apply_profile, args=(profiles[chosen],))

if dataset is not None:
    currency.currency_panel(dataset)

rejected = [
    {"file": upload.name, "line": row.line, "reason": row.reason, "raw": row.raw}
    for upload in (last.files if last else ()) if upload.result is not None
    for row in upload.result.report.rejected
]
if rejected:
    st.subheader("Rejected rows")
    st.caption("These rows could not be read and are not in the report; the other rows were kept.")
    rejected_frame = pl.DataFrame(rejected, schema={"file": pl.String, "line": pl.Int64, "reason": pl.String,
                                                    "raw": pl.String})
    report_tables.dataframe(rejected_frame)
    widgets.download_table(rejected_frame, "rejected_rows", key="rejected", label="Download rejected rows")

# --- the workspace's sources --------------------------------------------------------------------------


def _dates(source) -> str:
    if source.date_from is None:
        return "no dates"
    return display.format_period(source.date_from, source.date_to)


st.subheader("Sources of this workspace")
if not stored_sources and dataset is None:
    st.info("No data yet. Upload one or more exports above, or start with the demo account.")
elif not stored_sources:
    st.caption("No sources are stored in this workspace yet: upload exports above.")
else:
    st.dataframe(
        pl.DataFrame(
            {
                "Source": [s.name for s in stored_sources],
                "In report": [s.enabled for s in stored_sources],
                "Dates": [_dates(s) for s in stored_sources],
                "Rows": [s.row_count for s in stored_sources],
                "Platforms": [", ".join(display.platform_label(p) for p in s.platforms) for s in stored_sources],
                "Currency": [f"{s.declared_currency} (set by you)" if s.declared_currency
                             else ", ".join(s.currencies) or "not given" for s in stored_sources],
                "Export": [family_label(s.family) for s in stored_sources],
                "Updated": [display.format_timestamp(s.updated_at) for s in stored_sources],
                "Files": [len(s.files or []) for s in stored_sources],
                "Stored": [repository.describe_size(s.size_bytes) for s in stored_sources],
            },
            schema={"Source": pl.String, "In report": pl.Boolean, "Dates": pl.String, "Rows": pl.Int64,
                    "Platforms": pl.String, "Currency": pl.String, "Export": pl.String, "Updated": pl.String,
                    "Files": pl.Int64, "Stored": pl.String},
        ),
        hide_index=True, width="stretch", key="sources_table",
    )
    if dataset is not None and dataset.workspace_id == workspace_id and dataset.issues:
        widgets.issue_panel(dataset.issues)

    if st.session_state.get(SOURCE_SELECTED) not in by_id:
        st.session_state[SOURCE_SELECTED] = stored_sources[-1].id
    selected_id = st.selectbox("Manage source", list(by_id), key=SOURCE_SELECTED, format_func=lambda i: by_id[i].name)
    selected = by_id[selected_id]
    with st.container(border=True):
        with st.form(keyed("source_rename_form", selected_id), border=False, enter_to_submit=True):
            name_col, go_col = st.columns([4, 1], vertical_alignment="bottom")
            name_col.text_input("Name", value=selected.name, max_chars=200, key=keyed(SOURCE_RENAME, selected_id))
            go_col.form_submit_button("Rename", on_click=_rename_source, args=(selected_id,))
        sources.source_currency_select(selected, widget_key=keyed(CURRENCY_SOURCE, selected_id))
        actions = st.container(horizontal=True)
        if selected.enabled:
            actions.button("Leave out of the report", icon=":material/visibility_off:", key="source_disable",
                           on_click=_set_enabled, args=(selected_id, False))
        else:
            actions.button("Put back in the report", icon=":material/visibility:", key="source_enable",
                           on_click=_set_enabled, args=(selected_id, True))
        actions.button("Upload a newer export…", icon=":material/upload:", key="source_update", on_click=_update_for,
                       args=(selected_id,))
        if st.session_state.get(SOURCE_CONFIRM_DELETE) == selected_id:
            st.warning(f"Delete the source “{widgets.md_escape(selected.name)}” and its {selected.row_count:,} rows? "
                       "Snapshots saved from it keep their copy. This cannot be undone.")
            confirm = st.container(horizontal=True)
            confirm.button("Delete for good", type="primary", key="source_delete_confirm", on_click=_delete_source,
                           args=(selected_id,))
            confirm.button("Cancel", key="source_delete_cancel",
                           on_click=ask_to_confirm, args=(SOURCE_CONFIRM_DELETE, None))
        else:
            actions.button("Delete…", icon=":material/delete:", key="source_delete", on_click=ask_to_confirm,
                           args=(SOURCE_CONFIRM_DELETE, selected_id))
        stored_report = {}
        with user_errors("What was read from this source could not be shown", show=st.caption):
            with session_scope() as db:
                detail = repository.get_source(session=db, source_id=selected_id, workspace_id=workspace_id)
                stored_report = (detail.load_report if detail is not None else None) or {}
        with st.expander(f"What was read from {widgets.md_escape(selected.file_name)}"):
            st.caption(
                f"Rows read {stored_report.get('rows_read', 0):,} · loaded {stored_report.get('rows_loaded', 0):,} · "
                f"rejected {stored_report.get('rows_rejected', 0):,} · excluded {stored_report.get('rows_excluded', 0):,}"
            )
            widgets.issue_panel(stored_report.get("issues") or [])
            history = [f"{f.get('stored_at', '')[:16].replace('T', ' ')} UTC · {f.get('name', '')} · {f.get('change', '')}"
                       for f in selected.files or []]
            st.text("\n".join(history))

# --- settings ------------------------------------------------------------------------------------------
with st.expander("KPI settings"):
    settings = kpi_settings()
    settings["extra_costs"] = st.number_input(
        "Extra costs for ROI (team, content, tools)", min_value=0.0, value=float(settings["extra_costs"]),
        step=100.0, help="Added to spend in ROI = (revenue − spend − extra costs) / (spend + extra costs).",
        key="extra_costs",
    )
    weight_cols = st.columns(4)
    for col, name in zip(weight_cols, ("likes", "comments", "saves", "shares")):
        settings["weights"][name] = col.number_input(
            f"Weight of {name}", min_value=0.0, value=float(settings["weights"].get(name, 0.0)), step=0.5,
            key=f"weight_{name}",
        )

# Drawn only while open (a lazy expander): its logo uploader is not a second drop zone on the page.
with st.expander("Workspace settings: currency, time zone, branding of report files", key=WS_SETTINGS_OPEN,
                 on_change="rerun") as workspace_settings:
    if workspace_settings.open:
        workspaces.settings_panel(workspace_id)

# --- preview -------------------------------------------------------------------------------------------
if dataset is not None:
    st.subheader("Canonical table")
    st.caption(f"{widgets.md_escape(dataset.label)} · {dataset.frame.height:,} rows · first 200 shown · measures "
               "are empty where the export did not report them.")
    report_tables.preview(dataset.frame, rows=200)
