"""The report as a paginated A4 PDF: `render(report) -> bytes`.

Libraries, all installed from PyPI alone (no system library):
- fpdf2 lays out the pages: text, tiles, tables that break across pages with the header row repeated on
  every page, a footer and "Page N of M" (its `{nb}` alias).
- vl-convert turns each chart's Vega-Lite spec into a one-page vector PDF (text stays text).
- pypdf places those chart pages, scaled, into the spaces fpdf2 left for them (fpdf2 cannot import a PDF,
  and its SVG reader does not draw the text and empty paths that Vega writes).
- The font is DejaVu Sans, the TTF matplotlib ships (Latin, Cyrillic, Greek and the currency signs the
  catalog uses). matplotlib is not imported: only its font files are read. Characters the font lacks are
  named in a note on the cover instead of vanishing silently.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from reports.model import Block, Chart, Paragraph, Report, Table, Tile

FONT = "dejavu"
PAGE_MARGIN = 15.0  # mm
FOOTER_SPACE = 16.0  # mm kept free for the footer
TEXT = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (222, 226, 230)
ZEBRA = (246, 247, 249)
GOOD, BAD = (43, 138, 62), (201, 42, 42)
TILES_PER_ROW = 4
TILE_HEIGHT = 27.0
PT_PER_MM = 72 / 25.4
TABLE_FONT_SIZES = (7.5, 6.8, 6.2)  # pt, tried in order until the numbers fit across the page
CELL_PAD_V, CELL_PAD_H = 1.2, 1.4  # mm
LINE_HEIGHT_PER_PT = 0.5  # mm of line per point of font size
BASELINE = 0.78  # where the baseline sits in a line, from its top
MIN_TEXT_COLUMN = 28.0  # mm
# Charts are drawn at this many points per CSS pixel of their spec (Vega's 11 px labels become 8.3 pt).
CHART_SCALE = 0.75


def font_files() -> dict[str, Path]:
    """DejaVu Sans regular and bold from matplotlib's package data (found without importing matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib (which ships the report's font) is not installed; pip install -r "
                           "requirements.txt")
    folder = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf"}


@dataclass(frozen=True)
class _Placement:
    """Where a chart goes: page number (1-based) and the box in mm from the top-left corner."""

    page: int
    x: float
    y: float
    width: float
    height: float
    chart_pdf: bytes


class _Document(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.accent = report.branding.accent_rgb
        for style, path in font_files().items():
            self.add_font(FONT, style, str(path))
        self.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        self.set_auto_page_break(True, margin=FOOTER_SPACE)
        self.set_title(report.cover.title)
        self.set_author(report.branding.footer)
        self.set_creator("Campaign Lens")
        self.set_text_color(*TEXT)

    @property
    def content_width(self) -> float:
        return self.w - 2 * PAGE_MARGIN

    @property
    def room_left(self) -> float:
        return self.h - FOOTER_SPACE - self.get_y()

    def header(self) -> None:
        if self.page_no() == 1:
            return
        cover = self.report.cover
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        self.set_xy(PAGE_MARGIN, 7)
        heading = cover.title + (f" · {cover.client}" if cover.client else "") + f" · {cover.period}"
        self.cell(self.content_width, 4, heading, align="L")
        self.set_draw_color(*RULE)
        self.line(PAGE_MARGIN, 12, self.w - PAGE_MARGIN, 12)
        self.set_text_color(*TEXT)
        self.set_y(PAGE_MARGIN + 2)

    def footer(self) -> None:
        self.set_draw_color(*self.accent)
        self.set_line_width(0.4)
        self.line(PAGE_MARGIN, self.h - 12, self.w - PAGE_MARGIN, self.h - 12)
        self.set_line_width(0.2)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        self.set_xy(PAGE_MARGIN, self.h - 11)
        self.cell(self.content_width - 30, 5, self.report.branding.footer, align="L")
        self.set_xy(self.w - PAGE_MARGIN - 30, self.h - 11)
        self.cell(30, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*TEXT)

    # --- building blocks ----------------------------------------------------------------------------

    def heading(self, text: str, size: float = 15) -> None:
        self.set_font(FONT, "B", size)
        self.set_text_color(*self.accent)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*TEXT)
        self.ln(2)

    def paragraph(self, text: str, size: float = 9.5, colour: tuple[int, int, int] = TEXT) -> None:
        self.set_font(FONT, "", size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*TEXT)
        self.ln(1.5)

    def keep_room(self, height: float) -> None:
        """Start a new page unless `height` mm fit above the footer (no heading left alone at a page end)."""
        if self.room_left < height:
            self.add_page()


