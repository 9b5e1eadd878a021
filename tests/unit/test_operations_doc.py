"""docs/operations.md says what the code does: every setting with its default, the upload cap the
server enforces and the hash the password command prints."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from metrics.bounded import GOALS_LIMITS, MAPPING_LIMITS
from models.settings import ENVIRONMENT
from tests.conftest import REPO

OPERATIONS = REPO / "docs" / "operations.md"


def _doc() -> str:
    return OPERATIONS.read_text(encoding="utf-8")


def test_settings_table_matches_declarations():
    text = _doc()
    for var in ENVIRONMENT:
        default = f"`{var.default}`" if var.default else "(empty)"
        assert f"| `{var.name}` | {default} | {var.description} |" in text, var.name


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
