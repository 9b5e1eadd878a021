"""The report as one self-contained HTML document: `render(report) -> str`.

Nothing leaves the file: CSS is inline, charts are inline SVG (vl-convert), the logo is a data: URI, fonts
are the reader's own, and a Content-Security-Policy forbids every fetch even if something slipped in.
Every piece of text — campaign and file names, the client's name, the footer — is escaped with
`html.escape` and so shown as text. The chart SVG is re-serialised through an allow-list (no scripts, no
event handlers, no links) with its ids made unique per chart, so two charts never share a clip path.
"""

from __future__ import annotations

import base64
import html
import re
import xml.etree.ElementTree as ElementTree

from reports.model import Block, Chart, Paragraph, Report, Table, Tile

SVG_NS = "http://www.w3.org/2000/svg"
SVG_TAGS = frozenset({"svg", "g", "path", "rect", "line", "circle", "ellipse", "polygon", "polyline", "text",
                      "tspan", "title", "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop"})
_LOCAL_URL = re.compile(r"url\(#([\w.-]+)\)")
_ANY_URL = re.compile(r"url\(", re.IGNORECASE)
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#212529;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:960px;margin:0 auto;padding:32px 28px;background:#fff}
.logo{max-height:56px;max-width:220px;display:block;margin-bottom:16px}
.bar{width:64px;height:5px;background:var(--accent);margin-bottom:14px}
h1{font-size:30px;line-height:1.2;margin:0 0 4px}
.client{font-size:17px;margin:0 0 14px;color:#343a40}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0 0 20px;font-size:13px}
dl.facts dt{color:#6c757d;font-weight:600}dl.facts dd{margin:0}
.headline{background:var(--tint);border-left:4px solid var(--accent);padding:14px 18px;font-weight:600;
font-size:16px;margin:0 0 24px}
h2{color:var(--accent);font-size:21px;margin:34px 0 10px;break-after:avoid}
h3{font-size:15px;margin:20px 0 6px;break-after:avoid}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.tile{border:1px solid #dee2e6;border-radius:6px;padding:10px 12px;break-inside:avoid}
.tile .label{color:#6c757d;font-size:12px}.tile .value{font-size:22px;font-weight:700;line-height:1.3}
.tile .exact{color:#6c757d;font-size:11px}.tile .change{font-size:12px;font-weight:600;color:#6c757d}
.tile .change.good{color:#2b8a3e}.tile .change.bad{color:#c92a2a}
figure{margin:0 0 18px;break-inside:avoid}figure svg{max-width:100%;height:auto;display:block}
figcaption,.note{color:#6c757d;font-size:12px;margin:4px 0 0}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
thead th{background:var(--accent);color:#fff;text-align:left;padding:6px 8px;font-weight:600}
td{padding:5px 8px;border-bottom:1px solid #e9ecef;vertical-align:top}
tbody tr:nth-child(even){background:#f6f7f9}
.num{text-align:right;white-space:nowrap}th.num{text-align:right}
ul.notes{color:#6c757d;font-size:12.5px;padding-left:18px}
footer{margin-top:36px;padding-top:10px;border-top:2px solid var(--accent);color:#6c757d;font-size:12px}
@media print{body{background:#fff}main{padding:0;max-width:none}thead{display:table-header-group}
tr{break-inside:avoid}}
@page{margin:15mm}
"""


def render(report: Report) -> str:
    """The HTML document (see the module docstring)."""
    branding = report.branding
    red, green, blue = branding.accent_rgb
    tint = "#{:02x}{:02x}{:02x}".format(*(int(255 - (255 - c) * 0.1) for c in (red, green, blue)))
    charts = _chart_svgs([b for s in report.sections for b in s.blocks if isinstance(b, Chart)])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_text(report.cover.title)}</title>",
        # The accent is validated as #RRGGBB (Branding), so it is safe inside CSS.
        f"<style>:root{{--accent:{branding.accent};--tint:{tint}}}{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        *_cover(report),
    ]
    if report.tiles:
        parts += ['<section class="glance">', "<h2>At a glance</h2>", '<div class="tiles">',
                  *(_tile(t) for t in report.tiles), "</div>", "</section>"]
    for section in report.sections:
        parts += ["<section>", f"<h2>{_text(section.title)}</h2>",
                  *(_block(block, charts) for block in section.blocks), "</section>"]
    if report.notes:
        parts += ["<section>", "<h2>Notes</h2>", '<ul class="notes">',
                  *(f"<li>{_text(note)}</li>" for note in report.notes), "</ul>", "</section>"]
    parts += [f"<footer>{_text(branding.footer)}</footer>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _cover(report: Report) -> list[str]:
    cover, branding = report.cover, report.branding
    parts = ["<header>"]
    if branding.logo:
        data = base64.b64encode(branding.logo).decode("ascii")
        parts.append(f'<img class="logo" alt="Logo" src="data:{branding.logo_mime};base64,{data}">')
    parts += ['<div class="bar"></div>', f"<h1>{_text(cover.title)}</h1>"]
    if cover.client:
        parts.append(f'<p class="client">Prepared for {_text(cover.client)}</p>')
    facts = [("Period", cover.period)]
    if cover.comparison:
        facts.append(("Compared with", cover.comparison))
    facts += [("Scope", cover.scope), ("Data as of", cover.as_of), ("Generated", cover.generated)]
    parts.append('<dl class="facts">')
    parts += [f"<dt>{_text(name)}</dt><dd>{_text(value)}</dd>" for name, value in facts]
    parts += ["</dl>", "</header>", f'<p class="headline">{_text(report.headline)}</p>']
    return parts


def _tile(tile: Tile) -> str:
    rows = [f'<div class="tile"><div class="label">{_text(tile.label)}</div>',
            f'<div class="value" title="{_text(tile.exact)}">{_text(tile.value)}</div>']
    if tile.exact != tile.value:
        rows.append(f'<div class="exact">{_text(tile.exact)}</div>')
    if tile.change:
        previous = f" (previous: {tile.previous})" if tile.previous else ""
        rows.append(f'<div class="change {tile.tone}">{_text(tile.change)} vs previous{_text(previous)}</div>')
    if tile.note:
        rows.append(f'<div class="exact">{_text(tile.note)}</div>')
    rows.append("</div>")
    return "".join(rows)


def _block(block: Block, charts: dict[int, str]) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{_text(block.text)}</p>"
    if isinstance(block, Chart):
        caption = f"<figcaption>{_text(block.caption)}</figcaption>" if block.caption else ""
        return f"<figure><h3>{_text(block.title)}</h3>{charts[id(block)]}{caption}</figure>"
    return _table(block)


def _table(table: Table) -> str:
    classes = [' class="num"' if column.numeric else "" for column in table.columns]
    head = "".join(f"<th{cls}>{_text(column.label)}</th>" for column, cls in zip(table.columns, classes))
    body = "\n".join(
        "<tr>" + "".join(f"<td{cls}>{_text(cell)}</td>" for cell, cls in zip(row, classes)) + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{_text(table.note)}</p>' if table.note else ""
    return (f"<h3>{_text(table.title)}</h3><div class=\"table-wrap\"><table><thead><tr>{head}</tr></thead>"
            f"<tbody>\n{body}\n</tbody></table></div>{note}")


def _chart_svgs(charts: list[Chart]) -> dict[int, str]:
    if not charts:
        return {}
    import vl_convert  # its JavaScript engine starts on first use: only when there is a chart to draw

    return {id(chart): clean_svg(vl_convert.vegalite_to_svg(chart.spec), prefix=f"chart{index}-")
            for index, chart in enumerate(charts)}


def clean_svg(svg: str, *, prefix: str) -> str:
    """`svg` re-serialised with only drawing elements and attributes: no scripts, styles, links, event
    handlers or external url(...) references; ids prefixed so several charts can share a page."""
    ElementTree.register_namespace("", SVG_NS)
    root = ElementTree.fromstring(svg)
    _clean_element(root, prefix)
    text = ElementTree.tostring(root, encoding="unicode")
    # Inline SVG in HTML needs no namespace declaration; without it the file holds no URL at all.
    return text.replace(f' xmlns="{SVG_NS}"', "", 1)


def _clean_element(element: ElementTree.Element, prefix: str) -> None:
    for child in list(element):
        if _local(child.tag) not in SVG_TAGS:
            element.remove(child)
        else:
            _clean_element(child, prefix)
    for name in list(element.attrib):
        local, value = _local(name).lower(), element.attrib[name]
        if local.startswith("on") or "href" in local or local == "style":
            del element.attrib[name]
        elif local == "id":
            element.attrib[name] = prefix + value
        elif _ANY_URL.search(value):
            local_refs = _LOCAL_URL.sub(lambda m: f"url(#{prefix}{m.group(1)})", value)
            if _ANY_URL.search(_LOCAL_URL.sub("", value)):
                del element.attrib[name]  # a url(...) that is not a reference inside this chart
            else:
                element.attrib[name] = local_refs


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
