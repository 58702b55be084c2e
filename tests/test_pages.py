import re

import pytest


def text(response) -> str:
    return response.get_data(as_text=True)


def test_home_shows_national_figures_the_vietnamese_way(client, demo):
    page = text(client.get("/"))
    assert '<html lang="vi">' in page
    assert "10.309" in page
    assert 'role="search"' in page


def test_english_is_available(client, demo):
    page = text(client.get("/?lang=en"))
    assert '<html lang="en">' in page
    assert "10,309" in page
    assert "Find a public service" in page
    assert "Tìm dịch vụ công" not in page
    assert '<html lang="en">' in text(client.get("/agencies"))


def test_search_page_finds_without_diacritics(client, demo):
    page = text(client.get("/services?q=cap+the+bhyt+do+het+han"))
    assert "Cấp thẻ BHYT do hết hạn" in page or "BHYT" in page
    assert re.search(r"\d+ dịch vụ khớp", page)


def test_search_page_bad_filter_shows_error(client, demo):
    response = client.get("/services?level=9")
    assert response.status_code == 400
    assert "Không thể tìm kiếm" in text(response)


def test_sample_data_is_marked(client, demo):
    page = text(client.get("/services?kind=province&per_page=5"))
    assert "Dữ liệu mẫu" in page


def test_service_page(client, demo):
    item = client.get("/api/v1/services?q=khai+sinh&per_page=1").get_json()["items"][0]
    page = text(client.get(f"/services/{item['id']}"))
    assert item["name"] in page
    assert item["agency"]["name"] in page
    assert client.get("/services/999999").status_code == 404


def test_directory_in_vietnamese_order(client, demo):
    page = text(client.get("/agencies"))
    positions = [page.index(name) for name in ("Cà Mau", "Cần Thơ", "Đà Nẵng", "Điện Biên", "Đồng Nai")]
    assert positions == sorted(positions)
    assert "Hà Giang" not in page
    assert "Hà Giang" in text(client.get("/agencies?former=1"))


def test_agency_page_shows_2016_figures_and_merger(client, demo):
    page = text(client.get("/agencies/ha-noi"))
    assert "Báo cáo 2016" in page
    former = text(client.get("/agencies/ha-giang"))
    assert "Tuyên Quang" in former and "sáp nhập" in former
    assert client.get("/agencies/unknown-code").status_code == 404


def test_pages_are_escaped_and_have_security_headers(client, demo):
    response = client.get("/services", query_string={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in text(response)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_need_no_external_assets(client, demo):
    page = text(client.get("/"))
    assert not re.search(r'(src|href)="https?://(?!127\.0\.0\.1)', page.split("<main")[0])
    assert client.get("/static/css/portal.css").status_code == 200


def test_anonymous_pages_are_cached_briefly_and_signed_in_users_bypass(app, client, demo, db):
    from portal.models import Service

    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 30
    first = text(client.get("/services?q=khai+sinh"))
    service = db.session.execute(db.select(Service).where(Service.name == "Đăng ký khai sinh")).scalars().first()
    service.name = "Đăng ký khai sinh (đã đổi tên)"
    db.session.commit()
    assert text(client.get("/services?q=khai+sinh")) == first
    english = text(client.get("/services?q=khai+sinh&lang=en"))
    assert '<html lang="en">' in english
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 0
    assert "(đã đổi tên)" in text(client.get("/services?q=khai+sinh"))


@pytest.mark.parametrize(("path", "status"), [
    ("/services/3646595951", 404),
    ("/api/v1/services/3646595951", 404),
    ("/services?agency=a%00", 400),
    ("/services?field=a%00", 400),
    ("/status?agency=a%00", 400),
    ("/agencies/a%00b", 404),
    ("/compliance?kind=%00", 400),
    ("/api/v1/agencies/a%00b/figures", 404),
    ("/api/v1/services?agency=a%00", 400),
    ("/api/v1/services?field=a%00", 400),
    ("/api/v1/services?q=a%00b", 400),
    ("/api/v1/rankings/services_total?period=2016%00", 400),
    ("/rankings/agency/a%00", 404),
])
def test_out_of_range_ids_and_nul_characters_are_refused_cleanly(client, demo, path, status):
    response = client.get(path)
    assert response.status_code == status
    if path.startswith("/api/"):
        assert response.get_json()["error"]["code"] == status
    else:
        assert "<html" in response.get_data(as_text=True)


def test_switching_language_keeps_the_search(client, demo):
    page = text(client.get("/services?q=khai+sinh&level=4"))
    assert 'href="/services?q=khai+sinh&amp;level=4&amp;lang=en"' in page
    english = text(client.get("/services?q=khai+sinh&level=4&lang=en"))
    assert 'href="/services?q=khai+sinh&amp;level=4&amp;lang=vi"' in english
