"""Application figures from an agency's statistics page: HTML tables, lists, text or JSON."""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import charset_normalizer
import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from portal.crawlers.numbers import (
    NumberMatch,
    blank_non_figures,
    convention_of_counts,
    detect_convention,
    find_numbers,
)
from portal.crawlers.pagetext import language_hint
from portal.text import fold

FIGURES = ("received_total", "received_online", "resolved", "resolved_on_time", "online_rate")
COUNT_FIGURES = frozenset(FIGURES[:4])
EXTRACTORS = ("auto", "css", "regex", "json")

_EARLY = "resolved_early"
_EXCLUDED = "excluded"


class InvalidRule(ValueError):
    """A stat-source rule that validate_rule rejects."""


@dataclass
class Extraction:
    """Figures found on one page, the number convention seen, and what went wrong."""

    figures: dict[str, int | float | None]
    number_format: str | None
    extractor: str
    warnings: list[str] = field(default_factory=list)
    evidence: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def to_dict(self, url: str) -> dict[str, Any]:
        """The `portal stats probe --json` object for this page."""
        return {
            "url": url,
            "figures": {name: self.figures.get(name) for name in FIGURES},
            "number_format": self.number_format,
            "extractor": self.extractor,
            "warnings": list(self.warnings),
            "evidence": {name: self.evidence.get(name) for name in FIGURES},
        }


# ---------------------------------------------------------------- rules


def validate_rule(rule: Any) -> list[str]:
    """Errors in a stat-source rule (empty when it is usable)."""
    if rule is None:
        return []
    if not isinstance(rule, dict):
        return ["rule must be a JSON object"]
    errors = [f"unknown key {key!r}" for key in rule if key not in ("extractor", "figures")]
    extractor = rule.get("extractor", "auto")
    if extractor not in EXTRACTORS:
        return [*errors, f"extractor must be one of {', '.join(EXTRACTORS)}"]
    figures = rule.get("figures") or {}
    if not isinstance(figures, dict):
        return [*errors, "figures must be an object"]
    if extractor == "auto":
        if figures:
            errors.append("the auto extractor takes no figures")
        return errors
    if not figures:
        errors.append(f"the {extractor} extractor needs at least one figure")
    for name, spec in figures.items():
        if name not in FIGURES:
            errors.append(f"unknown figure {name!r}; expected one of {', '.join(FIGURES)}")
            continue
        if not isinstance(spec, str) or not spec.strip():
            errors.append(f"{name}: must be a non-empty string")
            continue
        if extractor == "css":
            try:
                CSSSelector(spec)
            except (SelectorError, etree.XPathError) as exc:
                errors.append(f"{name}: invalid CSS selector: {exc}")
        elif extractor == "regex":
            try:
                groups = re.compile(spec).groups
            except re.error as exc:
                errors.append(f"{name}: invalid regular expression: {exc}")
                continue
            if groups != 1:
                errors.append(f"{name}: the regular expression must have exactly one group, not {groups}")
        elif any(not part for part in spec.split(".")):
            errors.append(f"{name}: invalid JSON path {spec!r}")
    return errors


# ---------------------------------------------------------------- decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(body: bytes | str, content_type: str | None = None) -> tuple[str, list[str]]:
    """Body as NFC text: declared charset, then <meta>, then charset-normalizer; with warnings."""
    if isinstance(body, str):
        return unicodedata.normalize("NFC", body), []
    warnings: list[str] = []
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(body[:8192])
    declared = [
        ("Content-Type", header.group(1) if header else None),
        ("<meta>", meta.group(1).decode("ascii", "replace") if meta else None),
    ]
    for where, name in declared:
        codec = _codec(name)
        if name and codec is None:
            warnings.append(f"unknown charset {name!r} declared in {where}")
        if codec is None:
            continue
        if codec != "utf-8" and not body.isascii():
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                warnings.append(f"{where} declares {name} but the body is UTF-8")
                return unicodedata.normalize("NFC", text), warnings
        try:
            return unicodedata.normalize("NFC", body.decode(codec)), warnings
        except UnicodeDecodeError:
            warnings.append(f"body is not valid {name} as declared in {where}")
    try:
        return unicodedata.normalize("NFC", body.decode("utf-8")), warnings
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        warnings.append(f"charset guessed as {best.encoding}")
        return unicodedata.normalize("NFC", str(best)), warnings
    warnings.append("body could not be decoded; undecodable bytes replaced")
    return unicodedata.normalize("NFC", body.decode("utf-8", "replace")), warnings


# ---------------------------------------------------------------- labels


