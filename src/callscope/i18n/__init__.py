"""Words of reports in English, Russian and Ukrainian: one catalogue per language.

Keys: `col.<column>` (a report column, named by its JSON key), `val.<value>` (an enumeration
value: outcome, end stage, status, colour), `report.<name>` (a report's title), `cli.<phrase>`.
The CLI tables and the web dashboard read the same catalogues, so a column has one name in
both. A key a catalogue lacks falls back to English, then to the key made readable.
"""

from __future__ import annotations

from callscope.i18n import en, ru, uk

LANGS = ("en", "ru", "uk")
CATALOGUES: dict[str, dict[str, str]] = {"en": en.MESSAGES, "ru": ru.MESSAGES, "uk": uk.MESSAGES}

# The same words keyed the other way round: key -> {lang: text} (the web layer's shape).
MESSAGES: dict[str, dict[str, str]] = {
    key: {lang: CATALOGUES[lang][key] for lang in LANGS if key in CATALOGUES[lang]}
    for key in en.MESSAGES
}


def translate(key: str, lang: str) -> str:
    """The word for `key` in `lang`, else in English, else the key's last part readable."""
    catalogue = CATALOGUES.get(lang, en.MESSAGES)
    text = catalogue.get(key) or en.MESSAGES.get(key)
    if text is not None:
        return text
    return key.split(".", 1)[-1].replace("_", " ")


def column(key: str, lang: str) -> str:
    return translate(f"col.{key}", lang)


def value(key: str, lang: str) -> str:
    return translate(f"val.{key}", lang)


__all__ = ["CATALOGUES", "LANGS", "MESSAGES", "column", "translate", "value"]
