"""Session-state keys and the dataset every page reads. Pages never invent their own keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
import streamlit as st

from metrics.currency import CurrencySettings
from metrics.kpis import DEFAULT_ENGAGEMENT_WEIGHTS

# Session keys, one place.
DATASET = "cl_dataset"
FILTERS = "cl_filters"
# The sidebar filter widgets (`flt_` keys are cleared when the data changes).
FILTER_PREFIX = "flt_"
FILTER_PERIOD = FILTER_PREFIX + "period"  # a date preset (metrics.trends.PRESET_LABELS) or "custom"
FILTER_DATES = FILTER_PREFIX + "dates"
FILTER_PLATFORMS = FILTER_PREFIX + "platforms"
FILTER_CAMPAIGNS = FILTER_PREFIX + "campaigns"
FILTER_GRAIN = FILTER_PREFIX + "grain"
FILTER_COMPARE = FILTER_PREFIX + "compare"
FILTER_COMPARE_DATES = FILTER_PREFIX + "compare_dates"  # the custom comparison period
GOALS = "cl_goals"
AB_CONFIG = "cl_ab_config"
KPI_SETTINGS = "cl_kpi_settings"
CURRENCY_SETTINGS = "cl_currency_settings"  # metrics.currency.CurrencySettings: file currencies, reporting rates
VIEWER = "cl_viewer"
EDITOR_AUTHENTICATED = "cl_editor_ok"
SIGNED_OUT = "cl_signed_out"  # this session signed out: its sign-in cookie no longer counts
OPEN_SNAPSHOT = "cl_open_snapshot"
# The editor's workspace (its id) and what of it the session shows: "sources", "demo" or "snapshot".
WORKSPACE = "cl_workspace"
SHOWING = "cl_showing"
WORKSPACE_NOTE = "cl_workspace_note"  # (kind, sentence) shown once in the sidebar, e.g. after an unknown ?ws= id
WORKSPACE_SETTINGS_SAVED = "cl_workspace_settings_saved"  # the report settings last stored for it
# This session's last upload, kept for re-reading a file with another mapping (ui.sources.LastUpload).
LAST_UPLOAD = "cl_last_upload"
DATA_NOTICE = "cl_data_notice"  # (kind, sentence) carried over the rerun a Data page button causes
# Sidebar workspace switcher and its menu.
WS_SWITCHER = "ws_switcher"
WS_NEW_NAME = "ws_new_name"
WS_RENAME = "ws_rename"
WS_CONFIRM_DELETE = "ws_confirm_delete"
# Data page widgets.
CURRENCY_FILE = "file_currency"  # keyed per file name
CURRENCY_SOURCE = "source_currency"  # keyed per stored source id
CURRENCY_REPORTING = "reporting_currency"
CURRENCY_CONVERT = "convert_currency"
CURRENCY_BUNDLED = "rates_bundled"
CURRENCY_RATES_EDITOR = "rates_editor"
CURRENCY_RATES_UPLOAD = "rates_upload"
UPLOAD_WIDGET = "upload_files"
UPLOAD_TARGET = "upload_target"  # "auto", "new" or a source id
UPLOAD_REPLACE_ALL = "upload_replace_all"
SOURCE_SELECTED = "source_selected"
SOURCE_RENAME = "source_rename"  # keyed per source
SOURCE_CONFIRM_DELETE = "source_confirm_delete"
WS_SETTINGS_OPEN = "ws_settings_open"  # the Data page's workspace settings expander
WS_CURRENCY = "ws_currency"
WS_TIME_ZONE = "ws_time_zone"
WS_ACCENT = "ws_accent"
WS_FOOTER = "ws_footer"
WS_LOGO = "ws_logo"
PROFILE_TARGETS = "profile_targets"
MAPPING_EDITOR = "mapping_editor"  # keyed per file
MAPPING_FIX_SOURCE = "fix_src"  # keyed per file
MAPPING_FIX_TARGET = "fix_dst"  # keyed per file
UNREADABLE_PICK = "unreadable"  # keyed per file and column
# Goals page.
GOAL_PICK = "goal_pick"
# A/B tests page.
AB_SEEDED = "ab_seeded_config"  # hash of the saved configuration last copied into the widgets
AB_DATA_SOURCE = "ab_data_source"
AB_DATA_METRIC = "ab_data_metric"
AB_DATA_CAMPAIGN = "ab_data_campaign"
AB_CALC_MODE = "ab_calc_mode"
AB_CALC_ROWS = "ab_calc_rows"  # keyed per calculator mode: the grid's starting rows
AB_CALC_GRID = "ab_calc"  # keyed per calculator mode: the data editor
# Snapshots & sharing page.
SNAP_SELECTED = "snap_selected"  # id of the snapshot the lower half works on
SNAP_NEW_LINK = "snap_new_link"  # {"link_id", "snapshot_id", "url"}: the raw token, shown once
SNAP_CONFIRM_DELETE = "snap_confirm_delete"  # id awaiting "Delete for good"
SNAP_NOTICE = "snap_notice"  # (kind, sentence) carried over the rerun a button causes
SNAP_LINK_NOTICE = "snap_link_notice"  # what Revoke / Regenerate did, shown next to the link picker
SNAP_TAB = "snap_tab"  # the open tab survives the reruns its own buttons cause
SNAP_NEW_NAME = "snap_new_name"
SNAP_NEW_CLIENT = "snap_new_client"
# Per-snapshot widgets: keyed(<prefix>, snapshot id).
SNAP_RENAME_NAME = "rename_name"
SNAP_RENAME_CLIENT = "rename_client"
SNAP_LINK_LABEL = "link_label"
SNAP_LINK_EXPIRY = "link_expiry"
SNAP_LINK_UNTIL = "link_until"
SNAP_LINK_PICK = "link_pick"
SNAP_DOWNLOAD = "snap_download"  # keyed per snapshot, then per format
CLIENT_DOWNLOAD = "client_download"  # the client's report files, keyed per format
# Scheduled delivery (Snapshots page, "Delivery" tab).
SCHED_NOTICE = "sched_notice"  # (kind, sentence) carried over the rerun a button causes
SCHED_SELECTED = "sched_selected"  # id of the schedule the lower half works on
SCHED_CONFIRM_DELETE = "sched_confirm_delete"
# The schedule form's fields: keyed(<prefix>, "new" or a schedule id).
SCHED_TITLE = "sched_title"
SCHED_WHAT = "sched_what"
SCHED_PERIOD = "sched_period"
SCHED_KIND = "sched_kind"
SCHED_WEEKDAY = "sched_weekday"
SCHED_DAY = "sched_day"
SCHED_TIME = "sched_time"
SCHED_ZONE = "sched_zone"
SCHED_RECIPIENTS = "sched_recipients"
SCHED_DELIVER = "sched_deliver"
SCHED_LINK_DAYS = "sched_link_days"
# Insights page.
INS_NOTICE = "ins_notice"  # (kind, sentence) carried over the rerun an edit causes
INS_KPI = "ins_kpi"  # the KPI the waterfall and the platform tables explain
INS_SENSITIVITY = "ins_sensitivity"
INS_ANOMALY_METRIC = "ins_anomaly_metric"
INS_FORECAST_SPAN = "ins_forecast_span"
INS_FORECAST_METRIC = "ins_forecast_metric"
INS_BUDGET_PICK = "ins_budget_pick"  # a budget id, or NEW_ITEM
INS_BUDGET_FORM = "ins_budget"  # keyed(INS_BUDGET_FORM, pick) for the form's widgets
INS_BUDGET_SHEET = "ins_budget_sheet"
INS_NOTE_PICK = "ins_note_pick"  # an annotation id, or NEW_ITEM
INS_NOTE_FORM = "ins_note"  # keyed(INS_NOTE_FORM, pick) for the form's widgets
INS_HOLIDAY_COUNTRY = "ins_holiday_country"
NEW_ITEM = "new"
# Page controls of the Overview and Platforms pages.
OVERVIEW_METRIC = "ov_metric"
OVERVIEW_SPLIT = "ov_split"
PLATFORMS_METRIC = "pf_metric"


def keyed(prefix: str, item: object) -> str:
    """The session key of a widget repeated per item (a snapshot, a file): `<prefix>_<item>`."""
    return f"{prefix}_{item}"


def ask_to_confirm(key: str, item_id: object | None) -> None:
    """A "Delete…" button's callback: remember which item awaits confirmation under `key` (None: Cancel)."""
    if item_id is None:
        st.session_state.pop(key, None)
    else:
        st.session_state[key] = item_id


