"""Chart helpers shared by every page: one colour per platform, aggregated data only, dates and numbers in
the display catalog's style, and PNG/SVG downloads that carry a title, the period and the source."""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import altair as alt
import polars as pl
import streamlit as st

from metrics.display import (
    AXIS_DATE_FORMATS,
    axis_format,
    axis_label_expr,
    axis_title,
    describe,
    format_bucket,
    format_period,
    format_value,
    platform_label,
    text_column,
)
from metrics.schema import platform_color
from ui import filters, memory
from ui.state import get_dataset

try:  # Streamlit's own altair → Vega-Lite conversion and the lock on altair's global settings (private, pinned)
    from streamlit.elements.vega_charts import _altair_globals_lock as _ALTAIR_GLOBALS_LOCK
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec as _convert_altair
    from streamlit.elements.vega_charts import _stabilize_vega_json_spec as _stable_names
except ImportError:  # pragma: no cover - a Streamlit without them draws every chart uncached
    _ALTAIR_GLOBALS_LOCK, _convert_altair, _stable_names = threading.Lock(), None, None

# A chart never receives raw rows: pages aggregate first. This guards against mistakes.
MAX_MARKS = 5_000
# At most this many dates are written under a time axis (every k-th bucket, so ticks sit on the points).
MAX_TIME_TICKS = 8
PRODUCT = "Campaign Lens"


