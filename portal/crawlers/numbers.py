"""Numbers as written on Vietnamese and English pages: 10.309 or 10,309; 45,6% or 45.6%; 1,2 triệu."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

VI = "vi"
EN = "en"
CONVENTIONS = (VI, EN)

_SPACE_SEPS = "\u00a0\u202f\u2009"
_SCALE_VALUES = {
    "nghìn": 1_000,
    "nghin": 1_000,
    "ngàn": 1_000,
    "thousand": 1_000,
    "thousands": 1_000,
    "triệu": 1_000_000,
    "trieu": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "tỷ": 1_000_000_000,
    "tỉ": 1_000_000_000,
    "billion": 1_000_000_000,
    "billions": 1_000_000_000,
}
_SCALE_WORD = r"(?:triệu|trieu|nghìn|nghin|ngàn|tỷ(?!\s*lệ)|tỉ(?!\s*lệ)|millions?|thousands?|billions?)(?!\w)"
_GAP = rf"[ \t{_SPACE_SEPS}]*"
_TOKEN = re.compile(
    rf"""
    (?:(?<![\w.,\-−])(?P<sign>[-−]))?
    (?<![\w.,])
    (?P<core>\d+(?:(?:[.,]|[{_SPACE_SEPS}](?=\d{{3}}(?!\d)))\d+)*)
    (?!\w|[.,]\d)
    (?P<scale>(?:{_GAP}{_SCALE_WORD}){{0,2}})
    (?P<pct>{_GAP}%)?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_GROUP_SPLIT = {".": re.compile(r"[. ]"), ",": re.compile(r"[, ]")}
_NON_VOTING = re.compile(r"\d\.\d{6}|\d\.\d{1,2}")


def _reading(core: str, group: str, decimal: str) -> Decimal | None:
    """Value of core read with the given group and decimal separators, or None if malformed."""
    for ch in _SPACE_SEPS:
        core = core.replace(ch, " ")
    int_part, sep, frac = core.partition(decimal)
    if sep and (not frac or not frac.isdigit()):
        return None
    groups = _GROUP_SPLIT[group].split(int_part)
    if not all(g.isdigit() for g in groups):
        return None
    if len(groups) > 1:
        first, rest = groups[0], groups[1:]
        if not 1 <= len(first) <= 3 or first.startswith("0") or any(len(g) != 3 for g in rest):
            return None
    digits = "".join(groups)
    return Decimal(f"{digits}.{frac}" if sep else digits)


def _is_whole(value: Decimal, scaled: bool) -> bool:
    """Written without decimals, or a scaled decimal that comes out whole (1,2 triệu)."""
    return value.as_tuple().exponent >= 0 or (scaled and value == value.to_integral_value())


def _to_number(value: Decimal, scaled: bool) -> int | float:
    return int(value) if _is_whole(value, scaled) else float(value)


@dataclass(frozen=True)
class NumberMatch:
    """One number token found in text, with its readings under both conventions."""

    text: str
    start: int
    end: int
    core: str
    vi: Decimal | None
    en: Decimal | None
    multiplier: int = 1
    percent: bool = False
    negative: bool = False

    @property
    def style(self) -> str | None:
        """The convention this token proves ("vi" or "en"), or None if it fits both or neither."""
        if self.vi is not None and self.en is None:
            return VI
        if self.en is not None and self.vi is None:
            return EN
        return None

    @property
    def ambiguous(self) -> bool:
        """True when the token means different numbers in the two conventions (10.309, 12,500)."""
        return self.vi is not None and self.en is not None and self.vi != self.en

    def value(self, convention: str | None = None, *, integer: bool = False) -> int | float | None:
        """The number; convention settles ambiguous tokens, integer=True drops decimal readings."""
        if convention is not None and convention not in CONVENTIONS:
            raise ValueError(f"unknown number convention {convention!r}")
        sign = -1 if self.negative else 1
        readings = {
            conv: raw * self.multiplier * sign
            for conv, raw in ((VI, self.vi), (EN, self.en))
            if raw is not None
        }
        if integer:
            readings = {c: v for c, v in readings.items() if _is_whole(v, self.multiplier != 1)}
        distinct = set(readings.values())
        if not distinct:
            return None
        if len(distinct) == 1:
            chosen = next(iter(readings.values()))
        elif convention in readings:
            chosen = readings[convention]
        else:
            return None
        return _to_number(chosen, self.multiplier != 1)


