"""Benchmark: store a 1M-row upload as a workspace source, refresh it with a newer week, and read the
workspace's data back, on SQLite (and PostgreSQL unless --no-postgres).

    .venv/bin/python bench/bench_sources.py [--rows 1000000] [--repeat 3] [--no-postgres]

Prints JSON: {"rows", "source_bytes", "sqlite": {...}, "postgresql": {...} | {"skipped": reason}}
with the median seconds of `--repeat` runs of what the app calls:
- `add_s`: `store_upload` of a new file (Parquet encoding + insert + size-cap check + commit);
- `refresh_s`: `store_upload` of a newer export (read the stored rows, replace its dates, write back);
- `list_s`: `list_sources` (what every editor rerun asks, to see whether the data changed);
- `load_s`: `load_sources_frame` (a cold open of the workspace's data; the UI caches it by content key);
- `snapshot_save_s`: the baseline measured in the same run, `save_snapshot` of the same frame, and
  `add_vs_snapshot`: add_s / snapshot_save_s (storing a source should cost about a snapshot).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metrics.demo import generate  # noqa: E402
from models import repository as repo  # noqa: E402
from models.db import make_engine, upgrade_database  # noqa: E402


def _upload(frame: pl.DataFrame, name: str) -> repo.SourceUpload:
    return repo.SourceUpload(file_name=name, sha256=f"{name:0>64}"[-64:], size=frame.estimated_size(), frame=frame,
                             report={"source_format": "generic", "mapping": {"date": "date", "campaign": "campaign"}})


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def run(url: str, frame: pl.DataFrame, newer: pl.DataFrame, repeat: int) -> dict:
    from sqlmodel import Session

    engine = make_engine(url)
    upgrade_database(engine)
    times: dict[str, list[float]] = {"add_s": [], "refresh_s": [], "list_s": [], "load_s": [], "snapshot_save_s": []}
    try:
        for i in range(repeat):
            with Session(engine) as session:
                workspace_id = repo.create_workspace(session=session, name=f"bench {i}").id
                t0 = time.perf_counter()
                repo.save_snapshot(session=session, workspace_id=workspace_id, name="baseline", frame=frame, settings={})
                times["snapshot_save_s"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                added = repo.store_upload(session=session, workspace_id=workspace_id, upload=_upload(frame, f"a{i}"))
                times["add_s"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                refreshed = repo.store_upload(session=session, workspace_id=workspace_id,
                                              target=added.source_id, upload=_upload(newer, f"b{i}"))
                times["refresh_s"].append(time.perf_counter() - t0)
                assert refreshed.action == "refreshed"
            with Session(engine) as session:
                t0 = time.perf_counter()
                sources = repo.list_sources(session=session, workspace_id=workspace_id, enabled_only=True)
                times["list_s"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                loaded = repo.load_sources_frame(session=session, source_ids=[s.id for s in sources])
                times["load_s"].append(time.perf_counter() - t0)
                assert loaded.height == refreshed.rows
        medians = {name: _median(values) for name, values in times.items()}
        return medians | {"add_vs_snapshot": round(medians["add_s"] / medians["snapshot_save_s"], 2),
                          "source_bytes": sources[0].size_bytes}
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    frame = generate(rows=args.rows)
    last = frame["date"].max()
    # A newer export: the last 7 days again (revised) and 7 new days.
    week = frame.filter(pl.col("date") > last - timedelta(days=7))
    newer = pl.concat([week, week.with_columns(pl.col("date") + timedelta(days=7))])
    out: dict = {"rows": frame.height, "newer_rows": newer.height}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = run(f"sqlite:///{tmp}/bench.db", frame, newer, args.repeat)
    if args.no_postgres:
        out["postgresql"] = {"skipped": "--no-postgres"}
    else:
        from tests.pg_server import PostgresServer, find_pg_bin

        if find_pg_bin() is None:
            out["postgresql"] = {"skipped": "PostgreSQL server binaries not installed"}
        else:
            with PostgresServer.start(fast=False) as server:
                out["postgresql"] = run(server.create_database("bench_sources"), frame, newer, args.repeat)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
