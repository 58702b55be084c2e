"""Search as citizens type: synonyms, request words, prefixes, typos, partial matches, ranking within a name."""

from datetime import date

import pytest

from portal.models import Agency, SearchSynonym, Service
from portal.services import querying
from portal.services.memo import clear_all
from portal.services.search import ServiceQuery, search_services


@pytest.fixture
def demo(db):
    hn = Agency(code="ha-noi", name="Hà Nội", kind="province")
    hg = Agency(code="ha-giang", name="Hà Giang", kind="province", valid_to=date(2025, 7, 1))
    tq = Agency(code="tuyen-quang", name="Tuyên Quang", kind="province")
    bca = Agency(code="bo-cong-an", name="Bộ Công an", kind="ministry")
    btc = Agency(code="bo-tai-chinh", name="Bộ Tài chính", kind="ministry")
    db.session.add_all([hn, hg, tq, bca, btc])
    db.session.flush()
    rows = [
        (hg, "Cấp đổi giấy phép lái xe", 4),
        (tq, "Cấp đổi giấy phép lái xe", 3),
        (hn, "Cấp đổi giấy phép lái xe", 4),
        (hn, "Cấp giấy phép xây dựng nhà ở riêng lẻ", 3),
        (hn, "Cấp đổi Giấy chứng nhận quyền sử dụng đất", 3),
        (hn, "Đăng ký mã số đơn vị có quan hệ với ngân sách", 4),
        (hn, "Đăng ký kết hôn", 3),
        (hn, "Chứng thực bản sao từ bản chính", 3),
        (bca, "Cấp hộ chiếu phổ thông", 3),
        (bca, "Cấp thị thực điện tử cho người nước ngoài", 4),
        (btc, "Nộp thuế điện tử", 4),
        (btc, "Cấp giấy chứng nhận xuất xứ hàng hóa (C/O)", 4),
    ]
    for i, (agency, name, level) in enumerate(rows):
        db.session.add(Service(agency_id=agency.id, name=name, level=level, url=f"https://example.gov.vn/{i}"))
    db.session.commit()
    clear_all()
    return {"hn": hn, "hg": hg, "tq": tq}


def top(db, q: str, **kw) -> list[str]:
    return [s.name for s in search_services(db.session, ServiceQuery(q=q, **kw)).items]


@pytest.mark.parametrize("q, expected", [
    ("gplx", "Cấp đổi giấy phép lái xe"),
    ("bằng lái xe", "Cấp đổi giấy phép lái xe"),
    ("so do", "Cấp đổi Giấy chứng nhận quyền sử dụng đất"),
    ("passport", "Cấp hộ chiếu phổ thông"),
    ("visa", "Cấp thị thực điện tử cho người nước ngoài"),
    ("C/O", "Cấp giấy chứng nhận xuất xứ hàng hóa (C/O)"),
    ("sao y bản chính", "Chứng thực bản sao từ bản chính"),
    ("nộp thuế online", "Nộp thuế điện tử"),
])
def test_synonyms_and_abbreviations_are_expanded(db, demo, q, expected):
    assert top(db, q)[0] == expected


def test_sổ_đỏ_no_longer_matches_đơn_by_a_two_letter_prefix(db, demo):
    assert "Đăng ký mã số đơn vị có quan hệ với ngân sách" not in top(db, "sổ đỏ")
    assert top(db, "khai si", exact=True) == []
    assert top(db, "ket ho", exact=True) == []
    assert top(db, "ket hô", exact=True) == []
    assert top(db, "ket hon") == ["Đăng ký kết hôn"]


def test_request_words_need_not_match(db, demo):
    assert top(db, "xin cấp hộ chiếu") == ["Cấp hộ chiếu phổ thông"]
    assert top(db, "thủ tục làm hộ chiếu") == ["Cấp hộ chiếu phổ thông"]
    assert top(db, "cách đăng ký kết hôn") == ["Đăng ký kết hôn"]


@pytest.mark.parametrize("q, shown", [
    ("giay phep xay dug", "giấy phép xây dựng"),
    ("giay phep lai se", "giấy phép lái xe"),
    ("dang ki ket hon", "đăng ký kết hôn"),
    ("ho chiue", "hộ chiếu"),
])
def test_typos_are_corrected_and_said(db, demo, q, shown):
    page = search_services(db.session, ServiceQuery(q=q))
    assert page.total > 0
    assert page.understanding.searched_for == shown
    assert page.understanding.corrections


def test_exact_search_corrects_nothing(db, demo):
    page = search_services(db.session, ServiceQuery(q="giay phep xay dug", exact=True))
    assert page.total == 0 and page.understanding.searched_for is None


def test_partial_match_instead_of_nothing(db, demo):
    page = search_services(db.session, ServiceQuery(q="giấy phép xây dựng nhà kho trên núi"))
    assert page.items[0].name == "Cấp giấy phép xây dựng nhà ở riêng lẻ"
    assert page.understanding.partial
    assert page.understanding.searched_for == "giấy phép xây dựng nhà"


def test_rarer_words_weigh_more_in_partial_matches(db, demo):
    # "cấp" and "giấy" are in many names, "kết hôn" in one: the partial match follows the rare words
    page = search_services(db.session, ServiceQuery(q="cấp giấy kết hôn"))
    assert page.items[0].name == "Đăng ký kết hôn" and page.understanding.partial


def test_today_agencies_first_then_level_4(db, demo):
    for kwargs in ({}, {"kind": "province"}):
        page = search_services(db.session, ServiceQuery(q="giấy phép lái xe", **kwargs))
        assert [s.agency.code for s in page.items] == ["ha-noi", "tuyen-quang", "ha-giang"], kwargs


def test_admin_synonym_replaces_the_file_group(db, demo):
    assert top(db, "gplx")
    db.session.add(SearchSynonym(key="giay phep lai xe", terms="giấy phép lái xe | bằng lái", source="test",
                                 enabled=False))
    db.session.add(SearchSynonym(key="hop dong", terms="kết hôn | lấy vợ", source="test"))
    db.session.commit()
    clear_all()
    assert top(db, "gplx", exact=False) == [] or page_is_partial(db, "gplx")
    assert top(db, "lấy vợ") == ["Đăng ký kết hôn"]


def page_is_partial(db, q):
    return search_services(db.session, ServiceQuery(q=q)).understanding.partial


def test_bundled_synonyms_have_sources_and_enough_entries():
    groups = querying.file_groups()
    assert len(groups) >= 80
    assert all(g.source and len(g.terms) >= 2 for g in groups)
    assert len({g.key for g in groups}) == len(groups)

