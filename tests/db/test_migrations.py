"""The Alembic migrations and the SQLModel tables describe the same schema, and upgrading is
safe to run from several processes at once."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from models.db import alembic_config, current_revision, make_engine, upgrade_database

REPO = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
TABLES = {"snapshot", "share_link", "mapping_profile", "app_state", "sign_in_throttle", "sign_in_ticket"}


def _diffs(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, SQLModel.metadata)


def test_single_head():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_migrated_database_matches_the_models(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade_database(engine)
        assert current_revision(engine) == HEAD
        assert TABLES <= set(sa.inspect(engine).get_table_names())
        assert _diffs(engine) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_round_trips(db_url):
    engine = make_engine(db_url)
    try:
        upgrade_database(engine)
        upgrade_database(engine)  # second start: nothing to do
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert not TABLES & set(sa.inspect(engine).get_table_names())
        upgrade_database(engine)
        assert current_revision(engine) == HEAD
        assert _diffs(engine) == []
    finally:
        engine.dispose()


def test_concurrent_upgrades_from_separate_engines(db_url):
    """Several app processes starting at once against an empty database: all succeed, once."""
    engines = [make_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine):
        try:
            barrier.wait()
            upgrade_database(engine)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert current_revision(engines[0]) == HEAD
        assert _diffs(engines[0]) == []
    finally:
        for e in engines:
            e.dispose()


def test_concurrent_upgrades_from_separate_processes(db_url):
    code = "import sys; from models.db import make_engine, upgrade_database; upgrade_database(make_engine(sys.argv[1]))"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, db_url], cwd=REPO, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(60), p.stderr.read()) for p in processes]
    assert [rc for rc, _ in results] == [0, 0], [err for _, err in results]
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()


def test_alembic_command_line_uses_the_repo_config(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    alembic = Path(sys.executable).with_name("alembic")
    if not alembic.exists():
        pytest.skip("alembic console script not installed next to the interpreter")
    subprocess.run([str(alembic), "-x", f"url={url}", "upgrade", "head"], cwd=REPO, check=True, capture_output=True)
    engine = make_engine(url)
    try:
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()
