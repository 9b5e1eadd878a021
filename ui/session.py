"""What data a visitor sees.

- A client: exactly the shared snapshot, nothing else (no workspace, no sources, no `?ws=`).
- An editor works in a workspace: the one in `?ws=<id>` (a bookmark), else the session's, else the
  first. In it the session shows the workspace's enabled sources combined (the default: stored in
  the database, so a reload, a new tab or a server restart shows the same figures), the demo
  account, or a snapshot opened from the list. The workspace remembers which, and its goals, A/B
  test and KPI settings, so a new session opens where the last one left off.
"""

from __future__ import annotations

import json
import logging

import polars as pl
import streamlit as st

from metrics.currency import CurrencySettings
from metrics.display import format_timestamp
from metrics.ingest import Issue, overlapping_rows
from metrics.insights.annotations import read_annotations
from metrics.insights.pacing import read_budgets
from metrics.report_settings import KpiSettings, ReportSettings
from models import repository
from models.sources import content_key
from models.tables import Showing
from ui import data, filters, memory
from ui.persistence import session_scope
from ui.state import (
    AB_CONFIG,
    DATASET,
    FILTER_PREFIX,
    GOALS,
    KPI_SETTINGS,
    LAST_UPLOAD,
    OPEN_SNAPSHOT,
    SCHED_CONFIRM_DELETE,
    SCHED_SELECTED,
    SHOWING,
    SNAP_CONFIRM_DELETE,
    SNAP_NEW_LINK,
    SNAP_SELECTED,
    SOURCE_CONFIRM_DELETE,
    SOURCE_SELECTED,
    UPLOAD_TARGET,
    WORKSPACE,
    WORKSPACE_NOTE,
    WORKSPACE_SETTINGS_SAVED,
    WS_CONFIRM_DELETE,
    Dataset,
    Viewer,
    currency_settings,
    current_viewer,
    get_dataset,
    kpi_settings,
    set_currency_settings,
    set_dataset,
)

_LOGGER = logging.getLogger(__name__)
# Session keys that point into one workspace: dropped when the editor switches to another.
_WORKSPACE_KEYS = (LAST_UPLOAD, SOURCE_SELECTED, SOURCE_CONFIRM_DELETE, UPLOAD_TARGET, SNAP_SELECTED,
                   SNAP_NEW_LINK, SNAP_CONFIRM_DELETE, WS_CONFIRM_DELETE, OPEN_SNAPSHOT, SCHED_SELECTED,
                   SCHED_CONFIRM_DELETE)
WORKSPACE_PARAM = "ws"


# --- report settings --------------------------------------------------------------------------


def current_report_settings() -> ReportSettings:
    """The settings the report is shown with now: sidebar filters, goals, A/B test, KPI settings."""
    return ReportSettings(
        filters=filters.current(),
        goals=tuple(dict(goal) for goal in st.session_state.get(GOALS) or [] if isinstance(goal, dict)),
        ab=dict(st.session_state.get(AB_CONFIG) or {}),
        kpi=KpiSettings.from_dict(kpi_settings()),
        currency=currency_settings().to_dict() if currency_settings() != CurrencySettings() else {},
    )


def _apply_report_settings(settings: ReportSettings, *, filters_of: Dataset | None) -> None:
    """Make `settings` the session's goals, A/B test and KPI settings (and, for the data `filters_of`,
    its filters: call it before the sidebar's filter widgets exist in this run, e.g. from a button's
    callback, right after `set_dataset(..., filters_restored_by_caller=True)`)."""
    if filters_of is not None:
        filters.restore(settings.filters, filters_of)
    st.session_state[GOALS] = [dict(goal) for goal in settings.goals]
    st.session_state[AB_CONFIG] = dict(settings.ab)
    st.session_state[KPI_SETTINGS] = {"extra_costs": settings.kpi.extra_costs, "weights": dict(settings.kpi.weights)}
    set_currency_settings(CurrencySettings.from_dict(settings.currency))


def _workspace_settings_json(settings: ReportSettings) -> str:
    """The part of the settings a workspace keeps (its filters live in the URL), canonical JSON."""
    kept = settings.to_dict()
    for part in ("filters", "annotations", "budgets"):  # the URL and the workspace's own tables keep these
        kept.pop(part)
    return json.dumps(kept, sort_keys=True, default=str)


