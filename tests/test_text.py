from portal.text import fold, lower_nfc, query_tokens, vietnamese_sort_key


def test_fold_drops_diacritics_case_and_maps_d():
    assert fold("Đăng ký hộ chiếu") == "dang ky ho chieu"
    assert fold("ĐĂNG KÝ HỘ CHIẾU") == "dang ky ho chieu"
    assert fold("dang ky ho chieu") == "dang ky ho chieu"
    assert fold("  Cấp   thẻ BHYT\tdo hết hạn ") == "cap the bhyt do het han"


def test_fold_handles_decomposed_input():
    decomposed = "Đa\u0306ng ky\u0301"
    assert fold(decomposed) == "dang ky"


def test_lower_nfc_keeps_diacritics():
    assert lower_nfc("Cấp THẺ") == "cấp thẻ"


def test_query_tokens_are_bounded():
    tokens = query_tokens(fold("x" * 5000 + " " + "y " * 100))
    assert len(tokens) <= 24
    assert all(len(t) <= 40 for t in tokens)
    assert query_tokens(fold("cap-the, \"bhyt\" * OR")) == ["cap", "the", "bhyt", "or"]


def test_vietnamese_alphabetical_order():
    names = ["Đồng Nai", "Yên Bái", "Ăn", "An Giang", "Bà Rịa - Vũng Tàu", "Cà Mau", "Điện Biên",
             "Ấp", "Ơn", "Ông", "Ưu", "Uông"]
    ordered = sorted(names, key=vietnamese_sort_key)
    assert ordered == ["An Giang", "Ăn", "Ấp", "Bà Rịa - Vũng Tàu", "Cà Mau", "Điện Biên", "Đồng Nai",
                       "Ông", "Ơn", "Uông", "Ưu", "Yên Bái"]
    assert sorted(["Đắk Nông", "Đà Nẵng", "Đắk Lắk"], key=vietnamese_sort_key) == [
        "Đà Nẵng", "Đắk Lắk", "Đắk Nông"]


def test_tones_order_after_letters():
    assert sorted(["má", "ma", "mà", "mạ", "mã", "mả"], key=vietnamese_sort_key) == [
        "ma", "mà", "mả", "mã", "má", "mạ"]


def test_place_names_sort_without_city_prefix():
    from portal.text import place_sort_key

    assert sorted(["TP. Hà Nội", "Hà Giang", "Gia Lai", "TP. Đà Nẵng", "Hải Dương"], key=place_sort_key) == [
        "TP. Đà Nẵng", "Gia Lai", "Hà Giang", "TP. Hà Nội", "Hải Dương"]
