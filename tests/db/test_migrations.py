"""The Alembic migrations and the SQLModel tables describe the same schema, and upgrading is
safe to run from several processes at once."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from polars.testing import assert_frame_equal
from sqlmodel import Session, SQLModel

import models.tables  # noqa: F401
from models import repository as repo
from models.db import alembic_config, current_revision, make_engine, upgrade_database

REPO = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
TABLES = {"workspace", "data_source", "snapshot", "share_link", "mapping_profile", "delivery_schedule",
          "delivery_attempt", "sign_in_throttle", "sign_in_ticket", "budget", "annotation"}
FIRST_SCHEMA = "0001"


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
        assert "alembic_version" in set(sa.inspect(engine).get_table_names())
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
    """`alembic upgrade` from the command line, over a database holding a snapshot with a link:
    the table rebuilds of the upgrade must not cascade-delete the link."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    alembic = Path(sys.executable).with_name("alembic")
    if not alembic.exists():
        pytest.skip("alembic console script not installed next to the interpreter")
    subprocess.run([str(alembic), "-x", f"url={url}", "upgrade", FIRST_SCHEMA], cwd=REPO, check=True,
                   capture_output=True)
    engine = make_engine(url)
    try:
        now = datetime.now(timezone.utc)
        rows, _ = _old_snapshot_rows(now)
        with engine.begin() as conn:
            conn.execute(OLD_SNAPSHOT.insert(), rows[:1])
            conn.execute(OLD_LINK.insert(), [{"id": 1, "snapshot_id": 1, "token_sha256": "c" * 64, "label": None,
                                              "created_at": now, "expires_at": now + timedelta(days=1),
                                              "revoked_at": None, "last_viewed_at": None, "view_count": 0}])
        engine.dispose()
        subprocess.run([str(alembic), "-x", f"url={url}", "upgrade", "head"], cwd=REPO, check=True,
                       capture_output=True)
        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM share_link")).scalar() == 1
    finally:
        engine.dispose()


# --- upgrading a database that already holds snapshots and links (schema 0001) -----------------

UTC_DATETIME = sa.DateTime(timezone=True)
OLD_SNAPSHOT = sa.table(
    "snapshot", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("client_label", sa.String),
    sa.column("created_at", UTC_DATETIME), sa.column("updated_at", UTC_DATETIME),
    sa.column("frame_parquet", sa.LargeBinary), sa.column("settings", sa.JSON), sa.column("source_files", sa.JSON),
    sa.column("row_count", sa.Integer), sa.column("size_bytes", sa.Integer), sa.column("app_version", sa.String),
)
OLD_LINK = sa.table(
    "share_link", sa.column("id", sa.Integer), sa.column("snapshot_id", sa.Integer),
    sa.column("token_sha256", sa.String), sa.column("label", sa.String), sa.column("created_at", UTC_DATETIME),
    sa.column("expires_at", UTC_DATETIME), sa.column("revoked_at", UTC_DATETIME),
    sa.column("last_viewed_at", UTC_DATETIME), sa.column("view_count", sa.Integer),
)
OLD_PROFILE = sa.table("mapping_profile", sa.column("name", sa.String), sa.column("mapping", sa.JSON),
                       sa.column("created_at", UTC_DATETIME), sa.column("updated_at", UTC_DATETIME))
OLD_STATE = sa.table("app_state", sa.column("key", sa.String), sa.column("value", sa.JSON),
                     sa.column("updated_at", UTC_DATETIME))


def _old_snapshot_rows(now: datetime) -> tuple[list[dict], dict[int, pl.DataFrame]]:
    frames = {
        1: pl.DataFrame({"date": [date(2026, 3, 1), date(2026, 3, 2)], "platform": ["facebook", "x"],
                         "campaign": ["Spring", "Spring"], "spend": [12.5, 7.25]}),
        2: pl.DataFrame({"date": [date(2026, 4, 1)], "platform": ["tiktok"], "campaign": ["Launch"],
                         "clicks": [40.0]}),
    }
    rows = []
    for snapshot_id, frame in frames.items():
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="zstd")
        blob = buffer.getvalue()
        rows.append({"id": snapshot_id, "name": f"Old report {snapshot_id}", "client_label": "Acme",
                     "created_at": now - timedelta(days=snapshot_id), "updated_at": now, "frame_parquet": blob,
                     "settings": {"filters": {"platforms": ["facebook"], "grain": "week", "compare": None},
                                  "grain": "week", "comparison": None, "goals": [], "ab": {}},
                     "source_files": [{"name": "meta.csv", "sha256": "ab" * 32, "size": 10}],
                     "row_count": frame.height, "size_bytes": len(blob), "app_version": "0.1.0"})
    return rows, frames