def _any(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


_RATE = _any(r"ty le|rate|percent|percentage|phan tram|share")
_ONLINE = _any(r"truc tuyen|qua mang|moi truong mang|online")
_IN_PERSON = _any(r"truc tiep|buu chinh|bcci|mot cua|in person|by post|postal|offline|paper")
_LATE = _any(r"tre han|qua han|cham|late|overdue|delayed")
_NOT_DONE = _any(
    r"dang giai quyet|dang xu ly|chua giai quyet|chua xu ly|chua den han|ky truoc|chuyen sang|ton(?! giao)"
    r"|tra lai|rut|huy|bo sung|tu choi|pending|in progress|backlog|carried over|returned|withdrawn|rejected"
)
_NOT_APPLICATIONS = _any(
    r"thoi gian|trung binh|so ngay|so gio|hotline|dien thoai|fax|dia chi|email|phien ban|truy cap|luot"
    r"|nguoi dung|tai khoan|thanh vien|dang truc tuyen|dang online|average|days|hours|duration"
    r"|visits?|visitors|users|accounts|version"
)
_SERVICES = _any(r"dich vu|thu tuc|tthc|dvc|dvctt|services?|procedures?")
_APPLICATIONS = _any(r"ho so|hs|applications?|dossiers?|files?|cases?|requests?")
_ON_TIME = _any(r"dung han|trong han|dung hen|on time|on-time|ontime|within deadline")
_EARLY_WORDS = _any(r"truoc han|som han|early|ahead of time|before deadline")
_RESOLVED = _any(r"giai quyet|xu ly|tra ket qua|resolved|processed|settled|completed|handled|decided")
_RECEIVED = _any(r"tiep nhan|nhan giai quyet|nhan ho so|da nhan|received|submitted|applications received")
_RECEIVED_WEAK = _any(r"tong so ho so|tong ho so|total applications|applications")
_CHANGE = _any(r"tang|giam|so voi|cung ky|increase|increased|decrease|decreased|growth|compared|change")
_LEVEL_WORDS = _any(r"muc(?: do)? [1-4]|toan trinh|mot phan|level [1-4]|fully online|partially online")


@lru_cache(maxsize=8192)
def _clean_label(label: str) -> str:
    folded = fold(label)
    without_notes = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", folded)
    if re.search(r"[a-z]", without_notes):
        folded = without_notes
    return re.sub(r"[^a-z0-9%-]+", " ", folded).strip()


def classify(parts: Sequence[str]) -> str | None:
    """Figure named by label parts (most specific first); _EXCLUDED for known non-figures, None if unknown."""
    return _classify(tuple(parts))


@lru_cache(maxsize=8192)
def _classify(parts: tuple[str, ...]) -> str | None:
    cleaned = [_clean_label(p) for p in parts if p and p.strip()]
    cleaned = [p for p in cleaned if p]
    if not cleaned:
        return None
    joined = " ".join(cleaned)
    percent = "%" in joined or any("%" in p for p in parts)

    base = None
    for part in cleaned:
        has_received = bool(_RECEIVED.search(part))
        has_resolved = bool(_RESOLVED.search(part)) and not re.search(r"nhan giai quyet", part)
        if has_received and has_resolved:
            return _EXCLUDED
        if has_received or has_resolved:
            base = "received" if has_received else "resolved"
            break
    if base is None and _RECEIVED_WEAK.search(joined):
        base = "received_weak"

    online = bool(_ONLINE.search(joined))
    if _NOT_APPLICATIONS.search(joined) or _CHANGE.search(joined):
        return _EXCLUDED
    if _SERVICES.search(joined) and base is None and not _APPLICATIONS.search(joined):
        return _EXCLUDED
    if _RATE.search(joined) or percent:
        if online and not (_LATE.search(joined) or _NOT_DONE.search(joined) or _ON_TIME.search(joined)):
            if not _IN_PERSON.search(joined) and not _EARLY_WORDS.search(joined):
                return "online_rate"
        return _EXCLUDED
    if _LATE.search(joined) or _NOT_DONE.search(joined):
        return _EXCLUDED
    if _ON_TIME.search(joined):
        return "resolved_on_time"
    if _EARLY_WORDS.search(joined):
        return _EARLY
    if online:
        if _IN_PERSON.search(joined) or base == "resolved":
            return _EXCLUDED
        return "received_online"
    if _IN_PERSON.search(joined):
        return _EXCLUDED
    if base == "resolved":
        return "resolved"
    if base in ("received", "received_weak"):
        return "received_total"
    return None


# ---------------------------------------------------------------- periods, levels, total rows

_ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_EN_MONTHS = {
    name: number
    for number, name in enumerate(
        "january february march april may june july august september october november december".split(), start=1
    )
}
_DATES = re.compile(
    r"(?<![a-z])(?:ngay|den ngay|tu ngay|tinh den|cap nhat(?: luc)?|as of|updated)\s+\d{1,2}"
    r"(?:\s*(?:/|-|\.|thang)\s*\d{1,2})?(?:\s*(?:/|-|\.|nam)\s*\d{2,4})?"
    r"|\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{2,4}|\d{4}-\d{2}-\d{2}"
)
_YEAR = r"((?:19|20)\d{2})"


def _quarter(m: re.Match[str]) -> str:
    number = _ROMAN_QUARTERS.get(m.group(1), None) or int(m.group(1)[-1])
    return f"Quý {number}" + (f"/{m.group(2)}" if m.group(2) else "")


_PERIOD_RULES: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"(?<![a-z])(?:luy ke|cong don|cumulative|year to date|ytd)(?![a-z])"), lambda m: "Lũy kế"),
    (re.compile(rf"(?<![a-z0-9])(\d{{1,2}}) (?:thang dau nam|thang|months?)(?:(?: nam)? {_YEAR})?(?![a-z0-9])"),
     lambda m: f"{m.group(1)} tháng" + (f" năm {m.group(2)}" if m.group(2) else "")),
    (re.compile(rf"(?<![a-z])thang (\d{{1,2}})(?:\s*(?:/|-|nam)\s*{_YEAR})?(?!\d)"),
     lambda m: f"Tháng {int(m.group(1))}" + (f"/{m.group(2)}" if m.group(2) else "")),
    (re.compile(rf"(?<![a-z])(?:quy|quarter) (iv|iii|ii|i|[1-4])(?:\s*(?:/|-|nam)\s*{_YEAR})?(?![a-z0-9])"),
     _quarter),
    (re.compile(rf"(?<![a-z0-9])(q[1-4])(?:[\s/-]*{_YEAR})?(?![a-z0-9])"), _quarter),
    (re.compile(rf"(?<![a-z])({'|'.join(_EN_MONTHS)})(?: {_YEAR})?(?![a-z])"),
     lambda m: f"Tháng {_EN_MONTHS[m.group(1)]}" + (f"/{m.group(2)}" if m.group(2) else "")),
    (re.compile(r"(?<![a-z])(?:trong thang|thang nay|this month)(?![a-z])"), lambda m: "Trong tháng"),
    (re.compile(r"(?<![a-z])(?:trong quy|quy nay|this quarter)(?![a-z])"), lambda m: "Trong quý"),
    (re.compile(r"(?<![a-z])(?:hom nay|trong ngay|today)(?![a-z])"), lambda m: "Hôm nay"),
    (re.compile(r"(?<![a-z])(?:trong tuan|tuan nay|this week)(?![a-z])"), lambda m: "Trong tuần"),
    (re.compile(r"(?<![a-z])(?:trong nam|nam nay|this year)(?![a-z])"), lambda m: "Trong năm"),
    (re.compile(rf"(?<![a-z])(?:nam|year|fy) ?{_YEAR}(?!\d)"), lambda m: f"Năm {m.group(1)}"),
    (re.compile(rf"^{_YEAR}$"), lambda m: f"Năm {m.group(1)}"),
)


@lru_cache(maxsize=8192)
def find_period(text: str) -> str | None:
    """The reporting period a label names ("Tháng 10/2024", "Năm 2024", "Lũy kế"…), dates aside; None if none."""
    folded = _DATES.sub(" ", fold(text)[:300])
    folded = re.sub(r"[^a-z0-9/-]+", " ", folded).strip()
    for pattern, make in _PERIOD_RULES:
        match = pattern.search(folded)
        if match:
            return str(make(match))
    return None


def period_matches(seen: str, wanted: str) -> bool:
    """Whether a period read on a page is the one a source names ("Tháng 10" matches "Tháng 10/2024")."""
    a = fold(find_period(seen) or seen)
    b = fold(find_period(wanted) or wanted)
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or a.startswith(b + " nam")


