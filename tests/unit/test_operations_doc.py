"""docs/operations.md (and the README, where it names a setting) documents every setting
models/settings.py declares, with the code's default and description, and nothing else."""

from __future__ import annotations

import re

from models.settings import SETTINGS, settings_table
from tests.conftest import REPO

TABLE_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]+)` \|", re.MULTILINE)


def _settings_section(text: str) -> str:
    return text.split("## Settings", 1)[1].split("\n## ", 1)[0]


def test_settings_table_matches_declarations():
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert settings_table() in _settings_section(text), "regenerate the table with models.settings.settings_table()"
    for setting in SETTINGS:
        assert f"| `{setting.env}` | {setting.documented_default} | {setting.description} |" in text, setting.env


def test_docs_list_no_setting_the_code_does_not_read():
    declared = {s.env for s in SETTINGS}
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    documented = set(TABLE_ROW.findall(_settings_section(text).split("Streamlit options", 1)[0]))
    assert documented == declared
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert set(re.findall(r"\bCAMPAIGN_LENS_[A-Z0-9_]+", readme)) <= declared
