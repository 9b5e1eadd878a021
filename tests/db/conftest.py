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
PG_TEMPLATE = "campaign_lens_migrated"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def pg_migrated_template(postgres_server) -> str:
    """Name of a PostgreSQL database migrated to head once per session, cloned by `engine`."""
    engine = make_engine(postgres_server.create_database(PG_TEMPLATE))
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()  # a template must have no open connections
    return PG_TEMPLATE


def _pg_database(request, template: str | None = None):
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name, template=template)
    return server, name, url


@pytest.fixture
def db_url(backend, tmp_path, request):
    """URL of an empty database (no tables yet)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'campaign_lens.db'}"
        return
    server, name, url = _pg_database(request)
    yield url
    server.drop_database(name)


@pytest.fixture
def engine(backend, tmp_path, request):
    """An engine on a fresh database at the head revision."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'campaign_lens.db'}")
        upgrade_database(engine)
        yield engine
        engine.dispose()
        return
    server, name, url = _pg_database(request, template=request.getfixturevalue("pg_migrated_template"))
    engine = make_engine(url)
    yield engine
    engine.dispose()
    server.drop_database(name)


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session