_LEVEL = re.compile(
    r"^(?:muc(?: do)? [1-4](?: (?:va )?[1-4])*|toan trinh|mot phan|level [1-4](?: (?:and )?[1-4])*"
    r"|fully|full|partial|partially)$"
)
_LEVEL_FILLER = frozenset(
    "dvc dvctt dich vu cong truc tuyen thu tuc tthc ho so online public services service cua".split()
)


@lru_cache(maxsize=8192)
def level_name(text: str) -> str | None:
    """The service level a label names ("Mức độ 3", "Toàn trình", "Mức 1, 2"), as written; None otherwise."""
    cleaned = _clean_label(text)
    words = [w for w in cleaned.split() if w not in _LEVEL_FILLER]
    if not words or len(text) > 80 or not _LEVEL.match(" ".join(words)):
        return None
    return _WS_ANY.sub(" ", text).strip(" :-–")


_WS_ANY = re.compile(r"\s+")
_TOTAL_WORDS = (
    ("tong cong", 3), ("grand total", 3), ("toan tinh", 3), ("toan quoc", 3), ("toan thanh pho", 3),
    ("toan nganh", 3), ("ca nuoc", 3), ("total", 2), ("tong so", 2), ("tong", 2), ("toan bo", 1),
    ("cong", 1), ("sum", 1), ("all", 1),
)
_TOTAL_FILLER = frozenset("ho so hs cac don vi chung ca nuoc toan tinh thanh pho quoc nganh applications units".split())
_TOTAL_REST = re.compile(r"^(?:toan tinh|toan quoc|toan thanh pho|chung|ca nuoc|cac don vi|[ivx+ ]+|[a-z]?)$")


@lru_cache(maxsize=8192)
def total_rank(text: str, strict: bool = False) -> int | None:
    """How strongly a label names a total row ("Tổng cộng" 3, "Tổng" 2, "Cộng" 1); None if it does not.

    strict: only the total word itself (a column "Tổng số"), not "Tổng số hồ sơ".
    """
    cleaned = _clean_label(text)
    for words, rank in _TOTAL_WORDS:
        if cleaned == words or cleaned.startswith(words + " "):
            rest = cleaned[len(words) :].strip()
            if not rest or _TOTAL_REST.match(rest):
                return max(rank, 3 if rest.startswith(("toan", "ca nuoc")) else rank)
            if not strict and rank >= 2 and set(rest.split()) <= _TOTAL_FILLER:
                return rank
            return None
    return None


_INDEX_HEADER = re.compile(r"^(?:stt|tt|so tt|so thu tu|no|#|ord|thu tu)$")


# ---------------------------------------------------------------- candidates


@dataclass
class _Candidate:
    figure: str
    value: int | float
    evidence: dict[str, Any]
    token: NumberMatch | None = None
    group: str | None = None
    row_total: int | None = None
    level: str | None = None
    period: str | None = None


_PLAIN_KEPT = 6


@dataclass
class _Context:
    convention: str | None
    warnings: list[str]
    candidates: list[_Candidate] = field(default_factory=list)
    plain_values: dict[tuple[str, str, str | None], list[int | float]] = field(default_factory=dict)

    def offer(
        self,
        parts: Sequence[str],
        match: NumberMatch,
        evidence: dict[str, Any],
        *,
        figure: str | None = None,
        group: str | None = None,
        row_total: int | None = None,
        level: str | None = None,
        period: str | None = None,
    ) -> None:
        figure = classify(parts) if figure is None else figure
        if figure is None or figure == _EXCLUDED:
            return
        if level is None and any(_LEVEL_WORDS.search(_clean_label(p)) for p in parts):
            return  # one level's figure named in a label, not the whole
        value = _figure_value(figure, match, self.convention, parts, evidence, self.warnings)
        if value is not None and group is not None and row_total is None and level is None:
            seen = self.plain_values.setdefault((group, figure, period), [])
            if len(seen) >= _PLAIN_KEPT and (value in seen or len(set(seen)) > 1):
                return  # rows of a breakdown: enough are kept to show whether they agree
            seen.append(value)
        if value is not None:
            evidence["text"] = match.text.strip()
            if period:
                evidence["period"] = period
            self.candidates.append(_Candidate(figure, value, evidence, match, group, row_total, level, period))


def _where(evidence: dict[str, Any] | str) -> str:
    """Where a figure was read, in words: "table 2 'caption', row 'Tổng cộng', column 'Tiếp nhận › Trực tuyến'"."""
    if isinstance(evidence, str):
        return evidence
    if "where" not in evidence and evidence.get("kind") == "table":
        caption = evidence.get("caption")
        where = f"table {evidence['table']}" + (f" '{caption[:40]}'" if caption else "")
        where += f", row '{evidence['row'][:60]}'"
        if evidence.get("column"):
            where += f", column '{evidence['column'][:80]}'"
        evidence["where"] = where
    return str(evidence.get("where", ""))


def _figure_value(
    figure: str,
    match: NumberMatch,
    convention: str | None,
    parts: Sequence[str],
    evidence: dict[str, Any] | str,
    warnings: list[str],
) -> int | float | None:
    if figure == "online_rate":
        value = match.value(convention)
        if value is None:
            warnings.append(f"online_rate: ambiguous number {match.core!r} at {_where(evidence)}")
            return None
        if match.percent or any("%" in p for p in parts) or value > 1:
            return value
        warnings.append(f"online_rate: {match.text!r} at {_where(evidence)} has no % sign and may be a fraction")
        return None
    if match.percent:
        return None
    value = match.value(convention, integer=True)
    if value is None:
        warnings.append(f"{figure}: {match.text!r} at {_where(evidence)} is not a whole number")
    return value


_UNIT = re.compile(r"^(?:(?:bo|so|tong)\s+)?(?:ho so|hs|applications?|dossiers?|cases?|files?)$")


_PLAIN_COUNT = re.compile(r"^(?:0|[1-9]\d{0,2}(?:([.,])\d{3}(?:\1\d{3})*)?)$")


def _lone_number(text: str) -> NumberMatch | None:
    """The number in a cell-like text holding one number and at most a unit word (dates, phones… aside)."""
    if _PLAIN_COUNT.match(text):
        return find_numbers(text)[0]
    normalized = blank_non_figures(text)
    matches = find_numbers(normalized)
    if len(matches) != 1:
        return None
    rest = normalized[: matches[0].start] + normalized[matches[0].end :]
    rest = re.sub(r"[^a-z0-9%]+", " ", fold(rest)).strip()
    return matches[0] if not rest or _UNIT.match(rest) else None


