"""Display helpers for templates: numbers the Vietnamese way, dates, labels."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l


def _locale() -> str:
    return str(get_locale() or "vi")


def number(value: float | int | None, decimals: int | None = None) -> str:
    """10.309 and 0,942 on Vietnamese pages; 10,309 and 0.942 on English ones."""
    if value is None:
        return "—"
    if decimals is not None:
        pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
        return format_decimal(value, format=pattern)
    return format_decimal(value)


def percent(value: float | None, decimals: int = 1) -> str:
    """A share in 0–100 shown as 45,6 % (vi) or 45.6 % (en)."""
    if value is None:
        return "—"
    return f"{number(value, decimals)}\u00a0%"


def datetime_local(value: datetime | None, fmt: str = "short") -> str:
    return format_datetime(value, fmt) if value else "—"


def date_local(value: date | None, fmt: str = "medium") -> str:
    return format_date(value, fmt) if value else "—"


_LEVELS = {3: _l("Mức 3 (một phần)"), 4: _l("Mức 4 (toàn trình)")}
_HEALTH = {
    "unknown": _l("Chưa kiểm tra"),
    "up": _l("Hoạt động"),
    "degraded": _l("Chập chờn"),
    "down": _l("Không truy cập được"),
    "dead": _l("Ngừng hoạt động"),
}
_KINDS = {
    "ministry": _l("Bộ, cơ quan ngang bộ"),
    "government_agency": _l("Cơ quan thuộc Chính phủ"),
    "province": _l("Tỉnh, thành phố"),
}


def level_label(level: int) -> str:
    return str(_LEVELS.get(level, level))


def health_label(health: str) -> str:
    return str(_HEALTH.get(health, health))


def kind_label(kind: str) -> str:
    return str(_KINDS.get(kind, kind))


def kinds() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in _KINDS.items()]


def healths() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in _HEALTH.items()]
