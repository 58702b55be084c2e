"""The national open-data downloads: streamed CSV / JSON / JSON Lines, XLSX, agencies, catalogues."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from portal.services import opendata

COLUMNS = list(opendata.SERVICE_COLUMNS)


@pytest.fixture
def catalogue(world):
    """Two provinces' services, one retired, one with a name and URL a spreadsheet would run as formulas."""
    world.agency("ha-noi", "TP. Hà Nội")
    world.agency("quan-ba-dinh", "Quận Ba Đình", parent_id=world.agencies["ha-noi"].id)
    world.agency("da-nang", "TP. Đà Nẵng")
    world.entry("1.000178", "Đăng ký khai sinh", field="Hộ tịch", level=4)
    checked = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    world.service("ha-noi", "1.000178", 4, field="Hộ tịch", health="up", health_since=checked,
                  last_checked_at=checked)
    world.service("quan-ba-dinh", None, 3, name="=HYPERLINK(\"http://evil.example\",\"Bấm vào đây\")",
                  field="+Tư pháp", is_sample=True)
    world.service("da-nang", None, 3, name="Dịch vụ đã ngừng", status="retired")
    world.commit()
    return world


def read_csv(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_services_csv_is_streamed_with_bom_and_no_formulas(client, catalogue):
    response = client.get("/open-data/services.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.content_type == "text/csv; charset=utf-8"
    assert 'filename="dich-vu-cong.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == COLUMNS
    assert [r["agency_code"] for r in rows] == ["ha-noi", "quan-ba-dinh"]  # the retired service is left out
    first, second = rows
    assert first["name"] == "Đăng ký khai sinh" and first["procedure_code"] == "1.000178"
    assert first["level"] == "4" and first["health"] == "up" and first["is_sample"] == "false"
    assert first["health_since"] == "2026-05-04T03:02:01+00:00" and first["agency_kind"] == "province"
    assert second["name"].startswith("'=HYPERLINK(") and second["field"] == "'+Tư pháp"
    assert second["is_sample"] == "true" and second["procedure_code"] == "" and second["health"] == "unknown"


def test_retired_services_on_request(client, catalogue):
    rows = read_csv(client.get("/open-data/services.csv?include_retired=1"))
    assert [r["status"] for r in rows] == ["active", "active", "retired"]
    assert client.get("/open-data/services.csv?include_retired=maybe").status_code == 400


def test_services_json_is_one_valid_array(client, catalogue):
    response = client.get("/open-data/services.json")
    assert response.is_streamed and response.mimetype == "application/json"
    items = json.loads(response.get_data(as_text=True))
    assert [i["agency_code"] for i in items] == ["ha-noi", "quan-ba-dinh"]
    assert list(items[0]) == COLUMNS
    assert items[0]["level"] == 4 and items[0]["is_sample"] is False
    assert items[0]["last_checked_at"] == "2026-05-04T03:02:01+00:00"
    assert items[1]["name"].startswith("=HYPERLINK(")  # JSON is data, not a spreadsheet: kept as it is


def test_services_json_lines(client, catalogue):
    response = client.get("/open-data/services.jsonl?include_retired=1")
    assert response.is_streamed and response.mimetype == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    assert [json.loads(line)["status"] for line in lines] == ["active", "active", "retired"]


def test_empty_catalogue_is_still_valid(client, db):
    assert json.loads(client.get("/open-data/services.json").get_data(as_text=True)) == []
    assert client.get("/open-data/services.jsonl").get_data(as_text=True) == ""
    assert read_csv(client.get("/open-data/services.csv")) == []


@pytest.fixture
def xlsx_dir(app, tmp_path):
    app.config["PORTAL_OPEN_DATA_DIR"] = str(tmp_path / "open-data")
    return tmp_path / "open-data"


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename=dich-vu-cong" in response.headers["Content-Disposition"]
    return list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))


def test_services_xlsx(client, catalogue, xlsx_dir):
    rows = xlsx_rows(client.get("/open-data/services.xlsx"))
    assert list(rows[0]) == COLUMNS and len(rows) == 3
    assert rows[1][COLUMNS.index("level")] == 4
    assert rows[1][COLUMNS.index("health_since")] == datetime(2026, 5, 4, 3, 2, 1)  # UTC; Excel has no time zones
    assert rows[2][COLUMNS.index("name")].startswith("'=HYPERLINK(")
    assert len(xlsx_rows(client.get("/open-data/services.xlsx?include_retired=1"))) == 4


def test_the_xlsx_file_is_reused_until_it_expires(app, client, catalogue, xlsx_dir, world):
    assert len(xlsx_rows(client.get("/open-data/services.xlsx"))) == 3
    world.service("da-nang", None, 4, name="Dịch vụ mới")
    world.commit()
    assert len(xlsx_rows(client.get("/open-data/services.xlsx"))) == 3  # the file built a moment ago
    app.config["PORTAL_OPEN_DATA_XLSX_SECONDS"] = 0
    assert len(xlsx_rows(client.get("/open-data/services.xlsx"))) == 4


def test_agencies_and_procedures_csv(client, catalogue, world):
    world.agency("ha-giang", "Hà Giang", successor_id=world.agencies["da-nang"].id,
                 valid_to=datetime(2025, 7, 1).date())
    world.commit()
    rows = {r["code"]: r for r in read_csv(client.get("/open-data/agencies.csv"))}
    assert rows["quan-ba-dinh"]["parent_code"] == "ha-noi"
    assert rows["ha-giang"]["successor_code"] == "da-nang" and rows["ha-giang"]["current"] == "false"
    assert rows["ha-noi"]["current"] == "true"
    entries = read_csv(client.get("/open-data/procedures.csv?catalogue=qd-846-2017"))
    assert entries == [{"catalogue": "qd-846-2017", "code": "1.000178", "name": "Đăng ký khai sinh",
                        "field": "Hộ tịch", "scope": "province", "required_level": "4", "agency_code": "",
                        "is_sample": "false"}]
    assert client.get("/open-data/procedures.csv?catalogue=khong-co").status_code == 404


def test_the_open_data_page_describes_the_datasets(client, catalogue):
    page = client.get("/open-data").get_data(as_text=True)
    for link in ("/open-data/services.csv", "/open-data/services.json", "/open-data/services.jsonl",
                 "/open-data/services.xlsx", "/open-data/agencies.csv", "/open-data/procedures.csv?catalogue=qd-846"):
        assert link in page
    assert "JSON Lines" in page and "is_sample" in page and "ghi rõ nguồn" in page
    assert "2 dịch vụ đang cung cấp (trong đó 1 là dữ liệu mẫu) và 1 dịch vụ đã ngừng." in page
    assert 'href="/open-data"' in client.get("/").get_data(as_text=True)  # footer and navigation


def test_rows_are_fetched_in_chunks(db, catalogue, monkeypatch):
    monkeypatch.setattr(opendata, "CHUNK_ROWS", 1)
    captured = {}
    original = db.session.execute

    def execute(statement, *args, **kwargs):
        captured.setdefault("options", statement.get_execution_options())
        return original(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", execute)
    assert len(list(opendata.iter_service_rows(db.session, include_retired=True))) == 3
    assert captured["options"]["yield_per"] == 1
