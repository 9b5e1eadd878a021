"""Shared test fixtures: paths to the repo, its tiny fixtures and the shared real datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets folder not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


# --- PostgreSQL ------------------------------------------------------------------------------
# One throw-away server per test session (tests/pg_server.py); tests create their own databases
# on it with `postgres_server.create_database(name)`. Skips only when the binaries are absent.


@pytest.fixture(scope="session")
def postgres_server():
    from tests.pg_server import PostgresServer, find_pg_bin

    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
