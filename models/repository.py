"""Persistence operations: keyword-only functions taking an explicit `session`.

Write functions commit their own short transaction (SQLite allows one writer at a time) and
return refreshed objects; a write that fails rolls back and leaves what was stored untouched.
Objects returned by list/get functions never carry a Parquet blob or a logo in memory; read
frames with `load_snapshot_frame` / `load_sources_frame`.

Everything an editor works with belongs to a workspace (one per client): data sources,
snapshots (and, through them, share links), mapping profiles, report settings and branding.
Functions that act on one object by id take an optional `workspace_id`: given, an object of
another workspace is "not found", so a stale id from another workspace can never reach it.

Share tokens: `secrets.token_urlsafe(32)` (256 bits). Only their SHA-256 hex digest is stored;
the raw token is returned once, to be shown to the editor, and cannot be recovered later. A link
row holds exactly one token digest, so a link can never have two live tokens: regenerating
replaces the digest in place (one UPDATE), which also kills the old token.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import random
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from zoneinfo import available_timezones

import polars as pl
from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, undefer
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

import metrics
from metrics.bounded import check_logo
from metrics.currency import currency_code
from metrics.errors import CampaignLensError, UsageError
from metrics.insights.annotations import Annotation
from metrics.insights.pacing import Budget
from metrics.insights.tables import describe_budget
from metrics.schema import DIMENSIONS, conform, empty_frame
from models.settings import load_settings
from models.sources import RefreshChange, merge_refresh
from models.tables import (
    AnnotationRecord,
    BudgetRecord,
    DataSource,
    DeliverySchedule,
    MappingProfile,
    ShareLink,
    Showing,
    SignInTicket,
    Snapshot,
    Workspace,
    utcnow,
)

if TYPE_CHECKING:
    from metrics.ingest import LoadResult

PARQUET_COMPRESSION = "zstd"
# Level 1: measured ~30 % less CPU than 3 on the 1M-row demo frame and a slightly smaller file
# (the measures are mostly small integers stored as floats).
PARQUET_COMPRESSION_LEVEL = 1
# Any stored row (a table class of models.tables) passed through a helper and returned as it is.
RowT = TypeVar("RowT")

TOKEN_BYTES = 32
# A token_urlsafe(32) is 43 characters of the URL-safe alphabet. A value that is longer than 100
# characters, shorter than 16 or holds anything else (a space, a quote, "%") is not a token: it is
# refused before it is hashed or looked up, so a 100,000-character paste costs nothing.
MAX_TOKEN_LENGTH = 100
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,%d}" % MAX_TOKEN_LENGTH)
NAME_MAX_LENGTH = 200
DEFAULT_WORKSPACE_NAME = "My workspace"
FOOTER_MAX_LENGTH = 200  # reports.branding.MAX_FOOTER_CHARS
ACCENT_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# Concurrent refreshes of one source: each retries on the newest rows this many times.
REFRESH_ATTEMPTS = 20


class _Keep:
    """Sentinel type: "leave this field as it is"."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


class NotFoundError(CampaignLensError, LookupError):
    """The workspace, source, snapshot, link or profile asked for does not exist (any more)."""

    exit_code = 3


class WorkspaceFullError(UsageError):
    """Storing this would take the workspace over its size cap (CAMPAIGN_LENS_WORKSPACE_MAX_MB)."""


# --- helpers ----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a raw share token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_well_formed_token(token: object) -> bool:
    """True when `token` could be a share token: 16-100 characters of the URL-safe alphabet, nothing
    else (no padding, no spaces). Matching is exact: " TOKEN " is not TOKEN. Costs no hashing."""
    return isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH and _TOKEN_SHAPE.fullmatch(token) is not None


def describe_size(size_bytes: int) -> str:
    """"2.1 GB", "350.0 MB", "12.5 kB" (powers of 1024, like the size cap setting)."""
    size = max(int(size_bytes), 0)
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size / 1024:,.1f} kB"


