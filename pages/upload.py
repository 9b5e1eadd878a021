"""Data: upload exports, see what was recognised, fix the column mapping, or use the demo account."""

import polars as pl
import streamlit as st

from metrics.display import platform_label
from metrics.ingest import MAPPING_TARGETS, MAX_UPLOAD_BYTES, family_label
from metrics.schema import COLUMN_BY_NAME, COLUMNS
from models import repository
from ui import data, report_tables, widgets
from ui.errors import user_errors
from ui.persistence import session_scope
from ui.router import require_router
from ui.state import (
    MAPPING_EDITOR,
    MAPPING_FIX_SOURCE,
    MAPPING_FIX_TARGET,
    PROFILE_TARGETS,
    UNREADABLE_PICK,
    UPLOAD_FILES,
    UPLOAD_MAPPINGS,
    UPLOAD_WIDGET,
    get_dataset,
    keyed,
    kpi_settings,
    set_dataset,
)

require_router(__file__)

IGNORE = "(ignore)"

st.title("Data")
st.caption(
    "Drop the exports you already have — Meta Ads Manager, Google Ads, LinkedIn, TikTok, X Ads, organic "
    "stats or your own sheets (CSV, TSV, XLSX, Parquet). Several files at once are combined."
)



def _reload() -> None:
    """Re-read the kept uploads with the current mappings (cached by content hash)."""
    stored = st.session_state.get(UPLOAD_FILES)
    if stored:
        with st.spinner(f"Reading {len(stored['files'])} file(s)…"):
            set_dataset(data.load_uploads(stored["files"], st.session_state.get(UPLOAD_MAPPINGS) or {}))


def _on_upload() -> None:
    # Callbacks run before the script, so the router's sidebar already sees the new data.
    uploaded = st.session_state.get(UPLOAD_WIDGET) or []
    if not uploaded:
        return  # the visitor cleared the box: keep the loaded data
    st.session_state[UPLOAD_FILES] = {"files": tuple((f.name, f.getvalue()) for f in uploaded)}
    st.session_state[UPLOAD_MAPPINGS] = {}
    _reload()


def _use_demo() -> None:
    st.session_state.pop(UPLOAD_FILES, None)
    st.session_state.pop(UPLOAD_MAPPINGS, None)
    set_dataset(data.demo_dataset())


def _set_mapping(file_name: str, mapping: dict[str, str]) -> None:
    st.session_state.setdefault(UPLOAD_MAPPINGS, {})[file_name] = mapping
    _reload()


def _apply_editor(file_name: str, index: int, base: dict[str, str]) -> None:
    """Apply the bulk editor's edits (rows in `base` order) as the file's mapping."""
    edits = (st.session_state.get(keyed(MAPPING_EDITOR, index)) or {}).get("edited_rows", {})
    names = list(base)
    mapping = dict(base)
    for row, change in edits.items():
        if "Maps to" in change:
            chosen = change["Maps to"]
            mapping[names[int(row)]] = "" if chosen in (None, IGNORE) else chosen
    _set_mapping(file_name, mapping)


def _apply_one(file_name: str, index: int, base: dict[str, str]) -> None:
    source = st.session_state[keyed(MAPPING_FIX_SOURCE, index)]
    target = st.session_state[keyed(MAPPING_FIX_TARGET, index)]
    _set_mapping(file_name, {**base, source: "" if target == IGNORE else target})


def _apply_unreadable(file_name: str, index: int, headers: list[str]) -> None:
    picks = [st.session_state.get(keyed(UNREADABLE_PICK, f"{index}_{position}")) for position in range(len(headers))]
    chosen = {h: ("" if p in (None, IGNORE) else p) for h, p in zip(headers, picks)}
    if any(chosen.values()):
        _set_mapping(file_name, chosen)


def _apply_profile(mapping: dict[str, str]) -> None:
    for target in st.session_state.get(PROFILE_TARGETS) or []:
        st.session_state.setdefault(UPLOAD_MAPPINGS, {})[target] = mapping
    _reload()


st.file_uploader(
    "Exports", type=["csv", "tsv", "txt", "xlsx", "parquet"], accept_multiple_files=True, key=UPLOAD_WIDGET,
    max_upload_size=MAX_UPLOAD_BYTES // (1024 * 1024), on_change=_on_upload,
    help="Files are read in this session only.",
)
left, right = st.columns([1, 3])
left.button("Use demo data", icon=":material/auto_awesome:", key="use_demo", on_click=_use_demo)
stored = st.session_state.get(UPLOAD_FILES)

