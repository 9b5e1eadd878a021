"""Client report files (a paginated PDF and a self-contained HTML) and their scheduled delivery.

    report = build_report(frame, ReportOptions(title="August report", client="Acme"), Branding())
    pdf_bytes = render_pdf(report)
    html_text = render_html(report)

Pure package: no streamlit; reads `metrics/` (and `models/` for saved snapshots), never `ui/`.
"""

from reports.branding import Branding
from reports.model import Report, ReportOptions, SourceFile, ab_entry, build_report

__all__ = ["Branding", "Report", "ReportOptions", "SourceFile", "ab_entry", "build_report", "render_html",
           "render_pdf"]


def render_pdf(report: Report) -> bytes:
    """The report as a paginated PDF (vector charts, repeated table headers, "Page N of M")."""
    from reports.pdf_file import render

    return render(report)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG; nothing is fetched)."""
    from reports.html_file import render

    return render(report)
