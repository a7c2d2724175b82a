"""Getting an input file ready for DuckDB's CSV reader: fingerprint, decompression check and,
only for files that are not valid UTF-8, a transcoded copy.

PBX logs are mostly UTF-8, but caller-ID names arrive in cp1251 or as stray bytes; DuckDB reads
only UTF-8. Invalid byte runs are decoded as cp1251 (the encoding of Russian and Ukrainian PBXs)
so that no line is lost; a file that has no valid multi-byte UTF-8 at all is read wholly as
cp1251. Line breaks are kept, so line numbers in rejects point into the user's file.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from callscope.errors import InputFormatError

CHUNK = 1 << 22
_MULTIBYTE = re.compile("[^\x00-\x7f\ufffd]")
GZIP_MAGIC = b"\x1f\x8b"


def _cp1251_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return bytes(bad).decode("cp1251", errors="replace"), exc.end


codecs.register_error("callscope-cp1251", _cp1251_fallback)


@dataclass(frozen=True)
class PreparedInput:
    """A file as the user named it, and the path DuckDB should read."""

    original: Path
    read_path: Path
    sha256: str
    size_bytes: int
    compressed: bool
    encoding: str  # utf-8 | utf-8+cp1251 | cp1251
    head: str  # the first lines, decoded, for format detection

    @property
    def display_name(self) -> str:
        return str(self.original)


def _open_bytes(path: Path, compressed: bool) -> Iterator[bytes]:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputFormatError(f"{path}: cannot read: {exc}") from exc


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def prepare_input(path: Path, workdir: Path) -> PreparedInput:
    """Hash the file and check its encoding in one streaming pass (C-speed codecs, no per-line
    Python); write a UTF-8 copy into `workdir` only when the file needs one."""
    if not path.exists():
        raise InputFormatError(f"{path}: no such file")
    if path.is_dir():
        raise InputFormatError(f"{path}: is a directory, name the log files inside it")
    compressed = _is_gzip(path)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    size = path.stat().st_size

    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    head_bytes = bytearray()
    valid = True
    for chunk in _open_bytes(path, compressed):
        if len(head_bytes) < 65536:
            head_bytes.extend(chunk[: 65536 - len(head_bytes)])
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            valid = False
            break
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False  # truncated multi-byte sequence at the very end

    if valid:
        head = bytes(head_bytes).decode("utf-8", errors="replace")
        return PreparedInput(path, path, digest.hexdigest(), size, compressed, "utf-8", head)

    encoding = _guess_encoding(path, compressed)
    fd, name = tempfile.mkstemp(suffix=".csv", dir=workdir)
    target = Path(name)
    with open(fd, "w", encoding="utf-8", newline="") as out:  # noqa: PTH123 (a descriptor)
        fallback = codecs.getincrementaldecoder("cp1251" if encoding == "cp1251" else "utf-8")(
            "replace" if encoding == "cp1251" else "callscope-cp1251"
        )
        for chunk in _open_bytes(path, compressed):
            out.write(fallback.decode(chunk))
        out.write(fallback.decode(b"", final=True))
    head = target.read_bytes()[:65536].decode("utf-8", errors="replace")
    return PreparedInput(path, target, digest.hexdigest(), size, compressed, encoding, head)


def _guess_encoding(path: Path, compressed: bool) -> str:
    """cp1251 when the file has no well-formed multi-byte UTF-8 sequence at all; otherwise
    UTF-8 with cp1251 for the invalid runs (a UTF-8 log with a few raw caller-ID bytes)."""
    sample = bytearray()
    for chunk in _open_bytes(path, compressed):
        sample.extend(chunk)
        if len(sample) >= 1 << 24:
            break
    text = bytes(sample).decode("utf-8", errors="replace")
    return "utf-8+cp1251" if _MULTIBYTE.search(text) else "cp1251"
