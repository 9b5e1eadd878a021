"""Helpers for the sharing browser tests: a snapshot and share links written straight to a server's database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import polars as pl
from sqlmodel import Session

from metrics import demo
from models import repository
from models.db import make_engine, upgrade_database

XSS = "<img src=x onerror=alert(1)>"
SNAPSHOT_NAME = f"Spring review {XSS}"


@dataclass(frozen=True)
class Shared:
    snapshot_id: int
    token: str
    revoked_token: str
    expired_token: str


def shared_snapshot(database_url: str, name: str = SNAPSHOT_NAME) -> Shared:
    """Migrate `database_url`, save a small demo snapshot (one campaign named like an HTML tag) and links."""
    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        frame = demo.generate(rows=300)
        first = frame.get_column("campaign").drop_nulls().sort()[0]
        frame = frame.with_columns(
            pl.when(pl.col("campaign") == first).then(pl.lit(XSS)).otherwise(pl.col("campaign")).alias("campaign")
        )
        with Session(engine) as session:
            workspace_id = repository.ensure_workspace(session=session).id
            snapshot = repository.save_snapshot(session=session, workspace_id=workspace_id, name=name, frame=frame,
                                                settings={}, client_label="Acme")
            _, token = repository.create_share_link(session=session, snapshot_id=snapshot.id, label="client")
            revoked, revoked_token = repository.create_share_link(session=session, snapshot_id=snapshot.id)
            repository.revoke_share_link(session=session, link_id=revoked.id)
            _, expired_token = repository.create_share_link(
                session=session, snapshot_id=snapshot.id,
                expires_at=datetime.now(timezone.utc) - timedelta(minutes=1))
            return Shared(snapshot.id, token, revoked_token, expired_token)
    finally:
        engine.dispose()