def check_size(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.height > MAX_MARKS:
        raise ValueError(f"a chart got {frame.height} rows; aggregate before charting")
    return frame


# --- downloads ---------------------------------------------------------------------------------------------


def show_chart(chart: alt.TopLevelMixin, *, key: str, name: str, title: str | None = None,
               period: str | None = None) -> None:
    """Render an altair chart with PNG and SVG downloads (rendered on demand by vl-convert). The downloaded
    chart carries `title` (the file `name` in words when not given), the period (the sidebar's, unless
    `period` says otherwise) and the source."""
    spec = vega_lite_spec(chart)
    if spec is None:  # Streamlit's converter moved (see vega_lite_spec): its own, uncached path
        st.altair_chart(chart, width="stretch", key=f"chart_{key}")
    else:
        # A copy: Streamlit patches some entries in place, and the cached spec is shared by every session.
        st.vega_lite_chart(spec=copy.deepcopy(spec), width="stretch", key=f"chart_{key}")
    title = title or describe(name).label
    period, source = export_context(period)
    # The file's chart is built on the click: copying and re-validating it costs more than drawing the chart.
    with st.popover("Download chart", icon=":material/image:"):
        st.download_button("PNG", lambda: chart_png(export_chart(chart, title=title, period=period, source=source)),
                           file_name=f"{name}.png", mime="image/png", key=f"{key}_png", on_click="ignore")
        st.download_button("SVG", lambda: chart_svg(export_chart(chart, title=title, period=period, source=source)),
                           file_name=f"{name}.svg", mime="image/svg+xml", key=f"{key}_svg", on_click="ignore")


def _chart_content(chart: alt.TopLevelMixin) -> str:
    """What identifies the chart: for a chart from a `cached_builder`, its builder and inputs (no need to
    write it out); else a hash of the chart's whole Vega-Lite JSON with its data inline (unvalidated, sorted
    keys, altair's generated parameter and view names numbered in order as Streamlit does): equal text means an equal
    chart. Under Streamlit's lock on altair's global settings, so no other session's conversion changes them."""
    known = _built_key(chart)
    if known is not None:
        return known
    with _ALTAIR_GLOBALS_LOCK, alt.data_transformers.enable("default", max_rows=None):
        text = chart.to_json(validate=False, sort_keys=True, indent=None)
    return hashlib.sha256(_stable_names(text).encode("utf-8")).hexdigest()


@memory.release_when_idle
@st.cache_resource(max_entries=256, show_spinner=False)
def _converted(content: str, _chart: alt.TopLevelMixin) -> dict:
    """Streamlit's own conversion (validated, data as Arrow), once per distinct chart content."""
    return _convert_altair(_chart)


def vega_lite_spec(chart: alt.TopLevelMixin) -> dict | None:
    """The Vega-Lite spec `st.altair_chart` would send for `chart`, cached by the chart's content: a rerun
    that draws the same chart again (a change elsewhere on the page, a page visited again, another session
    on the same data) skips altair's validation and Arrow conversion; any other data or setting is another
    content, converted anew. Treat the result as read-only. None when
    this Streamlit has no such converter (then draw with `st.altair_chart`)."""
    if _convert_altair is None:
        return None
    return _converted(_chart_content(chart), chart)


# --- chart builders cached by their inputs --------------------------------------------------------------------

# Charts from `cached_builder`, by id, with what identifies them ("builder:inputs hash"). The chart is kept
# with its key, so an id is never reused while it is listed; bounded like the builders' cache.
_BUILT_MAX = 512
_built_keys: OrderedDict[int, tuple[object, str]] = memory.release_when_idle(OrderedDict())
_built_lock = threading.Lock()


class Unkeyable(TypeError):
    """An input `inputs_key` cannot write out by content (the builder then runs uncached)."""


def _feed(digest, value) -> None:
    """Write `value` into `digest` by content: type names included, so 1, 1.0, "1" and True differ."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, date, datetime, enum.Enum)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, pl.DataFrame):
        # Every row hashed (not a sample, PITFALLS.md); the schema keeps equal values of other types apart.
        digest.update(f"frame:{value.schema!r}:{value.height};".encode())
        digest.update(value.hash_rows(seed=0).to_numpy().tobytes())
    elif isinstance(value, pl.Series):
        _feed(digest, value.to_frame())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}[{len(value)}](".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b")")
    elif isinstance(value, dict):
        digest.update(f"dict[{len(value)}](".encode())
        for name, item in value.items():  # in order: a dict's order can change what a chart draws
            _feed(digest, name)
            _feed(digest, item)
        digest.update(b")")
    elif isinstance(value, (set, frozenset)):
        _feed(digest, sorted(value, key=repr))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"{type(value).__module__}.{type(value).__qualname__}(".encode())
        for field in dataclasses.fields(value):
            _feed(digest, field.name)
            _feed(digest, getattr(value, field.name))
        digest.update(b")")
    elif isinstance(value, alt.TopLevelMixin) and (key := _built_key(value)) is not None:
        digest.update(f"chart:{key};".encode())  # a chart a cached builder made: its builder and inputs
    else:
        raise Unkeyable(f"{type(value).__qualname__} cannot be keyed by content")


def inputs_key(builder: Callable, args: tuple, kwargs: dict) -> str:
    """A hash of the builder and of every argument by content (frames row by row, dataclasses field by field)."""
    digest = hashlib.sha256(f"{builder.__module__}.{builder.__qualname__}".encode())
    _feed(digest, args)
    _feed(digest, sorted(kwargs.items()))
    return digest.hexdigest()


def _built_key(chart: object) -> str | None:
    with _built_lock:
        known = _built_keys.get(id(chart))
    return known[1] if known is not None and known[0] is chart else None


def _remember(chart: object, key: str) -> None:
    with _built_lock:
        _built_keys[id(chart)] = (chart, key)
        _built_keys.move_to_end(id(chart))
        while len(_built_keys) > _BUILT_MAX:
            _built_keys.popitem(last=False)


@memory.release_when_idle
@st.cache_resource(max_entries=256, show_spinner=False)
def _built(key: str, _builder: Callable, _args: tuple, _kwargs: dict):
    return _builder(*_args, **_kwargs)


def cached_builder(builder: Callable) -> Callable:
    """Cache what a chart builder returns (a chart, a list of layers or None) by the content of its inputs:
    a rerun that draws the same chart again skips building it and, in `show_chart`, writing it out to find
    its cached spec. Different inputs (another filter, metric or data) are another entry, built anew. The
    charts are shared by every session: treat them as read-only (altair's methods return copies). An input
    that cannot be keyed by content (an unknown object, a chart not built here) builds uncached."""

    @functools.wraps(builder)
    def build(*args, **kwargs):
        try:
            key = inputs_key(builder, args, kwargs)
        except Unkeyable:
            return builder(*args, **kwargs)
        result = _built(key, builder, args, kwargs)
        for index, chart in enumerate(result if isinstance(result, (list, tuple)) else (result,)):
            if isinstance(chart, alt.TopLevelMixin):
                _remember(chart, f"built:{key}:{index}")
        return list(result) if isinstance(result, list) else result  # a copy: callers may extend a list

    build.uncached = builder
    return build


def export_context(period: str | None = None, source: str | None = None) -> tuple[str, str]:
    """The period and source lines a downloaded chart carries: the sidebar's dates (with the comparison)
    and the current data's label, unless given."""
    if period is None:
        flt = filters.current()
        period = format_period(flt.date_from, flt.date_to) if flt.date_from and flt.date_to else ""
        if compared := flt.comparison_dates():
            period += f" · compared with {format_period(*compared)}"
    if source is None:
        dataset = get_dataset()
        source = f"Source: {dataset.label} · {PRODUCT}" if dataset is not None else f"Source: {PRODUCT}"
    return period, source


def export_chart(chart: alt.TopLevelMixin, *, title: str, period: str | None = None,
                 source: str | None = None) -> alt.VConcatChart:
    """The chart as a file shows it out of context: the title and the period above, the source below.

    `period` defaults to the sidebar's dates (with the comparison), `source` to the current data's label.
    """
    period, source = export_context(period, source)
    inner = chart.copy(deep=True)
    if isinstance(inner, (alt.Chart, alt.LayerChart)) and inner.width in (alt.Undefined, "container"):
        inner = inner.properties(width=640)
    inner = inner.properties(title=alt.TitleParams(text=title, subtitle=period or alt.Undefined, anchor="start",
                                                   fontSize=15, subtitleColor="#495057"))
    # Top-level settings cannot sit inside a concatenation: they move to the outer chart.
    top_level = {}
    for setting in ("autosize", "config", "padding", "background"):
        value = getattr(inner, setting, alt.Undefined)
        if value is not alt.Undefined:
            top_level[setting] = value
            setattr(inner, setting, alt.Undefined)
    return alt.vconcat(inner, title=alt.TitleParams(text=source, orient="bottom", anchor="start", fontSize=10,
                                                    fontWeight="normal", color="#868E96"), **top_level)


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    import vl_convert as vlc  # imported on a click: its engine costs start-up time no page run should pay

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def chart_svg(chart: alt.TopLevelMixin) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json()).encode("utf-8")


# --- shared encodings ----------------------------------------------------------------------------------------


def with_platform_labels(frame: pl.DataFrame, field: str = "platform") -> pl.DataFrame:
    """Add `platform_label` ("Google Ads") next to the slug, for legends, axes and tooltips."""
    return frame.with_columns(text_column(frame, field, platform_label, "platform_label"))


def platform_label_color(frame: pl.DataFrame, field: str = "platform", *, legend: bool = True) -> alt.Color:
    """Colour by the platform's display name, with the platform's own colour (`schema.PLATFORM_COLORS`)."""
    slugs = sorted(set(frame.get_column(field).drop_nulls().to_list()))
    scale = alt.Scale(domain=[platform_label(s) for s in slugs], range=[platform_color(s) for s in slugs])
    return alt.Color("platform_label:N", scale=scale, title="Platform", legend=alt.Legend() if legend else None)


def formatted(frame: pl.DataFrame, column: str, kind: str, currency: str | None, alias: str) -> pl.DataFrame:
    """A text column with the value formatted exactly like the tiles (tooltips and labels show it)."""
    return frame.with_columns(text_column(frame, column, lambda v: format_value(v, kind, currency), alias))


def time_ticks(dates: Sequence[date], limit: int = MAX_TIME_TICKS) -> list[date]:
    """The dates written under a time axis: the data's own buckets (so a weekly tick sits on its weekly
    point and no two ticks read the same), every k-th one when there are more than `limit`."""
    buckets = sorted({d for d in dates if d is not None})
    step = max(1, math.ceil(len(buckets) / limit))
    return buckets[::step]


def time_x(frame: pl.DataFrame, grain: str, field: str = "date") -> alt.X:
    """The x encoding of a time series at `grain`: ticks on the buckets, short dates ('9 Aug', 'Aug 2025')."""
    values = [alt.DateTime(year=d.year, month=d.month, date=d.day) for d in time_ticks(frame.get_column(field))]
    return alt.X(f"{field}:T", title=None,
                 axis=alt.Axis(values=values, format=AXIS_DATE_FORMATS.get(grain, AXIS_DATE_FORMATS["day"]),
                               labelOverlap=True, grid=False))


def with_bucket_text(frame: pl.DataFrame, grain: str, field: str = "date") -> pl.DataFrame:
    """`bucket_text`: the bucket in the catalog's date style ('9 Aug 2025', 'Aug 2025') for tooltips."""
    return frame.with_columns(text_column(frame, field, lambda d: format_bucket(d, grain), "bucket_text"))


BUCKET_TITLES = {"day": "Day", "week": "Week starting", "month": "Month"}


def value_axis(metric: str, kind: str, currency: str | None, values: Sequence[float | None] = ()) -> alt.Axis:
    """A value axis in the metric's format with unique ticks ('4 %', '$1,200', '250k')."""
    largest = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=None)
    return alt.Axis(format=axis_format(kind, largest), labelExpr=axis_label_expr(kind) or alt.Undefined)


