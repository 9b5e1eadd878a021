"""Session-state keys and the dataset every page reads. Pages never invent their own keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
import streamlit as st

from metrics.kpis import DEFAULT_ENGAGEMENT_WEIGHTS

# Session keys, one place.
DATASET = "cl_dataset"
FILTERS = "cl_filters"
# The sidebar filter widgets (`flt_` keys are cleared when the data changes).
FILTER_PREFIX = "flt_"
FILTER_DATES = FILTER_PREFIX + "dates"
FILTER_PLATFORMS = FILTER_PREFIX + "platforms"
FILTER_CAMPAIGNS = FILTER_PREFIX + "campaigns"
FILTER_GRAIN = FILTER_PREFIX + "grain"
FILTER_COMPARE = FILTER_PREFIX + "compare"
GOALS = "cl_goals"
AB_CONFIG = "cl_ab_config"
KPI_SETTINGS = "cl_kpi_settings"
UPLOAD_MAPPINGS = "cl_upload_mappings"
VIEWER = "cl_viewer"
EDITOR_AUTHENTICATED = "cl_editor_ok"
SIGNED_OUT = "cl_signed_out"  # this session signed out: its sign-in cookie no longer counts
OPEN_SNAPSHOT = "cl_open_snapshot"
TRIED_LAST_SNAPSHOT = "cl_tried_last_snapshot"
UPLOAD_FILES = "cl_upload_files"  # {"files": ((name, bytes), ...)} kept for re-reading with new mappings
# Data page widgets.
UPLOAD_WIDGET = "upload_files"
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
# Page controls of the Overview and Platforms pages.
OVERVIEW_METRIC = "ov_metric"
OVERVIEW_SPLIT = "ov_split"
PLATFORMS_METRIC = "pf_metric"


def keyed(prefix: str, item: object) -> str:
    """The session key of a widget repeated per item (a snapshot, a file): `<prefix>_<item>`."""
    return f"{prefix}_{item}"


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

    `key` is a content hash (of the uploaded bytes, the demo parameters or the
    snapshot id); every cache downstream is keyed by it, never by hashing the frame.
    """

    frame: pl.DataFrame
    key: str
    label: str
    reports: tuple[Any, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)
    unmapped_headers: dict[str, list[str]] = field(default_factory=dict)
    issues: tuple[Any, ...] = ()
    source_files: tuple[dict, ...] = ()
    snapshot_id: int | None = None
    snapshot_name: str | None = None
    data_as_of: str | None = None
    # True for one browser session's own uploads: caches of it are session-scoped and die with the
    # session, so the server's memory comes back when people leave (bench/bench_load.py).
    session_only: bool = False


def get_dataset() -> Dataset | None:
    return st.session_state.get(DATASET)


def set_dataset(dataset: Dataset) -> None:
    st.session_state[DATASET] = dataset
    # New data: date bounds and picked campaigns of the old data no longer apply.
    st.session_state.pop(FILTERS, None)
    for key in [k for k in st.session_state if str(k).startswith(FILTER_PREFIX)]:
        del st.session_state[key]


def kpi_settings() -> dict:
    """Extra costs for ROI and engagement weights (SPEC §4), editable on the data page."""
    return st.session_state.setdefault(
        KPI_SETTINGS, {"extra_costs": 0.0, "weights": dict(DEFAULT_ENGAGEMENT_WEIGHTS)}
    )