def find_numbers(text: str) -> list[NumberMatch]:
    """Every well-formed number in text (NFC-normalised; offsets refer to the normalised text)."""
    text = unicodedata.normalize("NFC", text)
    found: list[NumberMatch] = []
    for m in _TOKEN.finditer(text):
        core = m.group("core")
        vi = _reading(core, ".", ",")
        en = _reading(core, ",", ".")
        if vi is None and en is None:
            continue
        multiplier = 1
        for word in re.findall(r"\w+", m.group("scale") or ""):
            multiplier *= _SCALE_VALUES.get(word.lower(), 1)
        found.append(
            NumberMatch(
                text=m.group(0),
                start=m.start(),
                end=m.end(),
                core=core,
                vi=vi,
                en=en,
                multiplier=multiplier,
                percent=m.group("pct") is not None,
                negative=m.group("sign") is not None,
            )
        )
    return found


def parse_number(token: str, convention: str | None = None, *, integer: bool = False) -> int | float | None:
    """Parse one number written alone ("1.234.567", "45,6%", "1,2 triệu"); None if not exactly one number."""
    stripped = unicodedata.normalize("NFC", token).strip()
    matches = find_numbers(stripped)
    if len(matches) != 1 or matches[0].start != 0 or matches[0].end != len(stripped):
        return None
    return matches[0].value(convention, integer=integer)


def _examples(tokens: Iterable[str], limit: int = 3) -> str:
    shown = list(dict.fromkeys(tokens))
    more = f" (+{len(shown) - limit} more)" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def detect_convention(texts: Iterable[str], hint: str | None = None) -> tuple[str | None, list[str]]:
    """Page-level convention from the tokens that prove one (1.234.567, 45,6, 1,234.5), with warnings.

    Procedure codes (1.001234), section or version numbers (1.1, 2.0), telephone numbers, dates, times,
    years, legal document numbers and identifiers do not vote. `hint` (the page's language, "vi" or
    "en") settles a page whose numbers fit both conventions, never one whose numbers prove one.
    """
    votes: dict[str, dict[str, None]] = {VI: {}, EN: {}}
    ambiguous: dict[str, None] = {}
    for text in texts:
        for m in _TOKEN.finditer(blank_non_figures(text)):
            core = m.group("core")
            if core.isdigit() or _NON_VOTING.fullmatch(core) and m.group("pct") is None:
                continue
            vi, en = _reading(core, ".", ","), _reading(core, ",", ".")
            if vi is not None and en is None:
                votes[VI][core] = None
            elif en is not None and vi is None:
                votes[EN][core] = None
            elif vi is not None and vi != en:
                ambiguous[core] = None
    if votes[VI] and votes[EN]:
        return None, [
            "mixed number conventions: Vietnamese-style "
            f"{_examples(votes[VI])} and English-style {_examples(votes[EN])}"
        ]
    if votes[VI]:
        return VI, []
    if votes[EN]:
        return EN, []
    if ambiguous and hint in CONVENTIONS:
        return hint, []
    if ambiguous:
        return None, [f"number convention not evident; ambiguous numbers: {_examples(ambiguous)}"]
    return None, []


# ---------------------------------------------------------------- numbers that are not figures