def _select_period(
    candidates: list[_Candidate], period: str | None, warnings: list[str]
) -> tuple[list[_Candidate], list[str]]:
    """Candidates of the period the source names; none (with a warning) when the page's periods leave a doubt."""
    seen = list(dict.fromkeys(c.period for c in candidates if c.period))
    if period:
        if not seen:
            if candidates:
                warnings.append(f"the page names no period; figures read as shown (the source names {period!r})")
            return candidates, seen
        if all(period_matches(p, period) for p in seen):
            return candidates, seen
        chosen = [c for c in candidates if c.period and period_matches(c.period, period)]
        if not chosen:
            warnings.append(f"period {period!r} not found on the page; periods seen: {', '.join(seen)}")
        return chosen, seen
    if len(seen) > 1:
        warnings.append(
            f"several periods on the page ({', '.join(seen)}); figures left empty until the source names one"
        )
        return [], seen
    return candidates, seen


def _sum_levels(figure: str, members: list[_Candidate], warnings: list[str]) -> list[_Candidate]:
    """A table of levels without a total: one candidate, the sum of the levels (counts only)."""
    by_level: dict[str, set[int | float]] = {}
    for cand in members:
        by_level.setdefault(cand.level or "", set()).add(cand.value)
    if any(len(values) > 1 for values in by_level.values()):
        return members
    levels = {name: next(iter(values)) for name, values in by_level.items()}
    if figure not in COUNT_FIGURES and figure != _EARLY:
        warnings.append(f"{figure}: given per level only ({', '.join(levels)}), not added up")
        return []
    first = members[0]
    total = sum(levels.values())
    names = " + ".join(levels)
    evidence = {key: value for key, value in first.evidence.items() if key != "where"}
    evidence.update(levels=levels, text=None)
    evidence["where"] = f"{first.group}, sum of the levels {names}" + (
        f", column '{first.evidence['column']}'" if first.evidence.get("column") else ""
    )
    if first.evidence.get("row") in levels:
        evidence["row"] = names
    warnings.append(f"{figure} is the sum of the levels {names} ({first.group})")
    return [_Candidate(figure, total, evidence, None, first.group, None, None, first.period)]


def _resolve_group(figure: str, members: list[_Candidate], warnings: list[str]) -> list[_Candidate]:
    """Within one table: the total row wins over unit rows; a table of levels is summed."""
    totals = [c for c in members if c.row_total is not None]
    if totals:
        top = max(c.row_total or 0 for c in totals)
        members = [c for c in totals if c.row_total == top]
    plain = [c for c in members if c.level is None]
    levelled = [c for c in members if c.level is not None]
    if not plain:
        return _sum_levels(figure, levelled, warnings) if levelled else []
    levels = {c.level: c.value for c in levelled}
    if levels and len(levels) == len(levelled):
        plain = [_Candidate(c.figure, c.value, {**c.evidence, "levels": levels}, c.token, c.group, c.row_total,
                            None, c.period) for c in plain]
    return plain


def _decide(
    candidates: list[_Candidate], warnings: list[str], period: str | None = None
) -> tuple[dict[str, int | float | None], dict[str, dict[str, Any] | None], list[_Candidate]]:
    """Figures, their evidence and the chosen candidates: agreeing candidates only, never a guess."""
    candidates, _seen = _select_period(candidates, period, warnings)
    by_figure: dict[str, list[_Candidate]] = {}
    for cand in candidates:
        by_figure.setdefault(cand.figure, []).append(cand)
    decided: dict[str, int | float | None] = {}
    evidence: dict[str, dict[str, Any] | None] = {}
    chosen: list[_Candidate] = []
    for figure in (*FIGURES, _EARLY):
        groups: dict[str | None, list[_Candidate]] = {}
        for cand in by_figure.get(figure, []):
            groups.setdefault(cand.group, []).append(cand)
        kept: list[_Candidate] = []
        for group, members in groups.items():
            if group is None:
                kept.extend(members)
                continue
            resolved = _resolve_group(figure, members, warnings)
            if len({c.value for c in resolved}) > 1:
                shown = "; ".join(f"{c.value} ({_where(c.evidence)})" for c in resolved[:6])
                warnings.append(f"{figure}: candidates disagree in {group} (no total row), not read from it: {shown}")
                continue
            kept.extend(resolved[:1])
        values = {c.value for c in kept}
        decided[figure], evidence[figure] = None, None
        if len(values) == 1:
            _where(kept[0].evidence)
            decided[figure], evidence[figure] = kept[0].value, kept[0].evidence
            chosen.append(kept[0])
        elif len(values) > 1:
            shown = "; ".join(f"{c.value} ({_where(c.evidence)})" for c in kept[:6])
            warnings.append(f"{figure}: candidates disagree, left empty: {shown}")
    early, early_evidence = decided.pop(_EARLY), evidence.pop(_EARLY)
    on_time = decided["resolved_on_time"]
    if early is not None and on_time is not None:
        decided["resolved_on_time"] = on_time + early
        evidence["resolved_on_time"] = {**(evidence["resolved_on_time"] or {}), "plus": early_evidence}
        warnings.append("resolved_on_time is the sum of the 'đúng hạn' and 'trước hạn' figures")
    elif early is not None and not by_figure.get("resolved_on_time"):
        decided["resolved_on_time"], evidence["resolved_on_time"] = early, early_evidence
    return decided, evidence, chosen


# ---------------------------------------------------------------- HTML

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul "
    "caption".split()
)
_SKIP_TAGS = frozenset("script style noscript template head title svg button select option".split())
_WS = re.compile(r"[ \t\r\n\f\v]+")
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6 caption legend".split())


def _tag(el: Any) -> str | None:
    return el.tag.lower() if isinstance(el.tag, str) else None


class _TooLong(Exception):
    pass


def _text(el: Any, skip: frozenset[str] = _SKIP_TAGS, limit: int | None = None) -> str:
    """Visible text of an element, with a space at element boundaries (cards put label and number side by side).

    With `limit`, "" as soon as the raw text grows past it (a whole page is not a label).
    """
    chunks: list[str] = []
    size = 0

    def walk(node: Any) -> None:
        nonlocal size
        if limit is not None:
            size += len(node.text or "") + len(node.tail or "")
            if size > limit:
                raise _TooLong
        if node.text:
            chunks.append(node.text)
        for child in node:
            tag = _tag(child)
            if tag is not None and tag not in skip:
                chunks.append(" ")
                walk(child)
                chunks.append(" ")
            if child.tail:
                chunks.append(child.tail)

    try:
        walk(el)
    except _TooLong:
        return ""
    return _WS.sub(" ", "".join(chunks)).strip()