Role = Literal["editor", "client", "invalid", "login"]


@dataclass(frozen=True)
class Viewer:
    """Who is asking, decided by `ui.access.identify` on every run and kept for the pages."""

    role: Role
    snapshot_id: int | None = None
    link_id: int | None = None
    token: str | None = None

    @property
    def is_client(self) -> bool:
        return self.role == "client"

    @property
    def is_editor(self) -> bool:
        return self.role == "editor"


def current_viewer() -> Viewer:
    return st.session_state.get(VIEWER) or Viewer("editor")


@dataclass(frozen=True)
class Dataset:
    """The canonical frame the pages read, with where it came from.

    `key` is a content key (of the workspace's enabled sources, the demo parameters or the
    snapshot id); every cache downstream is keyed by it, never by hashing the frame.
    """

    frame: pl.DataFrame
    key: str
    label: str
    # Findings about the data as a whole (e.g. two sources holding the same rows).
    issues: tuple[Any, ...] = ()
    source_files: tuple[dict, ...] = ()
    snapshot_id: int | None = None
    snapshot_name: str | None = None
    data_as_of: str | None = None
    # The editor's workspace the data belongs to (None for the demo and a client's snapshot).
    workspace_id: int | None = None
    # A snapshot's annotations and budgets (`metrics.insights` values) as it was saved with them, so a
    # shared report never changes; None: the data is live and the editor's workspace's are read instead.
    annotations: tuple | None = None
    budgets: tuple | None = None


