import random
import threading
import time

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from portal.models import Agency, Procedure, Service
from portal.services import seed
from portal.services.search import QueryError, ServiceQuery, parse_query, search_services
from portal.text import fold, lower_nfc


@pytest.fixture
def catalogue(db):
    hn = Agency(code="ha-noi", name="Hà Nội", kind="province")
    bhxh = Agency(code="bao-hiem-xa-hoi-viet-nam", name="Bảo hiểm Xã hội Việt Nam", kind="government_agency")
    bca = Agency(code="bo-cong-an", name="Bộ Công an", kind="ministry")
    district = Agency(code="ha-noi-ba-dinh", name="Quận Ba Đình", kind="province", parent=hn)
    proc = Procedure(code="1.001234", name="Cấp hộ chiếu phổ thông")
    db.session.add_all([hn, bhxh, bca, district, proc])
    db.session.flush()
    rows = [
        (bhxh, "Cấp thẻ BHYT do hết hạn", 3, "Bảo hiểm xã hội", "up"),
        (bhxh, "Cấp lại thẻ BHYT do mất, hỏng", 3, "Bảo hiểm xã hội", "down"),
        (bca, "Đăng ký cấp hộ chiếu phổ thông", 4, "Xuất nhập cảnh", "up"),
        (bca, "Cấp thị thực điện tử", 4, "Xuất nhập cảnh", "dead"),
        (hn, "Đăng ký khai sinh", 4, "Hộ tịch", "up"),
        (hn, "Cắp thẻ thư viện", 3, "Văn hóa", "up"),
        (district, "Đăng ký kết hôn", 3, "Hộ tịch", "degraded"),
    ]
    services = []
    for agency, name, level, field, health in rows:
        s = Service(agency_id=agency.id, name=name, level=level, field=field, health=health,
                    url=f"https://example.gov.vn/{len(services)}")
        services.append(s)
    services[2].procedure = proc
    retired = Service(agency_id=hn.id, name="Đăng ký tạm trú", level=3, url="https://example.gov.vn/r",
                      status="retired")
    db.session.add_all([*services, retired])
    db.session.commit()
    return {s.name: s for s in services}


def names(page):
    return [s.name for s in page.items]


@pytest.mark.parametrize("q", ["dang ky ho chieu", "Đăng ký hộ chiếu", "ĐĂNG KÝ HỘ CHIẾU", "DANG KY HO CHIEU"])
def test_search_ignores_diacritics_case_and_d(db, catalogue, q):
    page = search_services(db.session, ServiceQuery(q=q))
    assert names(page) == ["Đăng ký cấp hộ chiếu phổ thông"]


def test_issue_example_without_diacritics(db, catalogue):
    page = search_services(db.session, ServiceQuery(q="cap the bhyt do het han"))
    assert names(page)[0] == "Cấp thẻ BHYT do hết hạn"


def test_exact_diacritics_rank_first(db, catalogue):
    page = search_services(db.session, ServiceQuery(q="Cắp thẻ"))
    assert names(page)[0] == "Cắp thẻ thư viện"
    page = search_services(db.session, ServiceQuery(q="Cấp thẻ"))
    assert names(page)[0] == "Cấp thẻ BHYT do hết hạn"
    assert "Cắp thẻ thư viện" in names(page)


def test_whole_phrase_before_scattered_words(db, catalogue):
    page = search_services(db.session, ServiceQuery(q="the bhyt"))
    assert set(names(page)) == {"Cấp thẻ BHYT do hết hạn", "Cấp lại thẻ BHYT do mất, hỏng"}
    page = search_services(db.session, ServiceQuery(q="cap the"))
    assert set(names(page)[:2]) == {"Cấp thẻ BHYT do hết hạn", "Cắp thẻ thư viện"}
    assert names(page)[-1] == "Cấp lại thẻ BHYT do mất, hỏng"


def test_last_word_is_a_prefix(db, catalogue):
    assert names(search_services(db.session, ServiceQuery(q="khai sin"))) == ["Đăng ký khai sinh"]