def _parse_html(text: str) -> Any | None:
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def _context_periods(root: Any) -> dict[Any, str]:
    """For each element, the period named by the nearest heading (or short period tab) before it.

    Period markers one after another with no figure between them (a strip of tabs: "Tháng này · Năm nay ·
    Lũy kế") do not say which period the content shows: what follows them gets no period from them.
    """
    current: str | None = None
    found: dict[Any, str] = {}
    content_since_marker = True
    for el in root.iter():
        tag = _tag(el)
        if tag is None or tag in _SKIP_TAGS and tag != "button":
            continue
        label = None
        if tag in _HEADINGS:
            label = _text(el)
        elif len(el) == 0 and el.text and len(el.text.strip()) <= 40 and tag not in ("td", "th", "dd", "dt"):
            label = el.text.strip()
            if find_numbers(blank_non_figures(label)) and not find_period(label):
                label = None
        period = find_period(label) if label else None
        if period and (tag in _HEADINGS or _is_period_only(label or "")) and (
            tag == "caption" or not any(_tag(a) in ("table", "dl") for a in el.iterancestors())
        ):
            current = period if content_since_marker else None
            content_since_marker = False
        elif not content_since_marker and re.search(r"\d", (el.text or "") + (el.tail or "")):
            content_since_marker = True
        if current:
            found[el] = current
    return found


@lru_cache(maxsize=8192)
def _is_period_only(label: str) -> bool:
    rest = re.sub(
        r"(?<![a-z])(?:luy ke|tu dau nam|cong don|trong|thang|nam|quy|tuan|ngay|hom nay|nay|dau|this|month|year"
        r"|quarter|today|week|cumulative|to date|ytd|so lieu|ky|bao cao|[ivx]+|\d+)(?![a-z])",
        " ",
        re.sub(r"[^a-z0-9]+", " ", fold(label)),
    )
    return not rest.strip()


def _rows(table: Any) -> list[Any]:
    return table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")


@dataclass
class _Cell:
    text: str
    header: bool
    number: NumberMatch | None = None


def _grid(table: Any) -> Iterator[tuple[Any, list[_Cell | None]]]:
    """Rows of a table with colspan/rowspan expanded, one at a time; a spanning cell repeats in every slot."""
    carry: dict[int, tuple[_Cell, int]] = {}
    for tr in _rows(table):
        tds = [td for td in tr if _tag(td) in ("td", "th")]
        row: list[_Cell | None] = []
        next_carry: dict[int, tuple[_Cell, int]] = {}
        col = index = 0
        while index < len(tds) or any(c >= col for c in carry):
            if col in carry:
                cell, left = carry[col]
                row.append(cell)
                if left > 1:
                    next_carry[col] = (cell, left - 1)
                col += 1
                continue
            if index >= len(tds):
                row.append(None)
                col += 1
                continue
            td = tds[index]
            index += 1
            text = _text(td)
            cell = _Cell(text, _tag(td) == "th", _lone_number(text))
            down = _int_attr(td, "rowspan")
            for _ in range(_int_attr(td, "colspan")):
                row.append(cell)
                if down > 1:
                    next_carry[col] = (cell, down - 1)
                col += 1
        carry = next_carry
        yield tr, row


def _int_attr(el: Any, name: str) -> int:
    try:
        return max(1, min(int(el.get(name, "1")), 50))
    except ValueError:
        return 1


_INDEX_CELL = re.compile(r"^\(\s*[0-9a-zA-Z]{1,3}\s*\)$|^$")
_ROW_INDEX = re.compile(r"^(?:[IVXivx]{1,5}|[a-zđ]|\d{1,3}(?:\.\d{1,2})*)[.)]?$")
_YEAR_CELL = re.compile(r"^(?:19|20)\d{2}$")


def _header_path(header_rows: list[list[_Cell | None]], col: int) -> list[str]:
    """The texts naming a column, top to bottom ("Tiếp nhận", "Trực tuyến"); spans counted once."""
    return _dedupe(
        h[col].text
        for h in header_rows
        if col < len(h) and h[col] is not None and not _INDEX_CELL.match(h[col].text)
    )


def _tables(root: Any, ctx: _Context, periods: dict[Any, str]) -> None:
    for t_index, table in enumerate(root.iter("table"), start=1):
        grid = _grid(table)
        caption = table.find("caption")
        caption_text = _text(caption)[:80] if caption is not None else ""
        group = f"table {t_index}"
        table_period = (find_period(caption_text) if caption_text else None) or periods.get(table)
        header_rows: list[list[_Cell | None]] = []
        columns: list[_Column] = []
        first = len(ctx.candidates)
        data_seen = False
        for tr, row in grid:
            cells = [c for c in row if c is not None]
            if not cells or all(_INDEX_CELL.match(c.text) for c in cells):
                continue
            numbered = [c for c in cells if c.number is not None]
            in_thead = tr.getparent() is not None and _tag(tr.getparent()) == "thead"
            years_only = bool(numbered) and all(_YEAR_CELL.match(c.text) for c in numbered)
            if not data_seen and (in_thead or all(c.header for c in cells) or not numbered or years_only):
                header_rows.append(row)
            elif numbered:
                data_seen = True
                columns.extend(_Column.of(_header_path(header_rows, col)) for col in range(len(columns), len(row)))
                _table_row(row, columns, ctx, group, table_period, t_index, caption_text)
        _drop_beaten_rows(ctx.candidates, first)


def _drop_beaten_rows(candidates: list[_Candidate], first: int) -> None:
    """Forget a table's unit-row candidates of a figure and period that has a total row (keeps memory flat)."""
    totals = {(c.figure, c.period) for c in candidates[first:] if c.row_total is not None}
    if totals:
        candidates[first:] = [
            c for c in candidates[first:] if c.row_total is not None or (c.figure, c.period) not in totals
        ]


@dataclass
class _Column:
    """What a column's header path says: the figure words, a level, a period, whether it is the row index."""

    path: list[str]
    name: str | None
    parts: list[str]
    figure: str | None
    level: str | None
    period: str | None
    index: bool

    @classmethod
    def of(cls, path: list[str]) -> _Column:
        parts = [
            p for p in reversed(path) if total_rank(p, strict=True) is None and not level_name(p)
            and not _is_period_only(p) and not _names_services(p)
        ]
        return cls(
            path, " › ".join(path)[:160] or None, parts, classify(parts) if parts else None,
            next((name for p in path if (name := level_name(p))), None),
            next((period for p in path if (period := find_period(p))), None),
            _index_column(path),
        )


