"""docs/operations.md lists every setting models/settings.py declares, with its default."""

from __future__ import annotations

from models.settings import ENVIRONMENT
from tests.conftest import REPO


def test_settings_table_matches_declarations():
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    for var in ENVIRONMENT:
        default = f"`{var.default}`" if var.default else "(empty)"
        assert f"| `{var.name}` | {default} | {var.description} |" in text, var.name
