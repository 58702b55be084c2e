from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.crawlers.numbers import (
    EN,
    VI,
    blank_non_figures,
    convention_of_counts,
    detect_convention,
    find_numbers,
    parse_number,
)
from portal.text import fold


def vi_format(n: int | Decimal, decimals: int = 0) -> str:
    return f"{n:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def en_format(n: int | Decimal, decimals: int = 0) -> str:
    return f"{n:,.{decimals}f}"


@pytest.mark.parametrize(
    ("token", "convention", "expected"),
    [
        ("1.234.567", None, 1234567),
        ("1,234,567", None, 1234567),
        ("10.309", VI, 10309),
        ("10.309", EN, 10.309),
        ("0,942", None, 0.942),
        ("0.942", None, 0.942),
        ("45,6%", None, 45.6),
        ("45.6 %", None, 45.6),
        ("12.5", None, 12.5),
        ("12.500", VI, 12500),
        ("12.500", EN, 12.5),
        ("1.234,5", None, 1234.5),
        ("1,234.5", None, 1234.5),
        ("1234,567", None, 1234.567),
        ("1\u00a0234\u00a0567", None, 1234567),
        ("1\u2009234\u202f567", None, 1234567),
        ("1\u00a0234,5", None, 1234.5),
        ("1,2 triệu", None, 1_200_000),
        ("1.2 million", None, 1_200_000),
        ("15 nghìn", None, 15_000),
        ("3,5 ngàn", None, 3_500),
        ("2 tỷ", None, 2_000_000_000),
        ("1,5 nghìn tỷ", None, 1_500_000_000_000),
        ("TRIỆU", None, None),
        ("42", None, 42),
        ("−7", None, -7),
        ("0", None, 0),
    ],
)
def test_parse_number(token, convention, expected):
    result = parse_number(token, convention)
    assert result == expected
    if expected is not None:
        assert type(result) is type(expected)


def test_ambiguous_token_without_convention_is_not_guessed():
    assert parse_number("10.309") is None
    assert parse_number("12,500") is None


def test_integer_context_resolves_grouping_in_either_convention():
    assert parse_number("10.309", integer=True) == 10309
    assert parse_number("12,500", integer=True) == 12500
    assert parse_number("10.309", EN, integer=True) == 10309
    assert parse_number("45,6", integer=True) is None
    assert parse_number("1.000", EN, integer=True) == 1000
    assert parse_number("1.000", EN) == 1.0


def test_scale_word_with_ambiguous_decimal_needs_convention():
    assert parse_number("1,234 triệu", integer=True) is None
    assert parse_number("1,234 triệu", VI, integer=True) == 1_234_000
    assert parse_number("1,234 triệu", EN, integer=True) == 1_234_000_000


@pytest.mark.parametrize(
    "token", ["1.2.3.4", "05.03.2018", "12,34,567", "0.123.456", "abc", "", "1,2,3", "12 345"]
)
def test_malformed_or_multiple_numbers_give_none(token):
    assert parse_number(token, VI) is None


def test_unknown_convention_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown number convention"):
        parse_number("1", "fr")


def test_find_numbers_in_text():
    text = "Đã tiếp nhận 1,2 triệu hồ sơ, trong đó trực tuyến: 850.000 (70,8%). Tỷ lệ 12 tỷ lệ"
    found = find_numbers(text)
    assert [m.text for m in found] == ["1,2 triệu", "850.000", "70,8%", "12"]
    assert found[0].value() == 1_200_000
    assert found[2].percent and found[2].value() == 70.8
    assert found[3].multiplier == 1


def test_find_numbers_does_not_split_codes_or_words():
    texts = [m.core for m in find_numbers("Mã 1.012753.H19 và mức 36a, H19, 2016-2020")]
    assert texts == ["1.012753", "2016", "2020"]


def test_find_numbers_handles_decomposed_text():
    decomposed = "1,2 trie\u0302\u0323u"
    assert [m.value() for m in find_numbers(decomposed)] == [1_200_000]


def test_detect_convention_votes():
    assert detect_convention(["Tiếp nhận: 1.234.567 hồ sơ", "Tỷ lệ: 10.309"]) == (VI, [])
    assert detect_convention(["Received 1,234,567", "rate 45.6%"]) == (EN, [])
    assert detect_convention(["0,942"]) == (VI, [])
    assert detect_convention(["Năm 2024, 12 đơn vị"]) == (None, [])


def test_detect_convention_warns_on_ambiguity_and_mixing():
    convention, warnings = detect_convention(["Tiếp nhận 10.309", "Đã giải quyết 9.876"])
    assert convention is None
    assert warnings and "10.309" in warnings[0]
    convention, warnings = detect_convention(["Tiếp nhận 1.234.567", "Online rate 45.6%"])
    assert convention is None
    assert "mixed" in warnings[0] and "1.234.567" in warnings[0] and "45.6" in warnings[0]