def test_filters_combine(db, catalogue):
    assert set(names(search_services(db.session, ServiceQuery(kind="ministry")))) == {
        "Đăng ký cấp hộ chiếu phổ thông", "Cấp thị thực điện tử"}
    assert names(search_services(db.session, ServiceQuery(kind="ministry", health="dead"))) == [
        "Cấp thị thực điện tử"]
    assert names(search_services(db.session, ServiceQuery(q="dang ky", level=4, field="Hộ tịch"))) == [
        "Đăng ký khai sinh"]
    assert names(search_services(db.session, ServiceQuery(agency="bo-cong-an", level=3))) == []


def test_agency_filter_includes_sub_units(db, catalogue):
    found = set(names(search_services(db.session, ServiceQuery(agency="ha-noi"))))
    assert found == {"Đăng ký khai sinh", "Cắp thẻ thư viện", "Đăng ký kết hôn"}


def test_retired_services_leave_the_listing(db, catalogue):
    assert names(search_services(db.session, ServiceQuery(q="tam tru"))) == []


def test_pagination(db, catalogue):
    first = search_services(db.session, ServiceQuery(per_page=3, page=1))
    third = search_services(db.session, ServiceQuery(per_page=3, page=3))
    assert first.total == 7 and first.pages == 3
    assert len(first.items) == 3 and len(third.items) == 1
    assert not set(names(first)) & set(names(third))


def test_procedure_code_query(db, catalogue):
    assert names(search_services(db.session, ServiceQuery(q="1.001234"))) == ["Đăng ký cấp hộ chiếu phổ thông"]


def test_hostile_and_long_queries_do_not_crash(db, catalogue):
    for q in ['"', "cap*", "AND OR NOT", "a' OR 1=1 --", "NEAR(x y)", "%_\\", "x" * 5000, "🙂 hộ chiếu", ":*&|!"]:
        search_services(db.session, ServiceQuery(q=q))
    assert names(search_services(db.session, ServiceQuery(q="ho chieu " * 600))) == [
        "Đăng ký cấp hộ chiếu phổ thông"]


def test_unknown_agency_is_an_error(db, catalogue):
    with pytest.raises(QueryError) as err:
        search_services(db.session, ServiceQuery(agency="nowhere"))
    assert err.value.param == "agency"


@pytest.mark.parametrize(
    "args, param",
    [({"level": "5"}, "level"), ({"kind": "city"}, "kind"), ({"page": "0"}, "page"),
     ({"page": "-1"}, "page"), ({"per_page": "1000"}, "per_page"), ({"health": "sick"}, "health"),
     ({"page": "1e9"}, "page")],
)
def test_parse_query_rejects_bad_parameters(args, param):
    with pytest.raises(QueryError) as err:
        parse_query(args)
    assert err.value.param == param


def test_parse_query_truncates_long_text():
    assert len(parse_query({"q": "a" * 5000}).q) == 500


def test_retire_and_restore_keep_the_index_in_step(db, catalogue):
    service = catalogue["Đăng ký khai sinh"]
    service.status = "retired"
    db.session.commit()
    assert names(search_services(db.session, ServiceQuery(q="khai sinh"))) == []
    assert search_services(db.session, ServiceQuery(q="khai sinh")).total == 0
    assert names(search_services(db.session, ServiceQuery(q="khai sinh"), include_retired=True)) == [
        "Đăng ký khai sinh"]
    service.status = "active"
    service.name = "Đăng ký khai sinh lưu động"
    db.session.commit()
    assert names(search_services(db.session, ServiceQuery(q="khai sinh luu"))) == ["Đăng ký khai sinh lưu động"]


def test_counts_with_and_without_filters_agree(db, catalogue):
    unfiltered = search_services(db.session, ServiceQuery(q="dang ky"))
    assert unfiltered.total == len(unfiltered.items) == 3
    filtered = search_services(db.session, ServiceQuery(q="dang ky", level=3))
    assert filtered.total == 1


