"""The compliance matrix and ranking: required level, roll-up of sub-units and merged agencies, ties."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from portal.services import compliance
from tests.compliance.conftest import CATALOGUE


def counts(db, kind="province"):
    return {c.agency.code: (c.required, c.online, c.lower_level, c.missing)
            for c in compliance.agency_counts(db.session, CATALOGUE, kind)}


def standings(db, kind="province"):
    return [(r.agency_code, r.rank, r.note) for r in compliance.ranking(db.session, CATALOGUE, kind)]


def test_a_level_3_service_does_not_meet_a_level_4_requirement(db, provinces):
    provinces.service("da-nang", "1.000001", 3)   # level 4 required: lower level
    provinces.service("da-nang", "1.000002", 4)   # level 3 required: a higher level is fine
    provinces.commit()
    assert counts(db)["da-nang"] == (3, 1, 1, 1)
    (item,) = [c for c in compliance.agency_counts(db.session, CATALOGUE, "province") if c.agency.code == "da-nang"]
    assert round(item.share, 1) == 33.3


def test_the_best_of_several_services_counts(db, provinces):
    provinces.service("an-giang", "1.000001", 3)
    provinces.service("an-giang", "1.000001", 4)
    provinces.commit()
    assert counts(db)["an-giang"] == (3, 1, 0, 2)


def test_sub_units_roll_up_to_their_province(db, provinces):
    provinces.service("quan-ba-dinh", "1.000001", 4)
    provinces.commit()
    assert counts(db)["ha-noi"] == (3, 1, 0, 2)
    assert "quan-ba-dinh" not in counts(db)


def test_a_merged_province_counts_for_its_successor_and_is_not_listed(db, provinces):
    provinces.service("ha-giang", "1.000003", 3)
    provinces.commit()
    assert counts(db)["tuyen-quang"] == (3, 1, 0, 2)
    assert "ha-giang" not in counts(db)
    # before the merger Hà Giang was an agency of its own
    before = {c.agency.code: c.online for c in compliance.agency_counts(db.session, CATALOGUE, "province",
                                                                         on=date(2024, 1, 1))}
    assert before["ha-giang"] == 1 and before["tuyen-quang"] == 0


def test_retired_services_and_services_of_other_procedures_do_not_count(db, provinces):
    provinces.service("ha-noi", "1.000002", 4, status="retired")
    provinces.service("ha-noi", None, 4, name="Đăng ký kết hôn")  # not linked to the procedure
    provinces.entry("1.000099", "Thủ tục của danh mục khác", catalogue="khac", level=3)
    provinces.service("ha-noi", "1.000099", 4)
    provinces.commit()
    assert counts(db)["ha-noi"] == (3, 0, 0, 3)


def test_ranking_ties_share_a_rank_and_nothing_online_comes_last(db, provinces):
    for code in ("ha-noi", "da-nang"):
        provinces.service(code, "1.000002", 3)
        provinces.service(code, "1.000003", 3)
    provinces.service("an-giang", "1.000001", 4)
    provinces.service("tuyen-quang", "1.000001", 3)  # lower level only: nothing online at the required level
    provinces.commit()
    assert standings(db) == [
        ("da-nang", 1, None), ("ha-noi", 1, None), ("an-giang", 3, None), ("tuyen-quang", 4, "none_online"),
    ]


def test_ministries_must_offer_only_their_own_procedures(db, world):
    world.agency("bo-cong-thuong", "Bộ Công Thương", kind="ministry")
    world.agency("bo-tai-chinh", "Bộ Tài chính", kind="ministry")
    world.agency("bo-ke-hoach-va-dau-tu", "Bộ Kế hoạch và Đầu tư", kind="ministry", valid_to=date(2025, 3, 1),
                 successor_id=world.agencies["bo-tai-chinh"].id)
    world.agency("bhxh", "Bảo hiểm Xã hội Việt Nam", kind="government_agency")
    world.agency("ha-noi", "TP. Hà Nội")
    world.entry("1.000010", "Cấp giấy chứng nhận xuất xứ hàng hóa", scope="ministry", agency="bo-cong-thuong")
    world.entry("1.000011", "Đăng ký doanh nghiệp qua mạng", scope="ministry", agency="bo-ke-hoach-va-dau-tu")
    world.entry("1.000012", "Công khai thông tin ngân sách", scope="ministry", level=3)  # every ministry
    world.service("bo-cong-thuong", "1.000010", 4)
    world.service("bo-ke-hoach-va-dau-tu", "1.000011", 4)  # the former ministry's service, for its successor
    world.service("bo-tai-chinh", "1.000012", 3)
    world.commit()
    assert counts(db, "ministry") == {"bo-cong-thuong": (2, 1, 0, 1), "bo-tai-chinh": (2, 2, 0, 0)}
    assert counts(db, "government_agency") == {"bhxh": (1, 0, 0, 1)}
    assert counts(db, "province") == {}
    m = compliance.matrix(db.session, CATALOGUE, "ministry")
    states = {row.agency.code: [c.state for c in row.cells] for row in m.rows}
    codes = [e.procedure.code for e in m.entries]
    assert states["bo-cong-thuong"][codes.index("1.000011")] == "not_required"
    assert states["bo-tai-chinh"][codes.index("1.000011")] == "online"


def test_matrix_rows_are_in_vietnamese_order_with_one_cell_per_procedure(db, provinces):
    provinces.service("ha-noi", "1.000001", 3)
    provinces.service("ha-noi", "1.000003", 4)
    provinces.commit()
    m = compliance.matrix(db.session, CATALOGUE, "province")
    assert [r.agency.code for r in m.rows] == ["an-giang", "da-nang", "ha-noi", "tuyen-quang"]
    assert [e.procedure.code for e in m.entries] == ["1.000001", "1.000002", "1.000003"]  # Hộ tịch, then Xây dựng
    ha_noi = m.rows[2]
    assert [(c.state, c.best_level) for c in ha_noi.cells] == [("lower_level", 3), ("missing", None), ("online", 4)]
    only = compliance.matrix(db.session, CATALOGUE, "province", field_name="Xây dựng")
    assert [e.procedure.code for e in only.entries] == ["1.000003"]
    assert m.fields == ["Hộ tịch", "Xây dựng"]
    wide = compliance.matrix(db.session, CATALOGUE, "province", max_columns=2)
    assert wide.field == "Hộ tịch" and len(wide.entries) == 2


def test_the_page_shows_ranking_and_matrix_with_words_not_only_symbols(client, db, provinces):
    provinces.service("ha-noi", "1.000001", 3)
    provinces.service("ha-noi", "1.000002", 3)
    provinces.commit()
    response = client.get(f"/compliance?catalogue={CATALOGUE}&kind=province")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Xếp hạng tuân thủ" in page
    assert '<span class="visually-hidden">Mức 3, yêu cầu mức 4</span>' in page
    assert '<span class="visually-hidden">Đạt, mức 3</span>' in page
    assert page.count('<span class="visually-hidden">Chưa có</span>') == 4 * 3 - 2
    assert "33,3\u00a0%" in page  # Hà Nội: 1 of 3, written the Vietnamese way
    assert "Dữ liệu mẫu." not in page
    grid = page[page.index('id="matrix-heading"'):]
    assert grid.index("TP. Đà Nẵng</a></th>") < grid.index("TP. Hà Nội</a></th>") < grid.index("Tuyên Quang</a></th>")


def test_the_agency_page_lists_what_is_missing_first(client, db, provinces):
    provinces.service("da-nang", "1.000001", 3)
    provinces.service("da-nang", "1.000002", 3, name="Đăng ký kết hôn trực tuyến")
    provinces.commit()
    page = client.get("/compliance/da-nang").get_data(as_text=True)
    assert page.index("Cấp giấy phép xây dựng") < page.index("Đăng ký khai sinh") < page.index("Đăng ký kết hôn")
    assert "Đăng ký kết hôn trực tuyến" in page  # the service that meets the requirement
    assert client.get("/compliance/ha-giang").status_code == 404  # merged: not a current agency
    assert client.get("/compliance/quan-ba-dinh").status_code == 404  # a sub-unit
    assert client.get("/compliance/khong-co").status_code == 404


def test_bad_parameters_of_the_page(client, db, provinces):
    assert client.get("/compliance?kind=planet").status_code == 400
    assert client.get("/compliance?catalogue=khong-co").status_code == 404
    assert client.get("/compliance?field=Thiên văn").status_code == 400


def test_exports_of_the_ranking_and_matrix(client, db, provinces):
    provinces.service("ha-noi", "1.000001", 4)
    provinces.service("an-giang", "1.000001", 3)
    provinces.commit()
    response = client.get(f"/compliance/export.csv?catalogue={CATALOGUE}&kind=province")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Hạng", "Mã cơ quan", "Cơ quan", "Số thủ tục phải cung cấp"]
    assert rows[0][-3:] == ["1.000001", "1.000002", "1.000003"]
    assert rows[1][:8] == ["1", "ha-noi", "TP. Hà Nội", "3", "1", "0", "2", "33.3"]
    assert rows[1][-3:] == ["Đạt mức yêu cầu", "Chưa có", "Chưa có"]
    an_giang = next(r for r in rows if r[1] == "an-giang")
    assert an_giang[0] == "4" and an_giang[8] == "Chưa có thủ tục nào đạt mức yêu cầu"
    assert an_giang[-3] == "Thấp hơn mức yêu cầu"

    response = client.get(f"/compliance/export.xlsx?catalogue={CATALOGUE}&kind=province")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][1] == "Mã cơ quan" and values[1][:3] == (1, "ha-noi", "TP. Hà Nội")


def test_english_page(client, db, provinces):
    page = client.get("/compliance?lang=en").get_data(as_text=True)
    assert "Compliance ranking" in page and "Xếp hạng tuân thủ" not in page
