"""Persistence for Campaign Lens (SQLModel): workspaces (one per client) with their stored data
sources, snapshots, share links and mapping profiles. Never imports streamlit.

    from sqlmodel import Session
    from models.db import make_engine, upgrade_database
    from models import repository

    engine = make_engine()            # DATABASE_URL, default sqlite:///./data/campaign_lens.db
    upgrade_database(engine)          # Alembic to head; safe when several processes start at once
    with Session(engine) as session:
        workspace = repository.ensure_workspace(session=session)        # "My workspace" on a new database
        outcome = repository.store_upload(session=session, workspace_id=workspace.id,
                                          upload=repository.SourceUpload.from_load(data, ingest.load(data, name)))
        snapshot = repository.save_snapshot(session=session, workspace_id=workspace.id, name="Q3",
                                            frame=frame, settings=ReportSettings(...).to_dict())
        link, token = repository.create_share_link(session=session, snapshot_id=snapshot.id)

Modules: `settings` (environment variables, declared once with their defaults), `tables` (SQLModel
tables), `db` (engine factory, migrations), `repository` (keyword-only functions with an explicit
session), `sources` (pure refresh arithmetic and content keys of stored sources), `auth` (scrypt
password hashes), `migrations/` (Alembic). `python -m models hash-password` prints the
CAMPAIGN_LENS_PASSWORD_HASH line to set.
"""