def value_title(metric: str, label: str, currency: str | None) -> str:
    """The axis title: the catalog's ('CPA (EUR)') when `label` is the catalog's label, else `label`."""
    return axis_title(metric, currency) if label == describe(metric).label else label


# --- chart builders (aggregated frames in, altair charts out) -----------------------------------------------


@cached_builder
def trend_chart(
    frame: pl.DataFrame, metric: str, *, label: str, kind: str, currency: str | None = None,
    by_platform: bool = True, grain: str = "day",
) -> alt.Chart:
    """A line per platform (platform colours) or one total line over `date` at `grain`, with tooltips.

    Give it every period (`metrics.trends.complete_periods`): a period without data (null) breaks the
    line — a gap, never a line drawn through it or a drop to zero — and a period marked `partial`
    (cut by the date range) gets a hollow point and says so in its tooltip.
    """
    frame = with_bucket_text(formatted(check_size(frame), metric, kind, currency, "value_text"), grain)
    if "partial" not in frame.columns:
        frame = frame.with_columns(pl.lit(False).alias("partial"))
    frame = frame.with_columns(
        pl.when(pl.col("partial")).then(pl.lit("partial (the range covers part of it)")).otherwise(pl.lit(""))
        .alias("period_note")
    )
    if by_platform:
        frame = with_platform_labels(frame)
    tooltip = [alt.Tooltip("bucket_text:N", title=BUCKET_TITLES.get(grain, "Date"))]
    if by_platform:
        tooltip.append(alt.Tooltip("platform_label:N", title="Platform"))
    tooltip += [alt.Tooltip("value_text:N", title=label), alt.Tooltip("period_note:N", title="Note")]
    base = alt.Chart(frame).encode(
        x=time_x(frame, grain),
        y=alt.Y(f"{metric}:Q", title=value_title(metric, label, currency),
                axis=value_axis(metric, kind, currency, frame.get_column(metric).to_list())),
        tooltip=tooltip,
    )
    if by_platform:
        base = base.encode(color=platform_label_color(frame))
    # Null values break the path (a gap) instead of being skipped or drawn as zero.
    line = base.mark_line(strokeWidth=2, interpolate="monotone", color="#4C6EF5", invalid="break-paths-show-domains")
    # Points only while they stay readable; a long daily series reads better as a plain line. A partial
    # period's point is always drawn, hollow.
    few = frame.get_column("date").n_unique() <= 45
    points = base.transform_filter("!datum.partial").mark_point(filled=True, size=40, color="#4C6EF5",
                                                                  opacity=1 if few else 0)
    partial = base.transform_filter("datum.partial").mark_point(filled=False, size=60, strokeWidth=2,
                                                                 color="#4C6EF5", fill="white")
    return (line + points + partial).properties(height=340).interactive(bind_y=False)


