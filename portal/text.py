"""Vietnamese text helpers: search folding, alphabetical order, search-query tokens."""

from __future__ import annotations

import re
import unicodedata

_MARKS_TO_DROP = {0x0300, 0x0301, 0x0303, 0x0309, 0x0323, 0x0302, 0x0306, 0x031B}
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W_]+")

MAX_QUERY_TOKENS = 24
MAX_TOKEN_LENGTH = 40


def fold(text: str | None) -> str:
    """Lower-case, strip diacritics and map đ to d, for diacritic-insensitive search."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "d")
    return _WS.sub(" ", stripped).strip()


def lower_nfc(text: str | None) -> str:
    """Lower-case with diacritics kept (NFC), whitespace collapsed: the exact-match form."""
    if not text:
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFC", text.lower())).strip()


def query_tokens(folded: str) -> list[str]:
    """Word tokens of a folded query, bounded in number and length."""
    return [tok[:MAX_TOKEN_LENGTH] for tok in _TOKEN.findall(folded)[:MAX_QUERY_TOKENS]]


_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
_LETTER_MARKS = {"\u0306": "breve", "\u0302": "circumflex", "\u031b": "horn"}
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_COMPOSE = {
    ("a", "breve"): "ă",
    ("a", "circumflex"): "â",
    ("e", "circumflex"): "ê",
    ("o", "circumflex"): "ô",
    ("o", "horn"): "ơ",
    ("u", "horn"): "ư",
}


def vietnamese_sort_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sort key for Vietnamese alphabetical order (a ă â b c d đ e ê …; tones after letters)."""
    letters: list[int] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFC", text.lower()):
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        tone = 0
        for mark in marks:
            if mark in _LETTER_MARKS:
                base = _COMPOSE.get((base, _LETTER_MARKS[mark]), base)
            elif mark in _TONE_RANK:
                tone = _TONE_RANK[mark]
        if base in _LETTER_RANK:
            letters.append(100 + _LETTER_RANK[base])
        elif base.isdigit():
            letters.append(10 + int(base))
        elif base.isspace():
            letters.append(1)
        elif base.isalpha():
            letters.append(1000 + ord(base))
        else:
            continue
        tones.append(tone)
    return tuple(letters), tuple(tones)


_PLACE_PREFIX = re.compile(r"^(tp\.?\s+|thành phố\s+|tỉnh\s+)", re.IGNORECASE)


def place_sort_key(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Vietnamese order of agency names, ignoring a leading "TP." / "Thành phố" / "Tỉnh"."""
    return vietnamese_sort_key(_PLACE_PREFIX.sub("", name.strip()))
