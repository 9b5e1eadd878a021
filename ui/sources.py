"""Uploads into the editor's workspace: each file is read (cached by its bytes and mapping), stored as
a data source — a new one, or a newer export of one (`models.repository.store_upload`) — and can be
read again with another column mapping while the session still has its bytes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import streamlit as st

from metrics import ingest
from models import repository
from models.repository import SourceUpload, StoreOutcome, UploadTarget
from ui import session, widgets
from ui.currency import AS_LOADED, currency_choices
from ui.errors import user_errors
from ui.persistence import session_scope
from ui.state import LAST_UPLOAD, SOURCE_SELECTED, currency_settings, set_currency_settings


@dataclass(frozen=True)
class FileUpload:
    """One file of the session's last upload: what was read and what storing it did."""

    name: str
    data: bytes = field(repr=False)
    mapping: dict[str, str] | None = None  # the editor's mapping; None = recognised automatically
    result: ingest.LoadResult | None = None  # None when the file could not be read
    read_error: str | None = None
    unmapped_headers: tuple[str, ...] = ()  # for a table read without any recognised measure
    outcome: StoreOutcome | None = None
    store_error: str | None = None


@dataclass(frozen=True)
class LastUpload:
    target: UploadTarget
    replace_all: bool
    files: tuple[FileUpload, ...]


# Session scope: a file as read belongs to the session that uploaded it (it is stored as a source for
# everyone else); Streamlit drops these entries when the session disconnects. A global cache kept the
# last 16 uploads' frames in memory after their sessions had ended (ui/memory.py).
@st.cache_resource(max_entries=8, scope="session", show_spinner=False)
def _read(sha256: str, mapping_json: str, name: str, _data: bytes) -> ingest.LoadResult:
    """`ingest.load`, cached by the bytes' hash, the mapping and the name (read-only)."""
    return ingest.load(_data, name, json.loads(mapping_json))


def _read_file(upload: FileUpload) -> FileUpload:
    mapping_json = json.dumps(upload.mapping, sort_keys=True, ensure_ascii=False)
    try:
        result = _read(hashlib.sha256(upload.data).hexdigest(), mapping_json, upload.name, upload.data)
    except ingest.UnreadableFileError as error:
        return replace(upload, result=None, read_error=str(error), unmapped_headers=tuple(error.headers or ()),
                       outcome=None)
    return replace(upload, result=result, read_error=None, unmapped_headers=())


def _store(workspace_id: int, upload: FileUpload, target: UploadTarget, replace_all: bool) -> FileUpload:
    """Store a readable file: again from where it was stored first when it was stored before."""
    errors: list[str] = []
    with user_errors(f"{upload.name} could not be stored", show=errors.append):
        source_upload = SourceUpload.from_load(upload.data, upload.result)
        with session_scope() as db:
            if upload.outcome is not None:
                outcome = repository.redo_upload(session=db, workspace_id=workspace_id, outcome=upload.outcome,
                                                 upload=source_upload)
            else:
                outcome = repository.store_upload(session=db, workspace_id=workspace_id, upload=source_upload,
                                                  target=target, replace_all=replace_all)
        return replace(upload, outcome=outcome, store_error=None)
    return replace(upload, store_error=errors[0])


def store_files(files: Sequence[tuple[str, bytes]], *, target: UploadTarget = "auto", replace_all: bool = False) -> None:
    """Read and store uploaded files in the editor's workspace; the workspace then shows its sources."""
    workspace_id = session.current_workspace_id()
    if workspace_id is None:
        return
    stored = []
    for name, data in files:
        upload = _read_file(FileUpload(name=name, data=bytes(data)))
        if upload.result is not None:
            upload = _store(workspace_id, upload, target, replace_all)
        stored.append(upload)
    st.session_state[LAST_UPLOAD] = LastUpload(target=target, replace_all=replace_all, files=tuple(stored))
    outcomes = [upload.outcome for upload in stored if upload.outcome is not None]
    if outcomes:
        st.session_state[SOURCE_SELECTED] = outcomes[-1].source_id  # the sources list opens on it
        session.show_sources()


def last_upload() -> LastUpload | None:
    """This session's last upload in the current workspace (None after a reload or a workspace switch)."""
    return st.session_state.get(LAST_UPLOAD)


def reread(index: int, mapping: dict[str, str]) -> None:
    """Read file `index` of the last upload again with `mapping` and store it in place of its first reading."""
    last, workspace_id = last_upload(), session.current_workspace_id()
    if last is None or workspace_id is None or not 0 <= index < len(last.files):
        return
    upload = _read_file(replace(last.files[index], mapping=dict(mapping)))
    if upload.result is not None:
        upload = _store(workspace_id, upload, last.target, last.replace_all)
    files = list(last.files)
    files[index] = upload
    st.session_state[LAST_UPLOAD] = replace(last, files=tuple(files))
    if upload.outcome is not None:
        session.show_sources()


# --- a stored source's currency ------------------------------------------------------------------------


def _set_source_currency(source_id: int, file_names: tuple[str, ...], widget_key: str) -> None:
    chosen = st.session_state.get(widget_key) or AS_LOADED
    with user_errors("The currency could not be set") as outcome:
        with session_scope() as db:
            repository.set_source_currency(session=db, source_id=source_id, workspace_id=session.current_workspace_id(),
                                           code=None if chosen == AS_LOADED else chosen)
    if outcome.failed:
        return
    # The source keeps its currency now; a per-file setting of this session would only shadow it.
    settings = currency_settings()
    if any(name in settings.file_currencies for name in file_names):
        set_currency_settings(replace(settings, file_currencies={
            n: c for n, c in settings.file_currencies.items() if n not in file_names}))


def source_currency_select(source, *, widget_key: str) -> None:
    """The currency of a stored source's money: as its files say, or the one the editor sets. It is kept with
    the source, so a reload, the same file uploaded again or a newer export of it keeps it."""
    named = [c for c in source.currencies or [] if c]
    if len(named) > 1:
        st.caption(f"Currency: per row ({widgets.md_escape(', '.join(named))}), from the file's currency column.")
        return
    loaded = named[0] if named else None
    as_loaded = f"As in the file: {loaded}" if loaded else "Not stated in the file"
    chosen = source.declared_currency or AS_LOADED
    # The stored source decides what the select shows (another session may have set it).
    st.session_state[widget_key] = chosen
    st.selectbox(
        "Currency of its money", [AS_LOADED, *currency_choices([loaded, chosen])], key=widget_key,
        format_func=lambda code: as_loaded if code == AS_LOADED else code, on_change=_set_source_currency,
        args=(source.id, tuple(f.get("name", "") for f in source.files or []), widget_key),
        help="Spend and revenue of this source are in this currency. Set it when its files do not say (amounts are "
             "then shown without a symbol and never added to another currency) or say wrongly; the source keeps "
             "it for newer exports.",
    )
    if loaded is None and chosen == AS_LOADED:
        st.caption("Its amounts are shown without a currency symbol until the currency is set.")
