"""One database engine per process (migrated on first use) and short-lived sessions for pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlmodel import Session

from models.db import make_engine, upgrade_database


@st.cache_resource(show_spinner=False)
def engine():
    created = make_engine()
    upgrade_database(created)
    return created


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error (keep write transactions short)."""
    with Session(engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
