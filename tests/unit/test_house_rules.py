"""House rules that keep the layers honest (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from metrics.schema import COLUMNS, DIMENSIONS, MEASURES
from tests.conftest import REPO


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_metrics_and_models_never_import_streamlit():
    offenders = [
        str(path.relative_to(REPO))
        for package in ("metrics", "models")
        for path in (REPO / package).rglob("*.py")
        if "streamlit" in _imports(path)
    ]
    assert offenders == []


def test_runtime_requirements_are_pinned():
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    unpinned = [line for line in lines if line and "==" not in line]
    assert unpinned == []
    streamlit = next(line for line in lines if line.startswith("streamlit=="))
    major, minor = map(int, streamlit.split("==")[1].split(".")[:2])
    assert (major, minor) >= (1, 54)


def test_every_schema_column_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", readme, flags=re.M))
    assert {c.name for c in COLUMNS} <= documented


def test_schema_declares_dimensions_and_measures_once():
    names = [c.name for c in COLUMNS]
    assert len(names) == len(set(names))
    assert set(DIMENSIONS) | set(MEASURES) == set(names)
    for column in COLUMNS:
        assert column.description and column.aliases, column.name


def test_server_upload_cap_matches_the_loader():
    import tomllib

    from metrics.ingest import MAX_UPLOAD_BYTES

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "127.0.0.1"


def test_every_page_opens_with_the_router_guard():
    """A fresh server may run a page file without dashboard.py; its first statements must be the guard."""
    offenders = []
    for path in sorted((REPO / "pages").glob("*.py")):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        first_two = [ast.unparse(node) for node in body[:2]]
        if first_two != ["from ui.access import require_router", "require_router(__file__)"]:
            offenders.append(path.name)
    assert offenders == []
    assert len(list((REPO / "pages").glob("*.py"))) == 8
