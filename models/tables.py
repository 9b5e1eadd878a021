"""SQLModel tables. The Alembic migrations in `models/migrations/` must agree with these
(tests/db/test_migrations.py compares them on SQLite and PostgreSQL).

Datetimes are timezone-aware UTC: sqlmodel 0.0.50 maps `datetime` fields to its `UTCDateTime`
type, which refuses naive values on write and attaches UTC to the naive values SQLite returns.

No `from __future__ import annotations` here: SQLModel reads the annotations at class creation.
"""

from datetime import datetime, timezone
from typing import Any, Literal

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import JSON, Field, SQLModel

# Named constraints, so that later batch migrations on SQLite can find and alter them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ShareStatus = Literal["active", "expired", "revoked"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Snapshot(SQLModel, table=True):
    """A saved report: the canonical frame (zstd Parquet) plus the report's settings."""

    __tablename__ = "snapshot"

    @sa.orm.declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # The blob is deferred at the mapper level: no query, refresh or post-commit reload of a
        # Snapshot fetches it unless `frame_parquet` itself is touched (or selected explicitly,
        # as repository.load_snapshot_frame does). SQLModel's Field cannot say "deferred".
        return {"properties": {"frame_parquet": sa.orm.deferred(cls.__dict__["frame_parquet"])}}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    client_label: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    # The canonical frame as zstd Parquet. Never loaded by list_snapshots/get_snapshot (deferred there);
    # read it through repository.load_snapshot_frame.
    frame_parquet: bytes = Field(sa_type=sa.LargeBinary, repr=False)
    # Filters, grain, comparison, goals, A/B configuration: opaque to the persistence layer.
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # [{"name": str, "sha256": hex str, "size": int bytes}, ...]
    source_files: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    row_count: int = 0
    # Length of frame_parquet in bytes.
    size_bytes: int = 0
    app_version: str = Field(default="", max_length=40)


class ShareLink(SQLModel, table=True):
    """A read-only client link to one snapshot. Only the SHA-256 of the token is stored."""

    __tablename__ = "share_link"

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshot.id", ondelete="CASCADE", index=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True, repr=False)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    last_viewed_at: datetime | None = None
    view_count: int = 0

    def status_at(self, now: datetime) -> ShareStatus:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"

    @property
    def status(self) -> ShareStatus:
        """"active", "expired" or "revoked" (revoked wins over expired)."""
        return self.status_at(utcnow())


class MappingProfile(SQLModel, table=True):
    """A saved column mapping for a recurring export layout: {source header: canonical column name}."""

    __tablename__ = "mapping_profile"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    mapping: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AppState(SQLModel, table=True):
    """Tiny key/value store for app-wide state (e.g. the last opened snapshot id)."""

    __tablename__ = "app_state"

    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(default=None, sa_type=JSON, nullable=True)
    updated_at: datetime = Field(default_factory=utcnow)



class SignInThrottle(SQLModel, table=True):
    """Password checks for one account (or, under the key "*", for all accounts together), kept in the
    database so the limits hold across sessions, processes and replicas (rules in models/throttle.py)."""

    __tablename__ = "sign_in_throttle"

    key: str = Field(primary_key=True, max_length=200)
    # Checks counted since this moment; the window restarts when it is older than the rule's window.
    window_started_at: datetime = Field(default_factory=utcnow)
    # Password checks in the window not (yet) followed by a success.
    attempts: int = 0
    # Lockouts in the current streak: the next one lasts twice as long.
    lockouts: int = 0
    locked_until: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class SignInTicket(SQLModel, table=True):
    """A one-time proof that a sign-in just succeeded, which the browser exchanges (within a minute)
    for the login cookie. Only the SHA-256 of the ticket is stored."""

    __tablename__ = "sign_in_ticket"

    ticket_sha256: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)