def _table_row(
    row: list[_Cell | None],
    columns: list[_Column],
    ctx: _Context,
    group: str,
    table_period: str | None,
    t_index: int,
    caption: str,
) -> None:
    labels = _dedupe(
        c.text
        for col, c in enumerate(row)
        if c is not None and c.number is None and c.text and not _ROW_INDEX.match(c.text)
        and not (col < len(columns) and columns[col].index)
    )
    row_name = " · ".join(labels)[:120]
    ranks = [r for r in (total_rank(t) for t in labels) if r is not None]
    row_total = max(ranks) if ranks else None
    row_level = next((name for t in labels if (name := level_name(t))), None)
    row_period = next((p for t in labels if (p := find_period(t))), None)
    row_parts = [t for t in reversed(labels) if total_rank(t) is None and not level_name(t) and not _is_period_only(t)]
    row_fig = classify(row_parts) if row_parts else None
    for col, cell in enumerate(row):
        if cell is None or cell.number is None or (col > 0 and row[col - 1] is cell):
            continue
        column_info = columns[col] if col < len(columns) else _Column.of([])
        if column_info.index:
            continue
        col_parts, col_fig = column_info.parts, column_info.figure
        col_level, col_period = column_info.level, column_info.period
        if row_total is not None or row_level is not None or row_fig is None:
            figure = col_fig
            if figure is None and row_total is not None and not row_level:
                figure = classify(labels[::-1])
        elif col_fig is None:
            figure = row_fig
        else:
            figure = classify([*row_parts, *col_parts])
        evidence = {"kind": "table", "table": t_index, "caption": caption or None, "row": row_name,
                    "column": column_info.name}
        ctx.offer([*row_parts, *col_parts], cell.number, evidence, figure=figure or _EXCLUDED, group=group,
                  row_total=row_total, level=row_level or col_level,
                  period=col_period or row_period or table_period)


def _names_services(label: str) -> bool:
    """A header naming the services ("Dịch vụ công trực tuyến") above level columns, not a figure."""
    words = _clean_label(label).split()
    return bool(_SERVICES.search(" ".join(words))) and all(w in _LEVEL_FILLER for w in words) and "ho" not in words


def _index_column(path: list[str]) -> bool:
    return bool(path) and bool(_INDEX_HEADER.match(_clean_label(path[-1])))


def _dedupe(texts: Iterator[str] | Any) -> list[str]:
    out: list[str] = []
    for text in texts:
        if text and (not out or out[-1] != text):
            out.append(text)
    return out


def _definition_lists(root: Any, ctx: _Context, periods: dict[Any, str]) -> None:
    for d_index, dl in enumerate(root.iter("dl"), start=1):
        label = ""
        for el in dl.iter("dt", "dd"):
            if _nearest(el, "dl") is not dl:
                continue
            if _tag(el) == "dt":
                label = _text(el)
                continue
            match = _lone_number(_text(el))
            if match is not None and label:
                evidence = {"kind": "list", "where": f"list {d_index}, '{label[:60]}'", "list": d_index,
                            "label": label[:120]}
                ctx.offer([label], match, evidence, period=find_period(label) or periods.get(dl))


def _nearest(el: Any, tag: str) -> Any | None:
    parent = el.getparent()
    while parent is not None and _tag(parent) != tag:
        parent = parent.getparent()
    return parent


_DATE_BEFORE = re.compile(
    r"(?<![a-z])(?:ngay|thang|nam|quy|ky|tuan|luc|gio|phien ban|version|year|month)\s*$"
)
_TIME_AROUND = re.compile(r"\d\s*[:h/]\s*$")
_TIME_AFTER = re.compile(r"^\s*(?:[:/.-]\s*\d|h\d|(?:gio|phut|ngay|thang|nam)(?![a-z]))")


def _text_blocks(root: Any, ctx: _Context, periods: dict[Any, str]) -> None:
    """Labelled numbers outside tables and lists: small label+number boxes and sentences of prose."""
    skip = _SKIP_TAGS | {"table", "dl"}
    body = root.find("body")
    if body is None:
        body = root
    shadowed: set[Any] = set()
    found: list[tuple[Any, NumberMatch, str]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(body, ())]
    while stack:
        el, ancestors = stack.pop()
        tag = _tag(el)
        if tag is None or tag in skip:
            continue
        text = _text(el, skip, limit=6000)
        if len(text) > 3000:
            text = ""
        matches = find_numbers(blank_non_figures(text)) if text else []
        descend = True
        if len(matches) == 1 and len(text) <= 160:
            match = matches[0]
            before, after = text[: match.start].strip(), text[match.end :].strip()
            label = _box_label(before, after)
            if label is not None and not _looks_like_date(text, match):
                found.append((el, match, label))
                shadowed.update(ancestors)
                matches = []
        if matches:
            words = re.findall(r"[^\W\d_]{2,}", text)
            if (len(matches) > 1 or len(words) >= 3) and not any(_tag(c) in _BLOCK_TAGS for c in el):
                shadowed.update(ancestors)
                _prose(text, ctx, periods.get(el))
                descend = False
        if descend:
            inner = (*ancestors, el)
            stack.extend((child, inner) for child in reversed(el))
    for el, match, label in found:
        if el not in shadowed:
            evidence = {"kind": "text", "where": f"text '{label[:60]}'", "label": label[:120]}
            ctx.offer([label], match, evidence, period=find_period(label) or periods.get(el))


def _box_label(before: str, after: str) -> str | None:
    """Label of a one-number box when the number sits at one end (units aside)."""
    before_f = re.sub(r"[^a-z0-9%]+", " ", fold(before)).strip()
    after_f = re.sub(r"[^a-z0-9%]+", " ", fold(after)).strip()
    if before_f and (not after_f or _UNIT.match(after_f)):
        label = before.rstrip(" :-–")
    elif after_f and not before_f:
        label = after
    else:
        return None
    return label if 0 < len(label) <= 100 else None


def _looks_like_date(text: str, match: NumberMatch) -> bool:
    before = fold(text[: match.start])
    before_words = re.sub(r"[^a-z0-9:/]+", " ", before).rstrip()
    return bool(
        _DATE_BEFORE.search(before_words)
        or _TIME_AROUND.search(text[: match.start])
        or _TIME_AFTER.match(fold(text[match.end :]))
    )


