"""Numbers for display: Vietnamese convention (10.309; 0,942; 45,6 %) or English (10,309; 0.942; 45.6 %)."""

from __future__ import annotations

import decimal
from decimal import Decimal

from babel.numbers import format_decimal

Number = int | float | Decimal

SUPPORTED_LOCALES = ("vi", "en")
_MAX_DECIMALS = 12


def _locale(locale: str) -> str:
    base = (locale or "vi").replace("-", "_").split("_")[0].lower()
    if base not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {SUPPORTED_LOCALES}")
    return base


def _as_decimal(value: Number) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"not a number: {value!r}")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def format_number(value: Number | None, locale: str = "vi", decimals: int | None = None) -> str:
    """Group thousands and use the locale's decimal mark; `decimals` fixes the fraction digits.

    Without `decimals`, up to three fraction digits are shown (trailing zeros dropped). Halves round
    away from zero. None gives an empty string.
    """
    if value is None:
        return ""
    loc = _locale(locale)
    number = _as_decimal(value)
    if decimals is None:
        pattern = "#,##0.###"
    elif 0 <= decimals <= _MAX_DECIMALS:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    else:
        raise ValueError(f"decimals must be between 0 and {_MAX_DECIMALS}")
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_HALF_UP
        text = format_decimal(number, format=pattern, locale=loc)
    return "0" + text[2:] if text.startswith("-0") and not any(c in "123456789" for c in text) else text


def format_percent(value: Number | None, locale: str = "vi", decimals: int = 1) -> str:
    """A share (0.456) as a percentage ('45,6 %' in Vietnamese, '45.6 %' in English)."""
    if value is None:
        return ""
    return format_number(_as_decimal(value) * 100, locale, decimals) + " %"
