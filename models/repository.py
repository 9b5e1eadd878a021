"""Persistence operations: keyword-only functions taking an explicit `session`.

Write functions commit their own short transaction (SQLite allows one writer at a time) and
return refreshed objects. Objects returned by `list_snapshots` / `get_snapshot` never carry
the Parquet blob in memory; read the frame with `load_snapshot_frame`.

Share tokens: `secrets.token_urlsafe(32)` (256 bits). Only their SHA-256 hex digest is stored;
the raw token is returned once, to be shown to the editor, and cannot be recovered later. A link
row holds exactly one token digest, so a link can never have two live tokens: regenerating
replaces the digest in place (one UPDATE), which also kills the old token.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl
from sqlalchemy import delete, func, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import defer
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

import metrics
from metrics.errors import CampaignLensError, UsageError
from metrics.schema import conform
from models.settings import load_settings
from models.tables import AppState, MappingProfile, ShareLink, SignInTicket, Snapshot, utcnow

PARQUET_COMPRESSION = "zstd"
# Level 1: measured ~30 % less CPU than 3 on the 1M-row demo frame and a slightly smaller file
# (the measures are mostly small integers stored as floats).
PARQUET_COMPRESSION_LEVEL = 1
TOKEN_BYTES = 32
# A token_urlsafe(32) is 43 characters of the URL-safe alphabet. A value that is longer than 100
# characters, shorter than 16 or holds anything else (a space, a quote, "%") is not a token: it is
# refused before it is hashed or looked up, so a 100,000-character paste costs nothing.
MAX_TOKEN_LENGTH = 100
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,%d}" % MAX_TOKEN_LENGTH)
LAST_OPENED_SNAPSHOT_KEY = "last_opened_snapshot_id"
NAME_MAX_LENGTH = 200


class _Keep:
    """Sentinel type: "leave this field as it is"."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


class NotFoundError(CampaignLensError, LookupError):
    """The snapshot, link or profile asked for does not exist (any more)."""

    exit_code = 3


# --- helpers ----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a raw share token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_well_formed_token(token: object) -> bool:
    """True when `token` could be a share token: 16-100 characters of the URL-safe alphabet, nothing
    else (no padding, no spaces). Matching is exact: " TOKEN " is not TOKEN. Costs no hashing."""
    return isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH and _TOKEN_SHAPE.fullmatch(token) is not None


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