# ---------------------------------------------------------------- prose

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\sa-zđ])|\s*[\n•]+\s*")
_CLAUSE = re.compile(r"[;,:()\[\]–—]|\s-\s|(?<![a-z])(?:va|con|gom|bao gom|trong do|of which|including|and)(?![a-z])")
_SUB_CLAUSE = re.compile(r"(?<![a-z])(?:trong do|of which|including|bao gom|gom co)(?![a-z])")
_CONNECTOR = re.compile(r"(?<![a-z])(?:la|dat|chiem|bang|=|co|voi|of|is|was|were|at|reached|with)\s*$")
_UNIT_HEAD = re.compile(r"^\s*(?:(?:bo|luot)\s+)?(?:ho so|hs|applications?|dossiers?|cases?)(?![a-z])\s*")


def _prose(text: str, ctx: _Context, context_period: str | None) -> None:
    """Figures in sentences: label then number, number then label, "trong đó", "đạt … %"; nearest label wins."""
    for sentence in _SENTENCE_END.split(text):
        clean = blank_non_figures(sentence)
        matches = [m for m in find_numbers(clean) if not _looks_like_date(sentence, m)]
        if not matches:
            continue
        period = find_period(sentence) or context_period
        folded = [fold(clean[(matches[i - 1].end if i else 0) : m.start]) for i, m in enumerate(matches)]
        folded.append(fold(clean[matches[-1].end :]))
        main_label: str | None = None
        in_sub = False
        previous: tuple[str | None, str] | None = None
        for i, match in enumerate(matches):
            before_seg, after_seg = folded[i], folded[i + 1]
            if ";" in before_seg or i == 0:
                in_sub = False
            tail = before_seg.rsplit(";", 1)[-1]
            if _SUB_CLAUSE.search(tail):
                in_sub = True
            if not _counts_applications(after_seg):
                previous = None
                continue
            trimmed = before_seg.rstrip(" \t\u00a0")
            connector = trimmed.endswith((":", "(", "="))
            before = _last_clause(trimmed.rstrip(" :(="))
            connector = connector or bool(_CONNECTOR.search(before))
            before = _CONNECTOR.sub("", before).strip()
            after = _first_clause(after_seg, last=i == len(matches) - 1)
            own = [p for p in (before, after) if p and re.search(r"[a-z]", p)]
            if match.percent and previous is not None and (not before and connector or trimmed.endswith("(")):
                figure = "online_rate" if previous[0] == "received_online" else _EXCLUDED
                label = f"{previous[1]} (%)"
            else:
                parts = [*own, main_label] if in_sub and main_label else own
                figure = classify(parts) if parts else None
                if figure in (None, _EXCLUDED) and len(own) == 2:
                    alone = [classify([*([p] if not in_sub or not main_label else [p, main_label])]) for p in own]
                    if connector and alone[0] not in (None, _EXCLUDED):
                        figure = alone[0]
                label = " … ".join(own) or (main_label or "")
            if not in_sub and own:
                main_label = " ".join(own)
            previous = (figure, label)
            if figure in (None, _EXCLUDED):
                continue
            evidence = {"kind": "text", "where": f"sentence '{_excerpt(sentence, match)}'",
                        "label": label[:120], "sentence": sentence.strip()[:300]}
            ctx.offer([label], match, evidence, figure=figure, period=period)


_AFTER_WORDS = frozenset(
    "ho hs bo applications application dossiers dossier cases case files file duoc da dang were was are is have has "
    "had submitted received resolved processed handled completed settled online truc qua dung som truoc tre tiep "
    "giai xu tra on trong of in nop nhan".split()
)


def _counts_applications(after: str) -> bool:
    """False when the word right after a number names something else counted (25 huyện, 12 thủ tục)."""
    match = re.match(r"\s*([a-z]+)", after)
    return match is None or match.group(1) in _AFTER_WORDS


def _last_clause(segment: str) -> str:
    pieces = [p.strip(" .") for p in _CLAUSE.split(segment)]
    return pieces[-1] if pieces else ""


def _first_clause(segment: str, *, last: bool) -> str:
    """The label after a number, unless it is the next number's label (no separator before it)."""
    has_unit = bool(_UNIT_HEAD.match(segment))
    rest = _UNIT_HEAD.sub("", segment)
    pieces = _CLAUSE.split(rest, maxsplit=1)
    if len(pieces) == 1 and not last and not has_unit:
        return ""
    first = pieces[0].strip(" .")
    return first if re.search(r"[a-z]", first) else ("ho so" if has_unit else "")


def _excerpt(sentence: str, match: NumberMatch) -> str:
    start = max(0, match.start - 50)
    end = min(len(sentence), match.end + 30)
    return ("…" if start else "") + sentence[start:end].strip() + ("…" if end < len(sentence) else "")


# ---------------------------------------------------------------- rules on HTML


def _css(root: Any, figures: dict[str, str], ctx: _Context, found: dict[str, Any]) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, selector in figures.items():
        values: list[int | float] = []
        elements = CSSSelector(selector)(root)
        if not elements:
            ctx.warnings.append(f"{name}: selector {selector!r} matched nothing")
        texts = []
        for el in elements:
            text = _text(el)
            value = _explicit_value(name, text, ctx, found)
            if value is not None:
                values.append(value)
                texts.append(text)
        result[name] = _agree(name, values, ctx.warnings)
        if result[name] is not None:
            found[name] = {"kind": "css", "where": f"CSS selector {selector}", "selector": selector,
                           "text": texts[0][:120]}
    return result


def _regex(
    text: str, figures: dict[str, str], ctx: _Context, found: dict[str, Any]
) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, pattern in figures.items():
        groups = [m.group(1) for m in re.finditer(pattern, text) if m.group(1) is not None]
        if not groups:
            ctx.warnings.append(f"{name}: regular expression matched nothing")
        values = [v for g in groups if (v := _explicit_value(name, g, ctx, found)) is not None]
        result[name] = _agree(name, values, ctx.warnings)
        if result[name] is not None:
            found[name] = {"kind": "regex", "where": f"regular expression {pattern}", "pattern": pattern,
                           "text": groups[0][:120]}
    return result


def _explicit_value(name: str, text: str, ctx: _Context, found: dict[str, Any]) -> int | float | None:
    plain = re.sub(r"<[^>]*>", " ", text)
    matches = find_numbers(plain)
    if len(matches) != 1:
        ctx.warnings.append(f"{name}: expected one number in {plain.strip()[:60]!r}, found {len(matches)}")
        return None
    found.setdefault("_tokens", []).append((name, matches[0]))
    return _figure_value(name, matches[0], ctx.convention, [], name, ctx.warnings)


