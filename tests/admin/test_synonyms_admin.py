"""The synonyms admin page: admins only, CSRF, validation, audited, and search uses the change at once."""

from sqlalchemy import select

from portal.models import AuditLog, Service
from tests.helpers import csrf_token

PAGE = "/admin/synonyms"


def test_only_admins(client, officer_client):
    assert officer_client.get(PAGE).status_code == 403
    assert officer_client.get(f"{PAGE}/new").status_code == 403


def test_list_shows_the_bundled_groups_with_sources(admin_client):
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "gplx" in page and "Luật Giao thông đường bộ 2008" in page
    filtered = admin_client.get(PAGE, query_string={"q": "so do"}).get_data(as_text=True)
    assert "sổ đỏ" in filtered and "gplx" not in filtered


def test_add_a_group_is_audited_and_searched(db, admin_client, admin, agencies):
    db.session.add(Service(agency_id=agencies["ha-noi"].id, name="Cấp phép khai thác cát sỏi lòng sông",
                           level=3, url="https://hn.gov.vn/cat"))
    db.session.commit()
    assert admin_client.get("/api/v1/services?q=c%C3%A1t%20t%E1%BA%B7c&exact=1").get_json()["total"] == 0
    token = csrf_token(admin_client, f"{PAGE}/new")
    assert admin_client.post(f"{PAGE}/new", data={"terms": "cát sỏi", "source": "", "csrf_token": token,
                                                  "enabled": "y"}).status_code == 400
    response = admin_client.post(f"{PAGE}/new", data={
        "terms": "cát sỏi | hút cát | cát tặc", "source": "Cách nói thông dụng", "enabled": "y", "csrf_token": token})
    assert response.status_code == 302
    (entry,) = db.session.execute(select(AuditLog).where(AuditLog.action == "synonym.create")).scalars()
    assert entry.user_id == admin.id and entry.after["terms"] == "cát sỏi | hút cát | cát tặc"
    items = admin_client.get("/api/v1/services?q=hut%20cat").get_json()["items"]
    assert [i["name"] for i in items] == ["Cấp phép khai thác cát sỏi lòng sông"]
    again = admin_client.post(f"{PAGE}/new", data={"terms": "cát sỏi | cát", "source": "x", "csrf_token": token})
    assert again.status_code == 400


def test_edit_a_bundled_group_and_switch_it_off(db, admin_client, agencies):
    db.session.add(Service(agency_id=agencies["ha-noi"].id, name="Cấp đổi giấy phép lái xe", level=4,
                           url="https://hn.gov.vn/gplx"))
    db.session.commit()
    assert admin_client.get("/api/v1/services?q=gplx").get_json()["total"] == 1
    page = f"{PAGE}/giay%20phep%20lai%20xe/edit"
    token = csrf_token(admin_client, page)
    response = admin_client.post(page, data={"terms": "giấy phép lái xe | gplx", "source": "Luật GTĐB",
                                             "csrf_token": token})
    assert response.status_code == 302
    (entry,) = db.session.execute(select(AuditLog).where(AuditLog.action == "synonym.update")).scalars()
    assert entry.before["origin"] == "file" and entry.before["enabled"] and not entry.after["enabled"]
    body = admin_client.get("/api/v1/services?q=gplx&per_page=5").get_json()
    assert body["total"] == 0
    assert admin_client.get(f"{PAGE}/khong-co/edit").status_code == 404


def test_post_without_csrf_is_refused(admin_client):
    assert admin_client.post(f"{PAGE}/new", data={"terms": "a | b", "source": "x"}).status_code == 400