def test_procedure_codes_and_section_numbers_do_not_vote():
    assert detect_convention(["Thủ tục 1.001234 và 2.002195; tiếp nhận 1.234.567"]) == (VI, [])
    assert detect_convention(["1.1 Trực tuyến 81.562", "2.1 Đúng hạn 1.116.230", "Phiên bản 2.0"]) == (VI, [])
    assert detect_convention(["Online rate 45.6%, 12.25"]) == (EN, [])


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integers_round_trip_in_both_styles(n):
    assert parse_number(vi_format(n), VI) == n
    assert parse_number(en_format(n), EN) == n
    assert parse_number(vi_format(n), integer=True) == n
    assert parse_number(en_format(n), integer=True) == n


@given(st.integers(min_value=1_000_000, max_value=10**15))
def test_multi_group_integers_prove_their_convention(n):
    assert detect_convention([vi_format(n)]) == (VI, [])
    assert detect_convention([en_format(n)]) == (EN, [])


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=4),
    st.integers(min_value=1, max_value=4),
)
def test_decimals_round_trip_in_both_styles(x, places):
    expected = float(round(x, places))
    assert parse_number(vi_format(x, places), VI) == expected
    assert parse_number(en_format(x, places), EN) == expected
    assert parse_number(vi_format(x, places) + "%", VI) == expected


@given(st.text())
def test_never_raises_on_arbitrary_text(text):
    for match in find_numbers(text):
        match.value()
        match.value(VI, integer=True)
    parse_number(text)
    parse_number(text, EN, integer=True)
    detect_convention([text, text[::-1]])


@given(st.text(alphabet="0123456789.,% \u00a0\u2009-−triệunghìntỷ", max_size=30))
def test_never_raises_on_number_like_text(text):
    for convention in (None, VI, EN):
        parse_number(text, convention)
    detect_convention([text])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Đăng Ký Hộ Chiếu", "dang ky ho chieu"), ("ĐÃ GIẢI QUYẾT", "da giai quyet"), ("Tỷ lệ", "ty le")],
)
def test_fold(text, expected):
    assert fold(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hotline: 1900.1234",
        "Điện thoại: 0235.3812.345",
        "(0235) 3 810 123",
        "+84 24 3822 1234",
        "Quyết định số 846/QĐ-TTg",
        "Kế hoạch 1.234/KH-UBND",
        "Nghị định 61/2018/NĐ-CP",
        "ngày 15/10/2024",
        "cập nhật 2024-10-15T08:00",
        "lúc 10:30",
        "tháng 10/2024",
        "năm 2024",
        "giai đoạn 2016-2020",
        "Mã bưu chính: 560000",
        "Mã số thuế 4000123456",
        "Phiên bản 2.1.3",
        "Lượt truy cập: 12,345,678",
    ],
)
def test_numbers_that_are_never_figures_are_blanked(text):
    blanked = blank_non_figures(text)
    assert len(blanked) == len(text)
    assert not find_numbers(blanked), blanked


@pytest.mark.parametrize("text", ["Tiếp nhận 23.871 hồ sơ", "Trực tuyến: 2019 hồ sơ", "1.900.123", "45,6%"])
def test_figures_are_not_blanked(text):
    assert blank_non_figures(text) == text


def test_phones_dates_and_documents_do_not_make_a_page_mixed():
    page = "Tiếp nhận: 1.250.300 hồ sơ. Hotline: 1900.1234 · Tổng đài 1800.1096 · Quyết định 1.291/QĐ-UBND"
    assert detect_convention([page]) == (VI, [])


def test_page_language_settles_ambiguous_grouping_only():
    assert detect_convention(["Tiếp nhận 23.871", "Giải quyết 22.950"], VI) == (VI, [])
    assert detect_convention(["Received 12,500"], EN) == (EN, [])
    assert detect_convention(["Tiếp nhận 1.234.567"], EN) == (VI, [])
    assert detect_convention(["Tiếp nhận 1.234.567", "rate 45.6%"], VI)[0] is None


def test_convention_of_counts():
    assert convention_of_counts(find_numbers("23.871 và 18.102")) == VI
    assert convention_of_counts(find_numbers("23,871")) == EN
    assert convention_of_counts(find_numbers("42")) is None


@given(st.text())
def test_blanking_never_raises_and_keeps_offsets(text):
    import unicodedata

    assert len(blank_non_figures(text)) == len(unicodedata.normalize("NFC", text))
