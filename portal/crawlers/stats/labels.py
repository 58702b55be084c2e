"""What a label names (which figure), which period a text is about, levels and total rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from portal.crawlers.numbers import NumberMatch
from portal.crawlers.stats.base import _EARLY, _EXCLUDED
from portal.text import fold


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


_DATE_BEFORE = re.compile(
    r"(?<![a-z])(?:ngay|thang|nam|quy|ky|tuan|luc|gio|phien ban|version|year|month)\s*$"
)
_TIME_AROUND = re.compile(r"\d\s*[:h/]\s*$")
_TIME_AFTER = re.compile(r"^\s*(?:[:/.-]\s*\d|h\d|(?:gio|phut|ngay|thang|nam)(?![a-z]))")


def _looks_like_date(text: str, match: NumberMatch) -> bool:
    before = fold(text[: match.start])
    before_words = re.sub(r"[^a-z0-9:/]+", " ", before).rstrip()
    return bool(
        _DATE_BEFORE.search(before_words)
        or _TIME_AROUND.search(text[: match.start])
        or _TIME_AFTER.match(fold(text[match.end :]))
    )
