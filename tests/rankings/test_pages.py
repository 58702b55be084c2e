"""The /rankings pages: tables, notes, movement, charts, languages, errors, exports and the agency trend."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from portal.models import Service
from portal.services.agencies import get_by_code
from tests.rankings.helpers import agency, services

SVG = "{http://www.w3.org/2000/svg}"


def text(response) -> str:
    return response.get_data(as_text=True)


def rows_of(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr>")[1:]]


def test_the_2016_provincial_table_in_vietnamese(client, demo):
    response = client.get("/rankings?kind=province&metric=services_total&period=2016&source=reported")
    assert response.status_code == 200
    page = text(response)
    rows = rows_of(page)
    assert len(rows) == 63
    assert rows[0].startswith("1 Hà Giang 1.374 0")
    assert rows[-1].startswith("63 Trà Vinh 0 0 Chưa có dịch vụ hoạt động")
    assert "Cổng không có số liệu xác minh cho kỳ này." in page
    assert 'aria-current="page"' in page and ">Xếp hạng</a>" in page


def test_english_page_uses_english_numbers_and_notes(client, demo):
    page = text(client.get("/rankings?kind=province&metric=services_total&period=2016&source=reported&lang=en"))
    assert '<html lang="en">' in page
    assert rows_of(page)[0].startswith("1 Hà Giang 1,374 0")
    assert "No active service" in page and "Rankings of ministries, agencies and provinces" in page
    assert "Chưa có dịch vụ hoạt động" not in page


def test_shares_and_indices_the_vietnamese_way(client, demo, db):
    page = text(client.get("/rankings?kind=province&metric=website_index&period=2016"))
    assert rows_of(page)[0].startswith("1 TP. Đà Nẵng 0,942")
    for service in db.session.execute(db.select(Service)).scalars():
        service.health = "up" if service.id % 3 else "down"
    db.session.commit()
    page = text(client.get("/rankings?kind=province&metric=working_share"))
    assert re.search(r"\d+,\d\xa0%", page)


def test_current_table_shows_both_sources_side_by_side_without_movement_across_periods(client, demo):
    page = text(client.get("/rankings?kind=province&metric=services_total"))
    assert "Xếp theo số liệu xác minh" in page and "Bên cạnh: số liệu báo cáo (báo cáo 2016)" in page
    assert "<strong>TP. Cần Thơ</strong> ← Hậu Giang, Sóc Trăng" in page
    can_tho = next(r for r in rows_of(page) if "TP. Cần Thơ" in r)
    assert re.search(r"TP\. Cần Thơ \d+ \d+ 412 14 gồm cả Hậu Giang, Sóc Trăng", can_tho)
    # today's registry against the 2016 report is not progress over time: no arrows, the periods in the headers
    assert "▲" not in page and "▼" not in page and "Chênh lệch thứ hạng" not in page
    assert "Xác minh, Hiện nay" in page and "Báo cáo, 2016" in page
    assert "Hai nguồn đo ở hai kỳ khác nhau (Hiện nay và 2016)" in page
    assert len(rows_of(page)) == 34


def test_chart_is_server_rendered_svg_of_the_table(client, demo):
    page = text(client.get("/rankings?kind=province&metric=services_total&period=2016&source=reported"))
    svg = page[page.index("<svg"):page.index("</svg>") + 6]
    root = ET.fromstring(svg)  # noqa: S314 - our own markup
    assert root.get("role") == "img"
    assert "Số dịch vụ công trực tuyến mức độ 3, 4" in root.find(f"{SVG}title").text
    assert "1. Hà Giang: 1.374" in root.find(f"{SVG}desc").text
    assert len(root.findall(f".//{SVG}rect")) == 63
    assert "<script" not in page.split("<main")[1].split("</main>")[0]  # the chart needs no script


def test_unsupported_choice_explains_and_offers_alternatives(client, demo):
    response = client.get("/rankings?metric=it_policy_index&source=verified")
    assert response.status_code == 400
    page = text(response)
    assert "Các chỉ số ứng dụng CNTT chỉ có trong báo cáo chính thức" in page
    assert 'href="/rankings?metric=it_policy_index&amp;source=reported&amp;period=2016"' in page
    bad = client.get("/rankings?kind=planet")
    assert bad.status_code == 400 and "Khối cơ quan không hợp lệ." in text(bad)
    assert client.get("/rankings?period=2016&source=verified").status_code == 400


def test_csv_export(client, demo):
    response = client.get("/rankings/export.csv?kind=province&metric=services_total&period=2016&source=reported")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=xep-hang_services_total_province_2016_reported.csv")
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffHạng,Mã cơ quan,Cơ quan,")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][:5] == ["1", "ha-giang", "Hà Giang", "1374", "0"]
    assert len(rows) == 64 and rows[-1][5] == "Chưa có dịch vụ hoạt động"


def test_xlsx_export_and_json_export(client, demo):
    params = "kind=province&metric=services_total"
    response = client.get(f"/rankings/export.xlsx?{params}")
    assert response.headers["Content-Disposition"].endswith("xep-hang_services_total_province_current_verified.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Hạng", "Mã cơ quan", "Cơ quan"] and "Thay đổi thứ hạng" in header
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(values) == 34 and isinstance(values[0][0], int) and isinstance(values[0][3], int)
    exported = json.loads(client.get(f"/rankings/export.json?{params}").data)
    assert exported == client.get(f"/api/v1/rankings/services_total?{params}").get_json()
    assert client.get("/rankings/export.pdf").status_code == 404
    assert client.get("/rankings/export.csv?metric=availability&source=reported").status_code == 400


def test_exports_defuse_formulas_in_agency_names(client, db):
    hostile = '=HYPERLINK("http://evil.example/","<b>Nhấn vào đây</b>")'
    services(db.session, agency(db.session, "doc-hai", hostile), l3=2)
    services(db.session, agency(db.session, "lanh", "+Tỉnh Lành"), l3=1)
    db.session.commit()
    rows = list(csv.reader(io.StringIO(client.get("/rankings/export.csv?kind=province").get_data(as_text=True))))
    assert [r[2] for r in rows[1:]] == ["'" + hostile, "'+Tỉnh Lành"]
    sheet = load_workbook(io.BytesIO(client.get("/rankings/export.xlsx?kind=province").data)).active
    cell = sheet.cell(row=2, column=3)
    assert cell.value == "'" + hostile and cell.data_type == "s"
    page = text(client.get("/rankings?kind=province"))
    assert "<b>Nhấn" not in page and "&lt;b&gt;Nhấn vào đây&lt;/b&gt;" in page


def test_agency_trend_page(client, demo):
    page = text(client.get("/rankings/agency/can-tho"))
    assert "TP. Cần Thơ: xếp hạng qua các kỳ" in page
    assert 'href="/rankings/agency/hau-giang"' in page  # merged into it
    # one report and today's figures: single points, so no one-point "lines" but the table
    assert "<svg" not in page and "<script" not in page.split("<main")[1].split("</main>")[0]
    assert "chỉ có số liệu của một kỳ nên không vẽ đường xu hướng" in page
    assert "Báo cáo 2016 341 12/63" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    former = text(client.get("/rankings/agency/hau-giang"))
    assert "đã được sáp nhập vào TP. Cần Thơ" in former
    assert client.get("/rankings/agency/no-such-agency").status_code == 404
    agency_page = text(client.get("/agencies/can-tho"))
    assert 'href="/rankings/agency/can-tho"' in agency_page


@pytest.mark.sqlite_only
def test_sub_unit_trend_points_to_its_top_agency(client, db, backend):
    top = agency(db.session, "tinh-cha", "Tỉnh Cha")
    agency(db.session, "so-con", "Sở Con", parent_id=top.id)
    services(db.session, get_by_code(db.session, "so-con"), l4=2)
    db.session.commit()
    page = text(client.get("/rankings/agency/so-con"))
    assert "Sở Con là đơn vị trực thuộc; số liệu được tính vào Tỉnh Cha." in page
    assert "1/1" in page


def test_availability_page_says_which_days_it_covers(client, demo):
    page = text(client.get("/rankings?kind=province&metric=availability"))
    assert "Tỷ lệ lần kiểm tra thấy dịch vụ hoạt động, từ ngày" in page
    # the demo has no checks: nobody is ranked on no evidence, and the page says who was left out and why
    assert "<tbody>" not in page and "Chưa cơ quan nào đủ dữ liệu để xếp hạng theo chỉ tiêu này." in page
    assert "Không xếp hạng 34 cơ quan chưa đủ dữ liệu (dưới 24 lần kiểm tra trong kỳ)" in page
    assert "<svg" not in page and "Không vẽ biểu đồ" in page


def test_every_suggestion_of_a_ranking_without_figures_answers(client, demo):
    from portal.services.ranking_rules import METRICS

    tried = 0
    for metric in METRICS:
        for kind in ("ministry", "province"):
            for source in ("reported", "verified"):
                response = client.get(f"/rankings?kind={kind}&metric={metric}&source={source}")
                if response.status_code == 200:
                    continue
                assert response.status_code == 400
                page = text(response)
                links = re.findall(r'<li><a href="(/rankings\?[^"]+)"', page)
                assert links, f"{metric} {kind} {source}: no suggestion"
                for link in links:
                    tried += 1
                    answer = client.get(link.replace("&amp;", "&"))
                    assert answer.status_code == 200, link
    assert tried > 0


def test_the_form_offers_only_periods_and_sources_with_a_ranking(client, demo):
    page = text(client.get("/rankings?kind=province&metric=availability"))
    period_select = page[page.index('id="f-period"'):page.index("</select>", page.index('id="f-period"'))]
    assert 'value="2016"' not in period_select and 'value="current"' in period_select
    source_select = page[page.index('id="f-source"'):page.index("</select>", page.index('id="f-source"'))]
    assert 'value="reported"' not in source_select and 'value="verified"' in source_select
