"""The search page reads names from memory and keeps rendered rows and fragments: none of it may show a stale page."""

import pytest

from portal.models import Agency, Service
from portal.services.memo import clear_all


@pytest.fixture
def catalogue(db):
    hn = Agency(code="ha-noi", name="Hà Nội", kind="province")
    hue = Agency(code="hue", name="Huế", kind="province")
    db.session.add_all([hn, hue])
    db.session.flush()
    for i, (agency, name) in enumerate([(hn, "Cấp đổi giấy phép lái xe"), (hue, "Cấp đổi giấy phép lái xe"),
                                        (hn, "Đăng ký kết hôn")]):
        db.session.add(Service(agency_id=agency.id, name=name, level=4, url=f"https://example.gov.vn/{i}",
                               health="up"))
    db.session.commit()
    clear_all()
    return {"hn": hn, "hue": hue}


def page(client, q: str, **args) -> str:
    response = client.get("/services", query_string={"q": q, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_new_name_is_found_at_once_though_the_names_are_read_from_memory(client, db, catalogue):
    assert "Đăng ký khai sinh" not in page(client, "khai sinh")
    db.session.add(Service(agency_id=catalogue["hn"].id, name="Đăng ký khai sinh", level=3,
                           url="https://example.gov.vn/ks"))
    db.session.commit()  # straight to the database: no admin route clears this process's memory
    assert "Đăng ký khai sinh" in page(client, "khai sinh")


def test_a_retired_name_leaves_the_page_at_once(client, db, catalogue):
    assert "Đăng ký kết hôn" in page(client, "kết hôn")
    service = db.session.execute(db.select(Service).where(Service.name == "Đăng ký kết hôn")).scalar_one()
    service.status = "retired"
    db.session.commit()
    assert "Đăng ký kết hôn" not in page(client, "kết hôn")


def test_a_kept_row_shows_the_services_health_and_level_as_they_are_now(client, db, catalogue):
    first = page(client, "kết hôn")
    assert "health-up" in first and "level-4" in first
    service = db.session.execute(db.select(Service).where(Service.name == "Đăng ký kết hôn")).scalar_one()
    service.health, service.level = "down", 3
    db.session.commit()
    again = page(client, "kết hôn")
    assert "health-down" in again and "level-3" in again and "health-up" not in again


def test_a_kept_row_follows_a_new_agency_in_the_group(client, db, catalogue):
    assert "có ở 2 tỉnh, thành phố" in page(client, "giấy phép lái xe")
    dn = Agency(code="da-nang", name="Đà Nẵng", kind="province")
    db.session.add(dn)
    db.session.flush()
    db.session.add(Service(agency_id=dn.id, name="Cấp đổi giấy phép lái xe", level=3, url="https://example.gov.vn/dn"))
    db.session.commit()
    again = page(client, "giấy phép lái xe")
    assert "có ở 3 tỉnh, thành phố" in again and ">Đà Nẵng ·" in again


def test_the_kept_form_takes_the_words_typed_escaped_and_the_filters_chosen(client, catalogue):
    html = page(client, '<b>"giấy phép"</b>')
    assert 'value="&lt;b&gt;&#34;giấy phép&#34;&lt;/b&gt;"' in html and "<b>\"giấy" not in html
    assert "\x00" not in html
    filtered = page(client, "kết hôn", level="4")
    assert '<option value="4" selected>' in filtered and "<details class=\"more-filters field-wide\" open>" in filtered
    assert '<option value="4" selected>' not in page(client, "kết hôn")


def test_kept_rows_and_fragments_are_per_language(client, catalogue):
    vi = page(client, "giấy phép lái xe")
    en = page(client, "giấy phép lái xe", lang="en")
    assert "có ở 2 tỉnh, thành phố" in vi and "Tìm dịch vụ công" in vi
    assert "có ở 2 tỉnh" not in en and '<span lang="vi">Cấp đổi giấy phép lái xe</span>' in en
    assert "Tìm dịch vụ công" not in en.split("<main")[0]


@pytest.mark.parametrize("value", [0, 7, 1234, -1234, 10309, 1234567])
def test_whole_numbers_are_grouped_as_babel_groups_them(app, value):
    from babel.numbers import format_decimal
    from flask_babel import force_locale

    from portal.formatting import number

    with app.test_request_context():
        for locale in ("vi", "en"):
            with force_locale(locale):
                assert number(value) == format_decimal(value, locale=locale)


def test_a_filtered_search_shares_the_kept_groups_and_still_shows_health_as_it_is_now(client, db, catalogue):
    first = page(client, "kết hôn", level="4")
    assert "Đăng ký kết hôn" in first and "health-up" in first
    service = db.session.execute(db.select(Service).where(Service.name == "Đăng ký kết hôn")).scalar_one()
    service.health = "down"
    db.session.commit()
    again = page(client, "kết hôn", level="4")
    assert "health-down" in again and "health-up" not in again
    assert "health-down" in page(client, "kết hôn")  # the same group, unfiltered


def test_a_renamed_agency_shows_in_the_kept_rows_once_its_record_is_read_again(client, db, catalogue):
    assert ">Hà Nội</a>" in page(client, "kết hôn")
    catalogue["hn"].name = "Thành phố Hà Nội"
    db.session.commit()
    clear_all()  # what the admin routes do after a change (and the memo's few minutes otherwise)
    assert ">Thành phố Hà Nội</a>" in page(client, "kết hôn")
