"""What the public pages claim: sample data said site-wide, evidence behind availability, honest start buttons,
translated error pages, times with their zone, merged agencies summed as the rankings sum them, gzip."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from portal.models import Agency, Service
from portal.services import catalogue
from portal.services.availability import enough_evidence


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_sample_data_is_announced_on_every_page_with_its_share(client, demo, db):
    counts = catalogue.sample_counts(db.session)
    assert 0 < counts["sample"] < counts["total"]
    for path in ("/", "/services?q=ho+chieu", "/agencies", "/rankings", "/status", "/compliance", "/open-data"):
        page = plain(text(client.get(path)))
        assert f"{counts['sample']} trong {counts['total']} dịch vụ trên cổng là dữ liệu mẫu" in page, path
    english = plain(text(client.get("/?lang=en")))
    assert f"{counts['sample']} of the {counts['total']} services on the portal are sample data" in english


def test_no_sample_notice_without_sample_data(client, db):
    assert 'id="sample-data-notice"' not in text(client.get("/"))


def test_compliance_shows_no_command_lines(client, demo):
    for path in ("/compliance", "/compliance/tuyen-quang"):
        page = text(client.get(path))
        assert "portal import" not in page and "portal seed" not in page


def test_rankings_say_how_much_of_each_figure_is_sample(client, demo):
    page = plain(text(client.get("/rankings?kind=province&metric=services_total")))
    assert re.search(r"Số liệu xác minh trong bảng tính cả dữ liệu mẫu: [\d.]+ trong [\d.]+ dịch vụ", page)
    assert re.search(r"Tuyên Quang .*?gồm cả Hà Giang; \d+/\d+ dịch vụ là dữ liệu mẫu", page)
    reported = text(client.get("/rankings?kind=province&metric=services_total&source=reported&period=2016"))
    assert 'id="sample-share-note"' not in reported


@pytest.mark.parametrize(("checks", "days", "length", "enough"), [
    (2, 1, 7, False), (23, 5, 7, False), (24, 2, 7, False), (24, 3, 7, True), (24, 1, 1, True), (30, 3, 90, True),
])
def test_evidence_minimum(checks, days, length, enough):
    assert enough_evidence(checks, days, length, min_checks=24, min_days=3) is enough


def test_a_service_never_checked_shows_no_percentage(client, demo, db):
    service = db.session.execute(db.select(Service).limit(1)).scalar_one()
    page = plain(text(client.get(f"/services/{service.id}")))
    assert page.count("chưa đủ dữ liệu") == 4 and "0,00 %" not in page
    assert "Dịch vụ chưa được kiểm tra." in page


def test_demo_addresses_on_the_agency_home_page_are_not_presented_as_the_service(client, demo, db):
    service = db.session.execute(db.select(Service).where(Service.url.contains("#")).limit(1)).scalar_one()
    page = text(client.get(f"/services/{service.id}"))
    assert "Cổng chưa biết địa chỉ riêng của dịch vụ này" in page
    assert 'id="start-button"' in page and "Đến cổng dịch vụ công của cơ quan" in page
    assert f'href="{service.url.partition("#")[0]}"' in page and "Nộp hồ sơ trực tuyến" not in page
    service.url = "https://dichvucong.example.gov.vn/thu-tuc/1"
    db.session.commit()
    page = text(client.get(f"/services/{service.id}"))
    assert "Nộp hồ sơ trực tuyến" in page and 'href="https://dichvucong.example.gov.vn/thu-tuc/1"' in page
    assert "Cổng chưa biết địa chỉ riêng" not in page


def test_error_pages_speak_the_readers_language(client, db):
    vietnamese = client.get("/khong-co-trang-nay")
    assert vietnamese.status_code == 404
    page = text(vietnamese)
    assert "Không có trang nào ở địa chỉ này" in page and "The requested URL" not in page
    english = text(client.get("/khong-co-trang-nay?lang=en"))
    assert "There is no page at this address" in english and "Không có trang nào" not in english
    assert client.get("/api/v1/nothing-here").get_json()["error"]["code"] == 404


def test_times_carry_the_vietnam_zone_in_both_languages(app):
    from flask_babel import force_locale

    from portal.formatting import datetime_local

    moment = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("vi"):
            assert datetime_local(moment) == "15:30 ngày 02/12/2026 (giờ Việt Nam)"
        with force_locale("en"):
            assert datetime_local(moment) == "2 Dec 2026, 15:30 (ICT)"


def test_merged_agency_pages_sum_like_the_rankings(client, demo, db):
    former = text(client.get("/agencies/ha-giang"))
    assert "(nay thuộc" in former and "Tuyên Quang" in former and 'id="former-notice"' in former
    assert "Đã xác minh," not in former
    successor = plain(text(client.get("/agencies/tuyen-quang")))
    ids = [a.id for a in db.session.execute(db.select(Agency).where(Agency.code.in_(["ha-giang", "tuyen-quang"])))
           .scalars()]
    own = db.session.execute(db.select(db.func.count()).select_from(Service).where(
        Service.agency_id.in_(ids), Service.status == "active")).scalar()
    assert f"Dịch vụ công trực tuyến ({own})" in successor
    directory = plain(text(client.get("/agencies")))
    assert f"Tuyên Quang · {own} dịch vụ" in directory


def test_gzip_when_enabled_and_accepted(db):
    from tests.conftest import make_app

    uri = db.engine.url.render_as_string(hide_password=False)
    plain_app = make_app(uri)
    assert "Content-Encoding" not in plain_app.test_client().get("/", headers={"Accept-Encoding": "gzip"}).headers
    app = make_app(uri, PORTAL_COMPRESS=True)
    client = app.test_client()
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
    assert "Cổng dịch vụ công" in gzip.decompress(response.data).decode()
    assert "Content-Encoding" not in client.get("/").headers
    streamed = client.get("/open-data/services.csv", headers={"Accept-Encoding": "gzip"})
    assert streamed.status_code == 200 and "Content-Encoding" not in streamed.headers


def test_data_names_are_marked_vietnamese_on_english_pages_only(client, demo):
    english = text(client.get("/agencies/tuyen-quang?lang=en"))
    assert '<h1><span lang="vi">Tuyên Quang</span></h1>' in english
    assert '(now part of <span lang="vi">Tuyên Quang</span>)' in text(client.get("/agencies/ha-giang?lang=en"))
    assert '<span lang="vi">Tuyên Quang</span></a></th>' in text(client.get("/rankings?kind=province&lang=en"))
    vietnamese = text(client.get("/agencies/tuyen-quang?lang=vi"))
    assert "<h1>Tuyên Quang</h1>" in vietnamese and 'lang="vi">Tuyên' not in vietnamese


def test_home_figures_say_when_and_over_what_they_were_measured(client, demo):
    page = plain(text(client.get("/")))
    assert "chưa đủ dữ liệu dịch vụ đã kiểm tra đang hoạt động" in page and "Chưa dịch vụ nào được kiểm tra." in page
    assert re.search(r"Tính đến \d\d:\d\d ngày \d\d/\d\d/\d{4} \(giờ Việt Nam\)", page)
