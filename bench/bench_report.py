"""Benchmark: `python -m metrics report FILE --by platform,date` as a whole process vs the same pipeline in pandas.

    .venv/bin/python bench/bench_report.py                 # 1M and 10M rows
    .venv/bin/python bench/bench_report.py --sizes 1000000 # 1M only

Generated demo CSVs are cached in bench/out/. Each command runs `--repeat` times (median wall time, max peak
RSS of the child process via wait4). Prints one JSON document; never fails a build.
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
sys.path.insert(0, str(ROOT))


def timed(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(command: list[str], repeat: int) -> dict:
    runs = [timed(command) for _ in range(repeat)]
    codes = {code for _, _, code in runs}
    return {
        "wall_s_median": round(statistics.median(r[0] for r in runs), 3),
        "wall_s_all": [round(r[0], 3) for r in runs],
        "peak_rss_mb": round(max(r[1] for r in runs), 1),
        "exit_codes": sorted(codes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from metrics import demo

    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in [int(s) for s in args.sizes.split(",")]:
        path = OUT / f"demo_{rows}.csv"
        if not path.exists():
            demo.write_csv(path, rows)
        size_mb = path.stat().st_size / 1e6
        repeat = args.repeat if rows <= 2_000_000 else 1
        ours = measure([sys.executable, "-m", "metrics", "report", str(path), "--by", "platform,date"], repeat)
        pandas = measure([sys.executable, str(ROOT / "bench" / "pandas_report.py"), str(path)], repeat)
        results.append({
            "rows": rows,
            "file_mb": round(size_mb, 1),
            "metrics_cli": ours,
            "pandas_script": pandas,
            "speedup_vs_pandas": round(pandas["wall_s_median"] / ours["wall_s_median"], 2),
            "peak_rss_over_file_size": round(ours["peak_rss_mb"] / size_mb, 2),
        })
    print(json.dumps({"benchmark": "report --by platform,date", "cpu_count": os.cpu_count(), "results": results},
                     indent=2))


if __name__ == "__main__":
    main()
