"""Shared test fixtures: paths to the repo, its tiny fixtures and the shared real datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets folder not found at {SHARED_DATASETS}")
    return SHARED_DATASETS