def remember_report_settings() -> None:
    """Store the editor's goals, A/B test and KPI settings in the workspace when they changed.

    Called after every editor page run (and at the start of the next run, for a run that a page
    stopped early), so a reload or a new session finds them.
    """
    workspace_id = st.session_state.get(WORKSPACE)
    if workspace_id is None or not current_viewer().is_editor:
        return
    settings = current_report_settings()
    stored = _workspace_settings_json(settings)
    if stored == st.session_state.get(WORKSPACE_SETTINGS_SAVED):
        return
    try:
        with session_scope() as db:
            repository.save_workspace_report_settings(session=db, workspace_id=workspace_id,
                                                      settings=json.loads(stored))
    except Exception:  # kept in the session either way; the next change tries again
        _LOGGER.exception("The workspace's report settings could not be stored")
        return
    st.session_state[WORKSPACE_SETTINGS_SAVED] = stored


# --- workspaces -------------------------------------------------------------------------------


def current_workspace_id() -> int | None:
    """The editor's workspace in this session (None before the router ran, or for a client)."""
    return st.session_state.get(WORKSPACE)


def enter_workspace(workspace_id: int) -> None:
    """Switch the session to a workspace: its remembered view and report settings, nothing of the last one.

    Call it from a callback or before the sidebar's widgets exist in the run.
    """
    with session_scope() as db:
        workspace = repository.get_workspace(session=db, workspace_id=workspace_id)
        if workspace is None:
            raise repository.NotFoundError("That workspace no longer exists; pick another one.")
        showing, snapshot_id = repository.workspace_showing(session=db, workspace_id=workspace_id)
        saved = ReportSettings.from_dict(workspace.report_settings)
    previous = st.session_state.get(WORKSPACE)
    for key in _WORKSPACE_KEYS:
        st.session_state.pop(key, None)
    if previous is not None and previous != workspace_id:
        st.session_state.pop(DATASET, None)
        # The filters in the URL were chosen for the other workspace's data.
        for name in [n for n in st.query_params if n.startswith(FILTER_PREFIX)]:
            del st.query_params[name]
        for key in [k for k in st.session_state if str(k).startswith(FILTER_PREFIX)]:
            del st.session_state[key]
    st.session_state[WORKSPACE] = workspace_id
    st.session_state[SHOWING] = showing
    st.session_state[OPEN_SNAPSHOT] = snapshot_id
    _apply_report_settings(saved, filters_of=None)
    st.session_state[WORKSPACE_SETTINGS_SAVED] = _workspace_settings_json(saved)
    st.query_params[WORKSPACE_PARAM] = str(workspace_id)


def _resolve_workspace() -> int:
    """The editor's workspace for this run (see the module docstring), entered when it changed."""
    asked = st.query_params.get(WORKSPACE_PARAM)
    in_session = st.session_state.get(WORKSPACE)
    with session_scope() as db:
        chosen = None
        if asked is not None:
            wanted = int(asked) if asked.strip().isdigit() else None
            chosen = repository.get_workspace(session=db, workspace_id=wanted) if wanted is not None else None
            if chosen is None:
                chosen = repository.ensure_workspace(session=db)
                st.session_state[WORKSPACE_NOTE] = ("warning", f"There is no workspace {asked[:40]} (it may have "
                                                    f"been deleted); showing “{chosen.name}”.")
        elif in_session is not None:
            chosen = repository.get_workspace(session=db, workspace_id=in_session)
            if chosen is None:
                chosen = repository.ensure_workspace(session=db)
                st.session_state[WORKSPACE_NOTE] = ("warning", f"That workspace was deleted; showing “{chosen.name}”.")
        if chosen is None:
            chosen = repository.ensure_workspace(session=db)
        workspace_id = chosen.id
    if workspace_id != in_session:
        enter_workspace(workspace_id)
    elif asked != str(workspace_id):
        st.query_params[WORKSPACE_PARAM] = str(workspace_id)  # a page switch dropped it: keep the URL a bookmark
    return workspace_id


