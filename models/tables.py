"""SQLModel tables. The Alembic migrations in `models/migrations/` must agree with these
(tests/db/test_migrations.py compares them on SQLite and PostgreSQL).

Datetimes are timezone-aware UTC: sqlmodel 0.0.50 maps `datetime` fields to its `UTCDateTime`
type, which refuses naive values on write and attaches UTC to the naive values SQLite returns.

No `from __future__ import annotations` here: SQLModel reads the annotations at class creation.
"""

from datetime import date, datetime, timezone
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
# What an editor's new session of a workspace opens: its sources combined, the demo account, or
# the snapshot opened last.
Showing = Literal["sources", "demo", "snapshot"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _deferred(*names: str):
    """Mapper arguments deferring big columns: no query, refresh or post-commit reload fetches them
    unless the attribute itself is touched (or selected explicitly, as the repository does).
    SQLModel's Field cannot say "deferred"."""

    @sa.orm.declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"properties": {name: sa.orm.deferred(cls.__dict__[name]) for name in names}}

    return __mapper_args__


class Workspace(SQLModel, table=True):
    """One client of an agency: its data sources, snapshots (and their links), mapping profiles,
    report settings and branding. Deleting it deletes all of them (ON DELETE CASCADE)."""

    __tablename__ = "workspace"
    __mapper_args__ = _deferred("logo")

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    # ISO code of the client's usual currency (a default for files that do not say), or None.
    currency: str | None = Field(default=None, max_length=3)
    # IANA name (zoneinfo), e.g. "Europe/Berlin": schedules and report dates use it.
    time_zone: str = Field(default="UTC", max_length=64)
    # Branding for report files: "#RRGGBB", a footer line, a PNG/JPEG/WebP logo.
    accent_color: str | None = Field(default=None, max_length=7)
    report_footer: str | None = Field(default=None, max_length=500)
    logo: bytes | None = Field(default=None, sa_type=sa.LargeBinary, repr=False)
    logo_mime: str | None = Field(default=None, max_length=40)
    # Goals, the A/B test, KPI and currency settings the editor works with
    # (metrics.report_settings.ReportSettings.to_dict(); the filters part is not used here).
    report_settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    showing: str = Field(default="sources", max_length=20)
    # With showing == "snapshot"; no foreign key: a deleted snapshot is noticed on read.
    open_snapshot_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DataSource(SQLModel, table=True):
    """An upload stored in a workspace: its canonical rows (zstd Parquet) and what was read.

    Refreshing it with a newer export replaces the rows of the dates that export covers
    (`models.sources.merge_refresh`); `files` lists every file that went into it.
    """

    __tablename__ = "data_source"
    # The load report can hold a thousand rejected rows: lists never fetch it (get_source does).
    __mapper_args__ = _deferred("frame_parquet", "load_report")

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    enabled: bool = True
    # Export family (metrics.ingest source_format) and the canonical dimensions the mapping filled:
    # a later file with the same family and dimensions is taken as a newer export of this source.
    family: str = Field(default="generic", max_length=40)
    dimensions: list[str] = Field(default_factory=list, sa_type=JSON)
    platforms: list[str] = Field(default_factory=list, sa_type=JSON)
    currencies: list[str] = Field(default_factory=list, sa_type=JSON)
    # The currency the editor set for the source's money (ISO code) when its files do not say it (or say it
    # wrongly): applied to its rows when they are loaded, so a newer export of it keeps it.
    declared_currency: str | None = Field(default=None, max_length=3)
    # The latest file: its name, SHA-256 (hex) and size in bytes, its load report
    # (FileReport.to_dict()) and the column mapping it was read with.
    file_name: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64)
    file_size: int = 0
    load_report: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    mapping: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    # Every file stored into this source, oldest first: {"name", "sha256", "size", "stored_at", "change"}.
    files: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    date_from: date | None = None
    date_to: date | None = None
    row_count: int = 0
    frame_parquet: bytes = Field(sa_type=sa.LargeBinary, repr=False)
    # SHA-256 of frame_parquet: with the id, the content key of the workspace's combined data.
    frame_sha256: str = Field(max_length=64)
    # Length of frame_parquet in bytes (counts against the workspace's size cap).
    size_bytes: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Snapshot(SQLModel, table=True):
    """A saved report: the canonical frame (zstd Parquet) plus the report's settings."""

    __tablename__ = "snapshot"
    __mapper_args__ = _deferred("frame_parquet")

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
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
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    mapping: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DeliverySchedule(SQLModel, table=True):
    """A report emailed on a cadence: a snapshot's report (or a fresh client link to it), or the
    workspace's latest data for a relative period ("live", `snapshot_id` None).

    `reports.deliveries` reads and writes these rows (it validates what people type); the delivery
    command claims a due row (`claim_token`, `claimed_until`: a lease), sends outside any
    transaction, then records the outcome and moves `next_due_at` on from the schedule's own slot.
    """

    __tablename__ = "delivery_schedule"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    # None: a live report of the workspace's enabled sources for `period`.
    snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id", ondelete="CASCADE", index=True)
    period: str | None = Field(default=None, max_length=20)
    title: str = Field(max_length=200)
    # reports.schedule.Cadence.to_dict(): {"cadence", "time", "timezone", "weekday" | "day"}.
    cadence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    recipients: list[str] = Field(default_factory=list, sa_type=JSON)
    # "pdf" or "html" (attached), or "link" (a new client link to the snapshot).
    deliver: str = Field(default="pdf", max_length=10)
    # Days a link sent by email stays valid (None: CAMPAIGN_LENS_SHARE_DAYS).
    link_days: int | None = None
    enabled: bool = True
    # Bumped by every edit: an outcome recorded for an older revision keeps the edited timing.
    revision: int = 0
    # The scheduled moment (UTC) of the next delivery; a retry keeps it and sets retry_at.
    next_due_at: datetime = Field(index=True)
    retry_at: datetime | None = None
    # Failed attempts at the delivery of next_due_at.
    attempts: int = 0
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    last_attempt_at: datetime | None = None
    last_sent_at: datetime | None = None
    # "sent", "retrying" or "failed" (None: never attempted).
    last_status: str | None = Field(default=None, max_length=20)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DeliveryAttempt(SQLModel, table=True):
    """One try at sending a scheduled report (the delivery log), including "Send now" tests."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="delivery_schedule.id", ondelete="CASCADE", index=True)
    # The scheduled moment this attempt delivers (None for a "Send now" test).
    slot_at: datetime | None = None
    started_at: datetime
    finished_at: datetime
    # "sent", "retrying" (a temporary failure, tried again later) or "failed".
    outcome: str = Field(max_length=20)
    attempt: int = 1
    manual: bool = False
    recipients: int = 0
    error: str | None = Field(default=None, max_length=500)
    message_id: str | None = Field(default=None, max_length=255)

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


class BudgetRecord(SQLModel, table=True):
    """A monthly budget of a workspace: planned spend for a calendar month and a scope (the whole account,
    a platform or a campaign); `metrics.insights.pacing.Budget` is the value the pacing reads
    (`repository.budget_of`). One budget per month and scope: `scope_key` is the scope value as it is
    matched (empty for the whole account, the platform slug, the campaign name in lower case)."""

    __tablename__ = "budget"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "month", "scope", "scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    month: date  # the month's first day
    scope: str = Field(max_length=20)  # "all", "platform" or "campaign"
    scope_value: str | None = Field(default=None, max_length=200)
    scope_key: str = Field(default="", max_length=200)
    amount: float
    # ISO code; None = the spend's own currency.
    currency: str | None = Field(default=None, max_length=3)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AnnotationRecord(SQLModel, table=True):
    """A dated note of a workspace drawn on its trend charts (a launch, an outage, a holiday, a note):
    one day, or `start_date` through `end_date`; `metrics.insights.annotations.Annotation` is its value."""

    __tablename__ = "annotation"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    start_date: date = Field(index=True)
    end_date: date | None = None
    text: str = Field(max_length=200)
    kind: str = Field(default="note", max_length=20)  # "launch", "outage", "holiday" or "note"
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