@cached_builder
def platform_bar_chart(
    frame: pl.DataFrame, metric: str, *, label: str, kind: str, currency: str | None = None,
) -> alt.Chart:
    """Horizontal bars of one metric per platform, best-valued first, platform colours, value labels."""
    frame = with_platform_labels(formatted(check_size(frame), metric, kind, currency, "value_text"))
    frame = frame.filter(pl.col(metric).is_not_null())
    order = frame.sort(metric, descending=True).get_column("platform_label").to_list()
    y = alt.Y("platform_label:N", sort=order, title=None)
    base = alt.Chart(frame).encode(
        y=y,
        x=alt.X(f"{metric}:Q", title=value_title(metric, label, currency),
                axis=value_axis(metric, kind, currency, frame.get_column(metric).to_list())),
        tooltip=[alt.Tooltip("platform_label:N", title="Platform"), alt.Tooltip("value_text:N", title=label)],
    )
    bars = base.mark_bar(cornerRadiusEnd=3, height={"band": 0.7}).encode(
        color=platform_label_color(frame, legend=False)
    )
    text = base.mark_text(align="left", dx=4, color="#495057", fontSize=12).encode(text="value_text:N")
    return (bars + text).properties(height=max(160, 38 * frame.height))


@cached_builder
def share_chart(frame: pl.DataFrame) -> alt.Chart:
    """Share of spend next to share of conversions per platform (grouped bars; platform colours,
    spend lighter)."""
    shares = with_platform_labels(check_size(frame)).select("platform", "platform_label", "share_of_spend",
                                                            "share_of_conversions")
    long = shares.unpivot(index=["platform", "platform_label"], variable_name="share", value_name="value")
    long = formatted(long.with_columns(
        pl.col("share").replace_strict({"share_of_spend": describe("share_of_spend").label,
                                        "share_of_conversions": describe("share_of_conversions").label},
                                       return_dtype=pl.String),
    ), "value", "percent", None, "value_text")
    order = shares.sort("share_of_spend", descending=True, nulls_last=True).get_column("platform_label").to_list()
    kinds = [describe("share_of_spend").label, describe("share_of_conversions").label]
    return alt.Chart(long).mark_bar(cornerRadiusEnd=3).encode(
        y=alt.Y("platform_label:N", sort=order, title=None),
        yOffset=alt.YOffset("share:N", sort=kinds),
        x=alt.X("value:Q", title="Share of the total", axis=value_axis("share_of_spend", "percent", None)),
        color=platform_label_color(shares, legend=False),
        opacity=alt.Opacity("share:N", sort=kinds, scale=alt.Scale(domain=kinds, range=[0.4, 1.0]),
                            legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("platform_label:N", title="Platform"), alt.Tooltip("share:N", title="Measure"),
                 alt.Tooltip("value_text:N", title="Share")],
    ).properties(height=max(180, 46 * shares.height))


