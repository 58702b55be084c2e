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



def test_page_groups_the_same_procedure_across_provinces(client, demo):
    page = client.get("/services", query_string={"q": "giấy phép lái xe"}).get_data(as_text=True)
    assert page.count('class="result result-group"') == 1
    assert "có ở 3 tỉnh, thành phố" in page
    assert page.index(">Hà Nội ·") < page.index(">Tuyên Quang ·") < page.index(">Hà Giang (đã sáp nhập) ·")
    picked = client.get("/services/pick", query_string={"service": "3"})
    assert picked.status_code == 302 and picked.headers["Location"].endswith("/services/3")
    assert client.get("/services/pick?service=x").status_code == 302


def test_grouping_with_filters_too(client, demo):
    page = client.get("/services", query_string={"q": "giấy phép lái xe", "kind": "province"}).get_data(as_text=True)
    assert page.count('class="result result-group"') == 1 and "có ở 3 tỉnh, thành phố" in page


def test_page_says_what_it_searched_for_with_a_link_to_search_as_typed(client, demo):
    page = client.get("/services", query_string={"q": "giay phep xay dug"}).get_data(as_text=True)
    assert "Kết quả cho: giấy phép xây dựng" in page
    assert "/services?q=giay+phep+xay+dug&amp;exact=1" in page
    exact = client.get("/services?q=giay+phep+xay+dug&exact=1").get_data(as_text=True)
    assert "Kết quả cho" not in exact and "Không tìm thấy dịch vụ nào" in exact


def test_zero_results_page_offers_ways_on(client, demo):
    page = client.get("/services", query_string={"q": "hộ chiêú qqq zzz", "exact": "1"}).get_data(as_text=True)
    assert "Không tìm thấy dịch vụ nào" in page
    assert "Thủ tục gần nhất" in page and "Cấp hộ chiếu phổ thông" in page
    assert "/agencies" in page


def test_search_box_on_every_page(client, demo):
    for url in ("/", "/agencies", "/services/1"):
        page = client.get(url).get_data(as_text=True)
        assert 'id="site-q"' in page and 'data-suggest="/api/v1/suggest"' in page
        assert "js/search-suggest.js" in page


def test_suggest_api(client, demo):
    body = client.get("/api/v1/suggest", query_string={"q": "bang lai"}).get_json()
    assert body["items"][0] == {"name": "Cấp đổi giấy phép lái xe", "services": 3,
                                "url": "/services?q=C%E1%BA%A5p+%C4%91%E1%BB%95i+gi%E1%BA%A5y+ph%C3%A9p+l%C3%A1i+xe"}
    assert [i["name"] for i in client.get("/api/v1/suggest?q=passp").get_json()["items"]] == [
        "Cấp hộ chiếu phổ thông"]
    assert client.get("/api/v1/suggest?q=ket%20h").get_json()["items"][0]["name"] == "Đăng ký kết hôn"
    typo = client.get("/api/v1/suggest?q=ho%20chiue").get_json()
    assert typo["searched_for"] == "hộ chiếu" and typo["items"]
    assert client.get("/api/v1/suggest?q=").get_json() == {"q": "", "items": [], "searched_for": None}


def test_api_contract_is_kept(client, demo):
    body = client.get("/api/v1/services", query_string={"q": "gplx", "per_page": 2}).get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 3 and len(body["items"]) == 2 and body["items"][0]["agency"]["code"] == "ha-noi"
