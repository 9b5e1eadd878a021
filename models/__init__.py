"""Persistence for Campaign Lens (SQLModel): snapshots, share links, mapping profiles. Never imports streamlit.

    from sqlmodel import Session
    from models.db import make_engine, upgrade_database
    from models import repository

    engine = make_engine()            # DATABASE_URL, default sqlite:///./data/campaign_lens.db
    upgrade_database(engine)          # Alembic to head; safe when several processes start at once
    with Session(engine) as session:
        snapshot = repository.save_snapshot(session=session, name="Q3", frame=frame, settings={...})
        link, token = repository.create_share_link(session=session, snapshot_id=snapshot.id)

Modules: `settings` (environment variables and their defaults), `tables` (SQLModel tables),
`db` (engine factory, migrations), `repository` (keyword-only functions with an explicit session),
`auth` (scrypt password hashes), `migrations/` (Alembic). `python -m models hash-password`
prints the CAMPAIGN_LENS_PASSWORD_HASH line to set.
"""
