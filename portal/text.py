"""Vietnamese text helpers: search folding, alphabetical order, search-query tokens."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

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


# Vietnamese dictionary order: the letters with diacritics are letters of their own, and the initial
# consonant digraphs (ch, gh, gi, kh, ng, ngh, nh, ph, qu, th, tr) sort after their first letter, so
# "Ninh Bình" < "Nghệ An" and "TP. Hồ Chí Minh" < "Thanh Hóa" (as in the report's tables 2.1, 4.8, 4.9).
# Tones only decide between names whose letters are equal: ngang < huyền < hỏi < ngã < sắc < nặng.
_LETTERS = (
    list("0123456789")
    + ["a", "ă", "â", "b", "c", "ch", "d", "đ", "e", "ê", "f", "g", "gh", "gi", "h", "i", "j", "k", "kh"]
    + ["l", "m", "n", "ng", "ngh", "nh", "o", "ô", "ơ", "p", "ph", "q", "qu", "r", "s", "t", "th", "tr"]
    + ["u", "ư", "v", "w", "x", "y", "z"]
)
_LETTER_INDEX = {letter: i for i, letter in enumerate(_LETTERS)}
_DIGRAPHS = sorted((x for x in _LETTERS if len(x) > 1), key=len, reverse=True)
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _split_letters(name: str) -> list[tuple[str, int] | None]:
    """One (letter, tone) per base character of `name`, None for separators."""
    out: list[tuple[str, int] | None] = []
    for ch in unicodedata.normalize("NFD", name.casefold()):
        if unicodedata.combining(ch):
            if out and out[-1] is not None:
                letter, tone = out[-1]
                if ch in _LETTER_MARKS:
                    out[-1] = (unicodedata.normalize("NFC", letter + ch), tone)
                elif ch in _TONES:
                    out[-1] = (letter, _TONES[ch])
            continue
        out.append((ch, 0) if ch.isalnum() else None)
    return out


def _word_key(word: str) -> tuple[int, ...]:
    initial = next((d for d in _DIGRAPHS if word.startswith(d)), "")
    parts = ([initial] if initial else []) + list(word[len(initial) :])
    return tuple(_LETTER_INDEX.get(p, 1000 + ord(p[0])) for p in parts)


def vietnamese_sort_key(name: str) -> tuple[Any, ...]:
    """Sort key putting names in Vietnamese dictionary order."""
    words: list[str] = []
    tones: list[int] = []
    current = ""
    for item in _split_letters(name):
        if item is None:
            if current:
                words.append(current)
            current = ""
            continue
        current += item[0]
        tones.append(item[1])
    if current:
        words.append(current)
    return (tuple(_word_key(w) for w in words), tuple(tones), name.casefold(), name)



_PLACE_PREFIX = re.compile(r"^(tp\.?\s+|thành phố\s+|tỉnh\s+)", re.IGNORECASE)


def place_sort_key(name: str) -> tuple[Any, ...]:
    """Vietnamese order of agency names, ignoring a leading "TP." / "Thành phố" / "Tỉnh"."""
    return vietnamese_sort_key(_PLACE_PREFIX.sub("", name.strip()))