def _set_showing(showing: Showing, snapshot_id: int | None = None) -> None:
    st.session_state[SHOWING] = showing
    st.session_state[OPEN_SNAPSHOT] = snapshot_id
    workspace_id = current_workspace_id()
    if workspace_id is None:
        return
    # Remembering the view is a convenience for the next session: a failure is only logged.
    try:
        with session_scope() as db:
            repository.set_workspace_showing(session=db, workspace_id=workspace_id, showing=showing,
                                             snapshot_id=snapshot_id)
    except Exception:
        _LOGGER.exception("The workspace's view could not be remembered")


def show_sources() -> None:
    """Show the workspace's sources combined (the router loads them in this run)."""
    _set_showing("sources")
    st.session_state.pop(DATASET, None)


def show_demo() -> None:
    """Show the demo account (nothing is stored; the workspace remembers that it shows the demo)."""
    _set_showing("demo")
    set_dataset(data.demo_dataset())


# --- snapshots --------------------------------------------------------------------------------


@memory.release_when_idle
@st.cache_resource(max_entries=8, show_spinner="Opening the report…")
def _snapshot_frame(snapshot_id: int, saved_at: str) -> pl.DataFrame:
    """A snapshot never changes once saved; with its save time the id is a sound cache key (SQLite
    hands a deleted snapshot's id to the next one)."""
    with session_scope() as session:
        return repository.load_snapshot_frame(session=session, snapshot_id=snapshot_id)


def snapshot_dataset(snapshot_id: int, workspace_id: int | None = None) -> tuple[Dataset, ReportSettings] | None:
    """The snapshot as a dataset with its settings; None when it is gone (or not in `workspace_id`)."""
    with session_scope() as session:
        snapshot = repository.get_snapshot(session=session, snapshot_id=snapshot_id, workspace_id=workspace_id)
        if snapshot is None:
            return None
        name, created_at = snapshot.name, snapshot.created_at
        settings = ReportSettings.from_dict(snapshot.settings)
        source_files = tuple(snapshot.source_files or [])
    dataset = Dataset(
        frame=_snapshot_frame(snapshot_id, created_at.isoformat()),
        key=f"snapshot:{snapshot_id}:{created_at.isoformat()}",  # the id alone may come back (see above)
        label=name,
        source_files=source_files,
        snapshot_id=snapshot_id,
        snapshot_name=name,
        data_as_of=format_timestamp(created_at),
        workspace_id=workspace_id,
        annotations=read_annotations(settings.annotations)[0],
        budgets=read_budgets(settings.budgets)[0],
    )
    return dataset, settings


def open_snapshot(snapshot_id: int, *, restore_settings: bool = True) -> bool:
    """Make a saved snapshot of the editor's workspace the current data and restore its filters, goals,
    A/B and KPI settings. False when it no longer exists there.

    Call it before the sidebar's filter widgets exist in this run (from the router, or from a
    button's on_click callback): it writes their session-state keys.
    """
    loaded = snapshot_dataset(snapshot_id, current_workspace_id())
    if loaded is None:
        return False
    dataset, settings = loaded
    set_dataset(dataset, filters_restored_by_caller=restore_settings)
    if restore_settings:
        _apply_report_settings(settings, filters_of=dataset)
    _set_showing("snapshot", snapshot_id)
    return True


def _client_dataset(viewer: Viewer) -> Dataset | None:
    current = get_dataset()
    if current is not None and current.snapshot_id == viewer.snapshot_id and current.workspace_id is None:
        return current
    loaded = snapshot_dataset(viewer.snapshot_id)
    if loaded is None:
        return None
    dataset, settings = loaded
    set_dataset(dataset, filters_restored_by_caller=True)
    _apply_report_settings(settings, filters_of=dataset)
    return dataset


# --- the workspace's sources ------------------------------------------------------------------


@memory.release_when_idle
@st.cache_resource(max_entries=4, show_spinner="Opening the workspace's data…")
def _combined_sources(key: str, source_ids: tuple[int, ...]) -> tuple[pl.DataFrame, tuple[tuple[int, int, int], ...]]:
    """The enabled sources' rows one after another, and (later id, earlier id, rows) for every pair
    of sources sharing dated rows. `key` is their content key (ids and frame hashes)."""
    with session_scope() as db:
        frames = [repository.load_source_frame(session=db, source_id=source_id) for source_id in source_ids]
    overlaps = []
    for i, later in enumerate(frames):
        for j in range(i):
            shared = overlapping_rows(later, frames[j])
            if shared:
                overlaps.append((source_ids[i], source_ids[j], shared))
    return pl.concat(frames, how="vertical"), tuple(overlaps)


