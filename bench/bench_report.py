"""Benchmark: `python -m metrics report FILE --by platform,date` as a whole process, against baselines in the same run.

    .venv/bin/python bench/bench_report.py                          # clean 1M and 10M rows, localised 1M rows
    .venv/bin/python bench/bench_report.py --sizes 1000000 --localised 1000000 --repeat 5
    .venv/bin/python bench/bench_report.py --repeat 5 --repeat-large 3   # the README's figures

Baselines, each run as its own process on the same file, interleaved with ours (ours, polars, pandas, ours, ...)
so that the machine's load falls on all of them alike:
- `bench/polars_report.py`: what a competent polars user would script for that one known file (scan_csv →
  the same cleaning where the file needs it → sums by platform and date and in total → the KPIs → JSON);
- `bench/pandas_report.py` (clean files): the same pipeline in pandas.

Files (generated from `metrics.demo`, cached in bench/out/): `demo_<rows>.csv` written the way polars writes
it, and `demo_de_<rows>.csv` written the way a German-locale export is: `;` separators, decimal commas, `.`
thousands separators, day-first dates (03.08.2026). Each command runs `--repeat` times (`--repeat-large` times
above 2M rows); reported are the median wall seconds, the median CPU seconds (user + system, the steadier number
on a shared machine), the peak RSS of the child process (wait4) and the ratios. Ours and the polars script must agree on
the total spend and impressions, or the run says so. Prints one JSON document; never fails a build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

# Acceptance (issue 11), as ratios measured in the same run.
LOCALISED_VS_POLARS = 1.5
CLEAN_VS_POLARS = 1.3
PANDAS_OVER_OURS_AT_10M = 1.67
PEAK_RSS_OVER_FILE_AT_10M = 1.3


def write_localised_csv(path: Path, rows: int, seed: int = 7) -> None:
    """The demo data as a German-locale export writes it: `;`, 1.234,56 and 03.08.2026 (in 1M-row chunks)."""
    import polars as pl

    from metrics import demo

    def german(name: str, decimals: bool) -> pl.Expr:
        whole = pl.col(name).abs().floor().cast(pl.Int64)
        millions, thousands, units = whole // 1_000_000, (whole // 1000) % 1000, whole % 1000
        three = lambda part: part.cast(pl.String).str.zfill(3)  # noqa: E731
        text = (pl.when(millions > 0).then(pl.format("{}.{}.{}", millions, three(thousands), three(units)))
                .when(thousands > 0).then(pl.format("{}.{}", thousands, three(units)))
                .otherwise(units.cast(pl.String)))
        if decimals:
            cents = ((pl.col(name).abs() - pl.col(name).abs().floor()) * 100).round(0).cast(pl.Int64)
            text = pl.format("{},{}", text, cents.cast(pl.String).str.zfill(2))
        return text.alias(name)

    with open(path, "wb") as handle:
        for i, start in enumerate(range(0, rows, 1_000_000)):
            part = demo.generate(rows=min(1_000_000, rows - start), seed=seed + i)
            money = {"spend", "revenue", "response_minutes"}
            part.select([german(c, c in money) if dtype == pl.Float64
                         else pl.col(c).dt.strftime("%d.%m.%Y") if dtype == pl.Date else pl.col(c)
                         for c, dtype in part.schema.items()]).write_csv(handle, include_header=i == 0, separator=";")


def demo_file(rows: int, localised: bool) -> Path:
    from metrics import demo

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / (f"demo_de_{rows}.csv" if localised else f"demo_{rows}.csv")
    if not path.exists():
        partial = path.with_suffix(".part")
        (write_localised_csv if localised else demo.write_csv)(partial, rows)
        partial.rename(path)
    return path


def run(command: list[str], stdout_path: Path) -> dict:
    """Wall and CPU seconds, peak RSS (MB) and exit code of one child process."""
    with open(stdout_path, "wb") as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "code": os.waitstatus_to_exitcode(status)}


def summary(runs: list[dict]) -> dict:
    return {
        "wall_s_median": round(statistics.median(r["wall"] for r in runs), 2),
        "wall_s_all": [round(r["wall"], 2) for r in runs],
        "cpu_s_median": round(statistics.median(r["cpu"] for r in runs), 2),
        "peak_rss_mb": round(max(r["rss"] for r in runs), 1),
        "exit_codes": sorted({r["code"] for r in runs}),
    }


def totals(path: Path) -> tuple[float | None, float | None]:
    """(spend, impressions) of the whole file, from a JSON output with a "total" object."""
    try:
        total = json.loads(path.read_text())["total"]
        return total.get("spend"), total.get("impressions")
    except (OSError, ValueError, KeyError):
        return None, None


def agree(a: tuple, b: tuple) -> bool:
    return all(x is not None and y is not None and abs(x - y) <= 1e-6 * max(abs(x), 1.0) for x, y in zip(a, b))


def compare(rows: int, localised: bool, repeat: int, scratch: Path) -> dict:
    path = demo_file(rows, localised)
    size_mb = path.stat().st_size / 1e6
    commands = {
        "metrics_cli": [sys.executable, "-m", "metrics", "report", str(path), "--by", "platform,date"],
        "polars_script": [sys.executable, str(ROOT / "bench" / "polars_report.py"), str(path),
                          *(["--german"] if localised else [])],
    }
    if not localised:
        commands["pandas_script"] = [sys.executable, str(ROOT / "bench" / "pandas_report.py"), str(path)]
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():  # interleaved: load changes hit every command alike
            runs[name].append(run(command, scratch / f"{name}.json"))
    result = {"rows": rows, "file": path.name, "file_mb": round(size_mb, 1),
              **{name: summary(r) for name, r in runs.items()}}
    ours, polars = result["metrics_cli"], result["polars_script"]
    result["same_totals_as_polars_script"] = agree(totals(scratch / "metrics_cli.json"),
                                                   totals(scratch / "polars_script.json"))
    result["wall_ratio_vs_polars"] = round(ours["wall_s_median"] / polars["wall_s_median"], 2)
    result["cpu_ratio_vs_polars"] = round(ours["cpu_s_median"] / polars["cpu_s_median"], 2)
    if "pandas_script" in result:
        result["speedup_vs_pandas"] = round(result["pandas_script"]["wall_s_median"] / ours["wall_s_median"], 2)
    result["peak_rss_over_file_size"] = round(ours["peak_rss_mb"] / size_mb, 2)
    return result


def acceptance(results: list[dict]) -> dict:
    checks = {}
    for r in results:
        label = f"{'localised' if r['file'].startswith('demo_de_') else 'clean'} {r['rows']:,}"
        limit = LOCALISED_VS_POLARS if r["file"].startswith("demo_de_") else CLEAN_VS_POLARS
        checks[f"{label}: wall ≤ {limit}× polars script"] = r["wall_ratio_vs_polars"] <= limit
        if r["rows"] >= 10_000_000 and "speedup_vs_pandas" in r:
            checks[f"{label}: ≥ {PANDAS_OVER_OURS_AT_10M}× faster than pandas"] = (
                r["speedup_vs_pandas"] >= PANDAS_OVER_OURS_AT_10M)
            checks[f"{label}: peak RSS ≤ {PEAK_RSS_OVER_FILE_AT_10M}× the file"] = (
                r["peak_rss_over_file_size"] <= PEAK_RSS_OVER_FILE_AT_10M)
    return checks


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    import polars as pl

    return {"cpu": model, "cpu_count": os.cpu_count(), "python": platform.python_version(), "polars": pl.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="clean file sizes (rows)")
    parser.add_argument("--localised", default="1000000", help="localised file sizes (rows); empty for none")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command on files up to 2M rows")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs per command on larger files")
    args = parser.parse_args()

    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        plan = [(int(s), True) for s in args.localised.split(",") if s] + [(int(s), False) for s in args.sizes.split(",")]
        for rows, localised in plan:
            results.append(compare(rows, localised, args.repeat if rows <= 2_000_000 else args.repeat_large,
                                   Path(scratch)))
    print(json.dumps({"benchmark": "report --by platform,date", "machine": machine(),
                      "load_average_1_5_15_min": {"before": [round(x, 2) for x in load_before],
                                                  "after": [round(x, 2) for x in os.getloadavg()]},
                      "results": results, "acceptance": acceptance(results)}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