def test_upgrade_from_the_first_schema_moves_snapshots_links_and_profiles_into_a_first_workspace(db_url):
    engine = make_engine(db_url)
    now = datetime.now(timezone.utc)
    live_token, revoked_token = "live-token-" + "a" * 32, "revoked-token-" + "b" * 32
    try:
        upgrade_database(engine, FIRST_SCHEMA)
        rows, frames = _old_snapshot_rows(now)
        with engine.begin() as conn:
            conn.execute(OLD_SNAPSHOT.insert(), rows)
            conn.execute(OLD_LINK.insert(), [
                {"id": 1, "snapshot_id": 1, "token_sha256": hashlib.sha256(live_token.encode()).hexdigest(),
                 "label": "client", "created_at": now, "expires_at": now + timedelta(days=10), "revoked_at": None,
                 "last_viewed_at": None, "view_count": 3},
                {"id": 2, "snapshot_id": 2, "token_sha256": hashlib.sha256(revoked_token.encode()).hexdigest(),
                 "label": None, "created_at": now, "expires_at": now + timedelta(days=10), "revoked_at": now,
                 "last_viewed_at": None, "view_count": 0},
            ])
            conn.execute(OLD_PROFILE.insert(), [{"name": "Meta weekly", "mapping": {"Amount spent": "spend"},
                                                 "created_at": now, "updated_at": now}])
            conn.execute(OLD_STATE.insert(), [{"key": "last_opened_snapshot_id", "value": 2, "updated_at": now}])

        upgrade_database(engine)
        assert current_revision(engine) == HEAD
        assert _diffs(engine) == []

        with Session(engine) as session:
            [workspace] = repo.list_workspaces(session=session)
            assert workspace.name == "My workspace" and workspace.time_zone == "UTC"
            assert repo.ensure_workspace(session=session).id == workspace.id
            snapshots = repo.list_snapshots(session=session, workspace_id=workspace.id)
            assert [s.name for s in snapshots] == ["Old report 1", "Old report 2"]  # newest first
            for snapshot in snapshots:
                assert snapshot.settings["filters"]["platforms"] == ["facebook"]
                loaded = repo.load_snapshot_frame(session=session, snapshot_id=snapshot.id)
                original = frames[snapshot.id]
                assert_frame_equal(loaded.select(original.columns), original)
            # the live link still opens its snapshot, the revoked one still does not
            link = repo.resolve_share_token(session=session, token=live_token)
            assert link is not None and link.snapshot_id == 1 and link.view_count == 4
            assert repo.resolve_share_token(session=session, token=revoked_token) is None
            assert len(repo.list_share_links(session=session, workspace_id=workspace.id)) == 2
            [profile] = repo.list_mapping_profiles(session=session, workspace_id=workspace.id)
            assert (profile.name, profile.mapping) == ("Meta weekly", {"Amount spent": "spend"})
            # the snapshot opened last is what the workspace opens
            assert repo.workspace_showing(session=session, workspace_id=workspace.id) == ("snapshot", 2)
            assert repo.list_sources(session=session, workspace_id=workspace.id) == []

            # the migrated foreign keys cascade: deleting the workspace deletes its snapshots and links
            assert repo.delete_workspace(session=session, workspace_id=workspace.id)
            assert repo.resolve_share_token(session=session, token=live_token) is None
        with engine.connect() as conn:
            for table in ("snapshot", "share_link", "mapping_profile"):
                assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table
    finally:
        engine.dispose()


# --- upgrading a database that already holds workspaces (schema 0002) to the schedules ---------------

WORKSPACES_SCHEMA = "0002"