def _clean_name(value: str, what: str) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise UsageError(f"Give the {what} a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise UsageError(f"The {what} name is too long: keep it under {NAME_MAX_LENGTH} characters.")
    return name


def _clean_label(value: str | None) -> str | None:
    if value is None:
        return None
    label = " ".join(str(value).split())
    return label[:NAME_MAX_LENGTH] or None


def _frame_to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(
        buffer, compression=PARQUET_COMPRESSION, compression_level=PARQUET_COMPRESSION_LEVEL, statistics=False
    )
    return buffer.getvalue()


def _parquet_to_frame(blob: bytes) -> pl.DataFrame:
    # Rows saved by an older schema still open: missing columns come back as nulls.
    return conform(pl.read_parquet(io.BytesIO(bytes(blob))))


def _source_files(files: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for item in files:
        cleaned.append(
            {"name": str(item["name"]), "sha256": str(item.get("sha256") or ""), "size": int(item.get("size") or 0)}
        )
    return cleaned


def _read_blob(session: Session, column: Any, row_id: int) -> bytes | None:
    """One row's blob (`column` is e.g. `Snapshot.frame_parquet`), or None when the row is gone."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        # psycopg returns bytea as hex text unless the cursor asks for binary results; for a
        # 20 MB blob that is 40 MB on the wire plus a decoding pass (~4x slower to open).
        table = column.property.columns[0].table
        with connection.connection.driver_connection.cursor(binary=True) as cursor:
            cursor.execute(f"SELECT {column.key} FROM {table.name} WHERE {table.c.id.name} = %s", (row_id,))
            row = cursor.fetchone()
        return None if row is None else (None if row[0] is None else bytes(row[0]))
    return session.exec(select(column).where(column.class_.id == row_id)).first()


def _commit_refresh(session: Session, *objects: Any) -> None:
    session.commit()
    for obj in objects:
        session.refresh(obj)


def _save_edit(session: Session, row: RowT) -> RowT:
    """Stamp an edited row's `updated_at`, commit it and return it as stored."""
    row.updated_at = utcnow()
    session.add(row)
    _commit_refresh(session, row)
    return row


def _forget(session: Session, cls: type, ids: Iterable[int]) -> None:
    """Drop loaded copies of rows the database has just deleted (e.g. by a cascade)."""
    for ident in ids:
        obj = session.identity_map.get(identity_key(cls, ident))
        if obj is not None:
            session.expunge(obj)


def _stored_bytes(session: Session, workspace_id: int) -> int:
    sources = session.exec(
        select(func.coalesce(func.sum(DataSource.size_bytes), 0)).where(DataSource.workspace_id == workspace_id)
    ).one()
    snapshots = session.exec(
        select(func.coalesce(func.sum(Snapshot.size_bytes), 0)).where(Snapshot.workspace_id == workspace_id)
    ).one()
    return int(sources) + int(snapshots)


def _check_size_cap(session: Session, workspace_id: int) -> None:
    """Inside the write's transaction, after its rows are flushed: refuse (the caller rolls back)
    when the workspace now holds more than CAMPAIGN_LENS_WORKSPACE_MAX_MB."""
    cap = load_settings().workspace_max_bytes
    total = _stored_bytes(session, workspace_id)
    if total > cap:
        raise WorkspaceFullError(
            f"This would store {describe_size(total)} in this workspace, more than its {describe_size(cap)} "
            "limit; delete sources or snapshots it no longer needs (or ask the operator to raise "
            "CAMPAIGN_LENS_WORKSPACE_MAX_MB)."
        )


def _commit_within_cap(session: Session, workspace_id: int) -> None:
    try:
        session.flush()
        _check_size_cap(session, workspace_id)
        session.commit()
    except BaseException:
        session.rollback()
        raise


# --- workspaces -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceBranding:
    """What a client report file shows of its workspace (SPEC §9); `reports.branding.Branding` draws it
    (accent and footer None = that module's defaults). Limits match that module's."""

    name: str
    accent_color: str | None
    report_footer: str | None
    logo: bytes | None = field(repr=False)
    logo_mime: str | None
    currency: str | None
    time_zone: str


@dataclass(frozen=True)
class WorkspaceContents:
    """What deleting a workspace would delete."""

    sources: int
    snapshots: int
    links: int
    mapping_profiles: int
    stored_bytes: int
    schedules: int = 0

    def describe(self) -> str:
        """"3 sources, 5 snapshots, 2 client links" (profiles and email schedules only when there are any)."""

        def count(n: int, one: str, many: str) -> str:
            return f"{n:,} {one if n == 1 else many}"

        parts = [count(self.sources, "source", "sources"), count(self.snapshots, "snapshot", "snapshots"),
                 count(self.links, "client link", "client links")]
        if self.mapping_profiles:
            parts.append(count(self.mapping_profiles, "mapping profile", "mapping profiles"))
        if self.schedules:
            parts.append(count(self.schedules, "email schedule", "email schedules"))
        return ", ".join(parts)


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def _clean_time_zone(value: str) -> str:
    name = str(value or "").strip()
    if name not in _time_zones():
        raise UsageError(f"{name or 'An empty name'} is not a time zone name; use one such as Europe/Berlin or UTC.")
    return name


def _clean_currency(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    code = str(value).strip().upper()
    if not CURRENCY_CODE.match(code):
        raise UsageError(f"{value} is not a currency code; use three letters such as USD or EUR.")
    return code


def _clean_accent(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    color = str(value).strip()
    if not ACCENT_COLOR.match(color):
        raise UsageError(f"{color} is not a colour; use the #RRGGBB form, for example #1F6FEB.")
    return color.lower()


def _clean_footer(value: str | None) -> str | None:
    if value is None:
        return None
    footer = " ".join(str(value).split())
    if len(footer) > FOOTER_MAX_LENGTH:
        raise UsageError(f"The report footer is too long: keep it under {FOOTER_MAX_LENGTH} characters.")
    return footer or None


def _require_workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFoundError(f"Workspace {workspace_id} does not exist; it may have been deleted.")
    return workspace


def _name_taken(session: Session, name: str, but: int | None = None) -> bool:
    statement = select(Workspace.id).where(func.lower(Workspace.name) == name.lower())
    if but is not None:
        statement = statement.where(Workspace.id != but)
    return session.exec(statement).first() is not None


def create_workspace(
    *, session: Session, name: str, currency: str | None = None, time_zone: str = "UTC"
) -> Workspace:
    """A new, empty workspace. Names are unique (ignoring case)."""
    clean = _clean_name(name, "workspace")
    now = utcnow()
    workspace = Workspace(name=clean, currency=_clean_currency(currency), time_zone=_clean_time_zone(time_zone),
                          created_at=now, updated_at=now)
    if _name_taken(session, clean):
        raise UsageError(f"There is already a workspace called {clean}; pick another name.")
    session.add(workspace)
    try:
        _commit_refresh(session, workspace)
    except IntegrityError:  # created by someone else a moment ago
        session.rollback()
        raise UsageError(f"There is already a workspace called {clean}; pick another name.") from None
    return workspace


def list_workspaces(*, session: Session) -> list[Workspace]:
    """All workspaces, by name (case-insensitive), without their logos."""
    return list(session.exec(select(Workspace).order_by(func.lower(Workspace.name), col(Workspace.id))).all())


def get_workspace(*, session: Session, workspace_id: int) -> Workspace | None:
    return session.get(Workspace, workspace_id)


def ensure_workspace(*, session: Session) -> Workspace:
    """The first (oldest) workspace, creating "My workspace" when there is none, so the one-person
    case never has to create one. Safe when several sessions or replicas ask at once."""
    for _ in range(3):
        first = session.exec(select(Workspace).order_by(col(Workspace.id)).limit(1)).first()
        if first is not None:
            return first
        try:
            return create_workspace(session=session, name=DEFAULT_WORKSPACE_NAME)
        except UsageError:  # another process created it between the read and the insert
            continue
    raise NotFoundError("No workspace could be created; check that the database accepts writes.")


def update_workspace(
    *,
    session: Session,
    workspace_id: int,
    name: str | _Keep = KEEP,
    currency: str | None | _Keep = KEEP,
    time_zone: str | _Keep = KEEP,
    accent_color: str | None | _Keep = KEEP,
    report_footer: str | None | _Keep = KEEP,
) -> Workspace:
    """Change a workspace's name, default currency, time zone (IANA name) or branding (None clears)."""
    workspace = _require_workspace(session, workspace_id)
    if not isinstance(name, _Keep):
        clean = _clean_name(name, "workspace")
        if _name_taken(session, clean, but=workspace_id):
            raise UsageError(f"There is already a workspace called {clean}; pick another name.")
        workspace.name = clean
    if not isinstance(currency, _Keep):
        workspace.currency = _clean_currency(currency)
    if not isinstance(time_zone, _Keep):
        workspace.time_zone = _clean_time_zone(time_zone)
    if not isinstance(accent_color, _Keep):
        workspace.accent_color = _clean_accent(accent_color)
    if not isinstance(report_footer, _Keep):
        workspace.report_footer = _clean_footer(report_footer)
    workspace.updated_at = utcnow()
    session.add(workspace)
    try:
        _commit_refresh(session, workspace)
    except IntegrityError:
        session.rollback()
        raise UsageError("There is already a workspace with that name; pick another name.") from None
    return workspace


def set_workspace_logo(*, session: Session, workspace_id: int, logo: bytes | None) -> Workspace:
    """Store a PNG or JPEG logo (at most 1 MB; the type is read from the bytes), or None to remove it."""
    mime = None
    if logo is not None:
        logo = bytes(logo)
        mime = check_logo(logo, error=UsageError)
    workspace = _require_workspace(session, workspace_id)
    workspace.logo = logo
    workspace.logo_mime = mime
    _save_edit(session, workspace)
    session.expire(workspace, ["logo"])
    return workspace


def workspace_branding(*, session: Session, workspace_id: int) -> WorkspaceBranding:
    """Name, accent colour, footer, logo (bytes + MIME type), currency and time zone for report files."""
    workspace = _require_workspace(session, workspace_id)
    logo = _read_blob(session, Workspace.logo, workspace_id)
    return WorkspaceBranding(name=workspace.name, accent_color=workspace.accent_color, report_footer=workspace.report_footer,
                    logo=logo, logo_mime=workspace.logo_mime if logo else None, currency=workspace.currency,
                    time_zone=workspace.time_zone)


def workspace_contents(*, session: Session, workspace_id: int) -> WorkspaceContents:
    """Counts of what the workspace holds (what deleting it would delete)."""

    def count(statement) -> int:
        return int(session.exec(statement).one())

    return WorkspaceContents(
        sources=count(select(func.count()).select_from(DataSource).where(DataSource.workspace_id == workspace_id)),
        snapshots=count(select(func.count()).select_from(Snapshot).where(Snapshot.workspace_id == workspace_id)),
        links=count(select(func.count()).select_from(ShareLink).join(Snapshot, ShareLink.snapshot_id == Snapshot.id)
                    .where(Snapshot.workspace_id == workspace_id)),
        mapping_profiles=count(select(func.count()).select_from(MappingProfile)
                               .where(MappingProfile.workspace_id == workspace_id)),
        stored_bytes=_stored_bytes(session, workspace_id),
        schedules=count(select(func.count()).select_from(DeliverySchedule)
                        .where(DeliverySchedule.workspace_id == workspace_id)),
    )


def delete_workspace(*, session: Session, workspace_id: int) -> bool:
    """Delete a workspace and everything in it (sources, snapshots, their links, mapping profiles,
    email schedules and their log, budgets, annotations), in one transaction. False when it did not exist."""
    snapshot_ids = session.exec(select(Snapshot.id).where(Snapshot.workspace_id == workspace_id)).all()
    link_ids = session.exec(select(ShareLink.id).where(col(ShareLink.snapshot_id).in_(snapshot_ids))).all()
    owned = {cls: session.exec(select(cls.id).where(cls.workspace_id == workspace_id)).all()
             for cls in (DataSource, MappingProfile, BudgetRecord, AnnotationRecord)}
    result = session.exec(delete(Workspace).where(col(Workspace.id) == workspace_id))
    session.commit()
    for cls, ids in ((Workspace, [workspace_id]), (Snapshot, snapshot_ids), (ShareLink, link_ids), *owned.items()):
        _forget(session, cls, ids)
    return result.rowcount > 0


def save_workspace_report_settings(*, session: Session, workspace_id: int, settings: Mapping[str, Any]) -> None:
    """Keep the goals, A/B test, KPI and currency settings the editor works with in this workspace
    (`metrics.report_settings.ReportSettings.to_dict()`)."""
    result = session.exec(update(Workspace).where(col(Workspace.id) == workspace_id)
                          .values(report_settings=dict(settings), updated_at=utcnow()))
    session.commit()
    if result.rowcount == 0:
        raise NotFoundError(f"Workspace {workspace_id} does not exist; it may have been deleted.")


def set_workspace_showing(
    *, session: Session, workspace_id: int, showing: Showing, snapshot_id: int | None = None
) -> None:
    """Remember what an editor's next session of this workspace opens: "sources", "demo", or
    "snapshot" (with `snapshot_id`, a snapshot of this workspace)."""
    if showing not in ("sources", "demo", "snapshot"):
        raise ValueError(f"showing must be sources, demo or snapshot, not {showing!r}")
    if showing == "snapshot":
        if snapshot_id is None or get_snapshot(session=session, snapshot_id=snapshot_id,
                                               workspace_id=workspace_id) is None:
            raise NotFoundError(f"Snapshot {snapshot_id} is not in this workspace; it may have been deleted.")
    else:
        snapshot_id = None
    session.exec(update(Workspace).where(col(Workspace.id) == workspace_id)
                 .values(showing=showing, open_snapshot_id=snapshot_id))
    session.commit()


def workspace_showing(*, session: Session, workspace_id: int) -> tuple[Showing, int | None]:
    """What the workspace opens: ("sources", None), ("demo", None) or ("snapshot", id). A snapshot
    deleted since counts as "sources"."""
    row = session.exec(select(Workspace.showing, Workspace.open_snapshot_id).where(Workspace.id == workspace_id)).first()
    if row is None:
        return "sources", None
    showing, snapshot_id = row
    if showing == "demo":
        return "demo", None
    if showing == "snapshot" and snapshot_id is not None and get_snapshot(
            session=session, snapshot_id=snapshot_id, workspace_id=workspace_id) is not None:
        return "snapshot", snapshot_id
    return "sources", None


# --- data sources -----------------------------------------------------------------------------

StoreAction = Literal["added", "refreshed", "replaced", "unchanged"]
# Where an upload goes: "auto" (a matching source, else a new one), "new", or a source id.
UploadTarget = Literal["auto", "new"] | int


@dataclass(frozen=True)
class SourceUpload:
    """One readable uploaded file, normalised: what `store_upload` stores."""

    file_name: str
    sha256: str
    size: int
    frame: pl.DataFrame = field(repr=False)
    # metrics.ingest FileReport.to_dict()
    report: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_load(cls, data: bytes, result: LoadResult) -> SourceUpload:
        """From the uploaded bytes and `metrics.ingest.load(data, name)`'s result."""
        return cls(file_name=result.report.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                   frame=result.frame, report=result.report.to_dict())

    @property
    def family(self) -> str:
        return str(self.report.get("source_format") or "generic")

    @property
    def mapping(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.report.get("mapping") or {}).items()}

    @property
    def dimensions(self) -> list[str]:
        """The canonical dimensions the file's columns were mapped to (what makes two exports alike)."""
        return sorted({v for v in self.mapping.values() if v in DIMENSIONS})


@dataclass(frozen=True)
class StoreOutcome:
    """What `store_upload` did with one file, and what `redo_upload` needs to read it again."""

    action: StoreAction
    source_id: int
    source_name: str
    file_name: str
    rows: int  # rows the source holds now
    change: RefreshChange | None  # for "refreshed"
    # The source's rows before this file (None when the file created the source) and the frame
    # hash it left: `redo_upload` replays the file onto the same starting point.
    before_parquet: bytes | None = field(repr=False)
    after_sha256: str

    @property
    def message(self) -> str:
        """One sentence for the editor, e.g. "export.csv updated “Meta”: +7 days, 3 days replaced."."""
        if self.action == "added":
            named = "" if self.source_name == self.file_name else f" “{self.source_name}”"
            return f"{self.file_name} was stored as a new source{named} ({self.rows:,} rows)."
        if self.action == "refreshed":
            return f"{self.file_name} updated “{self.source_name}”: {self.change.describe()}."
        if self.action == "replaced":
            return f"{self.file_name} replaced all rows of “{self.source_name}” ({self.rows:,} rows now)."
        return f"{self.file_name} is already stored in “{self.source_name}”; nothing changed."


def _sources_metadata():
    """SELECT of DataSource rows without the Parquet blob."""
    return select(DataSource).options(defer(DataSource.frame_parquet))


def _require_source(session: Session, source_id: int, workspace_id: int | None = None) -> DataSource:
    source = get_source(session=session, source_id=source_id, workspace_id=workspace_id)
    if source is None:
        raise NotFoundError(f"Source {source_id} does not exist in this workspace; it may have been deleted.")
    return source


def _frame_facts(frame: pl.DataFrame) -> dict[str, Any]:
    """The list columns of a source, read from its rows."""
    dates = frame.get_column("date")
    return {
        "date_from": dates.min(),
        "date_to": dates.max(),
        "row_count": frame.height,
        "platforms": sorted(frame.get_column("platform").drop_nulls().unique().to_list()),
        "currencies": sorted(frame.get_column("currency").drop_nulls().unique().to_list()),
    }


def _file_entry(upload: SourceUpload, change: str) -> dict[str, Any]:
    return {"name": upload.file_name, "sha256": upload.sha256, "size": upload.size,
            "stored_at": utcnow().isoformat(), "change": change}


def get_source(*, session: Session, source_id: int, workspace_id: int | None = None) -> DataSource | None:
    """A source's metadata with its load report (no blob), or None (also when it belongs to another
    workspace than `workspace_id`)."""
    statement = _sources_metadata().options(undefer(DataSource.load_report)).where(DataSource.id == source_id)
    if workspace_id is not None:
        statement = statement.where(DataSource.workspace_id == workspace_id)
    return session.exec(statement.execution_options(populate_existing=True)).first()


def list_sources(*, session: Session, workspace_id: int, enabled_only: bool = False) -> list[DataSource]:
    """The workspace's sources, oldest first, without their rows or load reports (see `get_source`)."""
    statement = _sources_metadata().where(DataSource.workspace_id == workspace_id)
    if enabled_only:
        statement = statement.where(col(DataSource.enabled).is_(True))
    return list(session.exec(statement.order_by(col(DataSource.id))
                             .execution_options(populate_existing=True)).all())


def load_source_frame(*, session: Session, source_id: int) -> pl.DataFrame:
    """One source's rows (canonical schema), in the currency the editor set for it when there is one
    (`set_source_currency`). Raises NotFoundError when it does not exist."""
    blob = _read_blob(session, DataSource.frame_parquet, source_id)
    if blob is None:
        raise NotFoundError(f"Source {source_id} does not exist; it may have been deleted.")
    frame = _parquet_to_frame(blob)
    declared = session.exec(select(DataSource.declared_currency).where(DataSource.id == source_id)).first()
    return frame.with_columns(pl.lit(declared, pl.String).alias("currency")) if declared else frame


def set_source_currency(
    *, session: Session, source_id: int, code: str | None, workspace_id: int | None = None
) -> DataSource:
    """Set the currency of a source's money (an ISO code such as EUR; None: as its files say). It applies
    to every row of the source, a newer export's too. Raises UsageError (one sentence) for a code that is
    not one, or a source whose rows name several currencies (one code cannot be right for all of them)."""
    source = _require_source(session, source_id, workspace_id)
    if code is not None:
        clean = currency_code(code)
        if clean is None:
            raise UsageError(f"{str(code)[:20]!r} is not a currency code; use three letters such as EUR or USD.")
        named = [c for c in source.currencies or [] if c]
        if len(named) > 1:
            raise UsageError(f"The source “{source.name}” names several currencies ({', '.join(sorted(named))}) row "
                             "by row; its currency cannot be set as a whole.")
        code = clean
    source.declared_currency = code
    session.add(source)
    _commit_refresh(session, source)
    return source


def load_sources_frame(*, session: Session, source_ids: Sequence[int]) -> pl.DataFrame:
    """The rows of several sources, one after another (an empty canonical frame for none).
    Raises NotFoundError when one of them no longer exists."""
    frames = [load_source_frame(session=session, source_id=source_id) for source_id in source_ids]
    return pl.concat(frames, how="vertical") if frames else empty_frame()


def find_matching_source(*, session: Session, workspace_id: int, upload: SourceUpload) -> DataSource | None:
    """The source a file is a newer export of: same export family, same mapped dimensions and, when
    both name campaigns, at least one campaign in common (two ad accounts of one family are not
    merged by accident). The most recently updated one when several match."""
    candidates = [s for s in list_sources(session=session, workspace_id=workspace_id)
                  if s.family == upload.family and sorted(s.dimensions) == upload.dimensions]
    campaigns = set(upload.frame.get_column("campaign").drop_nulls().unique().to_list())
    for source in sorted(candidates, key=lambda s: (s.updated_at, s.id), reverse=True):
        if campaigns and "campaign" in source.dimensions:
            blob = _read_blob(session, DataSource.frame_parquet, source.id)
            stored = pl.read_parquet(io.BytesIO(bytes(blob)), columns=["campaign"]) if blob else pl.DataFrame()
            if stored.height and not campaigns & set(stored.get_column("campaign").drop_nulls().unique().to_list()):
                continue
        return source
    return None


def _source_with_file(session: Session, workspace_id: int, sha256: str) -> DataSource | None:
    """The source that already holds a file with these exact bytes, if any."""
    for source in list_sources(session=session, workspace_id=workspace_id):
        if source.file_sha256 == sha256 or any(f.get("sha256") == sha256 for f in source.files or []):
            return source
    return None


def add_source(*, session: Session, workspace_id: int, upload: SourceUpload, name: str | None = None) -> StoreOutcome:
    """Store `upload` as a new source of the workspace (named like the file unless `name` is given)."""
    _require_workspace(session, workspace_id)
    frame = conform(upload.frame)
    blob = _frame_to_parquet(frame)  # before the transaction: keep the write lock short
    now = utcnow()
    source = DataSource(
        workspace_id=workspace_id,
        name=_clean_name(name if name is not None else upload.file_name, "source"),
        family=upload.family,
        dimensions=upload.dimensions,
        file_name=upload.file_name[:255],
        file_sha256=upload.sha256,
        file_size=upload.size,
        load_report=dict(upload.report),
        mapping=upload.mapping,
        files=[_file_entry(upload, "added")],
        frame_parquet=blob,
        frame_sha256=hashlib.sha256(blob).hexdigest(),
        size_bytes=len(blob),
        created_at=now,
        updated_at=now,
        **_frame_facts(frame),
    )
    session.add(source)
    _commit_within_cap(session, workspace_id)
    session.expire(source, ["frame_parquet"])
    return StoreOutcome(action="added", source_id=source.id, source_name=source.name, file_name=upload.file_name,
                        rows=frame.height, change=None, before_parquet=None, after_sha256=source.frame_sha256)


def refresh_source(
    *, session: Session, source_id: int, upload: SourceUpload, replace_all: bool = False,
    workspace_id: int | None = None, base_parquet: bytes | None | _Keep = KEEP, expected_sha256: str | None = None,
) -> StoreOutcome:
    """Store a newer export into a source: its rows on the dates the export covers are replaced and
    the other dates kept (`models.sources.merge_refresh`), or, with `replace_all`, all of them.

    Concurrent refreshes of one source all land: the write only succeeds on the rows it was
    computed from, otherwise it is computed again on the newer rows. `base_parquet` and
    `expected_sha256` are for `redo_upload`.
    """
    for attempt in range(REFRESH_ATTEMPTS):
        if attempt:  # another writer won the last round: let it finish, at a random moment
            time.sleep(random.uniform(0, 0.02 * attempt))
        source = _require_source(session, source_id, workspace_id)
        current_sha = source.frame_sha256
        if expected_sha256 is not None and current_sha != expected_sha256:
            raise UsageError(f"“{source.name}” changed since that upload (another editor may have updated it); "
                             "upload the file again to read it with this mapping.")
        before = (_read_blob(session, DataSource.frame_parquet, source_id) if isinstance(base_parquet, _Keep)
                  else base_parquet)
        if before is None and isinstance(base_parquet, _Keep):
            raise NotFoundError(f"Source {source_id} does not exist; it may have been deleted.")
        if replace_all or before is None:
            frame, change, action = conform(upload.frame), None, "replaced"
        else:
            result = merge_refresh(_parquet_to_frame(before), upload.frame)
            frame, change, action = result.frame, result.change, "refreshed"
        blob = _frame_to_parquet(frame)
        frame_sha = hashlib.sha256(blob).hexdigest()
        entry = _file_entry(upload, change.describe() if change else "replaced all rows")
        try:
            written = session.exec(
                update(DataSource)
                .where(col(DataSource.id) == source_id, col(DataSource.frame_sha256) == current_sha)
                .values(
                    file_name=upload.file_name[:255], file_sha256=upload.sha256, file_size=upload.size,
                    load_report=dict(upload.report), mapping=upload.mapping,
                    files=[*(source.files or []), entry], frame_parquet=blob, frame_sha256=frame_sha,
                    size_bytes=len(blob), updated_at=utcnow(), **_frame_facts(frame),
                )
            ).rowcount
            if written != 1:  # someone else stored into this source meanwhile: start again from their rows
                session.rollback()
                continue
            _check_size_cap(session, source.workspace_id)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return StoreOutcome(action=action, source_id=source_id, source_name=source.name,
                            file_name=upload.file_name, rows=frame.height, change=change, before_parquet=before,
                            after_sha256=frame_sha)
    raise UsageError("This source kept changing while the file was stored (several uploads at once); "
                     "upload the file again.")


def store_upload(
    *, session: Session, workspace_id: int, upload: SourceUpload, target: UploadTarget = "auto",
    replace_all: bool = False,
) -> StoreOutcome:
    """Store one uploaded file in the workspace and say what happened.

    - The same bytes as a file already stored (same SHA-256): nothing changes ("unchanged").
    - `target="auto"`: a newer export of a matching source (`find_matching_source`) refreshes it,
      anything else becomes a new source. `"new"`: always a new source. A source id: refresh that
      source (`replace_all`: replace all of its rows).
    Raises WorkspaceFullError (nothing stored) when the workspace would exceed its size cap.
    """
    if target != "new":
        same = _source_with_file(session, workspace_id, upload.sha256)
        if same is not None and (target == "auto" or target == same.id):
            return StoreOutcome(action="unchanged", source_id=same.id, source_name=same.name,
                                file_name=upload.file_name, rows=same.row_count, change=None,
                                before_parquet=None, after_sha256=same.frame_sha256)
    if target == "new":
        return add_source(session=session, workspace_id=workspace_id, upload=upload)
    if target == "auto":
        match = find_matching_source(session=session, workspace_id=workspace_id, upload=upload)
        if match is None:
            return add_source(session=session, workspace_id=workspace_id, upload=upload)
        target = match.id
    return refresh_source(session=session, source_id=int(target), upload=upload, replace_all=replace_all,
                          workspace_id=workspace_id)


def redo_upload(*, session: Session, workspace_id: int, outcome: StoreOutcome, upload: SourceUpload) -> StoreOutcome:
    """Store the same file again, read differently (another column mapping), from the point it was
    stored onto: a new source gets the new rows; a refreshed one is refreshed again from its rows
    before the first attempt. Refused with one sentence when the source changed since."""
    if outcome.action == "unchanged":
        raise UsageError(f"{outcome.file_name} is stored unchanged in “{outcome.source_name}”; to read it with "
                         "another mapping, upload it as a new source or delete that source first.")
    return refresh_source(
        session=session, source_id=outcome.source_id, upload=upload, workspace_id=workspace_id,
        replace_all=outcome.action == "replaced", base_parquet=outcome.before_parquet,
        expected_sha256=outcome.after_sha256,
    )


def rename_source(*, session: Session, source_id: int, name: str, workspace_id: int | None = None) -> DataSource:
    source = _require_source(session, source_id, workspace_id)
    source.name = _clean_name(name, "source")
    return _save_edit(session, source)


def set_source_enabled(
    *, session: Session, source_id: int, enabled: bool, workspace_id: int | None = None
) -> DataSource:
    """A disabled source stays stored but is left out of the workspace's data."""
    source = _require_source(session, source_id, workspace_id)
    source.enabled = bool(enabled)
    return _save_edit(session, source)


def delete_source(*, session: Session, source_id: int, workspace_id: int | None = None) -> bool:
    """Delete a source and its rows. False when it did not exist (in `workspace_id`)."""
    statement = delete(DataSource).where(col(DataSource.id) == source_id)
    if workspace_id is not None:
        statement = statement.where(col(DataSource.workspace_id) == workspace_id)
    result = session.exec(statement)
    session.commit()
    _forget(session, DataSource, [source_id])
    return result.rowcount > 0


# --- snapshots --------------------------------------------------------------------------------


def _snapshot_metadata():
    """SELECT of Snapshot rows without the Parquet blob (loaded only if someone touches it)."""
    return select(Snapshot).options(defer(Snapshot.frame_parquet))


def _require_snapshot(session: Session, snapshot_id: int, workspace_id: int | None = None) -> Snapshot:
    snapshot = get_snapshot(session=session, snapshot_id=snapshot_id, workspace_id=workspace_id)
    if snapshot is None:
        raise NotFoundError(f"Snapshot {snapshot_id} does not exist; it may have been deleted.")
    return snapshot


def save_snapshot(
    *,
    session: Session,
    workspace_id: int,
    name: str,
    frame: pl.DataFrame | pl.LazyFrame,
    settings: Mapping[str, Any],
    client_label: str | None = None,
    source_files: Iterable[Mapping[str, Any]] = (),
    app_version: str = metrics.__version__,
) -> Snapshot:
    """Store `frame` (the canonical table) as zstd Parquet with the report `settings` in a workspace.

    `settings` is `metrics.report_settings.ReportSettings.to_dict()` (stored as JSON, dates as ISO
    strings). `source_files` are `{"name", "sha256", "size"}` mappings describing the uploads.
    Returns the new snapshot (its blob is not kept in memory). Raises WorkspaceFullError over the cap.
    """
    _require_workspace(session, workspace_id)
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    blob = _frame_to_parquet(frame)  # before the transaction: keep the write lock short
    now = utcnow()
    snapshot = Snapshot(
        workspace_id=workspace_id,
        name=_clean_name(name, "snapshot"),
        client_label=_clean_label(client_label),
        created_at=now,
        updated_at=now,
        frame_parquet=blob,
        settings=dict(settings),
        source_files=_source_files(source_files),
        row_count=frame.height,
        size_bytes=len(blob),
        app_version=str(app_version)[:40],
    )
    session.add(snapshot)
    _commit_within_cap(session, workspace_id)
    # Free the blob; the other attributes stay as the session's expire_on_commit left them.
    session.expire(snapshot, ["frame_parquet"])
    return snapshot


def get_snapshot(*, session: Session, snapshot_id: int, workspace_id: int | None = None) -> Snapshot | None:
    """The snapshot's metadata (blob not loaded), or None (also when it is in another workspace)."""
    statement = _snapshot_metadata().where(Snapshot.id == snapshot_id)
    if workspace_id is not None:
        statement = statement.where(Snapshot.workspace_id == workspace_id)
    return session.exec(statement).first()


def load_snapshot_frame(*, session: Session, snapshot_id: int) -> pl.DataFrame:
    """The snapshot's canonical frame (conformed to the current canonical schema).

    Raises NotFoundError when the snapshot does not exist.
    """
    blob = _read_blob(session, Snapshot.frame_parquet, snapshot_id)
    if blob is None:
        raise NotFoundError(f"Snapshot {snapshot_id} does not exist; it may have been deleted.")
    return _parquet_to_frame(blob)


def list_snapshots(*, session: Session, workspace_id: int, limit: int | None = None) -> list[Snapshot]:
    """The workspace's snapshots, newest first, without their blobs."""
    statement = (_snapshot_metadata().where(Snapshot.workspace_id == workspace_id)
                 .order_by(col(Snapshot.created_at).desc(), col(Snapshot.id).desc()))
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def rename_snapshot(
    *, session: Session, snapshot_id: int, name: str, client_label: str | None | _Keep = KEEP,
    workspace_id: int | None = None,
) -> Snapshot:
    """Rename a snapshot; with `client_label` given, also change its client label (None clears it)."""
    snapshot = _require_snapshot(session, snapshot_id, workspace_id)
    snapshot.name = _clean_name(name, "snapshot")
    if not isinstance(client_label, _Keep):
        snapshot.client_label = _clean_label(client_label)
    return _save_edit(session, snapshot)


def update_snapshot_settings(
    *, session: Session, snapshot_id: int, settings: Mapping[str, Any], workspace_id: int | None = None
) -> Snapshot:
    """Replace the snapshot's report settings (the frame is unchanged)."""
    snapshot = _require_snapshot(session, snapshot_id, workspace_id)
    # A new dict object: in-place edits of a JSON column are not detected.
    snapshot.settings = dict(settings)
    return _save_edit(session, snapshot)


def delete_snapshot(*, session: Session, snapshot_id: int, workspace_id: int | None = None) -> bool:
    """Delete a snapshot and (ON DELETE CASCADE) all its share links. False when it did not exist."""
    link_ids = session.exec(select(ShareLink.id).where(ShareLink.snapshot_id == snapshot_id)).all()
    statement = delete(Snapshot).where(col(Snapshot.id) == snapshot_id)
    if workspace_id is not None:
        statement = statement.where(col(Snapshot.workspace_id) == workspace_id)
    result = session.exec(statement)
    session.commit()
    if result.rowcount:
        # The database removed the links too; forget loaded copies of what no longer exists.
        _forget(session, Snapshot, [snapshot_id])
        _forget(session, ShareLink, link_ids)
    return result.rowcount > 0


# --- share links ------------------------------------------------------------------------------


def create_share_link(
    *,
    session: Session,
    snapshot_id: int,
    label: str | None = None,
    expires_in_days: float | None = None,
    expires_at: datetime | None = None,
    workspace_id: int | None = None,
) -> tuple[ShareLink, str]:
    """Create a client link to one snapshot. Returns (link, raw_token); only the token's hash is stored.

    Expiry: `expires_at` (timezone-aware) if given, else now + `expires_in_days`, else now +
    CAMPAIGN_LENS_SHARE_DAYS (default 30 days). Raises NotFoundError for an unknown snapshot.
    """
    if expires_at is not None and expires_in_days is not None:
        raise TypeError("Pass expires_in_days or expires_at, not both.")
    _require_snapshot(session, snapshot_id, workspace_id)
    now = utcnow()
    if expires_at is None:
        days = load_settings().share_days if expires_in_days is None else expires_in_days
        if days <= 0:
            raise UsageError("A share link must stay valid for at least part of a day.")
        expires_at = now + timedelta(days=days)
    elif expires_at.utcoffset() is None:
        raise TypeError("expires_at must be timezone-aware (use datetime.now(timezone.utc) + ...).")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink(
        snapshot_id=snapshot_id,
        token_sha256=hash_token(token),
        label=_clean_label(label),
        created_at=now,
        expires_at=expires_at.astimezone(timezone.utc),
    )
    session.add(link)
    _commit_refresh(session, link)
    return link, token


def resolve_share_token(*, session: Session, token: str, count_view: bool = True) -> ShareLink | None:
    """The active link for a raw token, or None - the same None for unknown, expired and revoked
    tokens and for links whose snapshot was deleted.

    With `count_view`, an accepted token increments `view_count` and sets `last_viewed_at`
    (one atomic UPDATE, so concurrent viewers are all counted). Pass False on Streamlit reruns
    of the same visit.

    Matching is exact: a token with anything added or removed (spaces included) is unknown, and a
    value that is not even shaped like a token (`is_well_formed_token`) is refused without a query.
    """
    if not is_well_formed_token(token):
        return None
    digest = hash_token(token)
    link = session.exec(select(ShareLink).where(ShareLink.token_sha256 == digest)).first()
    # The lookup is by digest; compare again in constant time so a database collation or
    # index quirk can never turn a near-match into a match.
    if link is None or not hmac.compare_digest(link.token_sha256, digest):
        return None
    now = utcnow()
    if link.status_at(now) != "active":
        return None
    if session.exec(select(func.count()).select_from(Snapshot).where(Snapshot.id == link.snapshot_id)).one() == 0:
        return None
    if count_view:
        session.exec(
            update(ShareLink)
            .where(col(ShareLink.id) == link.id)
            .values(view_count=ShareLink.view_count + 1, last_viewed_at=now)
        )
        _commit_refresh(session, link)
    return link


def list_share_links(
    *, session: Session, workspace_id: int | None = None, snapshot_id: int | None = None
) -> list[ShareLink]:
    """Links (all, one workspace's or one snapshot's), newest first. Each has `.status`: "active",
    "expired" or "revoked"."""
    statement = select(ShareLink).order_by(col(ShareLink.created_at).desc(), col(ShareLink.id).desc())
    if workspace_id is not None:
        statement = statement.join(Snapshot, col(ShareLink.snapshot_id) == col(Snapshot.id)).where(
            Snapshot.workspace_id == workspace_id)
    if snapshot_id is not None:
        statement = statement.where(ShareLink.snapshot_id == snapshot_id)
    return list(session.exec(statement).all())


def _get_link(session: Session, link_id: int, workspace_id: int | None) -> ShareLink | None:
    statement = select(ShareLink).where(ShareLink.id == link_id)
    if workspace_id is not None:
        statement = statement.join(Snapshot, col(ShareLink.snapshot_id) == col(Snapshot.id)).where(
            Snapshot.workspace_id == workspace_id)
    return session.exec(statement).first()


def revoke_share_link(*, session: Session, link_id: int, workspace_id: int | None = None) -> ShareLink:
    """Revoke a link now (idempotent: an already revoked link keeps its first revocation time)."""
    link = _get_link(session, link_id, workspace_id)
    if link is None:
        raise NotFoundError(f"Share link {link_id} does not exist; its snapshot may have been deleted.")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.add(link)
        _commit_refresh(session, link)
    return link


def regenerate_share_link(
    *, session: Session, link_id: int, workspace_id: int | None = None,
    replacing_token_sha256: str | None = None,
) -> tuple[ShareLink, str]:
    """Give a live link a new token: the same link (label, views, validity length counted from now)
    at a new address; the old address stops working in the same statement. Returns (link, raw_token).

    The new digest replaces the old one in place with one conditional UPDATE, so a link never has
    two live tokens, also under concurrent clicks on several replicas: of regenerations that start
    from the same token, exactly one wins and the others are refused. `replacing_token_sha256` is
    the digest the editor's page showed (default: the one stored now); if the link has moved on
    since, the call is refused rather than hand out a second address.

    Raises NotFoundError for an unknown link and UsageError (one sentence) for a revoked or expired
    link (create a new one instead) or one regenerated in the meantime.
    """
    link = _get_link(session, link_id, workspace_id)
    if link is None:
        raise NotFoundError(f"Share link {link_id} does not exist; its snapshot may have been deleted.")
    session.refresh(link)  # the token and status as stored now, not as this session last saw them
    now = utcnow()
    _refuse_regeneration_if_dead(link, now)
    seen = link.token_sha256 if replacing_token_sha256 is None else replacing_token_sha256
    lifetime = max(link.expires_at - link.created_at, timedelta(minutes=1))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    replaced = session.exec(
        update(ShareLink)
        .where(col(ShareLink.id) == link_id, col(ShareLink.token_sha256) == seen, col(ShareLink.revoked_at).is_(None))
        .values(token_sha256=hash_token(token), created_at=now, expires_at=now + lifetime)
    )
    session.commit()
    session.refresh(link)
    if replaced.rowcount != 1:
        _refuse_regeneration_if_dead(link, now)
        raise UsageError(
            "This link was regenerated a moment ago (another click or another editor), and only its newest "
            "address works; regenerate it again if you need a fresh address."
        )
    return link, token


def _refuse_regeneration_if_dead(link: ShareLink, now: datetime) -> None:
    status = link.status_at(now)
    if status != "active":
        state = "was revoked" if status == "revoked" else "has expired"
        raise UsageError(f"This link {state}, so it cannot be regenerated; create a new link for the snapshot instead.")


# --- sign-in tickets ---------------------------------------------------------------------------

SIGN_IN_TICKET_LIFETIME = timedelta(minutes=1)


def issue_sign_in_ticket(*, session: Session) -> str:
    """A one-time ticket proving that a sign-in just succeeded, valid for a minute; the browser
    exchanges it for the sign-in cookie (ui/signin.py). Only its SHA-256 is stored."""
    now = utcnow()
    ticket = secrets.token_urlsafe(TOKEN_BYTES)
    session.exec(delete(SignInTicket).where(col(SignInTicket.expires_at) < now))  # tickets never redeemed
    session.add(SignInTicket(ticket_sha256=hash_token(ticket), expires_at=now + SIGN_IN_TICKET_LIFETIME))
    session.commit()
    return ticket


def redeem_sign_in_ticket(*, session: Session, ticket: str) -> bool:
    """True once for a ticket from `issue_sign_in_ticket` that has not expired; False for anything
    else, including the same ticket a second time (one DELETE decides, also across replicas)."""
    if not is_well_formed_token(ticket):
        return False
    digest = hash_token(ticket)
    found = session.exec(select(SignInTicket).where(SignInTicket.ticket_sha256 == digest)).first()
    if found is None:
        return False
    fresh = found.expires_at > utcnow()
    used = session.exec(delete(SignInTicket).where(col(SignInTicket.ticket_sha256) == digest))
    session.commit()
    return fresh and used.rowcount == 1


# --- mapping profiles -------------------------------------------------------------------------


def save_mapping_profile(
    *, session: Session, workspace_id: int, name: str, mapping: Mapping[str, str]
) -> MappingProfile:
    """Create or replace the workspace's mapping profile called `name` ({source header: canonical column})."""
    clean = _clean_name(name, "mapping profile")
    values = {str(k): str(v) for k, v in mapping.items()}
    profile = get_mapping_profile(session=session, workspace_id=workspace_id, name=clean)
    now = utcnow()
    if profile is None:
        _require_workspace(session, workspace_id)
        profile = MappingProfile(workspace_id=workspace_id, name=clean, mapping=values, created_at=now,
                                 updated_at=now)
    else:
        profile.mapping = values
        profile.updated_at = now
    session.add(profile)
    _commit_refresh(session, profile)
    return profile


def get_mapping_profile(*, session: Session, workspace_id: int, name: str) -> MappingProfile | None:
    return session.exec(select(MappingProfile).where(MappingProfile.workspace_id == workspace_id,
                                                     MappingProfile.name == " ".join(name.split()))).first()


def list_mapping_profiles(*, session: Session, workspace_id: int) -> list[MappingProfile]:
    """The workspace's mapping profiles, by name."""
    return list(session.exec(select(MappingProfile).where(MappingProfile.workspace_id == workspace_id)
                             .order_by(col(MappingProfile.name))).all())


def delete_mapping_profile(*, session: Session, workspace_id: int, name: str) -> bool:
    """Delete the workspace's profile called `name`. False when there was none."""
    result = session.exec(delete(MappingProfile).where(col(MappingProfile.workspace_id) == workspace_id,
                                                       col(MappingProfile.name) == " ".join(name.split())))
    session.commit()
    return result.rowcount > 0


# --- budgets and annotations (the Insights page) --------------------------------------------------

# Per workspace. A budget sheet holds at most metrics.insights.pacing.MAX_SHEET_ROWS rows; a year of
# a country's public holidays is about fifteen annotations.
MAX_BUDGETS = 5_000
MAX_ANNOTATIONS = 2_000


@dataclass(frozen=True)
class BudgetImport:
    """What `import_budgets` did: budgets added, and budgets of a month and scope already stored whose
    amount (and currency) the sheet replaced."""

    added: int
    replaced: int

    def describe(self) -> str:
        parts = [f"{self.added:,} budget{'s' if self.added != 1 else ''} added"]
        if self.replaced:
            parts.append(f"{self.replaced:,} replaced")
        return ", ".join(parts)


def budget_of(record: BudgetRecord) -> Budget:
    """The value `metrics.insights.pacing` paces."""
    return Budget(record.month, record.scope, record.scope_value, record.amount, record.currency)  # type: ignore[arg-type]


def annotation_of(record: AnnotationRecord) -> Annotation:
    """The value charts and `metrics.insights.annotations` read."""
    return Annotation(record.start_date, record.text, end=record.end_date, kind=record.kind)


def _scope_key(budget: Budget) -> str:
    return budget.key[2] or ""


def _budget_taken(session: Session, workspace_id: int, budget: Budget, but: int | None = None) -> BudgetRecord | None:
    statement = select(BudgetRecord).where(
        BudgetRecord.workspace_id == workspace_id, BudgetRecord.month == budget.month,
        BudgetRecord.scope == budget.scope, BudgetRecord.scope_key == _scope_key(budget))
    if but is not None:
        statement = statement.where(BudgetRecord.id != but)
    return session.exec(statement).first()


def _count(session: Session, cls: type, workspace_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(cls).where(cls.workspace_id == workspace_id)).one())


def _fill_budget(record: BudgetRecord, budget: Budget) -> None:
    record.month, record.scope, record.scope_value = budget.month, budget.scope, budget.scope_value
    record.scope_key, record.amount = _scope_key(budget), float(budget.amount)
    record.currency = _clean_currency(budget.currency)
    record.updated_at = utcnow()


def list_budgets(*, session: Session, workspace_id: int) -> list[BudgetRecord]:
    """The workspace's budgets by month (oldest first), then whole account, platforms, campaigns."""
    return list(session.exec(select(BudgetRecord).where(BudgetRecord.workspace_id == workspace_id).order_by(
        col(BudgetRecord.month), col(BudgetRecord.scope), col(BudgetRecord.scope_key))).all())


def save_budget(
    *, session: Session, workspace_id: int, budget: Budget, budget_id: int | None = None
) -> BudgetRecord:
    """Add a budget, or with `budget_id` change that budget of the workspace. A month and scope has one
    budget: a second one is refused (UsageError) so the first is changed instead."""
    _require_workspace(session, workspace_id)
    duplicate = f"There is already a budget for {describe_budget(budget)}; change that one instead."
    if _budget_taken(session, workspace_id, budget, but=budget_id) is not None:
        raise UsageError(duplicate)
    if budget_id is None:
        if _count(session, BudgetRecord, workspace_id) >= MAX_BUDGETS:
            raise UsageError(f"This workspace already has {MAX_BUDGETS:,} budgets; delete old months first.")
        record = BudgetRecord(workspace_id=workspace_id, month=budget.month, scope=budget.scope, amount=budget.amount)
    else:
        record = session.exec(select(BudgetRecord).where(BudgetRecord.id == budget_id,
                                                         BudgetRecord.workspace_id == workspace_id)).first()
        if record is None:
            raise NotFoundError("That budget no longer exists; it may have been deleted.")
    _fill_budget(record, budget)
    session.add(record)
    try:
        _commit_refresh(session, record)
    except IntegrityError:  # the same month and scope stored by someone else a moment ago
        session.rollback()
        raise UsageError(duplicate) from None
    return record


def import_budgets(*, session: Session, workspace_id: int, budgets: Sequence[Budget]) -> BudgetImport:
    """Store a sheet's budgets (`metrics.insights.pacing.read_budget_sheet`) in one transaction: a month
    and scope that already has a budget takes the sheet's amount and currency."""
    _require_workspace(session, workspace_id)
    stored = {(r.month, r.scope, r.scope_key): r for r in list_budgets(session=session, workspace_id=workspace_id)}
    fresh = {(b.month, b.scope, _scope_key(b)): b for b in budgets}  # a repeated row: the last one
    new = [key for key in fresh if key not in stored]
    if len(stored) + len(new) > MAX_BUDGETS:
        raise UsageError(f"A workspace keeps at most {MAX_BUDGETS:,} budgets; this sheet would make "
                         f"{len(stored) + len(new):,}. Delete old months first.")
    try:
        for key, budget in fresh.items():
            record = stored.get(key) or BudgetRecord(workspace_id=workspace_id, month=budget.month,
                                                     scope=budget.scope, amount=budget.amount)
            _fill_budget(record, budget)
            session.add(record)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return BudgetImport(added=len(new), replaced=len(fresh) - len(new))


def delete_budget(*, session: Session, budget_id: int, workspace_id: int) -> bool:
    """False when the workspace has no such budget."""
    result = session.exec(delete(BudgetRecord).where(col(BudgetRecord.id) == budget_id,
                                                     col(BudgetRecord.workspace_id) == workspace_id))
    session.commit()
    if result.rowcount:
        _forget(session, BudgetRecord, [budget_id])
    return result.rowcount > 0


def list_annotations(*, session: Session, workspace_id: int) -> list[AnnotationRecord]:
    """The workspace's annotations in date order."""
    return list(session.exec(select(AnnotationRecord).where(AnnotationRecord.workspace_id == workspace_id)
                             .order_by(col(AnnotationRecord.start_date), col(AnnotationRecord.id))).all())


def _fill_annotation(record: AnnotationRecord, annotation: Annotation) -> None:
    from metrics.insights.annotations import KINDS

    if not annotation.text:
        raise UsageError("Write what happened in the annotation, e.g. “Spring sale starts”.")
    if annotation.kind not in KINDS:
        raise UsageError(f"An annotation is a {', '.join(KINDS[:-1])} or {KINDS[-1]}, not {annotation.kind[:20]!r}.")
    record.start_date, record.end_date = annotation.date, annotation.end
    record.text, record.kind, record.updated_at = annotation.text, annotation.kind, utcnow()


def save_annotation(
    *, session: Session, workspace_id: int, annotation: Annotation, annotation_id: int | None = None
) -> AnnotationRecord:
    """Add an annotation, or with `annotation_id` change that annotation of the workspace."""
    _require_workspace(session, workspace_id)
    if annotation_id is None:
        if _count(session, AnnotationRecord, workspace_id) >= MAX_ANNOTATIONS:
            raise UsageError(f"This workspace already has {MAX_ANNOTATIONS:,} annotations; delete old ones first.")
        record = AnnotationRecord(workspace_id=workspace_id, start_date=annotation.date, text=annotation.text)
    else:
        record = session.exec(select(AnnotationRecord).where(AnnotationRecord.id == annotation_id,
                                                             AnnotationRecord.workspace_id == workspace_id)).first()
        if record is None:
            raise NotFoundError("That annotation no longer exists; it may have been deleted.")
    _fill_annotation(record, annotation)
    session.add(record)
    _commit_refresh(session, record)
    return record


def add_annotations(*, session: Session, workspace_id: int, annotations: Sequence[Annotation]) -> int:
    """Add many annotations (a country's public holidays) in one transaction, leaving out those the
    workspace already has (same days, text and kind). Returns how many were added."""
    _require_workspace(session, workspace_id)
    existing = {annotation_of(r) for r in list_annotations(session=session, workspace_id=workspace_id)}
    new = list(dict.fromkeys(a for a in annotations if a not in existing))
    if len(existing) + len(new) > MAX_ANNOTATIONS:
        raise UsageError(f"A workspace keeps at most {MAX_ANNOTATIONS:,} annotations; this would make "
                         f"{len(existing) + len(new):,}. Delete old ones first.")
    try:
        for annotation in new:
            record = AnnotationRecord(workspace_id=workspace_id, start_date=annotation.date, text=annotation.text)
            _fill_annotation(record, annotation)
            session.add(record)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return len(new)


def delete_annotation(*, session: Session, annotation_id: int, workspace_id: int) -> bool:
    """False when the workspace has no such annotation."""
    result = session.exec(delete(AnnotationRecord).where(col(AnnotationRecord.id) == annotation_id,
                                                         col(AnnotationRecord.workspace_id) == workspace_id))
    session.commit()
    if result.rowcount:
        _forget(session, AnnotationRecord, [annotation_id])
    return result.rowcount > 0
