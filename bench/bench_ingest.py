"""Benchmark: `metrics.ingest.load_path` alone on a clean canonical CSV (20 columns), in a fresh process.

    .venv/bin/python bench/bench_ingest.py                    # 1M rows
    .venv/bin/python bench/bench_ingest.py --rows 10000000    # 10M rows (~1.2 GB file)

The CSV is generated with numpy + polars and cached in bench/out/. Each run is a child process
(import included); prints one JSON document with wall and CPU seconds and peak RSS. CPU seconds
are the steadier number on a shared machine. Never part of the test pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

CHILD = """
import sys
from metrics.ingest import load_path
result = load_path(sys.argv[1])
print(result.report.rows_loaded)
"""


def write_canonical_csv(path: Path, rows: int, seed: int = 0) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    platforms = np.array(["facebook", "instagram", "google_ads", "tiktok", "linkedin", "x", "youtube", "email"])
    dates = pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 12, 31), eager=True)
    numbered = lambda prefix, n: prefix + pl.Series(rng.integers(0, n, rows)).cast(pl.String)  # noqa: E731
    pl.DataFrame({
        "date": dates.gather(rng.integers(0, len(dates), rows)),
        "platform": platforms[rng.integers(0, len(platforms), rows)],
        "campaign": numbered("Campaign ", 200),
        "ad_group": numbered("Group ", 50),
        "ad": numbered("Ad ", 500),
        "audience": np.array(["female 25-34", "male 18-24", "all"])[rng.integers(0, 3, rows)],
        "currency": "USD",
        **{m: rng.integers(0, top, rows) for m, top in [
            ("impressions", 100_000), ("reach", 50_000), ("clicks", 2_000), ("link_clicks", 1_000), ("likes", 500),
            ("comments", 100), ("shares", 100), ("saves", 100), ("video_views", 10_000)]},
        "spend": np.round(rng.random(rows) * 500, 2),
        "leads": rng.integers(0, 50, rows),
        "conversions": rng.integers(0, 20, rows),
        "revenue": np.round(rng.random(rows) * 2000, 2),
    }).write_csv(path)


def run_once(path: Path) -> dict:
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(process.pid, 0)
    loaded = int(process.stdout.read().decode().strip() or 0)
    return {
        "wall_s": round(time.perf_counter() - start, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "rows_loaded": loaded,
        "exit_code": os.waitstatus_to_exitcode(status),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"canonical_{args.rows}.csv"
    if not path.exists():
        write_canonical_csv(path, args.rows)
    runs = [run_once(path) for _ in range(args.repeat)]
    size_mb = path.stat().st_size / 1e6
    print(json.dumps({
        "file": str(path.relative_to(ROOT)),
        "file_mb": round(size_mb, 1),
        "rows": args.rows,
        "wall_s_median": statistics.median(r["wall_s"] for r in runs),
        "cpu_s_median": statistics.median(r["cpu_s"] for r in runs),
        "peak_rss_over_file_size": round(max(r["peak_rss_mb"] for r in runs) * 1.048576 / size_mb, 2),
        "runs": runs,
    }, indent=2))


if __name__ == "__main__":
    main()
