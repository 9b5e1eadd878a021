"""docs/operations.md (and the README, where it names a setting) documents every setting
models/settings.py declares, with the code's default and description, and nothing else; and what it
says about the upload cap, the password hash and the import limits is what the code does."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from metrics.bounded import GOALS_LIMITS, MAPPING_LIMITS
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


# --- what the docs say the configuration and commands do -------------------------------------------

OPERATIONS = REPO / "docs" / "operations.md"


def _doc() -> str:
    return OPERATIONS.read_text(encoding="utf-8")


def test_documented_upload_cap_is_the_configured_one():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    documented = re.search(r"\| `server\.maxUploadSize` \| `(\d+)` \(MB\)", _doc())
    assert documented, "operations.md no longer lists server.maxUploadSize"
    assert int(documented.group(1)) == config["server"]["maxUploadSize"]


def test_documented_hash_has_the_parameters_the_command_prints():
    """The example line is what `python -m models hash-password` really prints (scrypt n, r, p)."""
    printed = subprocess.run(
        [sys.executable, "-m", "models", "hash-password"], input="a long enough password\n", cwd=REPO,
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    real = re.search(r"CAMPAIGN_LENS_PASSWORD_HASH='scrypt\$(\d+)\$(\d+)\$(\d+)\$", printed)
    documented = re.search(r"CAMPAIGN_LENS_PASSWORD_HASH='scrypt\$(\d+)\$(\d+)\$(\d+)\$\.\.\.'", _doc())
    assert real and documented, (printed, "operations.md example")
    assert documented.groups() == real.groups()


@pytest.mark.parametrize("row, limits", [("goals", GOALS_LIMITS), ("column mapping", MAPPING_LIMITS)])
def test_documented_import_limits_are_the_enforced_ones(row, limits):
    documented = re.search(rf"\| {row} [^|]*\| ([\d.]+) MB \| (\d+) levels \| ([\d,]+) \|", _doc())
    assert documented, f"operations.md no longer lists the {row} limits"
    megabytes, depth, entries = documented.groups()
    assert (float(megabytes) * 1_000_000, int(depth), int(entries.replace(",", ""))) == (
        limits.max_bytes, limits.max_depth, limits.max_items)


def test_documented_logo_limit_is_the_enforced_one():
    from metrics.bounded import MAX_LOGO_BYTES

    documented = re.search(r"a logo \([^)]*\) up to ([\d.]+) MB", _doc())
    assert documented, "operations.md no longer lists the logo limit"
    assert float(documented.group(1)) * 1_000_000 == MAX_LOGO_BYTES
