"""PDF exports: the fonts read once per process keep every letter a page may print, documents
made one after another keep their own glyphs, and a table longer than a page is headed again
on each page."""

from __future__ import annotations

import re
from pathlib import Path

from callscope.web import pdffonts
from callscope.web.export import Section, to_pdf
from callscope.web.i18n import Translator
from callscope.web.messages import MESSAGES
from pdf_support import drawing

COLUMNS = ["agent_name", "team", "offered", "miss_rate"]
HEADING_FILL = "0.9451 0.9569 0.9725 rg"  # (241, 244, 248) as fpdf2 writes a fill colour


def unicode_map(pdf: bytes) -> set[int]:
    """Code points the document's fonts map back to text (its ToUnicode tables)."""
    return {int(h, 16) for h in re.findall(r"<[0-9A-F]{2,4}> <([0-9A-F]{4})>", drawing(pdf))}


def test_every_word_of_the_catalogue_fits_the_narrowed_font() -> None:
    outside = {
        ch
        for entry in MESSAGES.values()
        for text in entry.values()
        for ch in text
        if not pdffonts.covered(ch)
    }
    assert outside == set()


def test_cyrillic_names_are_text_and_a_rarer_script_falls_back_to_the_whole_font(
    pdf_font: Path,
) -> None:
    t = Translator("uk", "Europe/Kyiv")
    rows = [
        {"agent_name": "Їжак Ґудзик", "team": "продажі", "offered": 12, "miss_rate": 0.25},
        {"agent_name": "Արամ", "team": "x", "offered": 1, "miss_rate": 0.0, "colour": "red"},
    ]
    pdf = to_pdf("Огляд", "1–7 лист.", [Section("Менеджери", COLUMNS, rows)], t, pdf_font)
    mapped = unicode_map(pdf)
    assert {ord("Ї"), ord("Ґ"), ord("ж")} <= mapped
    assert ord("Ա") in mapped  # Armenian is not in the narrowed font: drawn with the whole one


def test_documents_in_a_row_keep_their_own_glyphs(pdf_font: Path) -> None:
    t = Translator("ru", "Europe/Moscow")
    first = to_pdf("Жёлтый", "s", [Section("S", COLUMNS, [{"agent_name": "Щука"}])], t, pdf_font)
    second = to_pdf("Report", "s", [Section("S", COLUMNS, [{"agent_name": "Anna"}])], t, pdf_font)
    assert ord("Щ") in unicode_map(first)
    assert ord("Щ") not in unicode_map(second) and ord("A") in unicode_map(second)


def test_a_long_table_is_headed_again_on_every_page(pdf_font: Path) -> None:
    t = Translator("en", "Europe/Moscow")
    rows = [
        {"agent_name": f"Agent {i}", "team": "sales", "offered": i, "miss_rate": i / 200}
        for i in range(150)
    ]
    pdf = to_pdf("T", "S", [Section("Managers", COLUMNS, rows)], t, pdf_font)
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages >= 3
    assert drawing(pdf).count(HEADING_FILL) == pages
