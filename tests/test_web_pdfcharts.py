"""The page's charts in its PDF: fpdf2 draws the same chart description Chart.js draws in the
browser, one filled rectangle per bar, slices for a doughnut, above the section's table."""

from __future__ import annotations

import re
import zlib

import pytest

from callscope.settings import Settings
from callscope.web.charts import series
from callscope.web.export import Section, to_pdf
from callscope.web.i18n import Translator

ROWS = [
    {"bucket": "0-5 s", "legs": 3},
    {"bucket": "5-10 s", "legs": 5},
    {"bucket": "60+ s", "legs": 0},
]


def drawing(pdf: bytes) -> str:
    """The page content streams, inflated."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def filled_rects(pdf: bytes) -> int:
    return len(re.findall(r"re f\b", drawing(pdf)))


@pytest.fixture
def font() -> object:
    path = Settings().web.pdf_font
    if not path.exists():
        pytest.fail(f"PDF tests need the font {path} (apt-get install fonts-dejavu-core)")
    return path


def test_each_nonzero_bar_is_a_filled_rectangle(font: object) -> None:
    t = Translator("en", "Europe/Moscow")
    spec = series("bar", [r["bucket"] for r in ROWS], [("legs", [r["legs"] for r in ROWS], None)])
    plain = to_pdf("T", "S", [Section("Pickup", ["bucket", "legs"], ROWS)], t, font)  # type: ignore[arg-type]
    charted = to_pdf("T", "S", [Section("Pickup", ["bucket", "legs"], ROWS, spec)], t, font)  # type: ignore[arg-type]
    assert (
        filled_rects(charted) - filled_rects(plain) == 2
    )  # 3 and 5; the empty bucket draws nothing
    assert "0-5 s" in drawing(charted) or b"0-5 s" not in charted  # labels are text, not images


def test_stacked_horizontal_and_doughnut_charts_draw_without_error(font: object) -> None:
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
    pdf = to_pdf("T", "S", sections, t, font)  # type: ignore[arg-type]
    assert pdf[:5] == b"%PDF-" and filled_rects(pdf) >= 5
