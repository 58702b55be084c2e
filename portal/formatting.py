"""Display helpers for templates: numbers the Vietnamese way, dates, labels."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_datetime, format_decimal

from portal.i18n import current_locale
from portal.i18n import lazy_gettext as _l
from portal.services import periods


def _locale() -> str:
    return str(current_locale() or "vi")


_GROUPING = {"vi": ".", "en": ","}  # whole numbers as Babel writes them in the two languages, without Babel


def number(value: float | int | None, decimals: int | None = None) -> str:
    """10.309 and 0,942 on Vietnamese pages; 10,309 and 0.942 on English ones."""
    if value is None:
        return "—"
    if not decimals and type(value) is int:
        separator = _GROUPING.get(_locale())
        if separator is not None:
            return f"{value:,}".replace(",", separator)
    if decimals is not None:
        pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
        return format_decimal(value, format=pattern)
    return format_decimal(value)


def percent(value: float | None, decimals: int = 1) -> str:
    """A share in 0–100 shown as 45,6 % (vi) or 45.6 % (en)."""
    if value is None:
        return "—"
    return f"{number(value, decimals)}\u00a0%"


_DATETIME_FORMATS = {"vi": "HH:mm 'ngày' dd/MM/y", "en": "d MMM y, HH:mm"}
_ZONE = _l("giờ Việt Nam")


def datetime_local(value: datetime | None, fmt: str | None = None) -> str:
    """Vietnam time in the reader's language, with the zone said: "15:30 ngày 02/12/2026 (giờ Việt Nam)"."""
    if not value:
        return "—"
    text = format_datetime(value, fmt or _DATETIME_FORMATS.get(_locale(), "medium"))
    return f"{text} ({_ZONE})"


def period_label(key: str | None) -> str:
    """A period key as people write it: "Quý IV/2026" (English "Q4 2026"), "2026"."""
    return periods.label(key, english=_locale() == "en") if key else "—"


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


_REASONS = {
    "ok": _l("Bình thường"),
    "slow": _l("Chậm"),
    "http_error": _l("Lỗi máy chủ (HTTP)"),
    "not_found": _l("Không tìm thấy trang"),
    "maintenance": _l("Đang bảo trì"),
    "timeout": _l("Quá thời gian chờ"),
    "dns_error": _l("Không phân giải được tên miền"),
    "connection_error": _l("Lỗi kết nối"),
    "tls_error": _l("Lỗi chứng chỉ/TLS"),
    "too_many_redirects": _l("Chuyển hướng quá nhiều lần"),
    "challenge": _l("Bị chặn bởi tường lửa chống bot"),
    "rate_limited": _l("Máy chủ giới hạn tần suất truy cập"),
    "empty_response": _l("Trang trống"),
    "blocked_address": _l("Địa chỉ nội bộ bị chặn"),
    "invalid_url": _l("Địa chỉ không hợp lệ"),
}


def reason_label(reason: str | None) -> str:
    return str(_REASONS.get(reason, reason)) if reason else "—"


def reasons(keys: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in _REASONS.items() if keys is None or k in keys]


def level_label(level: int) -> str:
    return str(_LEVELS.get(level, level))


def health_label(health: str) -> str:
    return str(_HEALTH.get(health, health))


def kind_label(kind: str) -> str:
    return str(_KINDS.get(kind, kind))


_TRANSLATED: dict[tuple[str, str], list[tuple[str, str]]] = {}


def _translated(name: str, labels: dict) -> list[tuple[str, str]]:
    """(key, label) pairs in the reader's language, worked out once per language."""
    locale = _locale()
    found = _TRANSLATED.get((name, locale))
    if found is None:
        found = _TRANSLATED[(name, locale)] = [(k, str(v)) for k, v in labels.items()]
    return list(found)


def kinds() -> list[tuple[str, str]]:
    return _translated("kinds", _KINDS)


def healths() -> list[tuple[str, str]]:
    return _translated("healths", _HEALTH)
