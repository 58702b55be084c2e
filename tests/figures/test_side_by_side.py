"""Reported and crawled figures next to each other: agency page and GET /api/v1/agencies/<code>/figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.models import ApplicationStat
from portal.services import figures_compare, quarterly_reports

REPORT = {
    "services_l3": 120, "services_l4": 45, "new_services_l3": 10, "new_services_l4": 5,
    "received_l3": 10000, "received_l4": 2000, "online_l3": 4500, "online_l4": 500,
}


def crawled(db, agency, period, observed_at, *, status="published", **values):
    stat = ApplicationStat(agency_id=agency.id, period=period, provenance="crawled", status=status,
                           observed_at=observed_at, number_format="vi", source_url="https://hanoi.gov.vn/tk",
                           **values)
    db.session.add(stat)
    db.session.commit()
    return stat


@pytest.fixture
def hanoi_figures(db, agencies):
    hanoi = agencies["ha-noi"]
    quarterly_reports.save_report(db.session, agency=hanoi, period="2026-Q3", values=REPORT)
    quarterly_reports.save_report(db.session, agency=hanoi, period="2026-Q2", values={**REPORT, "online_l3": 3000})
    # Q3: the page says far fewer online applications than reported (5.000 vs 3.000: 40 % apart).
    crawled(db, hanoi, "2026-Q3", datetime(2026, 7, 5, tzinfo=UTC), received_total=11000, received_online=2000)
    crawled(db, hanoi, "2026-Q3", datetime(2026, 9, 5, tzinfo=UTC), received_total=12500, received_online=3000)
    crawled(db, hanoi, "2026-Q3", datetime(2026, 9, 6, tzinfo=UTC), status="held", received_total=1,
            received_online=1)
    # Q2: close enough (3.500 reported vs 3.400 crawled).
    crawled(db, hanoi, "2026-Q2", datetime(2026, 6, 1, tzinfo=UTC), received_total=12100, received_online=3400,
            online_rate=28.1)
    crawled(db, hanoi, "2026-Q1", datetime(2026, 3, 1, tzinfo=UTC), received_total=9000, received_online=2000)
    return hanoi


def test_api_shape(client, hanoi_figures):
    body = client.get("/api/v1/agencies/ha-noi/figures").get_json()
    assert body["agency"] == {"code": "ha-noi", "name": "Hà Nội"}
    assert body["margin"] == 0.2
    assert body["targets"] == {"level_3": 40.0, "level_4": 30.0}
    assert [p["period"] for p in body["periods"]] == ["2026-Q3", "2026-Q2", "2026-Q1"]

    q3, q2, q1 = body["periods"]
    assert set(q3) == {"period", "reported", "crawled", "differences", "disagreement"}
    reported = q3["reported"]
    assert (reported["received_total"], reported["received_online"]) == (12000, 5000)
    assert reported["online_rate"] == pytest.approx(41.67)
    level3, level4 = reported["levels"]
    assert level3 == {"level": 3, "services": 120, "new_services": 10, "received": 10000, "online": 4500,
                      "online_rate": 45.0, "target": 40.0, "meets_target": True}
    assert (level4["online_rate"], level4["target"], level4["meets_target"]) == (25.0, 30.0, False)
    assert reported["locked"] is False and reported["submitted_at"]

    assert q3["crawled"] == {
        "received_total": 12500, "received_online": 3000, "resolved": None, "resolved_on_time": None,
        "online_rate": 24.0, "number_format": "vi", "observed_at": "2026-09-05T00:00:00+00:00",
        "source_url": "https://hanoi.gov.vn/tk", "evidence": None,
    }
    assert q3["differences"]["received_online"] == pytest.approx(0.4)
    assert q3["disagreement"] is True

    assert q2["crawled"]["online_rate"] == 28.1
    assert q2["disagreement"] is False
    assert q1["reported"] is None and q1["differences"] == dict.fromkeys(figures_compare.COMPARED)
    assert q1["disagreement"] is False


def test_margin_comes_from_config(app, client, hanoi_figures):
    app.config["PORTAL_FIGURES_MARGIN"] = 0.5
    body = client.get("/api/v1/agencies/ha-noi/figures").get_json()
    assert body["margin"] == 0.5 and body["periods"][0]["disagreement"] is False


def test_unknown_agency_and_empty(client, agencies):
    response = client.get("/api/v1/agencies/nowhere/figures")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == 404
    assert client.get("/api/v1/agencies/da-nang/figures").get_json()["periods"] == []


def test_openapi_describes_the_endpoint(client, agencies):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/agencies/{code}/figures" in doc["paths"]
    schema = doc["components"]["schemas"]["AgencyFigures"]
    item = schema["properties"]["periods"]["items"]
    assert item["required"] == ["period", "reported", "crawled", "differences", "disagreement"]


def test_agency_page_section(client, hanoi_figures):
    page = client.get("/agencies/ha-noi").get_data(as_text=True)
    assert "Hồ sơ trực tuyến: được báo cáo và thu thập" in page
    assert "Hai nguồn chênh lệch" in page
    assert "12.500" in page and "41,7" in page  # Vietnamese number style
    assert "Mức 4: 25,0\u00a0% / 30\u00a0%" in page
    empty = client.get("/agencies/da-nang").get_data(as_text=True)
    assert "Chưa có số liệu hồ sơ theo quý." in empty
