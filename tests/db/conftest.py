"""Database fixtures for the persistence tests: every test runs on SQLite (a temp file) and on
PostgreSQL (a fresh database on the session's throw-away server, see tests/pg_server.py)."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session

from models.db import make_engine, upgrade_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend, tmp_path, request):
    """URL of an empty database (no tables yet)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'campaign_lens.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
def engine(db_url):
    """An engine on a database migrated to head."""
    engine = make_engine(db_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session
