"""Officers' own statistics sources: scoped, the service picked by name, read now, advice in plain words."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from portal.models import ApplicationStat, AuditLog, Service, StatSource
from tests.figures.conftest import stats_page
from tests.figures.test_side_by_side import hanoi_figures  # noqa: F401 - fixture
from tests.figures.test_sources_admin import NEW, form_data
from tests.helpers import csrf_token


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))).split())


def test_officer_adds_tests_and_reads_their_own_source(db, officer_client, agencies, stats_server):
    ha_noi = agencies["ha-noi"]
    service = Service(agency_id=ha_noi.id, name="Đăng ký khai sinh", url="https://dvc.hanoi.gov.vn/ks", level=4)
    other = Service(agency_id=agencies["da-nang"].id, name="Dịch vụ Đà Nẵng", url="https://dn.vn/x", level=4)
    db.session.add_all([service, other])
    db.session.commit()
    form = officer_client.get(NEW).get_data(as_text=True)
    assert f'<option value="{service.id}">Đăng ký khai sinh</option>' in form
    assert "Dịch vụ Đà Nẵng" not in form and 'value="da-nang"' not in form
    url = stats_server.set_page("/ha-noi.html", stats_page("12.500", "5.000"))
    missing = words(officer_client.post(NEW, data=form_data(officer_client, NEW, url=stats_server.url("gone.html"),
                                                            test="1")))
    assert "Trang không tồn tại (lỗi 404)" in missing and "Nên thử:" in missing and "not_found" not in missing
    response = officer_client.post(NEW, data=form_data(officer_client, NEW, url=url, save="1",
                                                       service_id=str(service.id)))
    assert response.status_code == 302
    source = db.session.execute(select(StatSource)).scalar_one()
    assert (source.agency_id, source.service_id) == (ha_noi.id, service.id)
    listing = officer_client.get("/admin/stat-sources").get_data(as_text=True)
    assert "Dịch vụ: Đăng ký khai sinh" in listing and "Đọc ngay" in listing
    response = officer_client.post(f"/admin/stat-sources/{source.id}/read", data={
        "csrf_token": csrf_token(officer_client, "/admin/stat-sources")}, follow_redirects=True)
    assert "Đã đọc được số liệu và công bố." in words(response)
    stat = db.session.execute(select(ApplicationStat)).scalar_one()
    assert (stat.received_total, stat.received_online, stat.provenance) == (12500, 5000, "crawled")
    assert "stat_source.read" in db.session.execute(select(AuditLog.action)).scalars().all()


def test_a_failing_read_says_what_to_try(db, officer_client, agencies, stats_server):
    source = StatSource(agency_id=agencies["ha-noi"].id, url=stats_server.url("gone.html"), rule={}, is_enabled=True)
    db.session.add(source)
    db.session.commit()
    page = words(officer_client.post(f"/admin/stat-sources/{source.id}/read", data={
        "csrf_token": csrf_token(officer_client, "/admin/stat-sources")}, follow_redirects=True))
    assert "Trang không tồn tại (lỗi 404)." in page and "tìm lại trang thống kê" in page
    assert "ClientResponseError" not in page and "not_found" not in page


def test_another_agencys_source_is_refused_in_plain_words(db, officer_client, agencies):
    source = StatSource(agency_id=agencies["da-nang"].id, url="https://dn.vn/tk", rule={}, is_enabled=True)
    db.session.add(source)
    db.session.commit()
    assert "https://dn.vn/tk" not in officer_client.get("/admin/stat-sources").get_data(as_text=True)
    response = officer_client.get(f"/admin/stat-sources/{source.id}/edit")
    assert response.status_code == 403
    page = words(response)
    assert "Không có quyền truy cập" in page and "hãy nhờ quản trị viên" in page and "permission" not in page
    token = csrf_token(officer_client, "/admin/stat-sources")
    assert officer_client.post(f"/admin/stat-sources/{source.id}/read", data={"csrf_token": token}).status_code == 403
    assert officer_client.post(NEW, data=form_data(officer_client, NEW, agency="da-nang", url="https://dn.vn/a",
                                                   save="1")).status_code == 403
    assert db.session.execute(select(AuditLog.action)).scalars().all().count("stat_source.denied") == 3
    officer_client.get("/?lang=en")
    english = words(officer_client.get(f"/admin/stat-sources/{source.id}/edit"))
    assert "Access denied" in english and "ask a portal administrator" in english


def test_the_agency_page_names_the_figure_that_disagrees(client, hanoi_figures):  # noqa: F811
    page = words(client.get("/agencies/ha-noi"))
    assert "Hồ sơ trực tuyến: báo cáo 5.000, thu thập 3.000 (chênh 40 %)" in page.replace("\u00a0", " ")
    assert "Hồ sơ tiếp nhận: báo cáo" not in page  # 12.000 vs 12.500 is within the margin
