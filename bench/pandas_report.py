"""Baseline for bench_report.py: the same report pipeline in pandas (read, clean, group by platform and date, KPIs).

Usage: python bench/pandas_report.py FILE.csv  → JSON rows on stdout, like `python -m metrics report FILE --by platform,date`.
"""

import json
import sys

import numpy as np
import pandas as pd

MEASURES = ["impressions", "reach", "clicks", "link_clicks", "likes", "comments", "shares", "saves", "engagements",
            "video_views", "new_followers", "unfollows", "spend", "leads", "conversions", "revenue", "messages",
            "messages_answered", "response_minutes"]


def ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return out.where(den != 0)


def main(path: str) -> None:
    frame = pd.read_csv(path, low_memory=False)
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce").dt.date
    frame["platform"] = frame["platform"].astype("string").str.strip().str.lower()
    for name in MEASURES:
        if name in frame:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    for name in MEASURES:  # the engine reports absent measures as null; do the same
        if name not in frame:
            frame[name] = np.nan
    grouped = frame.groupby(["platform", "date"], dropna=False)[MEASURES].sum(min_count=1).reset_index()
    g = grouped
    kpis = {
        "ctr": ratio(g["clicks"], g["impressions"]),
        "link_ctr": ratio(g["link_clicks"], g["impressions"]),
        "cpc": ratio(g["spend"], g["clicks"]),
        "cpm": ratio(1000 * g["spend"], g["impressions"]),
        "cpa": ratio(g["spend"], g["conversions"]),
        "cpl": ratio(g["spend"], g["leads"]),
        "cvr": ratio(g["conversions"], g["clicks"]),
        "roas": ratio(g["revenue"], g["spend"]),
        "roi": ratio(g["revenue"] - g["spend"], g["spend"]),
        "aov": ratio(g["revenue"], g["conversions"]),
        "frequency": ratio(g["impressions"], g["reach"]),
        "engagement_rate": ratio(g["engagements"], g["reach"]),
        "er_impressions": ratio(g["engagements"], g["impressions"]),
        "cost_per_engagement": ratio(g["spend"], g["engagements"]),
        "video_view_rate": ratio(g["video_views"], g["impressions"]),
        "avg_first_response_min": ratio(g["response_minutes"], g["messages_answered"]),
        "unanswered_rate": ratio(g["messages"] - g["messages_answered"], g["messages"]),
    }
    result = pd.concat([g, pd.DataFrame(kpis)], axis=1).sort_values(["platform", "date"])
    result["date"] = result["date"].astype(str)
    json.dump({"rows": json.loads(result.to_json(orient="records"))}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
