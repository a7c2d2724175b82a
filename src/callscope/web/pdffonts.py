"""The PDF's fonts, read once per process instead of once per document.

fpdf2 parses a TrueType file for every document that adds it (DejaVu Sans: ~55 ms a face) and,
when it writes the document, subsets the whole font down to the glyphs used (another ~60 ms a
face); with a regular and a bold face that was most of an export's time. So a face is read
once: its file is first narrowed to the scripts the dashboard writes (Latin, Greek, Cyrillic,
punctuation, arrows, the shapes the pages use: ~1,700 glyphs instead of ~6,000, so a
document's own subsetting is cheap), then parsed once into fpdf2's font object; each document
gets a copy of that object with its own glyph bookkeeping and its own (lazily read) copy of
the narrowed file, which fpdf2 subsets in place when it writes the document.

A document that uses a character outside the narrowed set is drawn again with the whole font
(`to_pdf` checks), so nothing a name or a number needs is ever lost, only slower.
"""

from __future__ import annotations

import copy
import io
import threading
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset as ftsubset  # type: ignore[import-untyped]
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont

# code point ranges the narrowed font keeps (inclusive): every UI text in ru/uk/en and the
# numbers, dates and names the reports print (tests check the UI texts fit)
COVERAGE: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x024F),  # Latin-1, Latin Extended A and B
    (0x0300, 0x036F),  # combining accents
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x052F),  # Cyrillic and its supplement (Ukrainian, Belarusian, ...)
    (0x2000, 0x206F),  # general punctuation: dashes, quotes, ellipsis, thin spaces
    (0x20A0, 0x20CF),  # currency signs
    (0x2100, 0x218F),  # letterlike (No.) and number forms
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (minus, less or equal)
    (0x25A0, 0x25FF),  # geometric shapes (the trend triangles)
)


def covered(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in COVERAGE)


@dataclass(frozen=True)
class Face:
    """A font file as documents embed it, and fpdf2's font object parsed from it once."""

    data: bytes
    template: TTFFont


_faces: dict[tuple[str, int, bool], Face] = {}
_lock = threading.Lock()


def _narrowed(data: bytes) -> bytes:
    font = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
    options.layout_features = []  # fpdf2 drops GSUB/GPOS when it writes a document anyway
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "kern"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=[c for lo, hi in COVERAGE for c in range(lo, hi + 1)])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def face(path: Path, narrow: bool = True) -> Face:
    """The face of the font at `path` (narrowed or whole), read at most once per process
    (again if the file changes)."""
    key = (str(path), path.stat().st_mtime_ns, narrow)
    with _lock:
        got = _faces.get(key)
        if got is None:
            data = path.read_bytes()
            if narrow:
                data = _narrowed(data)
            template = TTFFont(FPDF(), io.BytesIO(data), "template", "")  # type: ignore[arg-type]
            got = Face(data, template)
            _faces[key] = got
    return got


def add_face(pdf: FPDF, family: str, style: str, source: Face) -> None:
    """Register `source` in `pdf` as `family` + `style`, as `FPDF.add_font` would, without
    parsing the file again: the parsed tables are shared read-only, what a document changes
    (which glyphs it used, the file fpdf2 subsets when writing) is its own."""
    font = copy.copy(source.template)
    font.i = len(pdf.fonts) + 1
    font.fontkey = f"{family.lower()}{style}"
    font.emphasis = TextEmphasis.coerce(style)
    font.ttfont = ttLib.TTFont(io.BytesIO(source.data), recalcTimestamp=False, lazy=True)
    font.cw = copy.copy(source.template.cw)  # a defaultdict: reading a width may add one
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font


def missing_glyphs(pdf: FPDF) -> bool:
    """Whether the document asked for a character its fonts do not have."""
    return any(getattr(f, "missing_glyphs", None) for f in pdf.fonts.values())


def prepare(path: Path) -> None:
    """Read the fonts now (the server's warm-up), not in the first visitor's request."""
    for file in (path, bold_of(path)):
        if file.exists():
            face(file)


def bold_of(path: Path) -> Path:
    bold = path.with_name(path.stem + "-Bold" + path.suffix)
    return bold if bold.exists() else path
