from decimal import Decimal

import pytest

from portal.services.formatting import format_number, format_percent


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (10309, None, "10.309", "10,309"),
        (21463626, None, "21.463.626", "21,463,626"),
        (0.942, None, "0,942", "0.942"),
        (0.942, 3, "0,942", "0.942"),
        (1, 3, "1,000", "1.000"),
        (1.0, None, "1", "1"),
        (Decimal("1234.5"), 2, "1.234,50", "1,234.50"),
        (0.0005, 3, "0,001", "0.001"),  # half rounds up, not to even
        (2.5, 0, "3", "3"),
        (-1234.5, 1, "-1.234,5", "-1,234.5"),
        (-0.0001, 1, "0,0", "0.0"),
        (999, None, "999", "999"),
    ],
)
def test_format_number(value, decimals, vi, en):
    assert format_number(value, "vi", decimals) == vi
    assert format_number(value, "en", decimals) == en


def test_default_locale_is_vietnamese_and_regional_variants():
    assert format_number(10309) == "10.309"
    assert format_number(10309, "vi_VN") == "10.309"
    assert format_number(10309, "en-GB") == "10,309"


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (0.456, 1, "45,6 %", "45.6 %"),
        (0.928, 1, "92,8 %", "92.8 %"),
        (1, 0, "100 %", "100 %"),
        (0.12345, 2, "12,35 %", "12.35 %"),
        (12.5, 1, "1.250,0 %", "1,250.0 %"),
    ],
)
def test_format_percent(value, decimals, vi, en):
    assert format_percent(value, "vi", decimals) == vi
    assert format_percent(value, "en", decimals) == en


def test_percent_default_one_decimal():
    assert format_percent(0.4) == "40,0 %"


def test_none_is_empty():
    assert format_number(None) == ""
    assert format_percent(None) == ""


@pytest.mark.parametrize("bad", ["10", True, None.__class__, float("nan"), float("inf")])
def test_rejects_non_numbers(bad):
    with pytest.raises((TypeError, ValueError)):
        format_number(bad)


def test_rejects_unknown_locale_and_bad_decimals():
    with pytest.raises(ValueError):
        format_number(1, "fr")
    with pytest.raises(ValueError):
        format_number(1, "vi", -1)
