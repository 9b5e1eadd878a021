"""What data a visitor sees: the client's snapshot, the editor's upload, last snapshot or demo."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.display import format_timestamp
from models import repository
from ui import filters
from ui.persistence import session_scope
from ui.state import (
    AB_CONFIG,
    GOALS,
    KPI_SETTINGS,
    OPEN_SNAPSHOT,
    TRIED_LAST_SNAPSHOT,
    Dataset,
    Viewer,
    get_dataset,
    set_dataset,
)


@st.cache_resource(max_entries=8, show_spinner="Opening the report…")
def _snapshot_frame(snapshot_id: int) -> pl.DataFrame:
    """A snapshot never changes once saved, so its id is a sound cache key."""
    with session_scope() as session:
        return repository.load_snapshot_frame(session=session, snapshot_id=snapshot_id)


def snapshot_dataset(snapshot_id: int) -> tuple[Dataset, dict] | None:
    with session_scope() as session:
        snapshot = repository.get_snapshot(session=session, snapshot_id=snapshot_id)
        if snapshot is None:
            return None
        meta = {"name": snapshot.name, "created_at": snapshot.created_at, "settings": dict(snapshot.settings or {}),
                "source_files": list(snapshot.source_files or [])}
    return Dataset(
        frame=_snapshot_frame(snapshot_id),
        key=f"snapshot:{snapshot_id}",
        label=meta["name"],
        source_files=tuple(meta["source_files"]),
        snapshot_id=snapshot_id,
        snapshot_name=meta["name"],
        data_as_of=format_timestamp(meta["created_at"]),
    ), meta["settings"]


def open_snapshot(snapshot_id: int) -> bool:
    """Make a saved snapshot the current data and restore its filters, goals, A/B and KPI settings.

    Call it before the sidebar's filter widgets exist in this run (from the router, or from a
    button's on_click callback): it writes their session-state keys.
    """
    loaded = snapshot_dataset(snapshot_id)
    if loaded is None:
        return False
    dataset, settings = loaded
    set_dataset(dataset, filters_restored_by_caller=True)
    filters.restore(settings.get("filters") or {}, dataset)
    st.session_state[GOALS] = list(settings.get("goals") or [])
    st.session_state[AB_CONFIG] = dict(settings.get("ab") or {})
    if isinstance(settings.get("kpi"), dict) and settings["kpi"]:
        kpi = settings["kpi"]
        st.session_state[KPI_SETTINGS] = {"extra_costs": float(kpi.get("extra_costs") or 0.0),
                                          "weights": dict(kpi.get("weights") or {})}
    st.session_state[OPEN_SNAPSHOT] = snapshot_id
    return True


def ensure_dataset(viewer: Viewer) -> Dataset | None:
    """The data for this run: a client always gets exactly the shared snapshot."""
    current = get_dataset()
    if viewer.is_client:
        if current is None or current.snapshot_id != viewer.snapshot_id or st.session_state.get(OPEN_SNAPSHOT) != (
            f"client:{viewer.snapshot_id}"
        ):
            if not open_snapshot(viewer.snapshot_id):
                return None
            st.session_state[OPEN_SNAPSHOT] = f"client:{viewer.snapshot_id}"
        return get_dataset()
    if viewer.is_editor and current is None and TRIED_LAST_SNAPSHOT not in st.session_state:
        st.session_state[TRIED_LAST_SNAPSHOT] = True
        try:
            with session_scope() as session:
                last = repository.get_last_opened_snapshot_id(session=session)
            if last is not None:
                open_snapshot(last)
        except Exception:  # no database yet or unreadable: start empty, the data page explains
            pass
    return get_dataset() if viewer.is_editor else None


def header(viewer: Viewer, dataset: Dataset) -> None:
    """Sidebar line saying which data is shown (a client sees the snapshot name and its date)."""
    with st.sidebar:
        if viewer.is_client:
            st.caption("Shared report · read-only")
        else:
            st.caption("Data")
        st.text(dataset.label)
        if dataset.data_as_of:
            st.caption(f"Data as of {dataset.data_as_of}")