_CURRENCY_PART = ";currencies:"  # in a sources dataset's key: the currencies set for its sources


def _same_rows(a: Dataset, b: Dataset) -> bool:
    """True when two sources datasets differ at most in the currencies set for their sources: the same dates,
    platforms and campaigns, so the filters still apply."""
    return _CURRENCY_PART in a.key and a.key.split(_CURRENCY_PART)[0] == b.key.split(_CURRENCY_PART)[0]


def sources_dataset(workspace_id: int) -> Dataset | None:
    """The workspace's enabled sources combined, or None when it has none."""
    with session_scope() as db:
        sources = repository.list_sources(session=db, workspace_id=workspace_id, enabled_only=True)
    if not sources:
        return None
    ids = tuple(s.id for s in sources)
    # A currency set for a source changes its rows as loaded, so it is part of their content key.
    declared = ",".join(f"{s.id}={s.declared_currency}" for s in sources if s.declared_currency)
    key = "sources:" + content_key(workspace_id, [(s.id, s.frame_sha256) for s in sources]) + _CURRENCY_PART + declared
    frame, overlaps = _combined_sources(key, ids)
    names = {s.id: s.name for s in sources}
    issues = tuple(
        Issue("possible_double_counting",
              f"{rows:,} row(s) of the source “{names[later]}” have the same date, platform and campaign as rows of "
              f"“{names[earlier]}”; if both hold the same activity it is counted twice: disable or delete one.",
              "warning")
        for later, earlier, rows in overlaps
    )
    label = ", ".join(names.values())
    return Dataset(
        frame=frame,
        key=key,
        label=label if len(label) <= 60 else f"{len(sources)} sources",
        issues=issues,
        source_files=tuple({"name": f.get("name", ""), "sha256": f.get("sha256", ""), "size": f.get("size", 0)}
                           for s in sources for f in s.files or []),
        data_as_of=format_timestamp(max(s.updated_at for s in sources)),
        workspace_id=workspace_id,
    )


def _editor_dataset() -> Dataset | None:
    workspace_id = _resolve_workspace()
    remember_report_settings()  # what a page stopped early may have left unsaved
    current = get_dataset()
    showing = st.session_state.get(SHOWING, "sources")
    if showing == "snapshot":
        snapshot_id = st.session_state.get(OPEN_SNAPSHOT)
        if current is not None and current.snapshot_id == snapshot_id:
            return current
        # A new session reopens the workspace's snapshot; its settings are the workspace's already.
        if snapshot_id is not None and open_snapshot(snapshot_id, restore_settings=False):
            return get_dataset()
        show_sources()  # the snapshot was deleted: back to the workspace's data
        current = None
    if current is not None and current.workspace_id is None and current.snapshot_id is None:
        # The demo, or data handed to the session directly (a test, a notebook): switching to the
        # workspace's sources (show_sources, another workspace) drops it first.
        return current
    if showing == "demo":
        set_dataset(data.demo_dataset())
        return get_dataset()
    dataset = sources_dataset(workspace_id)
    if dataset is None:
        st.session_state.pop(DATASET, None)
        return None
    if current is None or current.key != dataset.key:
        set_dataset(dataset, filters_restored_by_caller=current is not None and _same_rows(current, dataset))
    return get_dataset()


def ensure_dataset(viewer: Viewer) -> Dataset | None:
    """The data for this run: a client always gets exactly the shared snapshot; an editor gets
    what their workspace shows. A database failure is one plain sentence for the editor."""
    if viewer.is_client:
        return _client_dataset(viewer)
    if not viewer.is_editor:
        return None
    try:
        return _editor_dataset()
    except Exception:
        _LOGGER.exception("The workspace could not be opened")
        st.error("The workspace could not be opened: the database did not answer. Reload the page to try again.")
        return None


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

