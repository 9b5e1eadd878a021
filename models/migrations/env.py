"""Alembic environment for Campaign Lens.

Used two ways:
- programmatically by `models.db.upgrade_database(engine)`, which passes an open connection that
  already holds the migration lock (config.attributes["connection"]);
- from the command line at the repo root (`alembic upgrade head`, `alembic revision --autogenerate
  -m "..."`), where the URL comes from `-x url=...`, alembic.ini's sqlalchemy.url or DATABASE_URL.
"""

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from models.db import make_engine

config = context.config
if config.config_file_name is not None and config.get_main_option("configure_logging", "true") == "true":
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata

CONFIGURE_OPTIONS = {
    "target_metadata": target_metadata,
    # Batch mode lets ALTERs work on SQLite (copy-and-move); on PostgreSQL it emits plain ALTERs.
    "render_as_batch": True,
    "compare_type": True,
}


def _url() -> str | None:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url") or None


def run_migrations_offline() -> None:
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **CONFIGURE_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **CONFIGURE_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # As models.db.upgrade_database does: batch migrations rebuild tables, and with
                # foreign keys on, dropping the old `snapshot` table would delete every share link.
                connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
                connection.commit()
            context.configure(connection=connection, **CONFIGURE_OPTIONS)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
