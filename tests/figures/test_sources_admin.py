"""Admin pages of stat sources: list, new, edit, disable, and the "test this source" preview."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import AuditLog, StatSource
from tests.helpers import csrf_token

NEW = "/admin/stat-sources/new"


def form_data(client, page, **fields):
    data = {"agency": "ha-noi", "url": "", "extractor": "auto", "label": "", "service_id": ""}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, page)
    return data


def sources(db):
    return list(db.session.execute(select(StatSource).order_by(StatSource.id)).scalars())


def test_test_button_previews_without_saving(db, admin_client, agencies, stats_server):
    url = stats_server.url("province_table.html")
    response = admin_client.post(NEW, data=form_data(admin_client, NEW, url=url, test="1"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Kết quả thử (chưa lưu)" in page
    assert re.search(r'class="preview-received_total">125\.480<', page)
    assert re.search(r'class="preview-online_rate">65,0', page)
    assert "Kiểu Việt Nam" in page
    assert sources(db) == []


def test_test_button_reports_fetch_failures_and_warnings(db, admin_client, agencies, stats_server):
    page = admin_client.post(
        NEW, data=form_data(admin_client, NEW, url=stats_server.url("missing.html"), test="1")
    ).get_data(as_text=True)
    assert "Trang không tồn tại (lỗi 404)" in page and "Nên thử:" in page and "not_found" not in page
    page = admin_client.post(
        NEW, data=form_data(admin_client, NEW, url=stats_server.url("mixed_conventions.html"), test="1")
    ).get_data(as_text=True)
    assert "Kết quả thử (chưa lưu)" in page
    assert sources(db) == []


def test_save_edit_disable_are_audited(db, admin_client, agencies, stats_server):
    url = stats_server.url("summary.json")
    response = admin_client.post(NEW, data=form_data(
        admin_client, NEW, url=url, extractor="json", save="1", label="Cổng DVC Hà Nội",
        fig_received_total="data.tongSoHoSo",
    ))
    assert response.status_code == 302
    (source,) = sources(db)
    assert source.rule == {"extractor": "json", "figures": {"received_total": "data.tongSoHoSo"}}
    assert source.agency_id == agencies["ha-noi"].id and source.is_enabled

    listing = admin_client.get("/admin/stat-sources").get_data(as_text=True)
    assert "Cổng DVC Hà Nội" in listing and url in listing

    edit = f"/admin/stat-sources/{source.id}/edit"
    form = admin_client.get(edit).get_data(as_text=True)
    assert 'value="data.tongSoHoSo"' in form
    response = admin_client.post(edit, data=form_data(admin_client, edit, agency="da-nang", url=url, save="1"))
    assert response.status_code == 302
    db.session.expire_all()
    assert sources(db)[0].agency_id == agencies["da-nang"].id
    assert sources(db)[0].rule == {"extractor": "auto"}

    token = csrf_token(admin_client, "/admin/stat-sources")
    assert admin_client.post(f"/admin/stat-sources/{source.id}/disable", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert not sources(db)[0].is_enabled
    actions = [e.action for e in db.session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]
    assert actions == ["stat_source.create", "stat_source.update", "stat_source.disable"]


def test_invalid_rules_and_urls_are_refused(db, admin_client, agencies):
    response = admin_client.post(NEW, data=form_data(
        admin_client, NEW, url="https://dichvucong.hanoi.gov.vn/thong-ke", extractor="regex", save="1",
        fig_received_total="Tổng: (\\d+) và (\\d+)",
    ))
    assert response.status_code == 400
    assert "exactly one group" in response.get_data(as_text=True)
    response = admin_client.post(NEW, data=form_data(
        admin_client, NEW, url="https://dichvucong.hanoi.gov.vn/", extractor="auto", save="1", fig_resolved="#x",
    ))
    assert "the auto extractor takes no figures" in response.get_data(as_text=True)
    response = admin_client.post(NEW, data=form_data(admin_client, NEW, url="javascript:alert(1)", save="1"))
    assert response.status_code == 400
    response = admin_client.post(NEW, data=form_data(
        admin_client, NEW, url="https://dichvucong.hanoi.gov.vn/", save="1", service_id="999"
    ))
    assert "Hãy chọn một dịch vụ của cơ quan trong danh sách" in response.get_data(as_text=True)
    assert sources(db) == []


def test_csrf_is_required(db, admin_client, agencies):
    response = admin_client.post(NEW, data={"agency": "ha-noi", "url": "https://a.vn/", "extractor": "auto",
                                            "save": "1"})
    assert response.status_code == 400
    assert sources(db) == []
