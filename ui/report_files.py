""""Download PDF" / "Download HTML" of a snapshot's client report, for the editor and for a client.

The file is built only when the button is clicked (`st.download_button` with a callable; the button
shows its own spinner meanwhile), from the database as it is then, and cached by the snapshot's id and
last change, the workspace's branding and the format: a second click, or another client of the same
snapshot, gets the same bytes at once. A client's click checks the share link again, so a link revoked
after the page was opened downloads nothing.
"""

from __future__ import annotations

import hashlib
import logging
from functools import partial

import streamlit as st

from models import repository
from reports import report_file_name
from ui.persistence import session_scope
from ui.state import keyed

_LOGGER = logging.getLogger(__name__)
FORMATS = {"pdf": ("Download PDF", "application/pdf", ":material/picture_as_pdf:"),
           "html": ("Download HTML", "text/html", ":material/html:")}


def branding_version(branding: repository.WorkspaceBranding) -> str:
    """A fingerprint of everything of the branding a report file draws."""
    digest = hashlib.sha256()
    for part in (branding.name, branding.accent_color, branding.report_footer, branding.logo_mime):
        digest.update(repr(part).encode())
    digest.update(branding.logo or b"")
    return digest.hexdigest()


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _rendered(snapshot_id: int, changed_at: str, branding: str, fmt: str) -> bytes:
    """The file of one version of a snapshot (`changed_at`) with one version of its branding."""
    # Imported on the click: the report model loads altair and the insights engine, which the client's
    # first screen (these buttons sit on every page) does not need.
    from reports import render_file
    from reports.stored import snapshot_report

    with session_scope() as db:
        report = snapshot_report(session=db, snapshot_id=snapshot_id)
    return render_file(report, fmt)  # type: ignore[arg-type]


def report_file(snapshot_id: int, fmt: str, *, workspace_id: int | None = None, token: str | None = None) -> bytes:
    """The bytes of the snapshot's report file, checked at the moment it is asked for: the snapshot must
    still exist (in `workspace_id`, for an editor) and the client's link (`token`) must still open it."""
    with session_scope() as db:
        if token is not None:
            link = repository.resolve_share_token(session=db, token=token, count_view=False)
            if link is None or link.snapshot_id != snapshot_id:
                raise PermissionError("The share link no longer opens this snapshot.")
        snapshot = repository.get_snapshot(session=db, snapshot_id=snapshot_id, workspace_id=workspace_id)
        if snapshot is None:
            raise repository.NotFoundError(f"Snapshot {snapshot_id} does not exist; it may have been deleted.")
        changed_at = snapshot.updated_at.isoformat()
        branding = repository.workspace_branding(session=db, workspace_id=snapshot.workspace_id)
    return _rendered(snapshot_id, changed_at, branding_version(branding), fmt)


def _logged(build: partial) -> bytes:
    """Runs outside the script (Streamlit shows "Failed to generate file" on an error): keep the cause."""
    try:
        return build()
    except Exception:
        _LOGGER.exception("A report file could not be built")
        raise


def download_buttons(snapshot_id: int, title: str, *, key: str, workspace_id: int | None = None,
                     token: str | None = None) -> None:
    """The two buttons, side by side, for one snapshot (`title` names the files)."""
    row = st.container(horizontal=True)
    for fmt, (label, mime, icon) in FORMATS.items():
        build = partial(report_file, snapshot_id, fmt, workspace_id=workspace_id, token=token)
        row.download_button(label, data=partial(_logged, build), file_name=report_file_name(title, fmt), mime=mime,
                            icon=icon, on_click="ignore", key=keyed(key, fmt),
                            help="The client report as a file: cover, KPIs, charts, tables, goals and A/B results, "
                                 "with the workspace's logo, colour and footer.")
