"""JSON API of catalogues, procedures and compliance: shapes, defaults, errors."""

from __future__ import annotations

import pytest

from tests.compliance.conftest import CATALOGUE


@pytest.fixture
def data(provinces):
    provinces.agency("bo-cong-thuong", "Bộ Công Thương", kind="ministry")
    provinces.entry("2.002195", "Cấp giấy chứng nhận xuất xứ", scope="ministry", agency="bo-cong-thuong")
    provinces.service("ha-noi", "1.000001", 4)
    provinces.service("quan-ba-dinh", "1.000002", 3)
    provinces.service("da-nang", "1.000001", 3)
    provinces.commit()
    return provinces


def test_compliance_ranking_shape(client, data):
    body = client.get(f"/api/v1/compliance?catalogue={CATALOGUE}&kind=province").get_json()
    assert set(body) == {"catalogue", "kind", "scope", "items", "total"}
    assert body["kind"] == "province" and body["scope"] == "province" and body["total"] == 4
    assert body["catalogue"] == {"name": CATALOGUE, "label": "Quyết định 846/QĐ-TTg (2017)", "entries": 4,
                                 "scopes": {"province": 3, "ministry": 1}, "is_sample": False}
    first = body["items"][0]
    assert first == {"rank": 1, "agency": {"code": "ha-noi", "name": "TP. Hà Nội"}, "required": 3, "online": 2,
                     "lower_level": 0, "missing": 1, "compliance": 66.67, "note": None}
    last = body["items"][-1]
    assert last["rank"] == 4 and last["note"] == "none_online" and last["compliance"] == 0.0
    assert [i["agency"]["code"] for i in body["items"]][1:] == ["an-giang", "da-nang", "tuyen-quang"]


def test_defaults_are_the_only_catalogue_and_provinces(client, data):
    body = client.get("/api/v1/compliance").get_json()
    assert body["catalogue"]["name"] == CATALOGUE and body["kind"] == "province"
    ministries = client.get("/api/v1/compliance?kind=ministry").get_json()
    assert [(i["agency"]["code"], i["required"], i["missing"]) for i in ministries["items"]] == [
        ("bo-cong-thuong", 1, 1)]


def test_one_agency(client, data):
    body = client.get(f"/api/v1/compliance/da-nang?catalogue={CATALOGUE}").get_json()
    assert body["agency"]["code"] == "da-nang" and body["rank"] == 4 and body["note"] == "none_online"
    assert (body["required"], body["online"], body["lower_level"], body["missing"]) == (3, 0, 1, 2)
    states = [(p["code"], p["state"], p["best_level"]) for p in body["procedures"]]
    assert states == [("1.000002", "missing", None), ("1.000003", "missing", None), ("1.000001", "lower_level", 3)]
    assert body["procedures"][2]["services"][0]["level"] == 3
    ha_noi = client.get("/api/v1/compliance/ha-noi").get_json()
    rolled_up = next(p for p in ha_noi["procedures"] if p["code"] == "1.000002")
    assert rolled_up["state"] == "online" and len(rolled_up["services"]) == 1  # Ba Đình's service


def test_procedures_and_catalogues(client, data):
    body = client.get(f"/api/v1/procedures?catalogue={CATALOGUE}&scope=ministry").get_json()
    assert body["scope"] == "ministry" and body["total"] == 1
    assert body["items"] == [{"code": "2.002195", "name": "Cấp giấy chứng nhận xuất xứ", "field": None,
                              "scope": "ministry", "required_level": 4, "is_sample": False,
                              "agency": {"code": "bo-cong-thuong", "name": "Bộ Công Thương"}}]
    assert client.get("/api/v1/procedures").get_json()["total"] == 4
    listed = client.get("/api/v1/catalogues").get_json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == CATALOGUE


@pytest.mark.parametrize(("url", "status", "param"), [
    ("/api/v1/compliance?kind=planet", 400, "kind"),
    ("/api/v1/compliance?catalogue=QĐ 846", 400, "catalogue"),
    ("/api/v1/compliance?catalogue=khong-co", 404, None),
    ("/api/v1/procedures?scope=district", 400, "scope"),
    ("/api/v1/procedures?catalogue=%00", 400, "catalogue"),
    ("/api/v1/compliance/khong-co", 404, None),
    ("/api/v1/compliance/ha-giang", 404, None),
    ("/api/v1/compliance/quan-ba-dinh", 404, None),
    ("/api/v1/compliance/%00", 404, None),
])
def test_bad_parameters_are_json_errors(client, data, url, status, param):
    response = client.get(url)
    assert response.status_code == status and response.is_json
    error = response.get_json()["error"]
    assert error["code"] == status and error["message"]
    assert error.get("param") == param


def test_no_catalogue_loaded_yet(client, db):
    response = client.get("/api/v1/compliance")
    assert response.status_code == 404 and response.get_json()["error"]["message"]
    assert client.get("/api/v1/catalogues").get_json() == {"items": [], "total": 0}
    page = client.get("/compliance")
    assert page.status_code == 200 and "Chưa có danh mục thủ tục nào" in page.get_data(as_text=True)


def test_openapi_describes_the_routes(client, db):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    for path in ("/api/v1/compliance", "/api/v1/compliance/{code}", "/api/v1/procedures", "/api/v1/catalogues"):
        operation = doc["paths"][path]["get"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert all(p.get("description") for p in operation.get("parameters", []))
    params = {p["name"] for p in doc["paths"]["/api/v1/compliance"]["get"]["parameters"]}
    assert params == {"catalogue", "kind"}
