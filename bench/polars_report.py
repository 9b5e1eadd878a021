"""Baseline for bench_report.py: the report as a competent polars user would script it for one known file.

Usage: python bench/polars_report.py FILE.csv [--german]   → JSON {"total": {...}, "rows": [...]} on stdout.
`--german`: `;`-separated, decimal commas, `.` thousands, day-first dates (the user knows their file).
"""

import json
import sys

import polars as pl

MEASURES = ["impressions", "reach", "clicks", "link_clicks", "likes", "comments", "shares", "saves", "engagements",
            "video_views", "followers", "new_followers", "unfollows", "spend", "leads", "conversions", "revenue",
            "messages", "messages_answered", "response_minutes"]


def ratio(num: str | pl.Expr, den: str) -> pl.Expr:
    num = pl.col(num) if isinstance(num, str) else num
    return pl.when(pl.col(den) != 0).then(num / pl.col(den))


KPIS = {"ctr": ratio("clicks", "impressions"), "link_ctr": ratio("link_clicks", "impressions"),
        "cpc": ratio("spend", "clicks"), "cpm": ratio(pl.col("spend") * 1000, "impressions"),
        "cpa": ratio("spend", "conversions"), "cpl": ratio("spend", "leads"), "cvr": ratio("conversions", "clicks"),
        "roas": ratio("revenue", "spend"), "roi": ratio(pl.col("revenue") - pl.col("spend"), "spend"),
        "aov": ratio("revenue", "conversions"), "frequency": ratio("impressions", "reach"),
        "engagement_rate": ratio("engagements", "reach"), "er_impressions": ratio("engagements", "impressions"),
        "er_followers": ratio("engagements", "followers"), "cost_per_engagement": ratio("spend", "engagements"),
        "video_view_rate": ratio("video_views", "impressions"),
        "net_follower_growth": pl.col("new_followers") - pl.col("unfollows").fill_null(0),
        "unfollow_rate": ratio("unfollows", "followers"),
        "avg_first_response_min": ratio("response_minutes", "messages_answered"),
        "unanswered_rate": ratio(pl.col("messages") - pl.col("messages_answered"), "messages")}


def main(path: str, german: bool) -> None:
    if german:
        frame = pl.scan_csv(path, separator=";", infer_schema=False).select(
            pl.col("date").str.to_date("%d.%m.%Y"), "platform",
            *[pl.col(m).str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
              .cast(pl.Float64) for m in MEASURES])
    else:
        frame = pl.scan_csv(path, schema_overrides={m: pl.Float64 for m in MEASURES}).select("date", "platform",
                                                                                             *MEASURES)
    sums = [pl.col(m).sum().alias(m) for m in MEASURES]
    rows = frame.group_by("platform", "date").agg(sums).with_columns(**KPIS).sort("platform", "date")
    total = frame.select(sums).with_columns(**KPIS)
    rows, total = pl.collect_all([rows, total])
    json.dump({"total": total.to_dicts()[0], "rows": rows.to_dicts()}, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1], "--german" in sys.argv[2:])
