"""The page's charts in its PDF, drawn with fpdf2's own lines, rectangles and polygons.

A PDF is rendered on the server without a browser, so Chart.js cannot draw it; the chart specs
the pages already build for Chart.js (`callscope.web.charts`) are drawn here instead: bars
(grouped, stacked, horizontal), lines and doughnuts, with axes, gridlines, value labels in the
reader's locale and a legend. Only what a printed page needs — no animation, no tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fpdf import FPDF

from callscope.web.i18n import Translator

PALETTE = ("#1d4ed8", "#b42318", "#17703b", "#d49b00", "#7c3aed", "#0e7490", "#be185d", "#4b5563")
INK, MUTED, GRID = (23, 32, 51), (82, 96, 119), (223, 228, 236)
HEIGHT = 62.0  # mm, a chart's box on the page


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _nice(top: float, whole: bool = False) -> float:
    """A round axis end at or above `top`: four gridline steps of a round size (1, 1.5, 2, 2.5,
    3, 4, 5, 6, 8 times a power of ten; whole ones below ten: counts get whole-number ticks)."""
    if top <= 0:
        return 1.0
    quarter = top / 4
    power = 10 ** math.floor(math.log10(quarter))
    sizes = (1, 2, 3, 4, 5, 6, 8, 10) if power == 1 else (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    step = next(m * power for m in sizes if m * power >= quarter)
    return float(4 * (math.ceil(step) if whole else step))


def _whole(values: list[list[float]]) -> bool:
    return all(v.is_integer() for row in values for v in row)


def _fmt(t: Translator, unit: str, value: float) -> str:
    if unit == "percent":
        return t.percent(value, 0)
    if unit == "seconds":
        return t.duration(value)
    return t.number(value, 0 if float(value).is_integer() else 1)


def _colours(spec: dict[str, Any]) -> list[str]:
    return [d.get("color") or PALETTE[i % len(PALETTE)] for i, d in enumerate(spec["datasets"])]


def has_data(spec: dict[str, Any] | None) -> bool:
    if not spec or not spec.get("labels"):
        return False
    return any(_num(v) for d in spec.get("datasets", []) for v in d.get("data", []))


def _legend(pdf: FPDF, x: float, y: float, items: Sequence[tuple[str, str]]) -> None:
    pdf.set_font(size=7)
    pdf.set_text_color(*MUTED)
    for label, colour in items:
        width = pdf.get_string_width(label) + 8
        pdf.set_fill_color(*_rgb(colour))
        pdf.rect(x, y + 1, 3, 3, style="F")
        pdf.set_xy(x + 4, y)
        pdf.cell(width - 4, 5, label)
        x += width


def _bars(pdf: FPDF, spec: dict[str, Any], t: Translator, x: float, y: float, w: float) -> None:
    labels: list[str] = spec["labels"]
    sets = spec["datasets"]
    colours = _colours(spec)
    unit = spec.get("unit", "number")
    stacked, horizontal = bool(spec.get("stacked")), bool(spec.get("horizontal"))
    values = [[_num(v) for v in d["data"]] for d in sets]
    if stacked:
        top = max((sum(col) for col in zip(*values, strict=True)), default=0.0)
    else:
        top = max((v for row in values for v in row), default=0.0)
    end = _nice(top * 1.05, _whole(values))
    legend = len(sets) > 1
    h = HEIGHT - (6 if legend else 0)
    pdf.set_font(size=6.5)
    pdf.set_draw_color(*GRID)
    pdf.set_text_color(*MUTED)
    if horizontal:
        side = min(45.0, max(pdf.get_string_width(s) for s in labels) + 3)
        px, pw, ph, py = x + side, w - side - 4, h - 6, y
        for k in range(5):
            gx = px + pw * k / 4
            pdf.line(gx, py, gx, py + ph)
            pdf.set_xy(gx - 10, py + ph + 0.5)
            pdf.cell(20, 4, _fmt(t, unit, end * k / 4), align="C")
        band = ph / len(labels)
        for i, label in enumerate(labels):
            pdf.set_text_color(*INK)
            pdf.set_xy(x, py + band * i)
            pdf.cell(side - 2, band, label[:40], align="R")
            offset = 0.0
            for j, row in enumerate(values):
                pdf.set_fill_color(*_rgb(colours[j]))
                thick = band * 0.7 / (1 if stacked else len(values))
                bar_y = py + band * i + band * 0.15 + (0 if stacked else thick * j)
                length = pw * row[i] / end
                if length > 0:
                    pdf.rect(px + offset, bar_y, length, thick, style="F")
                if stacked:
                    offset += length
    else:
        side = max(pdf.get_string_width(_fmt(t, unit, end * k / 4)) for k in range(5)) + 2
        px, pw, ph, py = x + side, w - side, h - 6, y
        for k in range(5):
            gy = py + ph - ph * k / 4
            pdf.line(px, gy, px + pw, gy)
            pdf.set_xy(x, gy - 2)
            pdf.cell(side - 1, 4, _fmt(t, unit, end * k / 4), align="R")
        group = pw / len(labels)
        every = max(1, math.ceil(len(labels) * 14 / pw))  # a label per ~14 mm at most
        for i, label in enumerate(labels):
            bottom = py + ph
            for j, row in enumerate(values):
                pdf.set_fill_color(*_rgb(colours[j]))
                thick = group * 0.7 / (1 if stacked else len(values))
                bar_x = px + group * i + group * 0.15 + (0 if stacked else thick * j)
                length = ph * row[i] / end
                if length > 0:
                    pdf.rect(bar_x, bottom - length, thick, length, style="F")
                if stacked:
                    bottom -= length
            if i % every == 0:
                pdf.set_text_color(*MUTED)
                pdf.set_xy(px + group * i - 4, py + ph + 0.5)
                pdf.cell(group + 8, 4, label, align="C")
    if legend:
        _legend(pdf, x + 2, y + HEIGHT - 5, [(d["label"], colours[j]) for j, d in enumerate(sets)])


def _line(pdf: FPDF, spec: dict[str, Any], t: Translator, x: float, y: float, w: float) -> None:
    """A line chart as bars of one dataset each would mislead less than nothing: draw lines."""
    labels: list[str] = spec["labels"]
    colours = _colours(spec)
    unit = spec.get("unit", "number")
    values = [[_num(v) for v in d["data"]] for d in spec["datasets"]]
    end = _nice(max((v for row in values for v in row), default=0.0) * 1.05, _whole(values))
    pdf.set_font(size=6.5)
    side = max(pdf.get_string_width(_fmt(t, unit, end * k / 4)) for k in range(5)) + 2
    px, pw, ph, py = x + side, w - side, HEIGHT - 12, y
    pdf.set_draw_color(*GRID)
    pdf.set_text_color(*MUTED)
    for k in range(5):
        gy = py + ph - ph * k / 4
        pdf.line(px, gy, px + pw, gy)
        pdf.set_xy(x, gy - 2)
        pdf.cell(side - 1, 4, _fmt(t, unit, end * k / 4), align="R")
    step = pw / max(1, len(labels) - 1)
    for j, row in enumerate(values):
        pdf.set_draw_color(*_rgb(colours[j]))
        pdf.set_line_width(0.5)
        pdf.polyline([(px + step * i, py + ph - ph * v / end) for i, v in enumerate(row)])
        pdf.set_line_width(0.2)
    _legend(
        pdf,
        x + 2,
        y + HEIGHT - 5,
        [(d["label"], colours[j]) for j, d in enumerate(spec["datasets"])],
    )


def _doughnut(pdf: FPDF, spec: dict[str, Any], t: Translator, x: float, y: float) -> None:
    data = spec["datasets"][0]
    values = [_num(v) for v in data["data"]]
    colours = list(data.get("colors") or PALETTE)
    total = sum(values) or 1.0
    radius = HEIGHT / 2 - 4
    cx, cy = x + radius + 4, y + HEIGHT / 2
    angle = -math.pi / 2
    for i, v in enumerate(values):
        sweep = 2 * math.pi * v / total
        steps = max(2, int(sweep / 0.05))
        points = [(cx, cy)] + [
            (
                cx + radius * math.cos(angle + sweep * k / steps),
                cy + radius * math.sin(angle + sweep * k / steps),
            )
            for k in range(steps + 1)
        ]
        pdf.set_fill_color(*_rgb(colours[i % len(colours)]))
        pdf.polygon(points, style="F")
        angle += sweep
    pdf.set_fill_color(255, 255, 255)
    pdf.ellipse(cx - radius * 0.55, cy - radius * 0.55, radius * 1.1, radius * 1.1, style="F")
    pdf.set_font(size=7.5)
    ly = y + 6
    for i, (label, v) in enumerate(zip(spec["labels"], values, strict=True)):
        pdf.set_fill_color(*_rgb(colours[i % len(colours)]))
        pdf.rect(cx + radius + 8, ly + 1, 3, 3, style="F")
        pdf.set_xy(cx + radius + 13, ly)
        pdf.set_text_color(*INK)
        pdf.cell(0, 5, f"{label}: {t.number(v)} ({t.percent(v / total, 1)})")
        ly += 5.5


def keep_with_title(pdf: FPDF, title_mm: float = 14.0) -> None:
    """Start a new page now when a title and the chart under it would not fit together."""
    if pdf.get_y() + title_mm + HEIGHT + 4 > pdf.page_break_trigger:
        pdf.add_page()


def draw(pdf: FPDF, spec: dict[str, Any], t: Translator) -> None:
    """Draw `spec` at the cursor across the page's width (a new page when it does not fit)."""
    if not has_data(spec):
        return
    if pdf.get_y() + HEIGHT + 4 > pdf.page_break_trigger:
        pdf.add_page()
    x, y, w = pdf.l_margin, pdf.get_y() + 1, min(pdf.epw, 190.0)
    with pdf.local_context():  # colours and widths return to the document's after the chart
        if spec["type"] == "doughnut":
            _doughnut(pdf, spec, t, x, y)
        elif spec["type"] == "line":
            _line(pdf, spec, t, x, y, w)
        else:
            _bars(pdf, spec, t, x, y, w)
    pdf.set_xy(pdf.l_margin, y + HEIGHT + 2)
