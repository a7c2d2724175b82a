"""A PDF export's drawing commands as text, for tests that look for its bars, fills and glyph
maps (the font it embeds is the `pdf_font` fixture of conftest.py)."""

from __future__ import annotations

import re
import zlib


def drawing(pdf: bytes) -> str:
    """Every stream of the document (pages, fonts' ToUnicode tables), inflated."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)
