from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callscope.settings import Settings, load_settings
from callscope.store import Store, open_store
from callscope.testing import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(None) as s:
        yield s


@pytest.fixture
def settings() -> Settings:
    return Settings(timezone="Europe/Moscow", region="RU")


@pytest.fixture
def real_settings() -> Settings:
    """The configuration of the asterisk-real PBX (examples/asterisk-real.toml)."""
    return load_settings(REPO / "examples" / "asterisk-real.toml")


@pytest.fixture
def shared() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"shared sample data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def pdf_font() -> Path:
    """The TTF the PDF exports embed (Cyrillic included)."""
    path = Settings().web.pdf_font
    if not path.exists():
        pytest.fail(f"PDF tests need the font {path} (apt-get install fonts-dejavu-core)")
    return path
