"""Benchmark: save and open a 1M-row snapshot on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_snapshot.py [--rows 1000000] [--repeat 3] [--no-postgres]

Prints JSON: {"rows", "csv_bytes", "snapshot_bytes", "ratio", "sqlite": {"save_s", "open_s", ...},
"postgresql": {"save_s", "open_s", ...} | {"skipped": reason}}. Times are the median (and the
best, `*_min_s`) of `--repeat` runs of the repository functions the app calls (`save_snapshot`:
Parquet encoding + insert + commit; `load_snapshot_frame`: select + decode + conform), each in a
fresh session.
PostgreSQL runs on a throw-away server (tests/pg_server.py) with fsync on.
Targets: save and open <= 1 s at 1M rows; stored snapshot <= 30 % of the CSV's size.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metrics.schema import conform  # noqa: E402
from models import repository as repo  # noqa: E402
from models.db import make_engine, upgrade_database  # noqa: E402


def build_frame(rows: int) -> pl.DataFrame:
    try:
        from metrics.demo import generate
    except ImportError:
        return _synthetic(rows)
    return generate(rows=rows)


def _synthetic(rows: int, seed: int = 7) -> pl.DataFrame:
    """Fallback when metrics.demo is missing: dates x 8 platforms x campaigns, 12 measures."""
    rng = np.random.default_rng(seed)
    platforms = np.array(["facebook", "instagram", "tiktok", "linkedin", "google_ads", "x", "youtube", "email"])
    start = date(2026, 8, 3)
    impressions = rng.gamma(2.0, 2500.0, rows).round()
    clicks = rng.binomial(impressions.astype(np.int64), 0.012).astype(float)
    conversions = rng.binomial(clicks.astype(np.int64), 0.035).astype(float)
    frame = pl.DataFrame({
        "date": [start + timedelta(days=int(d)) for d in rng.integers(0, 90, rows)],
        "platform": platforms[rng.integers(0, len(platforms), rows)],
        "campaign": np.char.add("Campaign ", rng.integers(0, 400, rows).astype(str)),
        "ad_group": np.char.add("Ad set ", rng.integers(0, 40, rows).astype(str)),
        "variant": np.array(["A", "B"])[rng.integers(0, 2, rows)],
        "currency": "USD",
        "impressions": impressions,
        "reach": (impressions * rng.uniform(0.6, 0.9, rows)).round(),
        "clicks": clicks,
        "link_clicks": (clicks * 0.7).round(),
        "likes": rng.poisson(20, rows).astype(float),
        "comments": rng.poisson(3, rows).astype(float),
        "shares": rng.poisson(2, rows).astype(float),
        "saves": rng.poisson(1, rows).astype(float),
        "video_views": rng.poisson(400, rows).astype(float),
        "spend": (impressions / 1000 * rng.uniform(4, 30, rows)).round(2),
        "conversions": conversions,
        "revenue": (conversions * rng.uniform(30, 90, rows)).round(2),
    })
    return conform(frame)


def _median_times(engine, frame: pl.DataFrame, repeat: int) -> dict[str, float]:
    from sqlmodel import Session

    save_times, open_times, save_cpu, open_cpu = [], [], [], []
    for i in range(repeat):
        with Session(engine) as session:
            t0, c0 = time.perf_counter(), time.process_time()
            workspace_id = repo.ensure_workspace(session=session).id
            snapshot = repo.save_snapshot(session=session, workspace_id=workspace_id, name=f"bench {i}", frame=frame,
                                          settings={"grain": "day"})
            save_times.append(time.perf_counter() - t0)
            save_cpu.append(time.process_time() - c0)
            snapshot_id = snapshot.id
        with Session(engine) as session:
            t0, c0 = time.perf_counter(), time.process_time()
            loaded = repo.load_snapshot_frame(session=session, snapshot_id=snapshot_id)
            open_times.append(time.perf_counter() - t0)
            open_cpu.append(time.process_time() - c0)
        assert loaded.height == frame.height
    return {
        "save_s": round(statistics.median(save_times), 3),
        "open_s": round(statistics.median(open_times), 3),
        # CPU seconds of this process (all threads): what the wall time would be near, on an idle
        # single core, and a number that moves less when other work shares the machine.
        "save_cpu_s": round(statistics.median(save_cpu), 3),
        "open_cpu_s": round(statistics.median(open_cpu), 3),
        # Best run: the least disturbed by other processes (what timeit reports).
        "save_min_s": round(min(save_times), 3),
        "open_min_s": round(min(open_times), 3),
    }


def bench_url(url: str, frame: pl.DataFrame, repeat: int) -> dict[str, float]:
    engine = make_engine(url)
    try:
        upgrade_database(engine)
        return _median_times(engine, frame, repeat)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    frame = build_frame(args.rows)
    csv_bytes = len(frame.write_csv().encode("utf-8"))
    encode_times, decode_times = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        blob = repo._frame_to_parquet(frame)
        encode_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        conform(pl.read_parquet(io.BytesIO(blob)))
        decode_times.append(time.perf_counter() - t0)
    snapshot_bytes = len(blob)
    result: dict[str, object] = {
        "rows": frame.height,
        "csv_bytes": csv_bytes,
        "snapshot_bytes": snapshot_bytes,
        "ratio": round(snapshot_bytes / csv_bytes, 4),
        # The database-independent part of save_s / open_s, and how busy the machine was.
        "parquet": {
            "encode_s": round(statistics.median(encode_times), 3),
            "decode_s": round(statistics.median(decode_times), 3),
        },
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_start": round(os.getloadavg()[0], 2)},
    }
    with tempfile.TemporaryDirectory(prefix="campaign-lens-bench-") as tmp:
        result["sqlite"] = bench_url(f"sqlite:///{Path(tmp) / 'bench.db'}", frame, args.repeat)

    if args.no_postgres:
        result["postgresql"] = {"skipped": "--no-postgres"}
    else:
        from tests.pg_server import PostgresServer, find_pg_bin

        if find_pg_bin() is None:
            result["postgresql"] = {"skipped": "PostgreSQL server binaries not installed"}
        else:
            with PostgresServer.start(fast=False) as server:
                result["postgresql"] = bench_url(server.create_database("bench"), frame, args.repeat)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
