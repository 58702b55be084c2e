"""Reporting periods, the one place they are parsed, bounded and named; and the Vietnam time zone.

A period is a year ("2026") or a quarter ("2026-Q4"): those canonical keys are what is stored. Officers
type quarters many ways — "Quý IV/2026", "Q4/2026", "IV/2026", "4/2026", "2026-q4" — and `normalize`
turns each into the key.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.text import fold

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7, no daylight saving time
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR_RE = re.compile(r"^(\d{4})$")
FIRST_YEAR, LAST_YEAR = 2000, 2100
EXAMPLES = "2026, 2026-Q4, Quý IV/2026, Q4/2026"

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_QUARTER_WORDS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_QUARTER_FIRST = re.compile(r"^(?:quy|q|quarter)?\s*(iv|iii|ii|i|[1-4])\s*(?:[/.\-]|\s|nam)\s*(\d{4})$")
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/.\s]?\s*(?:quy|q)\s*(iv|iii|ii|i|[1-4])$")


def _in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def parse_quarter(period: str) -> tuple[int, int]:
    """(year, quarter) of a canonical quarter key "2026-Q3"; ValueError otherwise."""
    match = QUARTER_RE.match(period or "")
    if not match or not _in_range(int(match.group(1))):
        raise ValueError(f"period must look like 2026-Q3, not {period!r}")
    return int(match.group(1)), int(match.group(2))


def is_quarter(period: str) -> bool:
    """True for a canonical quarter key ("2026-Q3")."""
    try:
        parse_quarter(period)
    except ValueError:
        return False
    return True


def is_year(period: str) -> bool:
    """True for a canonical year key ("2026")."""
    return bool(YEAR_RE.match(period or "")) and _in_range(int(period))


def is_period(period: str) -> bool:
    """True for a canonical year or quarter key."""
    return is_year(period) or is_quarter(period)


def normalize(text: str) -> str:
    """The canonical key of a period as officers write it: "Quý IV/2026", "Q4/2026", "IV/2026", "2026-q4",
    "2026 Q4" → "2026-Q4"; "2026" → "2026". ValueError when it is not a period."""
    s = fold(text or "").strip()
    s = re.sub(r"\s+", " ", s)
    if YEAR_RE.match(s) and is_year(s):
        return s
    match = _QUARTER_FIRST.match(s)
    if match:
        word, year = match.group(1), match.group(2)
    elif match := _YEAR_FIRST.match(s):
        year, word = match.group(1), match.group(2)
    else:
        raise ValueError(f"not a period: {text!r}")
    key = f"{year}-Q{_QUARTER_WORDS[word]}"
    if not is_quarter(key):
        raise ValueError(f"not a period: {text!r}")
    return key


def bounds(period: str) -> tuple[date, date]:
    """First and last day of a year or quarter key; ValueError otherwise."""
    if is_year(period):
        year = int(period)
        return date(year, 1, 1), date(year, 12, 31)
    year, quarter = parse_quarter(period)
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end - timedelta(days=1)


def local(moment: datetime) -> datetime:
    """A moment in Vietnam time (a naive moment is taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(VIETNAM)


def local_day(moment: datetime) -> date:
    """The Vietnamese calendar day of a moment."""
    return local(moment).date()


def quarter_of(moment: datetime) -> str:
    """The quarter a moment falls in, in Vietnam time."""
    moment = local(moment)
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def label(period: str, *, english: bool = False) -> str:
    """A period as people write it: "Quý III/2026" (English "Q3 2026"), "2026"; other keys unchanged."""
    if is_quarter(period):
        year, quarter = parse_quarter(period)
        return f"Q{quarter} {year}" if english else f"Quý {_ROMAN[quarter]}/{year}"
    return period


def recent_quarters(now: datetime | None = None, count: int = 6) -> list[str]:
    """The current quarter and the ones before it, newest first."""
    year, quarter = parse_quarter(quarter_of(now or datetime.now(UTC)))
    keys = []
    for _ in range(count):
        keys.append(f"{year}-Q{quarter}")
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return keys
