import pytest


def test_agencies_today_by_default_in_vietnamese_order(client, demo):
    data = client.get("/api/v1/agencies?kind=province").get_json()
    names = [a["name"] for a in data["items"]]
    assert data["total"] == len(names) == 34
    assert set(data["items"][0]) == {"code", "name", "kind", "portal_url"}
    assert names.index("Đồng Nai") > names.index("TP. Đà Nẵng")
    assert names.index("TP. Đà Nẵng") > names.index("Cao Bằng")
    every = client.get("/api/v1/agencies?kind=province&include_former=1").get_json()
    assert every["total"] == 63


def test_agencies_bad_kind(client, demo):
    response = client.get("/api/v1/agencies?kind=planet")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == 400


def test_services_shape_and_search(client, demo):
    data = client.get("/api/v1/services?q=cap the bhyt do het han").get_json()
    assert set(data) == {"items", "total", "page", "per_page"}
    item = data["items"][0]
    assert set(item) == {"id", "name", "agency", "level", "field", "url", "health"}
    assert set(item["agency"]) == {"code", "name"}
    assert item["agency"]["code"] == "bao-hiem-xa-hoi-viet-nam"
    assert "BHYT" in item["name"]


def test_services_filters_and_paging(client, demo):
    data = client.get("/api/v1/services?kind=province&level=4&per_page=5&page=2").get_json()
    assert data["page"] == 2 and data["per_page"] == 5 and len(data["items"]) == 5
    assert all(i["level"] == 4 for i in data["items"])
    ids_page1 = {i["id"] for i in client.get("/api/v1/services?kind=province&level=4&per_page=5").get_json()["items"]}
    assert ids_page1.isdisjoint({i["id"] for i in data["items"]})


@pytest.mark.parametrize("query", [
    "level=2", "level=abc", "page=0", "page=abc", "per_page=0", "per_page=101", "kind=x", "health=x",
    "agency=does-not-exist",
])
def test_bad_parameters_give_json_400(client, demo, query):
    response = client.get(f"/api/v1/services?{query}")
    assert response.status_code == 400
    assert response.is_json
    assert set(response.get_json()["error"]) >= {"code", "message"}


def test_huge_query_is_answered(client, demo):
    response = client.get("/api/v1/services", query_string={"q": "đăng ký " * 700})
    assert response.status_code == 200
    assert response.get_json()["total"] >= 0


def test_service_detail_and_missing(client, demo):
    first = client.get("/api/v1/services?per_page=1").get_json()["items"][0]
    detail = client.get(f"/api/v1/services/{first['id']}").get_json()
    for key in ("procedure_code", "health_since", "recent_checks", "uptime"):
        assert key in detail
    missing = client.get("/api/v1/services/999999")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == 404
    assert client.get("/api/v1/nothing-here").get_json()["error"]["code"] == 404


def test_openapi_document_is_valid(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert {"/api/v1/agencies", "/api/v1/services", "/api/v1/services/{id}"} <= set(doc["paths"])