# --- efficiency bubbles ------------------------------------------------------------------------------------

BUBBLE_HEIGHT = 380  # px of the plot area: label offsets are computed in it
BUBBLE_AREA = (60.0, 1600.0)  # px² of the smallest and largest bubble
BUBBLE_LABELS = 6  # at most this many bubbles are named on the chart; the legend and tooltips name all
_ASSUMED_WIDTH = 420.0  # px: the narrowest plot the collision rule plans for (half a laptop screen)
_CHAR_WIDTH, _LABEL_HEIGHT, _GAP = 6.6, 13.0, 4.0


@dataclass(frozen=True)
class BubbleLayout:
    """The scales the bubble chart is drawn with (fixed, so label positions can be planned)."""

    x_domain: tuple[float, float]  # conversions, log scale
    y_domain: tuple[float, float]  # CPA, linear from 0
    max_size: float  # spend of the largest bubble


def bubble_layout(frame: pl.DataFrame) -> BubbleLayout:
    conversions = frame.get_column("conversions").to_list()
    lo, hi = min(conversions), max(conversions)
    top = max(frame.get_column("cpa").to_list())
    return BubbleLayout(x_domain=(lo / 2.5, hi * 2.5), y_domain=(0.0, top * 1.3 if top > 0 else 1.0),
                        max_size=max(frame.get_column("spend").fill_null(0.0).to_list() + [1e-9]))


def _bubble_pixels(row: dict, layout: BubbleLayout, width: float) -> tuple[float, float, float]:
    """Centre (x, y; y grows downwards) and radius of a bubble in px, as Vega draws it."""
    lo, hi = (math.log(v) for v in layout.x_domain)
    x = width * (math.log(row["conversions"]) - lo) / (hi - lo)
    y = BUBBLE_HEIGHT * (1 - (row["cpa"] - layout.y_domain[0]) / (layout.y_domain[1] - layout.y_domain[0]))
    share = (row["spend"] or 0.0) / layout.max_size
    area = BUBBLE_AREA[0] + (BUBBLE_AREA[1] - BUBBLE_AREA[0]) * share
    return x, y, math.sqrt(area / math.pi)


