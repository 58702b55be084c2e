"""Vietnamese search folding: lower-case, no diacritics, đ → d."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Fold text for matching: NFD, drop combining marks, map đ/Đ to d, lower-case."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "D").lower()