@pytest.fixture
def ranked(db):
    """Names in every tier for "cấp giấy phép", registered longest first so id order differs from the ranking."""
    agency = Agency(code="da-nang", name="Đà Nẵng", kind="province")
    db.session.add(agency)
    db.session.flush()
    names_in_order = [
        "Giấy phép cấp lại cho cơ sở kinh doanh",  # every word, scattered
        "Cap giay phep kinh doanh karaoke",  # whole phrase, without diacritics
        "Cap giay phep",
        "Cấp giấy phép xây dựng nhà ở riêng lẻ",  # exact diacritics
        "Cấp giấy phép xây dựng",
        "Cấp giấy phép",
    ]
    for i, name in enumerate(names_in_order):
        db.session.add(Service(agency_id=agency.id, name=name, level=3, url=f"https://dn.gov.vn/{i}",
                               field="Xây dựng" if i % 2 else "Công Thương"))
    db.session.commit()
    return agency


EXPECTED_RANKING = [
    "Cấp giấy phép", "Cấp giấy phép xây dựng", "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "Cap giay phep", "Cap giay phep kinh doanh karaoke", "Giấy phép cấp lại cho cơ sở kinh doanh",
]


def test_tiers_then_shorter_names_first(db, ranked):
    page = search_services(db.session, ServiceQuery(q="Cấp giấy phép", per_page=20))
    assert names(page) == EXPECTED_RANKING
    assert page.total == 6


def every_page(db, q: str, per_page: int) -> tuple[list[Service], set[int], int]:
    """Page through a search up to its first empty page: the services seen, the totals given, the last page."""
    seen, totals, page_number = [], set(), 1
    while True:
        page = search_services(db.session, ServiceQuery(q=q, page=page_number, per_page=per_page))
        totals.add(page.total)
        if not page.items:
            return seen, totals, page_number
        seen += page.items
        page_number += 1


