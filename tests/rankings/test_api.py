"""GET /api/v1/rankings and /api/v1/rankings/<metric>: the contract's shape, defaults, counterparts, errors."""

from datetime import timedelta

import pytest

from tests.rankings.helpers import expected, today


def test_ranking_shape_reproduces_table_4_7(client, demo):
    response = client.get("/api/v1/rankings/services_total?kind=province&period=2016&source=reported")
    assert response.status_code == 200
    data = response.get_json()
    assert {"metric", "kind", "period", "source", "items"} <= set(data)
    assert (data["metric"], data["kind"], data["period"], data["source"]) == (
        "services_total", "province", "2016", "reported")
    assert data["total"] == len(data["items"]) == 63
    first = data["items"][0]
    assert {"rank", "agency", "value"} <= set(first) and set(first["agency"]) == {"code", "name"}
    assert first == {"rank": 1, "agency": {"code": "ha-giang", "name": "Hà Giang"}, "value": 1374, "note": None,
                     "services_l4": 0}
    assert [(i["agency"]["code"], i["rank"]) for i in data["items"]] == [
        (r["code"], int(r["rank"])) for r in expected("4.7")]
    assert data["counterpart"] is None and "movement" not in first
    assert data["items"][-1]["note"] == "no_active_service"


def test_defaults_are_verified_now_with_the_latest_report_alongside(client, demo):
    data = client.get("/api/v1/rankings/services_total?kind=province").get_json()
    assert (data["period"], data["source"], data["basis_period"]) == ("current", "verified", "current")
    assert data["total"] == 34
    assert data["counterpart"] == {"source": "reported", "period": "current", "basis_period": "2016"}
    can_tho = next(i for i in data["items"] if i["agency"]["code"] == "can-tho")
    assert can_tho["merged_from"] == ["can-tho", "hau-giang", "soc-trang"]
    assert can_tho["counterpart"]["value"] == 326 + 31 + 28 + 15 + 12 + 0
    assert can_tho["movement"] is None  # today's registry beside the 2016 report: different periods, no movement
    merged = {m["agency"]["code"]: [f["code"] for f in m["from"]] for m in data["merged"]}
    assert merged["can-tho"] == ["hau-giang", "soc-trang"]
    assert client.get("/api/v1/rankings/services_total").get_json()["kind"] == "ministry"
    assert client.get("/api/v1/rankings/website_index").get_json()["source"] == "reported"


def test_availability_says_which_days_it_covers(client, demo):
    data = client.get("/api/v1/rankings/availability?kind=province").get_json()
    first, last = today() - timedelta(days=30), today() - timedelta(days=1)
    assert data["availability_days"] == {"first_day": first.isoformat(), "last_day": last.isoformat()}
    assert "availability_days" not in client.get("/api/v1/rankings/services_total").get_json()


def test_applications_of_ministries_list_who_is_left_out(client, demo):
    data = client.get("/api/v1/rankings/online_applications?kind=ministry&period=2016").get_json()
    assert data["source"] == "reported" and data["total"] == 17
    assert [i["agency"]["code"] for i in data["left_out"]] == ["thanh-tra-chinh-phu", "uy-ban-dan-toc"]


def test_index_lists_metrics_kinds_and_periods(client, demo):
    data = client.get("/api/v1/rankings").get_json()
    assert len(data["metrics"]) == 13 and data["kinds"] == ["ministry", "government_agency", "province"]
    periods = {p["key"]: p for p in data["periods"]}
    assert list(periods) == ["current", "2016"]
    assert "it_hr_index" in periods["2016"]["metrics"]["reported"] and "verified" not in periods["2016"]["metrics"]
    assert {"working_share", "reply_hours"} <= set(periods["current"]["metrics"]["verified"])
    assert data["defaults"]["reported"] == "2016"


@pytest.mark.parametrize(("query", "status", "param"), [
    ("/api/v1/rankings/popularity", 404, "metric"),
    ("/api/v1/rankings/services_total?kind=planet", 400, "kind"),
    ("/api/v1/rankings/services_total?source=rumour", 400, "source"),
    ("/api/v1/rankings/services_total?period=1999", 400, "period"),
    ("/api/v1/rankings/services_total?period=2016&source=verified", 400, "period"),
    ("/api/v1/rankings/availability?source=reported", 400, "source"),
    ("/api/v1/rankings/it_policy_index?source=verified", 400, "source"),
    ("/api/v1/rankings/online_rate?period=2016", 400, "period"),
])
def test_bad_or_unsupported_requests_give_json_errors(client, demo, query, status, param):
    response = client.get(query)
    assert response.status_code == status and response.is_json
    error = response.get_json()["error"]
    assert error["code"] == status and error["param"] == param and error["message"]


def test_the_openapi_document_describes_the_rankings(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/api/v1/rankings/{metric}"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"metric", "kind", "period", "source"}
    assert set(operation["responses"]) == {"200", "400", "404"}
    assert "/api/v1/rankings" in doc["paths"]


def test_availability_api_leaves_out_agencies_without_enough_checks_like_the_page(client, demo):
    data = client.get("/api/v1/rankings/availability?kind=province").get_json()
    assert data["items"] == []
    assert len(data["left_out"]) == 34 and {r["reason"] for r in data["left_out"]} == {"not_enough_data"}
