"""The page's charts in its PDF: fpdf2 draws the same chart description Chart.js draws in the
browser, one filled rectangle per bar, slices for a doughnut, above the section's table."""

from __future__ import annotations

import re
from pathlib import Path

from callscope.web.charts import series
from callscope.web.export import Section, to_pdf
from callscope.web.i18n import Translator
from pdf_support import drawing

ROWS = [
    {"bucket": "0-5 s", "legs": 3},
    {"bucket": "5-10 s", "legs": 5},
    {"bucket": "60+ s", "legs": 0},
]


def filled_rects(pdf: bytes) -> int:
    return len(re.findall(r"re f\b", drawing(pdf)))


def test_each_nonzero_bar_is_a_filled_rectangle(pdf_font: Path) -> None:
    t = Translator("en", "Europe/Moscow")
    spec = series("bar", [r["bucket"] for r in ROWS], [("legs", [r["legs"] for r in ROWS], None)])
    plain = to_pdf("T", "S", [Section("Pickup", ["bucket", "legs"], ROWS)], t, pdf_font)
    charted = to_pdf("T", "S", [Section("Pickup", ["bucket", "legs"], ROWS, spec)], t, pdf_font)
    assert (
        filled_rects(charted) - filled_rects(plain) == 2
    )  # 3 and 5; the empty bucket draws nothing
    assert "0-5 s" in drawing(charted) or b"0-5 s" not in charted  # labels are text, not images


def test_stacked_horizontal_and_doughnut_charts_draw_without_error(pdf_font: Path) -> None:
    t = Translator("ru", "Europe/Moscow")
    specs = [
        series(
            "bar", ["a", "b"], [("x", [1, 2], "#17703b"), ("y", [3, None], "#b42318")], stacked=True
        ),
        series("bar", ["a", "b"], [("x", [0.25, 0.5], None)], unit="percent", horizontal=True),
        series("line", ["a", "b", "c"], [("x", [1, 4, 2], None)], unit="seconds"),
        {
            "type": "doughnut",
            "labels": ["a", "b"],
            "datasets": [{"data": [1, 3], "colors": ["#000000", "#ffffff"]}],
        },
    ]
    sections = [Section(f"s{i}", ["bucket", "legs"], ROWS, spec) for i, spec in enumerate(specs)]
    pdf = to_pdf("T", "S", sections, t, pdf_font)
    assert pdf[:5] == b"%PDF-" and filled_rects(pdf) >= 5
