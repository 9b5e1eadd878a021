"""Benchmark: client report files (PDF and HTML) for the 1M-row demo snapshot, a canonical frame in memory.

    .venv/bin/python bench/bench_render.py                        # 1M rows, 3 warm repeats
    .venv/bin/python bench/bench_render.py --rows 100000 --repeat 1

All in one process. Baseline: the `summarize` calls the dashboard makes for the same figures on the raw
frame (total with comparison, per platform with comparison, per campaign with comparison, daily trend
per platform). Then `build_report`, `render_pdf` and `render_html`. The first render of each format also
starts vl-convert's JavaScript engine and loads the PDF font (once per process: a running app pays it
once), so it is reported apart as "cold"; "warm" is the median of the repeats after it. The goal is
build + PDF ≤ 5 s. Prints one JSON document; never fails a build.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOAL_PDF_S = 5.0


def seconds(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from pypdf import PdfReader

    from metrics import demo, kpis
    from reports import ReportOptions, build_report, render_html, render_pdf

    frame = demo.generate(rows=args.rows)
    options = ReportOptions(title="Demo account report", client="Demo client")

    def baseline():
        common = dict(compare=options.compare)
        kpis.summarize(frame, (), **common)
        kpis.summarize(frame, ("platform",), **common)
        kpis.summarize(frame, ("campaign",), **common)
        kpis.summarize(frame, ("platform",), grain="day")

    baseline_runs = [seconds(baseline)[0] for _ in range(args.repeat)]
    build_runs, pdf_runs, html_runs = [], [], []
    report = None
    for _ in range(args.repeat + 1):  # the first round is the cold one
        elapsed, report = seconds(lambda: build_report(frame, options))
        build_runs.append(elapsed)
        pdf_runs.append(seconds(lambda: render_pdf(report)))
        html_runs.append(seconds(lambda: render_html(report)))
    pdf_bytes, html_text = pdf_runs[-1][1], html_runs[-1][1]
    warm_build = statistics.median(build_runs[1:])
    warm_pdf = statistics.median(t for t, _ in pdf_runs[1:])
    warm_html = statistics.median(t for t, _ in html_runs[1:])
    baseline_s = statistics.median(baseline_runs)
    print(json.dumps({
        "benchmark": "client report render (demo snapshot)",
        "rows": frame.height,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "baseline_summarize_s": round(baseline_s, 3),
        "build_report_s": {"cold": round(build_runs[0], 3), "warm_median": round(warm_build, 3)},
        "pdf": {"cold_s": round(pdf_runs[0][0], 3), "warm_s_median": round(warm_pdf, 3),
                "pages": len(PdfReader(io.BytesIO(pdf_bytes)).pages), "bytes": len(pdf_bytes)},
        "html": {"cold_s": round(html_runs[0][0], 3), "warm_s_median": round(warm_html, 3),
                 "bytes": len(html_text.encode("utf-8"))},
        "build_plus_pdf_warm_s": round(warm_build + warm_pdf, 3),
        "build_plus_pdf_cold_s": round(build_runs[0] + pdf_runs[0][0], 3),
        "build_plus_pdf_over_baseline": round((warm_build + warm_pdf) / baseline_s, 2),
        "goal_pdf_s": GOAL_PDF_S,
        "meets_goal_warm": warm_build + warm_pdf <= GOAL_PDF_S,
    }, indent=2))


if __name__ == "__main__":
    main()
