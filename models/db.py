"""Engine factory and schema upgrades.

One engine per process (the UI keeps it in `st.cache_resource`); sessions are short-lived
`sqlmodel.Session(engine)` objects passed explicitly to `models.repository` functions.

SQLite: WAL journal (readers never wait for the writer), `foreign_keys=ON` (share links die with
their snapshot), a busy timeout (writers queue instead of failing with "database is locked").
The driver's default transaction handling is kept on purpose: it runs SELECTs outside a
transaction and opens one at the first write, so a write never has to upgrade a stale read
snapshot (which SQLite refuses immediately, without waiting).

PostgreSQL: psycopg 3. `postgres://` and `postgresql://` URLs are rewritten to `postgresql+psycopg://`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from models.settings import load_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# pg_advisory_xact_lock key serialising concurrent `upgrade_database` calls ("CLns" as an int).
MIGRATION_LOCK_KEY = 0x434C6E73


def normalize_database_url(url: str) -> URL:
    """Parse `url`, sending every PostgreSQL spelling to the psycopg 3 driver."""
    text_url = url.strip()
    if text_url.startswith("postgres://"):
        text_url = "postgresql://" + text_url[len("postgres://"):]
    parsed = make_url(text_url)
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _json_default(value: Any) -> Any:
    # Report settings often hold dates (filter ranges); they come back as ISO strings.
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL, retrying: the switch can fail with "database is locked" at once,
    without the busy timeout, when several connections open a new file together (measured:
    7 in 1,800 with 6 threads). Left in rollback-journal mode, concurrent writers could deadlock."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            mode = str(cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
            if mode in ("wal", "memory"):
                return
            problem = f"the journal mode stayed {mode!r}"
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            problem = str(error)
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"Could not switch the SQLite database to WAL: {problem}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: writers wait for each other instead of failing.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # Only takes effect when the file is created: bigger pages suit multi-MB snapshot blobs.
        cursor.execute("PRAGMA page_size = 16384")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _psycopg_binary_bytes(dbapi_connection: Any, _record: Any) -> None:
    # Plain bytes parameters go in binary too, not hex-escaped text. (SQLAlchemy wraps
    # LargeBinary values in psycopg.Binary, which psycopg already sends in binary; this covers
    # raw driver-level statements.) The read side is in repository._read_blob.
    from psycopg.types.string import BytesBinaryDumper

    for cls in (bytes, bytearray, memoryview):
        dbapi_connection.adapters.register_dumper(cls, BytesBinaryDumper)


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """Create the process's engine for `url` (default: `DATABASE_URL` / the SQLite file in the data dir).

    Creates the SQLite file's folder when missing. Does not create tables: call `upgrade_database`.
    """
    parsed = normalize_database_url(url or load_settings().database_url)
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": _json_dumps}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
        # Threads of the Streamlit server share the pool; the timeout is the driver's own wait.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        elif not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs |= {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _psycopg_binary_bytes)
    return engine


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at `models/migrations` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to `revision`. Safe when several processes start at once.

    The whole upgrade runs in one transaction that first takes a database-wide lock
    (PostgreSQL: an advisory transaction lock; SQLite: `BEGIN IMMEDIATE`, the write lock), so
    the second process waits, then finds the version table at head and does nothing.
    """
    cfg = alembic_config()
    backend = engine.dialect.name
    with engine.connect() as conn:
        try:
            if backend == "sqlite":
                # Batch migrations rebuild tables; with foreign keys on, dropping the old
                # `snapshot` table would cascade-delete every share link. The pragma is a
                # no-op inside a transaction, so set it before BEGIN.
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
                conn.commit()
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            if backend == "sqlite":
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"Migration left dangling foreign keys: {problems[:5]}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if backend == "sqlite":
                # Never hand a connection with foreign keys off back to the pool.
                try:
                    conn.exec_driver_sql("PRAGMA foreign_keys = ON")
                    conn.commit()
                except Exception:  # the connection is unusable: drop it rather than pool it
                    conn.invalidate()


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
