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
GOALS = "cl_goals"
AB_CONFIG = "cl_ab_config"
KPI_SETTINGS = "cl_kpi_settings"
UPLOAD_MAPPINGS = "cl_upload_mappings"
VIEWER = "cl_viewer"
EDITOR_AUTHENTICATED = "cl_editor_ok"
OPEN_SNAPSHOT = "cl_open_snapshot"
TRIED_LAST_SNAPSHOT = "cl_tried_last_snapshot"
# Page controls of the Overview and Platforms pages.
OVERVIEW_METRIC = "ov_metric"
OVERVIEW_SPLIT = "ov_split"
PLATFORMS_METRIC = "pf_metric"


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


def get_dataset() -> Dataset | None:
    return st.session_state.get(DATASET)


def set_dataset(dataset: Dataset) -> None:
    st.session_state[DATASET] = dataset
    # New data: date bounds and picked campaigns of the old data no longer apply.
    st.session_state.pop(FILTERS, None)
    for key in [k for k in st.session_state if str(k).startswith("flt_")]:
        del st.session_state[key]


def kpi_settings() -> dict:
    """Extra costs for ROI and engagement weights (SPEC §4), editable on the data page."""
    return st.session_state.setdefault(
        KPI_SETTINGS, {"extra_costs": 0.0, "weights": dict(DEFAULT_ENGAGEMENT_WEIGHTS)}
    )