def get_dataset() -> Dataset | None:
    return st.session_state.get(DATASET)


def set_dataset(dataset: Dataset, *, filters_restored_by_caller: bool = False) -> None:
    """Make `dataset` the data every page reads. The filter widgets of the old data are dropped (date
    bounds and picked campaigns no longer apply) unless the caller writes every one of them itself
    (`ui.filters.restore`): a widget key deleted here counts as new, and a new widget bound to the URL
    takes its value from the URL, over any value written in the same run."""
    st.session_state[DATASET] = dataset
    st.session_state.pop(FILTERS, None)
    if not filters_restored_by_caller:
        for key in [k for k in st.session_state if str(k).startswith(FILTER_PREFIX)]:
            del st.session_state[key]


def kpi_settings() -> dict:
    """Extra costs for ROI and engagement weights (SPEC §4), editable on the data page."""
    return st.session_state.setdefault(
        KPI_SETTINGS, {"extra_costs": 0.0, "weights": dict(DEFAULT_ENGAGEMENT_WEIGHTS)}
    )


def currency_settings() -> CurrencySettings:
    """The currency of files that do not say it and the reporting currency with its rates (SPEC §2),
    set on the Data page and kept with snapshots (`to_dict` / `from_dict`)."""
    return st.session_state.get(CURRENCY_SETTINGS) or CurrencySettings()


def set_currency_settings(settings: CurrencySettings) -> None:
    st.session_state[CURRENCY_SETTINGS] = settings


# A/B tests page (continued): the settings of each tab are keyed(<prefix>, setting); the upload's column pickers
# keyed(AB_UPLOAD_COLUMN, role); the planner's inputs keyed(AB_PLAN, input).
AB_DATA_SETTINGS = "ab_data"
AB_CALC_SETTINGS = "ab_calc"
AB_DATA_CAP = "ab_data_cap"
AB_UPLOAD = "ab_upload"
AB_UPLOAD_VARIANT = "ab_upload_variant"
AB_UPLOAD_SHAPE = "ab_upload_shape"
AB_UPLOAD_COLUMN = "ab_upload"
AB_UPLOAD_UNIT = "ab_upload_unit"
AB_UPLOAD_CAP = "ab_upload_cap"
AB_UPLOAD_FILE = "ab_upload_file"  # digest of the file the pickers were set for: a new file starts afresh
AB_PLAN = "ab_plan"