@pytest.mark.parametrize("per_page", [1, 2, 4, 5])
def test_pages_across_tiers_add_up_to_the_ranking(db, ranked, per_page):
    seen, totals, last_page = every_page(db, "Cấp giấy phép", per_page)
    assert totals == {6}
    assert [s.name for s in seen] == EXPECTED_RANKING
    assert last_page == -(-6 // per_page) + 1


def test_filtered_search_keeps_the_ranking(db, ranked):
    page = search_services(db.session, ServiceQuery(q="cap giay phep", field="Xây dựng", per_page=2))
    assert page.total == 3
    assert names(page) == ["Cap giay phep kinh doanh karaoke", "Cấp giấy phép"]
    second = search_services(db.session, ServiceQuery(q="cap giay phep", field="Xây dựng", page=2, per_page=2))
    assert names(second) == ["Cấp giấy phép xây dựng nhà ở riêng lẻ"]


def test_renaming_moves_a_service_in_the_ranking(db, ranked):
    longest = db.session.execute(
        db.select(Service).where(Service.name == "Cấp giấy phép xây dựng nhà ở riêng lẻ")).scalar_one()
    longest.name = "Cấp giấy phép ở"
    db.session.commit()
    page = search_services(db.session, ServiceQuery(q="Cấp giấy phép"))
    assert names(page)[:3] == ["Cấp giấy phép", "Cấp giấy phép ở", "Cấp giấy phép xây dựng"]
    assert search_services(db.session, ServiceQuery(q="rieng le")).total == 0


@pytest.fixture
def repeated(db):
    """The same procedures offered by several agencies under the same names, ids interleaved."""
    agencies = [Agency(code=f"tinh-{i}", name=f"Tỉnh {i}", kind="province") for i in range(3)]
    db.session.add_all(agencies)
    db.session.flush()
    # Three names of 22 characters (same tier and length: only the id orders them) and a shorter one.
    cycle = ["Cấp giấy phép xây dựng", "Cấp giấy phép lái xe A", "Cấp giấy phép bán lẻ ô", "Cấp giấy phép lái tàu"]
    for i in range(24):
        db.session.add(Service(agency_id=agencies[i % 3].id, name=cycle[i % 4], level=3,
                               url=f"https://tinh.gov.vn/{i}"))
    db.session.commit()
    return agencies


def expected_order(db) -> list[int]:
    services = db.session.execute(db.select(Service).where(Service.status == "active")).scalars()
    return [s.id for s in sorted(services, key=lambda s: (len(s.name), s.id))]


@pytest.mark.parametrize("per_page", [1, 4, 5, 7, 20])
def test_repeated_names_page_by_length_then_id(db, repeated, per_page):
    seen, totals, _ = every_page(db, "cap giay phep", per_page)
    assert totals == {24}
    assert [s.id for s in seen] == expected_order(db)
    assert len(search_services(db.session, ServiceQuery(q="lai", per_page=50)).items) == 12


def test_counts_of_repeated_names_follow_every_change(db, repeated):
    def total(q: str) -> int:
        return search_services(db.session, ServiceQuery(q=q)).total

    assert total("xay dung") == 6
    copies = db.session.execute(
        db.select(Service).where(Service.name == "Cấp giấy phép xây dựng").order_by(Service.id)).scalars().all()
    copies[0].status = "retired"
    copies[1].name = "Cấp giấy phép lái tàu"
    db.session.delete(copies[2])
    db.session.commit()
    assert total("xay dung") == 3
    assert total("lai tau") == 7
    db.session.execute(insert(Service), [
        {"agency_id": repeated[0].id, "name": name, "name_lower": lower_nfc(name), "name_folded": fold(name),
         "level": 4, "url": f"https://bulk.gov.vn/{i}", "status": status, "is_sample": False,
         "health": "unknown", "consecutive_failures": 0}
        for i, (name, status) in enumerate([("Cấp giấy phép xây dựng", "active")] * 5
                                           + [("Cấp giấy phép xây dựng", "retired"), ("Cấp phép mới", "active")])
    ])
    db.session.commit()
    assert total("xay dung") == 8
    assert total("phep moi") == 1
    copies[0].status = "active"
    db.session.commit()
    assert total("xay dung") == 9
    assert expected_order(db)[:5] == [s.id for s in search_services(
        db.session, ServiceQuery(q="cap", per_page=5)).items]


def test_filtered_and_unfiltered_searches_agree(db):
    """A filter that keeps every service gives the same totals and pages as no filter (two query plans)."""
    rng = random.Random(846)
    agency = Agency(code="binh-duong", name="Bình Dương", kind="province")
    db.session.add(agency)
    db.session.flush()
    db.session.add_all([
        Service(agency_id=agency.id, name=seed.synthetic_name(rng), level=3, url=f"https://bd.gov.vn/{i}")
        for i in range(300)])
    db.session.commit()
    for q in ["cap giay", "Cấp giấy phép", "giay chung nhan", "đăng ký", "doanh nghiep", "cấp lại", "thẻ bảo"]:
        for page_number in (1, 2, 5):
            plain = search_services(db.session, ServiceQuery(q=q, page=page_number, per_page=7))
            filtered = search_services(db.session, ServiceQuery(q=q, page=page_number, per_page=7, level=3))
            assert plain.total == filtered.total
            assert [s.id for s in plain.items] == [s.id for s in filtered.items], (q, page_number)
    assert plain.total > 0


def test_search_rebuild_command_restores_a_damaged_index(db, runner, repeated):
    def totals() -> tuple[int, int]:
        return (search_services(db.session, ServiceQuery(q="xay dung")).total,
                search_services(db.session, ServiceQuery(q="xay dung", level=3)).total)

    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE service_names SET active = 0"))
        if sqlite:
            connection.execute(text("INSERT INTO service_search(service_search) VALUES ('delete-all')"))
    assert totals() == (0, 0 if sqlite else 6)
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt" in result.output
    assert totals() == (6, 6)


def test_services_added_at_once_under_one_name_are_all_counted(db, app, repeated):
    """Two writers add a service with a name new to the portal at the same time: neither count is lost."""
    def add(session: Session, i: int) -> None:
        session.add(Service(agency_id=repeated[i].id, name="Cấp phép khai thác cát", level=3,
                            url=f"https://tinh.gov.vn/cat/{i}"))
        session.flush()

    errors: list[BaseException] = []

    def second_writer() -> None:
        with app.app_context(), Session(db.engine) as session:
            try:
                add(session, 1)
                session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

    with Session(db.engine) as first:
        add(first, 0)
        writer = threading.Thread(target=second_writer)
        writer.start()
        time.sleep(0.3)
        first.commit()
    writer.join(timeout=30)
    assert not writer.is_alive() and errors == []
    page = search_services(db.session, ServiceQuery(q="khai thac cat"))
    assert page.total == 2 and len(page.items) == 2
