"""Deterministic demo data: a realistic multi-platform marketing account.

Eight platforms over fourteen months (1 Sep 2025 – 31 Oct 2026), paid campaigns with
A/B creative variants, content formats, funnel stages and audiences, plus one organic
row per platform and day carrying followers, follower flows and inbox response times.
Fourteen months so that the default view (the last 30 days) can be compared with both
the previous period and the same days a year earlier on first load. The same seed
always gives the same frame; `rows` scales the number of paid series (1M and 10M rows
for the benchmarks) while keeping the window.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from metrics.schema import conform

DEMO_START = date(2025, 9, 1)
DEMO_END = date(2026, 10, 31)
DEMO_DAYS = (DEMO_END - DEMO_START).days + 1  # 426
# About a hundred rows a day, as the account always had.
DEFAULT_ROWS = 42_000

# platform: (cpm in USD, ctr, cvr, average order value, formats)
_PLATFORMS: dict[str, tuple[float, float, float, float, tuple[str, ...]]] = {
    "facebook": (9.5, 0.012, 0.035, 62.0, ("image", "carousel", "video")),
    "instagram": (8.0, 0.009, 0.028, 58.0, ("reel", "story", "carousel")),
    "tiktok": (6.5, 0.011, 0.022, 45.0, ("video",)),
    "linkedin": (32.0, 0.006, 0.055, 180.0, ("image", "text", "video")),
    "google_ads": (14.0, 0.045, 0.048, 75.0, ("text", "image")),
    "x": (5.5, 0.008, 0.015, 40.0, ("text", "image")),
    "youtube": (7.0, 0.004, 0.018, 70.0, ("video",)),
    "email": (4.5, 0.021, 0.032, 55.0, ("text",)),
}
_STAGES = ("awareness", "interest", "consideration", "action", "loyalty")
_AUDIENCES = ("18-24", "25-34", "35-44", "45-54", "55+")
_CAMPAIGN_THEMES = ("Spring Sale", "Brand Lift", "Retargeting", "Lead Magnet", "New Arrivals", "Loyalty Club")
# The funnel stage each campaign serves, in theme order.
_CAMPAIGN_STAGES = (3, 0, 2, 1, 1, 4)
_ORGANIC_BASE_FOLLOWERS = {
    "facebook": 48_000, "instagram": 72_000, "tiktok": 31_000, "linkedin": 12_500,
    "google_ads": 0, "x": 9_800, "youtube": 21_000, "email": 0,
}


def generate(rows: int | None = None, seed: int = 7, end: date = DEMO_END, days: int = DEMO_DAYS) -> pl.DataFrame:
    """The demo account as a canonical frame of about `rows` rows (default ~42,000).

    Deterministic for a given (rows, seed, end, days). Rows are ordered by date,
    then series.
    """
    rows = DEFAULT_ROWS if rows is None else int(rows)
    rng = np.random.default_rng(seed)
    dates = np.array([end - timedelta(days=days - 1 - i) for i in range(days)], dtype="datetime64[D]")
    organic_platforms = [p for p, base in _ORGANIC_BASE_FOLLOWERS.items() if base > 0]
    n_series = max(len(_PLATFORMS) * 2, (rows - days * len(organic_platforms)) // days)

    paid = _paid_rows(rng, dates, n_series)
    organic = _organic_rows(rng, dates, organic_platforms)
    frame = pl.concat([conform(paid), conform(organic)], how="vertical")
    return frame.with_columns(pl.lit("demo data").alias("source_file"), pl.lit("USD").alias("currency")).sort(
        ["date", "platform", "campaign", "ad_group", "ad"], nulls_last=True, maintain_order=True
    )


def _paid_rows(rng: np.random.Generator, dates: np.ndarray, n_series: int) -> pl.DataFrame:
    names = list(_PLATFORMS)
    # Series attributes: each ad belongs to a platform, campaign, ad group and A/B arm.
    platform_idx = np.arange(n_series) % len(names)
    ad_serial = np.arange(n_series) // len(names)
    # Ads come in A/B pairs inside the same ad group, so every campaign runs a test.
    variant_is_b = ad_serial % 2 == 1
    campaign_idx = (ad_serial // 2) % len(_CAMPAIGN_THEMES)
    group_idx = (ad_serial // (2 * len(_CAMPAIGN_THEMES))) % 4
    # An A/B test splits one audience evenly: ad B gets the audience, traffic and click-through rate of
    # its ad A (the series just before it on the same platform), so only the conversion rate differs
    # and the split passes a sample-ratio check however long the data runs.
    arm_a = np.where(variant_is_b, np.arange(n_series) - len(names), np.arange(n_series))
    audience_idx = rng.integers(0, len(_AUDIENCES), n_series)[arm_a]
    stage_idx = np.array(_CAMPAIGN_STAGES)[campaign_idx]

    platform = np.array(names)[platform_idx]
    formats = np.array([_PLATFORMS[p][4][i % len(_PLATFORMS[p][4])] for p, i in zip(platform, ad_serial)])
    campaign = np.array([f"{_CAMPAIGN_THEMES[c]} {2026}" for c in campaign_idx])
    ad_group = np.array([f"{_CAMPAIGN_THEMES[c]} · group {g + 1}" for c, g in zip(campaign_idx, group_idx)])
    # The last ad A of a platform without its ad B is in no test.
    paired = variant_is_b | (np.arange(n_series) + len(names) < n_series)
    variant = np.where(variant_is_b, "B", np.where(paired, "A", ""))
    ad = np.char.add(np.char.add(ad_group.astype(str), " · ad "), ad_serial.astype(str))
    ad = np.char.rstrip(np.char.add(np.char.add(ad, " "), variant))

    cpm = np.array([_PLATFORMS[p][0] for p in platform])
    ctr = (np.array([_PLATFORMS[p][1] for p in platform]) * rng.uniform(0.7, 1.3, n_series))[arm_a]
    cvr = (np.array([_PLATFORMS[p][2] for p in platform]) * rng.uniform(0.7, 1.3, n_series))[arm_a]
    cvr = np.where(variant_is_b, cvr * 1.15, cvr)  # variant B is the better creative
    aov = np.array([_PLATFORMS[p][3] for p in platform])
    scale = rng.lognormal(7.2, 0.6, n_series)[arm_a]  # daily impressions of a series

    n_days = len(dates)
    # Spend grows about a third over the window (so a year-on-year comparison shows growth) with a
    # weekly rhythm.
    day_pos = np.arange(n_days)
    weekday = (dates.astype("datetime64[D]").view("int64") + 3) % 7  # 0 = Monday
    seasonal = (1 + 0.35 * day_pos / n_days) * np.where(weekday >= 5, 0.8, 1.05)

    total = n_days * n_series
    s = np.tile(np.arange(n_series), n_days)
    d = np.repeat(np.arange(n_days), n_series)
    impressions = rng.poisson(scale[s] * seasonal[d]).astype(np.float64)
    clicks = rng.binomial(impressions.astype(np.int64), np.clip(ctr[s], 0, 1)).astype(np.float64)
    link_clicks = rng.binomial(clicks.astype(np.int64), 0.72).astype(np.float64)
    conversions = rng.binomial(clicks.astype(np.int64), np.clip(cvr[s], 0, 1)).astype(np.float64)
    leads = rng.binomial(clicks.astype(np.int64), np.clip(cvr[s] * 1.8, 0, 1)).astype(np.float64)
    revenue = np.round(conversions * aov[s] * rng.uniform(0.6, 1.4, total), 2)
    spend = np.round(impressions * cpm[s] / 1000 * rng.uniform(0.9, 1.1, total), 2)
    reach = np.floor(impressions / rng.uniform(1.1, 1.9, total))
    likes = rng.binomial(impressions.astype(np.int64), 0.004).astype(np.float64)
    comments = rng.binomial(likes.astype(np.int64), 0.08).astype(np.float64)
    shares = rng.binomial(likes.astype(np.int64), 0.05).astype(np.float64)
    saves = rng.binomial(likes.astype(np.int64), 0.07).astype(np.float64)
    is_video = np.isin(formats, ["video", "reel", "story"])
    video_views = np.where(is_video[s], np.floor(impressions * 0.31), np.nan)

    series = pl.DataFrame(
        {
            "platform": platform,
            "campaign": campaign,
            "ad_group": ad_group,
            "ad": ad,
            "variant": [arm or None for arm in variant],
            "content_format": formats,
            "funnel_stage": np.array(_STAGES)[stage_idx],
            "audience": np.array(_AUDIENCES)[audience_idx],
        }
    )
    measures = pl.DataFrame(
        {
            "impressions": impressions,
            "reach": reach,
            "clicks": clicks,
            "link_clicks": link_clicks,
            "likes": likes,
            "comments": comments,
            "shares": shares,
            "saves": saves,
            "engagements": likes + comments + shares + saves + clicks,
            "video_views": video_views,
            "spend": spend,
            "leads": leads,
            "conversions": conversions,
            "revenue": revenue,
        },
        nan_to_null=True,
    )
    # Gathering from the small per-series frame is far cheaper than building string arrays per row.
    dimensions = series.select(pl.all().gather(pl.Series(s, dtype=pl.UInt32)))
    day = pl.Series("date", np.repeat(dates, n_series)).cast(pl.Date)
    return pl.concat([dimensions, measures], how="horizontal").with_columns(day)


def _organic_rows(rng: np.random.Generator, dates: np.ndarray, platforms: list[str]) -> pl.DataFrame:
    records: dict[str, list] = {k: [] for k in (
        "date", "platform", "campaign", "content_format", "funnel_stage", "impressions", "reach", "likes",
        "comments", "shares", "saves", "engagements", "video_views", "followers", "new_followers", "unfollows",
        "messages", "messages_answered", "response_minutes",
    )}
    for platform in platforms:
        followers = float(_ORGANIC_BASE_FOLLOWERS[platform])
        fmt = _PLATFORMS[platform][4][0]
        for day in dates:
            new = float(rng.poisson(followers * 0.0021))
            lost = float(rng.poisson(followers * 0.0007))
            followers += new - lost
            impressions = float(rng.poisson(followers * 0.35))
            likes = float(rng.binomial(int(impressions), 0.03))
            comments = float(rng.binomial(int(likes), 0.1))
            shares = float(rng.binomial(int(likes), 0.06))
            saves = float(rng.binomial(int(likes), 0.09))
            messages = float(rng.poisson(14))
            answered = float(min(messages, rng.binomial(int(messages), 0.9)))
            records["date"].append(day.astype("datetime64[D]").item())
            records["platform"].append(platform)
            records["campaign"].append("Organic")
            records["content_format"].append(fmt)
            records["funnel_stage"].append("awareness")
            records["impressions"].append(impressions)
            records["reach"].append(float(np.floor(impressions / 1.6)))
            records["likes"].append(likes)
            records["comments"].append(comments)
            records["shares"].append(shares)
            records["saves"].append(saves)
            records["engagements"].append(likes + comments + shares + saves)
            records["video_views"].append(float(np.floor(impressions * 0.4)) if fmt in ("video", "reel") else None)
            records["followers"].append(followers)
            records["new_followers"].append(new)
            records["unfollows"].append(lost)
            records["messages"].append(messages)
            records["messages_answered"].append(answered)
            records["response_minutes"].append(float(np.round(answered * rng.uniform(8, 95), 1)))
    return pl.DataFrame(records).with_columns(pl.col("date").cast(pl.Date))


def write_csv(path, rows: int, seed: int = 7) -> int:
    """Write a demo CSV of about `rows` rows in chunks (keeps memory flat at 10M rows). Returns bytes written."""
    import os

    chunk = 1_000_000
    written = 0
    with open(path, "wb") as handle:
        for i, start in enumerate(range(0, rows, chunk)):
            part = generate(rows=min(chunk, rows - start), seed=seed + i)
            part.write_csv(handle, include_header=(i == 0))
            written += part.height
    return os.path.getsize(path)
