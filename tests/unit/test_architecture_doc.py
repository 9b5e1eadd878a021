"""docs/architecture.md is a map a newcomer follows: every file or folder it names must exist, and the README
links to it."""

from __future__ import annotations

import re

from tests.conftest import REPO

DOC = REPO / "docs" / "architecture.md"
# A code span that is a repository path: folders and files with a known suffix, no spaces or placeholders.
_PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]*|[\w-]+\.(?:py|md|toml|ini|txt))`")


def named_paths() -> list[str]:
    return sorted(set(_PATH.findall(DOC.read_text(encoding="utf-8"))))


def test_the_doc_names_the_files_of_every_layer():
    paths = named_paths()
    for layer in ("pages/", "ui/", "metrics/", "models/", "reports/"):
        assert any(p.startswith(layer) for p in paths), layer


def test_every_path_the_doc_names_exists():
    missing = [p for p in named_paths() if not (REPO / p).exists()]
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_the_readme_links_to_the_doc():
    assert "](docs/architecture.md)" in (REPO / "README.md").read_text(encoding="utf-8")
