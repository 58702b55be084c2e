"""The quarterly report as an officer meets it: pre-filled, checked in one round, who locked it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from sqlalchemy import select

from portal.models import ApplicationStat, QuarterlyReport, Service
from tests.figures.test_reports import GOOD, PERIOD, post_report
from tests.helpers import csrf_token, sign_in


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))).split())


def value_of(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)


def test_a_new_report_is_prefilled_from_the_registry_and_imported_counts(db, officer_client, agencies):
    ha_noi = agencies["ha-noi"]
    in_quarter = datetime(2026, 8, 1, tzinfo=UTC)
    before = datetime(2025, 1, 1, tzinfo=UTC)
    services = [Service(agency_id=ha_noi.id, name=f"Dịch vụ {i}", url=f"https://dvc.hanoi.gov.vn/{i}",
                        level=3 if i < 3 else 4, created_at=in_quarter if i in (0, 3) else before)
                for i in range(5)]
    services.append(Service(agency_id=ha_noi.id, name="Đã ngừng", url="https://dvc.hanoi.gov.vn/x", level=3,
                            created_at=before, status="retired", retired_at=datetime(2026, 1, 1, tzinfo=UTC)))
    db.session.add_all(services)
    db.session.flush()
    db.session.add(ApplicationStat(agency_id=ha_noi.id, service_id=services[0].id, period=PERIOD,
                                   provenance="imported", received_total=336207, received_online=178456))
    db.session.commit()
    response = officer_client.get(f"/admin/reports/{PERIOD}/ha-noi")
    page = html.unescape(response.get_data(as_text=True))
    assert value_of(page, "services_l3") == "3" and value_of(page, "services_l4") == "2"
    assert value_of(page, "new_services_l3") == "1" and value_of(page, "new_services_l4") == "1"
    assert value_of(page, "received_l3") == "336.207" and value_of(page, "online_l3") == "178.456"
    assert value_of(page, "received_l4") == ""
    assert "Điền sẵn từ danh mục dịch vụ của cơ quan" in page and "Điền sẵn từ số hồ sơ đã nhập" in page
    # the pre-filled values are the officer's to change and submit
    fields = {n: value_of(page, n) for n in ("services_l3", "services_l4", "new_services_l3", "new_services_l4",
                                             "received_l3", "online_l3")}
    response = post_report(officer_client, {**fields, "received_l4": "10", "online_l4": "4", "services_l3": "4"})
    assert response.status_code == 302
    report = db.session.execute(select(QuarterlyReport)).scalar_one()
    assert (report.services_l3, report.received_l3, report.online_l3) == (4, 336207, 178456)
    assert "Điền sẵn" not in officer_client.get(f"/admin/reports/{PERIOD}/ha-noi").get_data(as_text=True)


def test_every_error_is_reported_in_one_round(db, officer_client, agencies):
    response = post_report(officer_client, {**GOOD, "services_l3": "", "online_l3": "20.000", "received_l3": "100",
                                            "new_services_l4": "nhiều"})
    assert response.status_code == 400
    page = words(response)
    assert "Bắt buộc nhập" in page and "Nhập một số nguyên" in page
    assert "Số hồ sơ trực tuyến mức 3 không được lớn hơn tổng số hồ sơ tiếp nhận mức 3" in page
    assert db.session.execute(select(QuarterlyReport)).first() is None


def test_a_locked_quarter_says_who_locked_it_and_whom_to_ask(db, officer_client, officer, agencies, admin):
    sign_in(officer_client, admin)
    token = csrf_token(officer_client, f"/admin/reports?period={PERIOD}")
    asked = officer_client.post(f"/admin/reports/{PERIOD}/lock", data={"csrf_token": token})
    assert asked.status_code == 200 and "Khóa báo cáo Quý III/2026?" in words(asked)  # the page that asks
    assert db.session.execute(select(QuarterlyReport)).first() is None
    confirmed = officer_client.post(f"/admin/reports/{PERIOD}/lock", data={"csrf_token": token, "confirmed": "1"})
    assert confirmed.status_code == 302
    sign_in(officer_client, officer)
    page = words(officer_client.get(f"/admin/reports/{PERIOD}/ha-noi"))
    assert "người khóa: admin@example.vn" in page and "Hãy liên hệ admin@example.vn để mở khóa quý" in page
    assert "mailto:admin@example.vn" in officer_client.get(f"/admin/reports?period={PERIOD}").get_data(as_text=True)
    assert 'class="admin-nav"' in officer_client.get(f"/admin/reports?period={PERIOD}").get_data(as_text=True)


def test_report_periods_accept_officers_spellings(db, officer_client, agencies):
    page = words(officer_client.get("/admin/reports?period=Quý III/2026"))
    assert "Quý III/2026" in page
    assert officer_client.get("/admin/reports?period=Q3/2026").status_code == 200
    assert officer_client.get("/admin/reports?period=quý mười").status_code == 400