_NON_FIGURE_PATTERNS = (
    # legal documents: 846/QĐ-TTg, 61/2018/NĐ-CP, 2030/VPCP-KSTT, số 1.291/QĐ-UBND
    r"\d[\d.]*\s*/\s*(?:\d{2,4}\s*/\s*)?[a-z]{1,10}(?:\s*[-–]\s*[a-z0-9]{1,10})+",
    r"\d[\d.]*\s*/\s*(?:\d{2,4}\s*/\s*)?(?:qd|nd|tt|ct|nq|kh|bc|tb|cv|ttg|ubnd|vpcp|ttlt|l)(?![a-z])",
    # dates and times: 15/10/2024, 15.10.2024, 2024-10-15T08:00, 10/2024, 10:30, 8h30
    r"(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?:[t ]\d{1,2}:\d{2}(?::\d{2})?)?",
    r"(?<![\d.,])\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}(?!\d)",
    r"(?<![\d.,])\d{1,2}\s*[/.\-]\s*(?:19|20)\d{2}(?![\d.,]\d)",
    r"(?<![\d.,])\d{1,2}\s*(?::|h)\s*\d{2}(?::\d{2})?(?!\d)",
    r"(?<![a-z])ngay\s+\d{1,2}(?:\s*[/.\-]\s*\d{1,2}(?:\s*[/.\-]\s*\d{2,4})?)?(?:\s+thang\s+\d{1,2})?"
    r"(?:\s+nam\s+\d{4})?(?!\d)",
    r"(?<![a-z])(?:thang|quy|tuan|ky)\s+\d{1,2}(?:\s*[/\-]\s*\d{4}|\s+nam\s+\d{4})?(?!\d)",
    # years: năm 2024, 2016-2020, © 2024
    r"(?<![a-z])(?:nam|year|nien do|fy|in|since|tu|den)\s+(?:19|20)\d{2}(?![\d.,]\d)",
    r"(?<![\d.,])(?:19|20)\d{2}\s*[-–]\s*(?:19|20)\d{2}(?!\d)",
    r"©\s*(?:19|20)\d{2}",
    # telephone numbers: after a label, or shaped like one (0235.3812.345, 1900.1234, (0235) 3 810 123)
    r"(?<![a-z])(?:hotline|duong day nong|dien thoai|so dien thoai|sdt|dt|tel|phone|fax|di dong|zalo|lien he)"
    r"\s*[:.]?\s*\(?\+?\d[\d\s().\-]{5,24}\d",
    r"\(0\d{1,3}\)\s*\d(?:[\s.\-]?\d){5,8}(?!\d)",
    r"(?<![\d.,])(?:(?:\+84|\(\+?84\))\s*\d{1,3}|0\d{1,3})(?:[\s.\-]?\d){6,8}(?!\d)",
    r"(?<![\d.,])1[89]00(?:[\s.\-]?\d){4,6}(?!\d)",
    # postcodes and identifiers
    r"(?<![a-z])(?:ma so thue|mst|ma buu chinh|ma buu dien|postcode|postal code|zip code|zip|ma ho so|ma thu tuc"
    r"|ma dinh danh|ma so|ma tthc|so hieu|so cmnd|cccd|id|ma)\s*[:#]?\s*[a-z0-9]*\d[\w.\-/]*",
    # visitor counters, often a widget with its own formatting
    r"(?<![a-z])(?:luot truy cap|so luot truy cap|truy cap|dang truc tuyen|dang online|visits|visitors|page views)"
    r"\s*[:]?\s*\d[\d.,\s]*",
    # versions
    r"(?<![a-z])(?:v|version|phien ban)\s*\d+(?:\.\d+)+",
)
_NON_FIGURES = re.compile("|".join(f"(?:{p})" for p in _NON_FIGURE_PATTERNS))


_FOLD_TABLE: dict[int, str] = {}


def _same_length_fold(text: str) -> str:
    """Lower case without diacritics, one character for one character (offsets stay valid)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        missing = {ch for ch in set(lowered) if ord(ch) > 127 and ord(ch) not in _FOLD_TABLE}
        for ch in missing:
            base = unicodedata.normalize("NFD", ch)[0]
            _FOLD_TABLE[ord(ch)] = "d" if base == "đ" else base
        return lowered.translate(_FOLD_TABLE)
    out = []
    for ch in text:
        low = ch.lower()
        low = low[0] if len(low) == 1 else ch
        base = unicodedata.normalize("NFD", low)[0]
        out.append("d" if base == "đ" else base)
    return "".join(out)


def non_figure_spans(text: str) -> list[tuple[int, int]]:
    """Where text holds numbers that are never figures: phones, dates, times, years, legal documents, IDs."""
    return [m.span() for m in _NON_FIGURES.finditer(_same_length_fold(text))]


def blank_non_figures(text: str) -> str:
    """Text with the numbers of non_figure_spans replaced by spaces (offsets kept); NFC-normalised."""
    text = unicodedata.normalize("NFC", text)
    pieces, position = [], 0
    for start, end in non_figure_spans(text):
        pieces += (text[position:start], " " * (end - start))
        position = end
    return "".join(pieces) + text[position:] if pieces else text


def convention_of_counts(tokens: Iterable[NumberMatch]) -> str | None:
    """The convention that reads every count token as a whole number, when exactly one does."""
    possible = {VI, EN}
    decided = False
    for match in tokens:
        whole = {
            conv
            for conv, raw in ((VI, match.vi), (EN, match.en))
            if raw is not None and _is_whole(raw, match.multiplier != 1)
        }
        if match.vi is not None and match.en is not None and match.vi == match.en:
            continue
        if whole:
            possible &= whole
            decided = True
    return next(iter(possible)) if decided and len(possible) == 1 else None