def _source_files(files: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for item in files:
        cleaned.append(
            {"name": str(item["name"]), "sha256": str(item.get("sha256") or ""), "size": int(item.get("size") or 0)}
        )
    return cleaned


def _snapshot_metadata():
    """SELECT of Snapshot rows without the Parquet blob (loaded only if someone touches it)."""
    return select(Snapshot).options(defer(Snapshot.frame_parquet))


def _require_snapshot(session: Session, snapshot_id: int) -> Snapshot:
    snapshot = session.exec(_snapshot_metadata().where(Snapshot.id == snapshot_id)).first()
    if snapshot is None:
        raise NotFoundError(f"Snapshot {snapshot_id} does not exist; it may have been deleted.")
    return snapshot


def _read_blob(session: Session, snapshot_id: int) -> bytes | None:
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        # psycopg returns bytea as hex text unless the cursor asks for binary results; for a
        # 20 MB blob that is 40 MB on the wire plus a decoding pass (~4x slower to open).
        table = Snapshot.__table__
        with connection.connection.driver_connection.cursor(binary=True) as cursor:
            cursor.execute(
                f"SELECT {table.c.frame_parquet.name} FROM {table.name} WHERE {table.c.id.name} = %s", (snapshot_id,)
            )
            row = cursor.fetchone()
        return None if row is None else bytes(row[0])
    return session.exec(select(Snapshot.frame_parquet).where(Snapshot.id == snapshot_id)).first()


def _commit_refresh(session: Session, *objects: Any) -> None:
    session.commit()
    for obj in objects:
        session.refresh(obj)


# --- snapshots --------------------------------------------------------------------------------


def save_snapshot(
    *,
    session: Session,
    name: str,
    frame: pl.DataFrame | pl.LazyFrame,
    settings: Mapping[str, Any],
    client_label: str | None = None,
    source_files: Iterable[Mapping[str, Any]] = (),
    app_version: str = metrics.__version__,
) -> Snapshot:
    """Store `frame` (the canonical table) as zstd Parquet with the report `settings`.

    `settings` is kept as an opaque JSON object (dates are stored as ISO strings).
    `source_files` are `{"name", "sha256", "size"}` mappings describing the uploads.
    Returns the new snapshot (its blob is not kept in memory).
    """
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    blob = _frame_to_parquet(frame)  # before the transaction: keep the write lock short
    now = utcnow()
    snapshot = Snapshot(
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
    session.commit()
    # Free the blob; the other attributes stay as the session's expire_on_commit left them.
    session.expire(snapshot, ["frame_parquet"])
    return snapshot


def get_snapshot(*, session: Session, snapshot_id: int) -> Snapshot | None:
    """The snapshot's metadata (blob not loaded), or None."""
    return session.exec(_snapshot_metadata().where(Snapshot.id == snapshot_id)).first()


def load_snapshot_frame(*, session: Session, snapshot_id: int) -> pl.DataFrame:
    """The snapshot's canonical frame (conformed to the current canonical schema).

    Raises NotFoundError when the snapshot does not exist.
    """
    blob = _read_blob(session, snapshot_id)
    if blob is None:
        raise NotFoundError(f"Snapshot {snapshot_id} does not exist; it may have been deleted.")
    frame = pl.read_parquet(io.BytesIO(bytes(blob)))
    # Snapshots saved by an older schema still open: missing columns come back as nulls.
    return conform(frame)


def list_snapshots(*, session: Session, limit: int | None = None) -> list[Snapshot]:
    """Snapshots, newest first, without their blobs."""
    statement = _snapshot_metadata().order_by(col(Snapshot.created_at).desc(), col(Snapshot.id).desc())
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def rename_snapshot(
    *, session: Session, snapshot_id: int, name: str, client_label: str | None | _Keep = KEEP
) -> Snapshot:
    """Rename a snapshot; with `client_label` given, also change its client label (None clears it)."""
    snapshot = _require_snapshot(session, snapshot_id)
    snapshot.name = _clean_name(name, "snapshot")
    if not isinstance(client_label, _Keep):
        snapshot.client_label = _clean_label(client_label)
    snapshot.updated_at = utcnow()
    session.add(snapshot)
    _commit_refresh(session, snapshot)
    return snapshot


def update_snapshot_settings(*, session: Session, snapshot_id: int, settings: Mapping[str, Any]) -> Snapshot:
    """Replace the snapshot's report settings (the frame is unchanged)."""
    snapshot = _require_snapshot(session, snapshot_id)
    # A new dict object: in-place edits of a JSON column are not detected.
    snapshot.settings = dict(settings)
    snapshot.updated_at = utcnow()
    session.add(snapshot)
    _commit_refresh(session, snapshot)
    return snapshot


def delete_snapshot(*, session: Session, snapshot_id: int) -> bool:
    """Delete a snapshot and (ON DELETE CASCADE) all its share links. False when it did not exist."""
    link_ids = session.exec(select(ShareLink.id).where(ShareLink.snapshot_id == snapshot_id)).all()
    result = session.exec(delete(Snapshot).where(col(Snapshot.id) == snapshot_id))
    session.commit()
    # The database removed the links too; forget loaded copies of what no longer exists.
    for cls, ids in ((Snapshot, [snapshot_id]), (ShareLink, link_ids)):
        for ident in ids:
            obj = session.identity_map.get(identity_key(cls, ident))
            if obj is not None:
                session.expunge(obj)
    return result.rowcount > 0


# --- share links ------------------------------------------------------------------------------


def create_share_link(
    *,
    session: Session,
    snapshot_id: int,
    label: str | None = None,
    expires_in_days: float | None = None,
    expires_at: datetime | None = None,
) -> tuple[ShareLink, str]:
    """Create a client link to one snapshot. Returns (link, raw_token); only the token's hash is stored.

    Expiry: `expires_at` (timezone-aware) if given, else now + `expires_in_days`, else now +
    CAMPAIGN_LENS_SHARE_DAYS (default 30 days). Raises NotFoundError for an unknown snapshot.
    """
    if expires_at is not None and expires_in_days is not None:
        raise TypeError("Pass expires_in_days or expires_at, not both.")
    _require_snapshot(session, snapshot_id)
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


def list_share_links(*, session: Session, snapshot_id: int | None = None) -> list[ShareLink]:
    """Links (all, or one snapshot's), newest first. Each has `.status`: "active", "expired" or "revoked"."""
    statement = select(ShareLink).order_by(col(ShareLink.created_at).desc(), col(ShareLink.id).desc())
    if snapshot_id is not None:
        statement = statement.where(ShareLink.snapshot_id == snapshot_id)
    return list(session.exec(statement).all())


def revoke_share_link(*, session: Session, link_id: int) -> ShareLink:
    """Revoke a link now (idempotent: an already revoked link keeps its first revocation time)."""
    link = session.get(ShareLink, link_id)
    if link is None:
        raise NotFoundError(f"Share link {link_id} does not exist; its snapshot may have been deleted.")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.add(link)
        _commit_refresh(session, link)
    return link


def regenerate_share_link(
    *, session: Session, link_id: int, replacing_token_sha256: str | None = None
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
    link = session.get(ShareLink, link_id, populate_existing=True)
    if link is None:
        raise NotFoundError(f"Share link {link_id} does not exist; its snapshot may have been deleted.")
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


def save_mapping_profile(*, session: Session, name: str, mapping: Mapping[str, str]) -> MappingProfile:
    """Create or replace the mapping profile called `name` ({source header: canonical column})."""
    clean = _clean_name(name, "mapping profile")
    values = {str(k): str(v) for k, v in mapping.items()}
    profile = session.exec(select(MappingProfile).where(MappingProfile.name == clean)).first()
    now = utcnow()
    if profile is None:
        profile = MappingProfile(name=clean, mapping=values, created_at=now, updated_at=now)
    else:
        profile.mapping = values
        profile.updated_at = now
    session.add(profile)
    _commit_refresh(session, profile)
    return profile


def get_mapping_profile(*, session: Session, name: str) -> MappingProfile | None:
    return session.exec(select(MappingProfile).where(MappingProfile.name == " ".join(name.split()))).first()


def list_mapping_profiles(*, session: Session) -> list[MappingProfile]:
    """All mapping profiles, by name."""
    return list(session.exec(select(MappingProfile).order_by(col(MappingProfile.name))).all())


def delete_mapping_profile(*, session: Session, name: str) -> bool:
    """Delete the profile called `name`. False when there was none."""
    result = session.exec(delete(MappingProfile).where(col(MappingProfile.name) == " ".join(name.split())))
    session.commit()
    return result.rowcount > 0


# --- app state --------------------------------------------------------------------------------


def _set_state(session: Session, key: str, value: Any) -> None:
    now = utcnow()
    dialect = session.get_bind().dialect.name
    table = AppState.__table__
    if dialect in ("sqlite", "postgresql"):
        # An upsert: two processes setting the same key at once must not collide.
        insert = (sqlite_dialect if dialect == "sqlite" else pg_dialect).insert
        statement = insert(table).values(key=key, value=value, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
        session.exec(statement)
    else:
        state = session.get(AppState, key) or AppState(key=key)
        state.value = value
        state.updated_at = now
        session.add(state)
    session.commit()


def get_last_opened_snapshot_id(*, session: Session) -> int | None:
    """The id of the snapshot opened last, or None (never set, or that snapshot was deleted)."""
    state = session.get(AppState, LAST_OPENED_SNAPSHOT_KEY, populate_existing=True)
    if state is None or not isinstance(state.value, int):
        return None
    return state.value if get_snapshot(session=session, snapshot_id=state.value) is not None else None


def set_last_opened_snapshot_id(*, session: Session, snapshot_id: int | None) -> None:
    _set_state(session, LAST_OPENED_SNAPSHOT_KEY, snapshot_id)