def place_bubble_labels(frame: pl.DataFrame, layout: BubbleLayout, *, width: float = _ASSUMED_WIDTH,
                        limit: int = BUBBLE_LABELS) -> pl.DataFrame:
    """Where each bubble's name goes so that no two names overlap and no name covers another bubble:
    the biggest spenders first, each above its bubble, else below, else unnamed (`label_y` null).

    Returns the frame with `label_y` (the name's baseline, in CPA units) and `label_box` (left, top,
    right, bottom in px of a `width`-wide plot) for the named ones.
    """
    rows = frame.sort("spend", descending=True, nulls_last=True).to_dicts()
    circles = [_bubble_pixels(r, layout, width) for r in rows]
    placed: list[tuple[float, float, float, float]] = []
    label_y: list[float | None] = []
    boxes: list[list[float] | None] = []
    for index, (row, (x, y, radius)) in enumerate(zip(rows, circles)):
        half = len(row["platform_label"]) * _CHAR_WIDTH / 2
        chosen = None
        if len(placed) < limit:
            for baseline in (y - radius - _GAP, y + radius + _GAP + _LABEL_HEIGHT):
                box = (x - half, baseline - _LABEL_HEIGHT, x + half, baseline)
                inside = box[0] >= 0 and box[2] <= width and box[1] >= 0 and box[3] <= BUBBLE_HEIGHT
                clear = not any(_overlap(box, other) for other in placed) and not any(
                    _covers(box, circle) for j, circle in enumerate(circles) if j != index)
                if inside and clear:
                    chosen = (baseline, box)
                    break
        if chosen is None:
            label_y.append(None)
            boxes.append(None)
            continue
        placed.append(chosen[1])
        boxes.append(list(chosen[1]))
        span = layout.y_domain[1] - layout.y_domain[0]
        label_y.append(layout.y_domain[0] + (1 - chosen[0] / BUBBLE_HEIGHT) * span)
    return pl.DataFrame(rows).with_columns(
        pl.Series("label_y", label_y, dtype=pl.Float64),
        pl.Series("label_box", boxes, dtype=pl.List(pl.Float64)),
    )


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _covers(box: Sequence[float], circle: tuple[float, float, float]) -> bool:
    x, y, radius = circle
    nearest_x, nearest_y = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])
    return (nearest_x - x) ** 2 + (nearest_y - y) ** 2 < radius ** 2


@cached_builder
def efficiency_bubble_chart(frame: pl.DataFrame, *, currency: str | None = None) -> alt.LayerChart:
    """CPA (y) against conversions (x), bubble size = spend: big cheap bubbles on the right are the winners.

    Names are written only where they fit (`place_bubble_labels`); every bubble is in the legend and its
    tooltip. Platforms without conversions cannot sit on the log axis and are left out (the page says so).
    """
    frame = with_platform_labels(check_size(frame)).filter(
        pl.col("cpa").is_not_null() & pl.col("conversions").is_not_null() & (pl.col("conversions") > 0)
    )
    for column, kind in (("cpa", "currency"), ("spend", "currency"), ("conversions", "number")):
        frame = formatted(frame, column, kind, currency, f"{column}_text")
    layout = bubble_layout(frame)
    frame = place_bubble_labels(frame, layout)
    base = alt.Chart(frame).encode(
        x=alt.X("conversions:Q", title=f"{describe('conversions').label} (log scale)",
                axis=alt.Axis(format=axis_format("number", layout.x_domain[1]), tickCount=5),
                scale=alt.Scale(type="log", domain=list(layout.x_domain), nice=False)),
        y=alt.Y("cpa:Q", title=axis_title("cpa", currency),
                axis=value_axis("cpa", "currency", currency), scale=alt.Scale(domain=list(layout.y_domain),
                                                                              nice=False)),
        tooltip=[alt.Tooltip("platform_label:N", title="Platform"),
                 alt.Tooltip("cpa_text:N", title=describe("cpa").label),
                 alt.Tooltip("conversions_text:N", title=describe("conversions").label),
                 alt.Tooltip("spend_text:N", title=describe("spend").label)],
    )
    spend_values = _legend_values(layout.max_size)
    bubbles = base.mark_circle(opacity=0.8, stroke="white", strokeWidth=1).encode(
        size=alt.Size("spend:Q", title=axis_title("spend", currency),
                      scale=alt.Scale(domain=[0, layout.max_size], range=list(BUBBLE_AREA)),
                      legend=alt.Legend(values=spend_values, format=axis_format("number", layout.max_size),
                                        orient="bottom", direction="horizontal", symbolFillColor="#adb5bd",
                                        symbolStrokeWidth=0, labelOverlap=False)),
        color=platform_label_color(frame),
    )
    names = alt.Chart(frame.filter(pl.col("label_y").is_not_null())).mark_text(
        fontSize=11, color="#343a40", baseline="bottom",
    ).encode(x="conversions:Q", y="label_y:Q", text="platform_label:N")
    return alt.layer(bubbles, names).properties(height=BUBBLE_HEIGHT)


def _legend_values(largest: float) -> list[float]:
    """Three round spend values for the size legend, the largest not above the biggest bubble."""
    if largest <= 0:
        return []
    magnitude = 10 ** math.floor(math.log10(largest))
    top = math.floor(largest / magnitude) * magnitude
    return sorted({round(top / 4, 6), round(top / 2, 6), top})