def test_upgrade_from_workspaces_keeps_the_data_and_schedules_die_with_their_workspace(db_url):
    from reports import deliveries
    from reports.schedule import Cadence

    engine = make_engine(db_url)
    now = datetime.now(timezone.utc)
    token = "kept-token-" + "c" * 32
    try:
        upgrade_database(engine, WORKSPACES_SCHEMA)
        with Session(engine) as session:
            workspace = repo.create_workspace(session=session, name="Acme", time_zone="Europe/Berlin")
            workspace_id = workspace.id
            snapshot = repo.save_snapshot(session=session, workspace_id=workspace_id, name="Q3",
                                          frame=pl.DataFrame({"date": [date(2026, 3, 1)], "spend": [12.5]}),
                                          settings={})
            snapshot_id = snapshot.id
        with engine.begin() as conn:
            conn.execute(OLD_LINK.insert(), [{"id": 1, "snapshot_id": snapshot_id,
                                              "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
                                              "label": None, "created_at": now, "expires_at": now + timedelta(days=5),
                                              "revoked_at": None, "last_viewed_at": None, "view_count": 0}])
        assert not {"delivery_schedule", "delivery_attempt"} & set(sa.inspect(engine).get_table_names())

        upgrade_database(engine)
        assert current_revision(engine) == HEAD
        assert _diffs(engine) == []
        with Session(engine) as session:
            assert [w.name for w in repo.list_workspaces(session=session)] == ["Acme", "My workspace"]
            assert repo.load_snapshot_frame(session=session, snapshot_id=snapshot_id).get_column("spend").to_list() \
                == [12.5]
            assert repo.resolve_share_token(session=session, token=token, count_view=False) is not None
            schedule = deliveries.create_schedule(
                session=session, workspace_id=workspace_id, snapshot_id=snapshot_id, title="Weekly",
                cadence=Cadence.weekly("monday", "09:00", "Europe/Berlin"), recipients=["a@acme.example"])
            assert schedule.next_due_at > now
            assert repo.delete_workspace(session=session, workspace_id=workspace_id)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM delivery_schedule")).scalar() == 0
    finally:
        engine.dispose()


# --- upgrading a database with workspaces (schema 0002) to budgets and annotations --------------


def test_upgrade_from_workspaces_adds_budgets_and_annotations_that_die_with_their_workspace(db_url):
    from metrics.insights.annotations import Annotation
    from metrics.insights.pacing import Budget

    engine = make_engine(db_url)
    now = datetime.now(timezone.utc)
    try:
        upgrade_database(engine, WORKSPACES_SCHEMA)
        assert not {"budget", "annotation"} & set(sa.inspect(engine).get_table_names())
        workspace = sa.table("workspace", sa.column("name", sa.String), sa.column("time_zone", sa.String),
                             sa.column("report_settings", sa.JSON), sa.column("showing", sa.String),
                             sa.column("created_at", UTC_DATETIME), sa.column("updated_at", UTC_DATETIME))
        with engine.begin() as conn:
            conn.execute(workspace.insert(), [{"name": name, "time_zone": "UTC", "report_settings": {},
                                               "showing": "sources", "created_at": now, "updated_at": now}
                                              for name in ("Acme", "Globex")])

        upgrade_database(engine)
        assert current_revision(engine) == HEAD
        assert _diffs(engine) == []
        with Session(engine) as session:
            by_name = {w.name: w for w in repo.list_workspaces(session=session)}
            acme, globex = by_name["Acme"].id, by_name["Globex"].id
            for workspace_id in (acme, globex):
                repo.save_budget(session=session, workspace_id=workspace_id,
                                 budget=Budget(date(2026, 10, 1), "all", None, 1000.0))
                repo.save_annotation(session=session, workspace_id=workspace_id,
                                     annotation=Annotation(date(2026, 10, 5), "Launch", kind="launch"))
            assert repo.delete_workspace(session=session, workspace_id=acme)
        with engine.connect() as conn:
            for table in ("budget", "annotation"):
                assert conn.execute(sa.text(f"SELECT workspace_id FROM {table}")).scalars().all() == [globex]
    finally:
        engine.dispose()
