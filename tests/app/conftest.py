"""AppTest fixtures: every app test runs against its own throwaway data directory and database."""

from __future__ import annotations

import os
import tempfile

import pytest

# Set before any page imports ui.persistence (its engine is cached for the process).
_DATA_DIR = tempfile.mkdtemp(prefix="campaign-lens-apptest-")
os.environ["CAMPAIGN_LENS_DATA_DIR"] = _DATA_DIR
os.environ["DATABASE_URL"] = f"sqlite:///{_DATA_DIR}/campaign_lens.db"
os.environ.pop("CAMPAIGN_LENS_PASSWORD_HASH", None)


@pytest.fixture
def app():
    """A fresh AppTest of the router (dashboard.py)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    return AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)


@pytest.fixture
def demo_app(app):
    """The router after the visitor clicked "Use demo data" on the empty start."""
    app.run()
    app.button(key="empty_state_demo").click().run()
    assert not app.exception, app.exception
    return app


@pytest.fixture(autouse=True)
def _fresh_start():
    """Each app test starts like a first visit: one empty "My workspace", nothing left by an earlier
    test (no sources, snapshots, links or remembered view)."""
    from sqlmodel import Session

    from models import repository
    from models.db import make_engine, upgrade_database

    engine = make_engine()
    upgrade_database(engine)
    with Session(engine) as session:
        for workspace in repository.list_workspaces(session=session):
            repository.delete_workspace(session=session, workspace_id=workspace.id)
        repository.ensure_workspace(session=session)
    engine.dispose()
    yield
