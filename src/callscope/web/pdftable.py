"""A PDF table drawn with single-line cells: a report's rows are short values (numbers, dates,
names, phone numbers), so a cell is measured once and written once, and only a text wider
than its column (a long name, most headings) is wrapped, by fpdf2's own line breaking.

fpdf2's `FPDF.table()` lays out every cell as a paragraph twice (once to size the row, once
to draw it), which made a PDF of a few hundred cells take several hundred milliseconds. The
look is the same: a shaded bold heading row, repeated at the top of every page, with a line
under it, row colours as the page's, numbers right-aligned, text vertically centred.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from fpdf import FPDF

Rgb = tuple[int, int, int]
Cell = list[tuple[str, float]]  # a cell's lines and their widths
HEADING_INK: Rgb = (82, 96, 119)
HEADING_FILL: Rgb = (241, 244, 248)
RULE: Rgb = (215, 221, 230)


class Table:
    """Columns sized as fractions of the page's width; rows drawn as they come."""

    def __init__(
        self,
        pdf: FPDF,
        header: Sequence[str],
        widths: Sequence[float],
        right: Sequence[bool],
        line_height: float = 5.5,
    ) -> None:
        self.pdf = pdf
        self.line_height = line_height
        total = sum(widths) or 1.0
        self.widths = [pdf.epw * w / total for w in widths]
        self.right = list(right)
        self.x = [pdf.l_margin + sum(self.widths[:i]) for i in range(len(self.widths))]
        self.header = self._lines(header, bold=True)

    def _width(self, text: str) -> float:
        pdf = self.pdf
        assert pdf.current_font is not None
        return pdf.current_font.get_text_width(text, pdf.font_size_pt, None)[1] / pdf.k

    def _lines(self, texts: Sequence[str], bold: bool = False) -> list[Cell]:
        """Each text as its lines and their widths (wrapped only when wider than its column)."""
        pdf = self.pdf
        if bold:
            pdf.set_font(style="B")  # headings are measured in the face they are drawn in
        out: list[Cell] = []
        for text, width in zip(texts, self.widths, strict=True):
            own = self._width(text)
            if "\n" not in text and own <= width - 2 * pdf.c_margin:
                out.append([(text, own)])
            else:
                wrapped = cast(
                    list[str],
                    pdf.multi_cell(width, self.line_height, text, dry_run=True, output="LINES"),
                )
                out.append([(str(line), self._width(str(line))) for line in wrapped] or [("", 0.0)])
        if bold:
            pdf.set_font(style="")
        return out

    def _height(self, cells: list[Cell]) -> float:
        return max((len(c) for c in cells), default=1) * self.line_height

    def _draw(self, cells: list[Cell], fill: Rgb | None) -> None:
        """One row: text placed as `FPDF.cell` places it (left or right inside the cell's
        margin, on the line's baseline), written with `FPDF.text`, which is far cheaper."""
        pdf = self.pdf
        y, height = pdf.get_y(), self._height(cells)
        if fill is not None:
            pdf.set_fill_color(*fill)
            pdf.rect(pdf.l_margin, y, sum(self.widths), height, style="F")
        baseline = 0.5 * self.line_height + 0.3 * pdf.font_size
        for x, width, lines, right in zip(self.x, self.widths, cells, self.right, strict=True):
            top = y + (height - len(lines) * self.line_height) / 2
            for k, (text, own) in enumerate(lines):
                if text:
                    left = x + width - pdf.c_margin - own if right else x + pdf.c_margin
                    pdf.text(left, top + k * self.line_height + baseline, text)
        pdf.set_xy(pdf.l_margin, y + height)

    def _heading(self) -> None:
        pdf = self.pdf
        with pdf.local_context(font_style="B", text_color=HEADING_INK, draw_color=RULE):
            self._draw(self.header, HEADING_FILL)
            y = pdf.get_y()
            pdf.line(pdf.l_margin, y, pdf.l_margin + sum(self.widths), y)

    def _fits(self, height: float) -> bool:
        return self.pdf.get_y() + height <= self.pdf.page_break_trigger

    def draw(self, rows: Sequence[Sequence[str]], fills: Sequence[Rgb | None]) -> None:
        """The heading row, then `rows` (each with its fill or None); a row that does not fit
        starts a new page, headed again. The heading never stays alone at a page's foot."""
        body = [self._lines(row) for row in rows]
        first = self._height(body[0]) if body else 0.0
        if not self._fits(self._height(self.header) + first):
            self.pdf.add_page()
        self._heading()
        for cells, fill in zip(body, fills, strict=True):
            if not self._fits(self._height(cells)):
                self.pdf.add_page()
                self._heading()
            self._draw(cells, fill)
