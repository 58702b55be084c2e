"""Service page availability bar and incidents, /status with filters, the Atom feed, the agency page."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import Agency, DailyRollup, Service, utcnow
from portal.services import availability, monitor
from tests.monitoring_helpers import make_agency, make_services, result

ATOM = "{http://www.w3.org/2005/Atom}"


def text(response) -> str:
    return response.get_data(as_text=True)


def fail(db, service, reason="timeout", at=None):
    """Two failed checks, by default within the last hour and on today's Vietnamese calendar day."""
    if at is None:
        now = utcnow()
        at = max(now - timedelta(hours=1), availability.day_bounds(availability.local_day(now))[0])
    for minutes in (0, 2):
        monitor.record_result(db.session, service, result(service.url, reason, status=None),
                              at + timedelta(minutes=minutes))


@pytest.fixture
def world(db):
    province = make_agency(db.session)
    ministry = make_agency(db.session, code="bo-thu", name="Bộ <Thử> & Co", kind="ministry")
    p_services = make_services(db.session, province, 4)
    m_services = make_services(db.session, ministry, 3, prefix="https://bo.example.gov.vn/")
    p_services[0].name = "Đăng ký <script>alert(1)</script> khai sinh"
    db.session.commit()
    fail(db, p_services[0], "timeout")
    fail(db, p_services[1], "dns_error")
    fail(db, m_services[0], "http_error")
    for s in (p_services[2], m_services[1]):
        monitor.record_result(db.session, s, result(s.url, "ok"))
    dead = m_services[2]
    fail(db, dead, "timeout", at=utcnow() - timedelta(days=8))
    monitor.record_result(db.session, dead, result(dead.url, "timeout"))
    assert dead.health == "dead"
    return province, ministry, p_services, m_services


def test_service_page_has_availability_bar_and_incidents(client, db, world):
    _, _, p_services, _ = world
    service = p_services[0]
    today = availability.local_day(utcnow())
    for n in range(1, 90):
        db.session.add(DailyRollup(service_id=service.id, day=today - timedelta(days=n), checks=96,
                                   up=96 if n % 10 else 90, degraded=0, down=0 if n % 10 else 6, reasons={}))
    db.session.commit()
    page = text(client.get(f"/services/{service.id}"))
    bar = page.split('class="availability-bar"')[1].split("</ol>")[0]
    cells = re.findall(r'<li class="day day-(\w+)" title="([^"]+)"', bar)
    assert len(cells) == 90
    assert cells[-1][0] == "bad"  # today: 0 of 2 checks worked
    assert {grade for grade, _ in cells[:-1]} == {"good", "poor"}
    assert "93,8" in cells[-11][1] and "96" in cells[-11][1]  # 90 of 96, with the number of checks
    assert '<ol class="availability-bar" aria-hidden="true">' in page  # the table below is the text alternative
    assert "<details>" in page and "Bảng khả năng truy cập theo ngày" in page
    assert "Quá thời gian chờ" in page  # the incident's reason
    assert "đang diễn ra" in page
    assert "<script>alert(1)</script>" not in page
    assert "<script" not in page.split("<main")[1].split("</main>")[0]


def test_status_lists_down_and_dead_with_filters(client, world):
    province, ministry, p_services, m_services = world
    page = text(client.get("/status"))
    for s in (*p_services[:2], *m_services[::2]):
        assert f"/services/{s.id}\"" in page
    assert f"/services/{p_services[2].id}\"" not in page
    assert "4 dịch vụ" in page
    assert "Bộ &lt;Thử&gt; &amp; Co" in page and "<script>alert" not in page

    only = text(client.get("/status?agency=tinh-thu"))
    assert "2 dịch vụ" in only and f"/services/{m_services[0].id}\"" not in only
    assert "2 dịch vụ" in text(client.get("/status?kind=ministry"))
    dead = text(client.get("/status?health=dead"))
    assert "1 dịch vụ" in dead and f"/services/{m_services[2].id}\"" in dead
    dns = text(client.get("/status?reason=dns_error"))
    assert "1 dịch vụ" in dns and f"/services/{p_services[1].id}\"" in dns
    assert client.get("/status?health=up").status_code == 400
    assert client.get("/status?reason=bogus").status_code == 400
    assert client.get("/status?page=x").status_code == 400
    assert client.get("/status?agency=nope").status_code == 400


def test_status_paginates(client, db):
    agency = make_agency(db.session)
    for s in make_services(db.session, agency, 55):
        s.health, s.health_reason, s.health_since = "down", "timeout", utcnow()
    db.session.commit()
    first = text(client.get("/status"))
    assert "55 dịch vụ" in first and 'rel="next"' in first and "Trang 1 / 2" in first
    second = text(client.get("/status?page=2"))
    assert len(re.findall(r'<tr><td><a href="/services/', second)) == 5


def test_status_is_in_the_navigation(client, world):
    assert 'href="/status"' in text(client.get("/"))


def test_incident_feed_is_valid_escaped_atom(client, world):
    response = client.get("/status/incidents.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)  # noqa: S314 - our own feed, parsed to prove it is well-formed
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}id").text.endswith("/status/incidents.atom")
    assert root.find(f"{ATOM}updated").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 4
    for entry in entries:
        for tag in ("id", "title", "updated", "published", "summary"):
            assert entry.find(f"{ATOM}{tag}").text
        assert entry.find(f"{ATOM}link").get("href").startswith("http://localhost/services/")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert any("<script>alert(1)</script>" in t for t in titles)  # kept as text, escaped in the XML
    assert b"<script>" not in response.data
    assert any("Ngừng hoạt động" in t for t in titles)


def test_agency_page_share_of_working_services(client, world):
    page = text(client.get("/agencies/tinh-thu"))
    # 4 services: 1 up, 2 down, 1 never checked → 1 working of 3 checked
    assert "Đang hoạt động: 1 trên 3 dịch vụ đã kiểm tra (33,3" in page
    assert 'href="/status?agency=tinh-thu"' in page and "2 dịch vụ đang gặp sự cố" in page


def test_api_uptime_comes_from_rollups(client, db, world):
    _, _, p_services, _ = world
    service = p_services[2]
    db.session.add(DailyRollup(service_id=service.id, day=availability.local_day(utcnow()) - timedelta(days=2),
                               checks=4, up=2, degraded=0, down=2, reasons={}))
    db.session.commit()
    data = client.get(f"/api/v1/services/{service.id}").get_json()
    assert data["uptime"]["24h"] == 100.0
    assert data["uptime"]["7d"] == 60.0
    assert set(data["uptime"]) == {"24h", "7d", "30d", "90d"}


def test_subunit_services_count_for_their_agency(client, db):
    top = make_agency(db.session)
    unit = make_agency(db.session, code="so-tu-phap", name="Sở Tư pháp", parent=db.session.execute(
        select(Agency).where(Agency.code == "tinh-thu")).scalar_one())
    (service,) = make_services(db.session, unit, 1)
    fail(db, service)
    assert db.session.get(Service, service.id).health == "down"
    page = text(client.get("/status?agency=tinh-thu"))
    assert "1 dịch vụ" in page
    assert top.name in text(client.get("/status")).split("Theo cơ quan")[1]
