"""Tables out of the dashboard: CSV for machines, XLSX and PDF for the owner's inbox.

Every export is rendered server-side from the same rows the page or the API shows (a `Report`'s
rows, or the call log's), so a file never disagrees with the screen. XLSX keeps raw values
(numbers stay numbers, shares stay fractions with a percent format); PDF prints them as the page
does, in the reader's language, with a font that has Cyrillic letters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from callscope.errors import CallscopeError
from callscope.metrics.rowtext import list_text
from callscope.web.i18n import Translator
from callscope.web.pdfcharts import draw as draw_chart
from callscope.web.pdfcharts import has_data as has_chart
from callscope.web.pdfcharts import keep_with_title
from callscope.web.pdffonts import add_face, bold_of, face, missing_glyphs
from callscope.web.pdftable import Table

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
_FILLS = {
    "red": PatternFill("solid", fgColor="FDE2E1"),
    "yellow": PatternFill("solid", fgColor="FEF3C7"),
    "green": PatternFill("solid", fgColor="DCFCE7"),
}


class ExportError(CallscopeError):
    """An export that cannot be produced here (e.g. no font for PDF)."""


def to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in rows:
        values = [list_text(row.get(c)) for c in columns]
        writer.writerow([v.isoformat() if isinstance(v, datetime | date) else v for v in values])
    return buf.getvalue().encode("utf-8")


def _excel_value(t: Translator, key: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return t.local(value).replace(tzinfo=None)  # Excel has no zones: tenant-local wall time
    if isinstance(value, str) and t.has(f"val.{value}"):
        return t.value(value)
    return list_text(value)


@dataclass
class Section:
    """One table of an export: a report's rows, or the call log's."""

    title: str
    columns: Sequence[str]
    rows: Sequence[dict[str, Any]]
    chart: dict[str, Any] | None = None  # the page's Chart.js spec, drawn above the PDF table


def _sheet_name(text: str) -> str:
    """Excel refuses []:*?/\\ in sheet names and more than 31 characters."""
    return "".join(" " if c in "[]:*?/\\" else c for c in text)[:31].strip()


def to_xlsx(title: str, subtitle: str, sections: Sequence[Section], t: Translator) -> bytes:
    """One sheet per section, headed by the page title and the period it covers."""
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    for n, section in enumerate(sections, start=1):
        sheet = book.create_sheet(_sheet_name(f"{n} {section.title}"))
        sheet.append([f"{title} — {section.title}"])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([subtitle])
        sheet.append([])
        sheet.append([t.column(c) + (", s" if t.is_seconds(c) else "") for c in section.columns])
        for cell in sheet[4]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append([_excel_value(t, c, row.get(c)) for c in section.columns])
            excel_row = sheet.max_row
            fill = _FILLS.get(str(row.get("colour")))
            for i, key in enumerate(section.columns, start=1):
                cell = sheet.cell(row=excel_row, column=i)
                if fill is not None:
                    cell.fill = fill
                if isinstance(row.get(key), datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif t.is_share(key):
                    cell.number_format = "0.0%"
                elif t.is_seconds(key):
                    cell.number_format = "0.0"  # seconds, as the column's name says
        for i, key in enumerate(section.columns, start=1):
            width = max(10, min(40, len(t.column(key)) + 4))
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = "A5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_PDF_FILLS = {"red": (253, 226, 225), "yellow": (254, 243, 199), "green": (220, 252, 231)}


def _widths(header: list[str], body: list[list[str]]) -> tuple[float, ...]:
    """Relative column widths: the longest cell (capped), at least the header's longest word."""
    widths = []
    for i, title in enumerate(header):
        longest = max((len(r[i]) for r in body), default=0)
        word = max((len(w) for w in title.split()), default=1) + 1  # bold letters are wider
        widths.append(float(max(word, min(longest, 36), 3)))
    return tuple(widths)


def _is_number_column(section: Section, column: str) -> bool:
    values = [r.get(column) for r in section.rows if r.get(column) is not None]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"{self.footer_text}  ·  {self.page_no()}/{{nb}}", align="R")


def to_pdf(
    title: str, subtitle: str, sections: Sequence[Section], t: Translator, font: Path
) -> bytes:
    """A printable document: the title, the period, then each section as a table."""
    if not font.exists():
        raise ExportError(
            f"PDF export needs a TrueType font with Cyrillic at {font} "
            "(install fonts-dejavu-core, or set web.pdf_font)"
        )
    pdf = _render(title, subtitle, sections, t, font, narrow=True)
    if missing_glyphs(pdf):  # a character beyond the narrowed font's scripts: the whole font
        pdf = _render(title, subtitle, sections, t, font, narrow=False)
    return bytes(pdf.output())


def _render(
    title: str,
    subtitle: str,
    sections: Sequence[Section],
    t: Translator,
    font: Path,
    narrow: bool,
) -> FPDF:
    widest = max((len(s.columns) for s in sections), default=0)
    pdf = _Pdf(orientation="L" if widest > 6 else "P", format="A4")
    pdf.footer_text = f"callscope · {title}"
    add_face(pdf, "body", "", face(font, narrow))
    add_face(pdf, "body", "B", face(bold_of(font), narrow))
    pdf.add_page()
    pdf.set_font("body", size=16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        if section.rows and has_chart(section.chart):
            keep_with_title(pdf)  # a chart never starts a page below its own title
        pdf.ln(4)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("body", size=12)
        pdf.cell(0, 8, section.title, new_x="LMARGIN", new_y="NEXT")
        if not section.rows:
            pdf.set_font("body", size=9)
            pdf.cell(0, 6, t("empty"), new_x="LMARGIN", new_y="NEXT")
            continue
        if section.chart is not None:
            draw_chart(pdf, section.chart, t)
        pdf.set_font("body", size=8)
        numeric = [_is_number_column(section, c) for c in section.columns]
        header = [t.column(c) for c in section.columns]
        body = [[t.cell(c, row.get(c)) for c in section.columns] for row in section.rows]
        fills = [_PDF_FILLS.get(str(row.get("colour"))) for row in section.rows]
        Table(pdf, header, _widths(header, body), numeric).draw(body, fills)
    return pdf
