"""Persistence for Campaign Lens (SQLModel): snapshots, share links, mapping profiles. Never imports streamlit."""