def _agree(name: str, values: list[int | float], warnings: list[str]) -> int | float | None:
    distinct = set(values)
    if len(distinct) > 1:
        warnings.append(f"{name}: matches disagree, left empty: {', '.join(map(str, sorted(distinct)))}")
        return None
    return values[0] if values else None


# ---------------------------------------------------------------- JSON


def _json_leaves(obj: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _json_leaves(value, (*keys, str(key)))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _json_leaves(value, (*keys, f"[{index}]"))
    else:
        yield keys, obj


def _json_match(value: Any) -> NumberMatch | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        text = repr(value) if isinstance(value, float) else str(value)
        if "e" in text.lower():
            text = format(value, "f")
        matches = find_numbers(text)
        if len(matches) == 1:
            m = matches[0]
            return NumberMatch(m.text, m.start, m.end, m.core, m.en, m.en, m.multiplier, False, m.negative)
        return None
    if isinstance(value, str):
        return _lone_number(value)
    return None


def _json_key_words(key: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=\d)", " ", key)
    return spaced.replace("_", " ").replace("-", " ")


def _json_auto(data: Any, ctx: _Context) -> None:
    for keys, value in _json_leaves(data):
        match = _json_match(value)
        if match is None:
            continue
        names = [k for k in keys if not k.startswith("[")]
        parts = [_json_key_words(k) for k in reversed(names)]
        path = ".".join(k.strip("[]") for k in keys)
        group = ".".join(k for k in keys[:-1] if not k.startswith("[")) or None
        period = next((p for part in parts if (p := find_period(part))), None)
        level = next((lv for part in parts[1:] if (lv := level_name(part))), None)
        evidence = {"kind": "json", "where": f"JSON {path}", "path": path}
        ctx.offer([p for p in parts if not find_period(p)], match, evidence, group=group, period=period,
                  level=level)


def _json_path(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and re.fullmatch(r"-?\d+", part) and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(part)
    return node


def _json_explicit(
    data: Any, figures: dict[str, str], ctx: _Context, found: dict[str, Any]
) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, path in figures.items():
        try:
            value = _json_path(data, path)
        except KeyError as exc:
            ctx.warnings.append(f"{name}: JSON path {path!r} not found at {exc.args[0]!r}")
            result[name] = None
            continue
        match = _json_match(value)
        if match is None:
            ctx.warnings.append(f"{name}: JSON value at {path!r} is not a number")
            result[name] = None
            continue
        if isinstance(value, str):
            found.setdefault("_tokens", []).append((name, match))
        result[name] = _figure_value(name, match, ctx.convention, [], path, ctx.warnings)
        if result[name] is not None:
            found[name] = {"kind": "json", "where": f"JSON {path}", "path": path, "text": str(value)[:120]}
    return result


def _json_strings(data: Any) -> list[str]:
    return [v for _, v in _json_leaves(data) if isinstance(v, str)]


def _load_json(text: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return None


# ---------------------------------------------------------------- entry point


def _number_format(
    convention: str | None, warnings: list[str], tokens: list[tuple[str, NumberMatch]]
) -> tuple[str | None, list[str]]:
    """The page's convention, else the one the figures' own count tokens prove (23.871 read as a count)."""
    if convention is not None or any(w.startswith("mixed number conventions") for w in warnings):
        return convention, warnings
    inferred = convention_of_counts(m for name, m in tokens if name in COUNT_FIGURES)
    if inferred is None:
        return None, warnings
    return inferred, [w for w in warnings if not w.startswith("number convention not evident")]


def extract(
    body: bytes | str,
    content_type: str | None = None,
    rule: dict[str, Any] | None = None,
    period: str | None = None,
) -> Extraction:
    """Figures from a fetched page, with where each came from; raises InvalidRule for a rule validate_rule rejects.

    `period` names the period to read on a page showing several ("Lũy kế", "Tháng 10", "Năm 2024").
    """
    errors = validate_rule(rule)
    if errors:
        raise InvalidRule("; ".join(errors))
    extractor = (rule or {}).get("extractor", "auto")
    figures_rule: dict[str, str] = (rule or {}).get("figures") or {}
    period = (period or "").strip() or None
    text, warnings = decode(body, content_type)

    looks_json = "json" in (content_type or "").lower() or text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")
    data = _load_json(text) if extractor == "json" or (extractor == "auto" and looks_json) else None

    figures: dict[str, int | float | None] = dict.fromkeys(FIGURES)
    found: dict[str, Any] = {}
    if extractor == "json" or (extractor == "auto" and data is not None):
        if data is None:
            warnings.append("body is not valid JSON")
            return Extraction(figures, None, extractor, warnings)
        convention, conv_warnings = detect_convention(_json_strings(data))
        ctx = _Context(convention, [*warnings, *conv_warnings])
        if extractor == "json":
            figures.update(_json_explicit(data, figures_rule, ctx, found))
        else:
            _json_auto(data, ctx)
            decided, found, chosen = _decide(ctx.candidates, ctx.warnings, period)
            figures.update(decided)
            found["_tokens"] = [(c.figure, c.token) for c in chosen if c.token is not None and c.token.vi != c.token.en]
        number_format, ctx.warnings = _number_format(convention, ctx.warnings, found.pop("_tokens", []))
        return Extraction(figures, number_format, extractor, ctx.warnings, _evidence(found))

    root = _parse_html(text)
    if root is None:
        warnings.append("empty or unparsable page")
        return Extraction(figures, None, extractor, warnings)
    page_text = _text(root)
    hint = language_hint(text, page_text)
    convention, conv_warnings = detect_convention([page_text], hint if hint in ("vi", "en") else None)
    ctx = _Context(convention, [*warnings, *conv_warnings])
    if extractor == "css":
        figures.update(_css(root, figures_rule, ctx, found))
    elif extractor == "regex":
        figures.update(_regex(text, figures_rule, ctx, found))
    else:
        periods = _context_periods(root)
        _tables(root, ctx, periods)
        _definition_lists(root, ctx, periods)
        _text_blocks(root, ctx, periods)
        decided, found, chosen = _decide(ctx.candidates, ctx.warnings, period)
        figures.update(decided)
        found["_tokens"] = [(c.figure, c.token) for c in chosen if c.token is not None]
    number_format, ctx.warnings = _number_format(convention, ctx.warnings, found.pop("_tokens", []))
    return Extraction(figures, number_format, extractor, ctx.warnings, _evidence(found))


def _evidence(found: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    return {name: found.get(name) for name in FIGURES}