def render(report: Report) -> bytes:
    """The PDF file's bytes (see the module docstring)."""
    charts = [block for section in report.sections for block in section.blocks if isinstance(block, Chart)]
    chart_pdfs = _chart_pdfs(charts)
    document = _Document(report)
    placements: list[_Placement] = []
    _cover_page(document, report)
    for section in report.sections:
        document.add_page()
        document.heading(section.title)
        for block in section.blocks:
            _block(document, block, chart_pdfs, placements)
    if report.notes:
        document.keep_room(30)
        document.ln(3)
        document.heading("Notes", 12)
        for note in report.notes:
            document.paragraph(f"• {note}", 8.5, MUTED)
    return _place_charts(bytes(document.output()), placements)


def _cover_page(document: _Document, report: Report) -> None:
    cover = report.cover
    document.add_page()
    if report.branding.logo:
        document.image(io.BytesIO(report.branding.logo), x=PAGE_MARGIN, y=PAGE_MARGIN, h=16, keep_aspect_ratio=True,
                       w=60)
        document.set_y(PAGE_MARGIN + 22)
    else:
        document.set_y(PAGE_MARGIN + 6)
    document.set_fill_color(*document.accent)
    document.rect(PAGE_MARGIN, document.get_y(), 24, 1.6, style="F")
    document.ln(6)
    document.set_font(FONT, "B", 24)
    document.multi_cell(0, 11, cover.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if cover.client:
        document.set_font(FONT, "", 13)
        document.multi_cell(0, 7, f"Prepared for {cover.client}", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.ln(3)
    facts = [("Period", cover.period)]
    if cover.comparison:
        facts.append(("Compared with", cover.comparison))
    facts += [("Scope", cover.scope), ("Data as of", cover.as_of), ("Generated", cover.generated)]
    for name, value in facts:
        document.set_font(FONT, "B", 9)
        document.set_text_color(*MUTED)
        document.cell(32, 5.5, name)
        document.set_font(FONT, "", 9)
        document.set_text_color(*TEXT)
        document.multi_cell(0, 5.5, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    missing = _missing_characters(document, report)
    if missing:
        document.paragraph(f"Some names use characters this PDF's font cannot draw ({missing}); they are left "
                           "blank here. The HTML version of the report shows them.", 8, BAD)
    document.ln(5)
    # The headline sentence, on a tinted band in the accent colour.
    tint = tuple(int(255 - (255 - c) * 0.12) for c in document.accent)
    document.set_fill_color(*tint)
    document.set_font(FONT, "B", 11)
    document.multi_cell(0, 6.5, report.headline, align="L", fill=True, padding=(4, 5, 4, 5),
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.ln(6)
    if report.tiles:
        document.heading("At a glance", 12)
        _tiles(document, report.tiles)


def _tiles(document: _Document, tiles: tuple[Tile, ...]) -> None:
    gap = 3.0
    width = (document.content_width - gap * (TILES_PER_ROW - 1)) / TILES_PER_ROW
    for start in range(0, len(tiles), TILES_PER_ROW):
        document.keep_room(TILE_HEIGHT + gap)
        top = document.get_y()
        for index, tile in enumerate(tiles[start:start + TILES_PER_ROW]):
            left = PAGE_MARGIN + index * (width + gap)
            document.set_draw_color(*RULE)
            document.rect(left, top, width, TILE_HEIGHT)
            document.set_xy(left + 3, top + 2.5)
            document.set_font(FONT, "", 7.5)
            document.set_text_color(*MUTED)
            document.cell(width - 6, 4, tile.label)
            document.set_xy(left + 3, top + 7)
            document.set_font(FONT, "B", 14)
            document.set_text_color(*TEXT)
            document.cell(width - 6, 7, tile.value)
            if tile.exact != tile.value:
                document.set_xy(left + 3, top + 14.5)
                document.set_font(FONT, "", 6.5)
                document.set_text_color(*MUTED)
                document.cell(width - 6, 3.5, tile.exact)
            if tile.change:
                document.set_xy(left + 3, top + 18.5)
                document.set_font(FONT, "B", 7.5)
                document.set_text_color(*{"good": GOOD, "bad": BAD}.get(tile.tone, MUTED))
                document.cell(width - 6, 4, f"{tile.change} vs previous")
            if tile.note:  # "based on 1 of 2 files": the value covers part of the data
                document.set_xy(left + 3, top + 22.5)
                document.set_font(FONT, "", 6.5)
                document.set_text_color(*MUTED)
                document.cell(width - 6, 3.5, tile.note)
        document.set_text_color(*TEXT)
        document.set_xy(PAGE_MARGIN, top + TILE_HEIGHT + gap)


def _block(document: _Document, block: Block, chart_pdfs: dict[int, bytes], placements: list[_Placement]) -> None:
    if isinstance(block, Paragraph):
        document.paragraph(block.text)
    elif isinstance(block, Table):
        _table(document, block)
    elif isinstance(block, Chart):
        _chart(document, block, chart_pdfs[id(block)], placements)


def _table(document: _Document, table: Table) -> None:
    """Rows drawn one by one; when the next row does not fit above the footer, a new page starts and the
    header row is drawn again. (fpdf2's own table does the same but lays out every cell with its general
    text engine, about 25 times slower on a 300-row table.)"""
    document.keep_room(28)  # the title, the header row and a few rows together
    document.set_font(FONT, "B", 10.5)
    document.multi_cell(0, 6, table.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.ln(1)
    size, widths = _column_widths(document, table)
    line = size * LINE_HEIGHT_PER_PT
    header = _wrapped(document, [c.label for c in table.columns], widths, size, bold=True)
    _table_row(document, header, table, widths, size, line, fill=document.accent, bold=True)
    for index, row in enumerate(table.rows):
        cells = _wrapped(document, list(row), widths, size, bold=False)
        height = max(len(lines) for lines in cells) * line + 2 * CELL_PAD_V
        if document.get_y() + height > document.h - FOOTER_SPACE:
            document.add_page()
            _table_row(document, header, table, widths, size, line, fill=document.accent, bold=True)
        _table_row(document, cells, table, widths, size, line, fill=ZEBRA if index % 2 else None, bold=False)
    document.set_text_color(*TEXT)
    document.ln(2)
    if table.note:
        document.paragraph(table.note, 7.5, MUTED)
    document.ln(2)


def _wrapped(document: _Document, texts: list[str], widths: list[float], size: float, *, bold: bool
             ) -> list[list[str]]:
    """Each cell's text as the lines it takes in its column (most cells fit on one line)."""
    document.set_font(FONT, "B" if bold else "", size)
    cells = []
    for text, width in zip(texts, widths):
        room = width - 2 * CELL_PAD_H
        if document.get_string_width(text) <= room:
            cells.append([text])
        else:
            # multi_cell keeps its cell margin inside the width it is given: add it back, or a word that
            # fits the column exactly would be split.
            width_with_margins = room + 2 * document.c_margin
            cells.append(document.multi_cell(width_with_margins, 1, text, dry_run=True, output="LINES") or [text])
    return cells


def _table_row(document: _Document, cells: list[list[str]], table: Table, widths: list[float], size: float,
               line: float, *, fill: tuple[int, int, int] | None, bold: bool) -> None:
    top = document.get_y()
    height = max(len(lines) for lines in cells) * line + 2 * CELL_PAD_V
    if fill is not None:
        document.set_fill_color(*fill)
        document.rect(PAGE_MARGIN, top, sum(widths), height, style="F")
    document.set_font(FONT, "B" if bold else "", size)
    document.set_text_color(*((255, 255, 255) if bold else TEXT))
    left = PAGE_MARGIN
    for lines, width, column in zip(cells, widths, table.columns):
        for number, text in enumerate(lines):
            baseline = top + CELL_PAD_V + number * line + line * BASELINE
            if column.numeric:
                x = left + width - CELL_PAD_H - document.get_string_width(text)
            else:
                x = left + CELL_PAD_H
            document.text(x, baseline, text)
        left += width
    document.set_draw_color(*RULE)
    document.line(PAGE_MARGIN, top + height, PAGE_MARGIN + sum(widths), top + height)
    document.set_y(top + height)


def _column_widths(document: _Document, table: Table) -> tuple[float, list[float]]:
    """A font size and column widths (mm) so that no number wraps: each number column is as wide as its
    widest value (or the longest word of its header); text columns share what is left and wrap. A smaller
    font is tried before numbers are allowed to wrap."""
    available = document.content_width
    for size in TABLE_FONT_SIZES:
        needed = []
        for index, column in enumerate(table.columns):
            document.set_font(FONT, "B", size)
            header = max(document.get_string_width(word) for word in column.label.split() or [""])
            document.set_font(FONT, "", size)
            cells = [row[index] for row in table.rows]
            widest = max((document.get_string_width(cell) for cell in cells), default=0.0)
            if not column.numeric:  # text wraps between words: its longest word is the least it needs
                widest = min(widest, max(MIN_TEXT_COLUMN, *(document.get_string_width(w)
                                                            for cell in cells for w in cell.split() or [""])))
            needed.append(max(header, widest) + 2 * CELL_PAD_H + 0.6)
        numbers = sum(w for w, c in zip(needed, table.columns) if c.numeric)
        texts = [w for w, c in zip(needed, table.columns) if not c.numeric]
        if numbers + sum(texts) <= available or size == TABLE_FONT_SIZES[-1]:
            break
    spare = available - numbers - sum(texts)
    if spare >= 0 and texts:  # text columns take the spare room, in proportion to what they need
        share = sum(texts)
        return size, [w + spare * w / share if not c.numeric else w for w, c in zip(needed, table.columns)]
    if spare >= 0:
        return size, needed
    factor = available / (numbers + sum(texts))  # too many columns even at the smallest size: all shrink
    return size, [w * factor for w in needed]


def _chart(document: _Document, chart: Chart, chart_pdf: bytes, placements: list[_Placement]) -> None:
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(chart_pdf)).pages[0].mediabox
    natural_width, natural_height = float(box.width) / PT_PER_MM, float(box.height) / PT_PER_MM
    scale = min(CHART_SCALE, document.content_width / natural_width, 190 / natural_height)
    width, height = natural_width * scale, natural_height * scale
    caption = 5 if chart.caption else 0
    document.keep_room(8 + height + caption)
    document.set_font(FONT, "B", 10.5)
    document.multi_cell(0, 6, chart.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = document.get_y() + 1
    placements.append(_Placement(document.page_no(), PAGE_MARGIN, top, width, height, chart_pdf))
    document.set_y(top + height + 1)
    if chart.caption:
        document.paragraph(chart.caption, 7.5, MUTED)
    document.ln(3)


def _chart_pdfs(charts: list[Chart]) -> dict[int, bytes]:
    if not charts:
        return {}
    import vl_convert  # its JavaScript engine starts on first use: only when there is a chart to draw

    return {id(chart): vl_convert.vegalite_to_pdf(chart.spec) for chart in charts}


def _place_charts(document_pdf: bytes, placements: list[_Placement]) -> bytes:
    """Draw each chart's vector page into its box: the page becomes a form XObject painted by one `cm ... Do`
    (PDF coordinates start at the bottom-left, in points). Neither page's content is parsed, which keeps
    this step fast (pypdf's merge_transformed_page re-parses both, seconds for a few charts)."""
    if not placements:
        return document_pdf
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(document_pdf)))
    for number, placement in enumerate(placements):
        chart_page = PdfReader(io.BytesIO(placement.chart_pdf)).pages[0]
        form = DecodedStreamObject()
        form.set_data(chart_page.get_contents().get_data())
        box = chart_page.mediabox
        form.update({
            NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject([box.left, box.bottom, box.right, box.top]),
            NameObject("/Resources"): chart_page["/Resources"].clone(writer),
        })
        name = f"/CampaignLensChart{number}"
        page = writer.pages[placement.page - 1]
        resources = page[NameObject("/Resources")].get_object()
        if "/XObject" not in resources:
            resources[NameObject("/XObject")] = DictionaryObject()
        resources["/XObject"].get_object()[NameObject(name)] = writer._add_object(form)
        scale = placement.width * PT_PER_MM / float(box.width)
        left = placement.x * PT_PER_MM - float(box.left) * scale
        bottom = float(page.mediabox.height) - (placement.y + placement.height) * PT_PER_MM - float(box.bottom) * scale
        paint = DecodedStreamObject()
        paint.set_data(f"q {scale:.6f} 0 0 {scale:.6f} {left:.4f} {bottom:.4f} cm {name} Do Q".encode("ascii"))
        contents = page.raw_get("/Contents")
        layers = contents.get_object() if isinstance(contents.get_object(), ArrayObject) else ArrayObject([contents])
        layers.append(writer._add_object(paint))
        page[NameObject("/Contents")] = layers
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _missing_characters(document: _Document, report: Report) -> str:
    """The characters of the report's text that the font has no glyph for, as code points ('' when none):
    the characters themselves cannot be drawn either."""
    cmap = document.fonts[FONT].cmap
    texts = [report.cover.title, report.cover.client or "", report.cover.scope, report.headline,
             report.branding.footer, *report.notes]
    for section in report.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                texts.append(block.title)
                texts.extend(cell for row in block.rows for cell in row)
            elif isinstance(block, Paragraph):
                texts.append(block.text)
    missing = sorted({ch for text in texts for ch in text if ord(ch) not in cmap and not ch.isspace()})
    return ", ".join(f"U+{ord(ch):04X}" for ch in missing[:12]) + (", …" if len(missing) > 12 else "")