dataset = get_dataset()
if dataset is None:
    st.info("No data yet. Upload one or more exports above, or start with the demo account.")
    st.stop()

with right:
    st.markdown(f"**Current data:** {widgets.md_escape(dataset.label)} · {dataset.frame.height:,} rows")

# --- per-file cards --------------------------------------------------------------------
# Meta's Results and Result type are roles (read per row by result type), kept through a re-mapping.
canonical_options = [IGNORE] + [c.name for c in COLUMNS] + sorted(MAPPING_TARGETS - set(COLUMN_BY_NAME))
for error_index, (name, message) in enumerate(dataset.errors.items()):
    with st.container(border=True):
        st.markdown(f"**{widgets.md_escape(name)}** — not loaded")
        st.error(widgets.md_escape(message))
        headers = dataset.unmapped_headers.get(name)
        if headers and stored:
            # The table was read but nothing was recognised: let the user say what each column is.
            with st.form(f"map_unreadable_{error_index}", border=False):
                st.caption("Say what each column holds; leave (ignore) for columns that do not matter.")
                for position, header in enumerate(headers):
                    st.selectbox(header, canonical_options, key=keyed(UNREADABLE_PICK, f"{error_index}_{position}"))
                st.form_submit_button("Load with this mapping", type="primary", on_click=_apply_unreadable,
                                      args=(name, error_index, headers))

if dataset.issues:
    widgets.issue_panel(dataset.issues)

for index, report in enumerate(dataset.reports):
    with st.container(border=True):
        st.markdown(f"**{widgets.md_escape(report.name)}**")
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
            details.append(f"platform {platform_label(report.platform)}")
        if report.currency:
            details.append(f"currency {report.currency}")
        if report.masked_cells:
            details.append(f"{report.masked_cells:,} masked cells (like <5) read as empty")
        st.caption(" · ".join(widgets.md_escape(d) for d in details))
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
            st.caption("Unmapped columns are listed with (ignore); nothing is guessed silently.")
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
                fix_go.form_submit_button("Set column", disabled=stored is None, on_click=_apply_one,
                                          args=(report.name, index, base))
            apply_col, save_col = st.columns(2)
            with apply_col:
                st.button("Apply mapping", key=f"apply_mapping_{index}", type="primary", disabled=stored is None,
                          on_click=_apply_editor, args=(report.name, index, base))
            with save_col:
                with st.popover("Save as profile", icon=":material/save:"):
                    profile_name = st.text_input("Profile name", key=f"profile_name_{index}",
                                                 value=family_label(report.source_format))
                    if st.button("Save profile", key=f"save_profile_{index}"):
                        with user_errors("The profile could not be saved") as outcome:
                            with session_scope() as session:
                                repository.save_mapping_profile(session=session, name=profile_name,
                                                                mapping=new_mapping)
                        if not outcome.failed:
                            st.success("Mapping profile saved.")

# --- saved mapping profiles ----------------------------------------------------------------
if stored:
    profiles = {}
    # Profiles are an aid: when they cannot be read the page works without them (the cause is logged).
    with user_errors("The saved mapping profiles could not be read", show=st.caption):
        with session_scope() as session:
            profiles = {p.name: dict(p.mapping) for p in repository.list_mapping_profiles(session=session)}
    if profiles:
        with st.expander("Apply a saved mapping profile"):
            chosen = st.selectbox("Profile", list(profiles), key="profile_pick")
            targets = st.multiselect("To files", [name for name, _ in stored["files"]], key=PROFILE_TARGETS,
                                     default=[name for name, _ in stored["files"]])
            st.button("Apply profile", key="apply_profile", on_click=_apply_profile, args=(profiles[chosen],))

# --- rejected rows -------------------------------------------------------------------------
rejected = [
    {"file": report.name, "line": row.line, "reason": row.reason, "raw": row.raw}
    for report in dataset.reports
    for row in report.rejected
]
if rejected:
    st.subheader("Rejected rows")
    st.caption("These rows could not be read and are not in the report; the other rows were kept.")
    rejected_frame = pl.DataFrame(rejected, schema={"file": pl.String, "line": pl.Int64, "reason": pl.String,
                                                    "raw": pl.String})
    report_tables.dataframe(rejected_frame)
    widgets.download_table(rejected_frame, "rejected_rows", key="rejected", label="Download rejected rows")

# --- KPI settings --------------------------------------------------------------------------
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

# --- preview -------------------------------------------------------------------------------
st.subheader("Canonical table")
st.caption(f"{dataset.frame.height:,} rows · first 200 shown · measures are empty where the export "
           "did not report them.")
report_tables.preview(dataset.frame, rows=200)
