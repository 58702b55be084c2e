"""One service per agency and address: the identity rule, the unique index, concurrent imports and confirms."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Service
from portal.services import bulk_import, registry
from portal.services.addresses import url_key


@pytest.mark.parametrize(("first", "second"), [
    ("https://DVC.HaNoi.gov.vn/a", "https://dvc.hanoi.gov.vn/a/"),
    ("HTTP://dvc.hanoi.gov.vn:80/a?x=1", "http://dvc.hanoi.gov.vn/a/?x=1"),
    ("https://dvc.hanoi.gov.vn:443/#/a", "https://dvc.hanoi.gov.vn#/a"),
])
def test_same_address_spelt_differently_has_one_key(first, second):
    assert url_key(first) == url_key(second)


@pytest.mark.parametrize(("first", "second"), [
    ("https://dvc.hanoi.gov.vn/#/khai-sinh", "https://dvc.hanoi.gov.vn/#/ket-hon"),
    ("https://dvc.hanoi.gov.vn/a?x=1", "https://dvc.hanoi.gov.vn/a?x=2"),
    ("https://dvc.hanoi.gov.vn:8443/a", "https://dvc.hanoi.gov.vn/a"),
    ("http://dvc.hanoi.gov.vn/a", "https://dvc.hanoi.gov.vn/a"),
    ("https://dvc.hanoi.gov.vn/A", "https://dvc.hanoi.gov.vn/a"),
])
def test_different_services_keep_different_keys(first, second):
    assert url_key(first) != url_key(second)


def test_the_database_refuses_a_second_service_at_one_address(db, agencies, make_service):
    make_service(agencies["ha-noi"], url="https://dvc.hanoi.gov.vn/a", status="retired")
    db.session.add(Service(agency_id=agencies["ha-noi"].id, name="Bản sao", level=3, url="HTTPS://DVC.hanoi.gov.vn/a/"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    make_service(agencies["da-nang"], url="https://dvc.hanoi.gov.vn/a")  # another agency may


def test_find_by_url_and_the_form_rule_count_retired_services(db, agencies, make_service):
    retired = make_service(agencies["ha-noi"], url="https://dvc.hanoi.gov.vn/a#/x", status="retired")
    assert registry.find_by_url(db.session, agencies["ha-noi"].id, "https://DVC.hanoi.gov.vn/a/#/x") == retired
    assert registry.find_by_url(db.session, agencies["ha-noi"].id, "https://dvc.hanoi.gov.vn/a#/y") is None
    values = registry.ServiceValues.clean(agencies["ha-noi"], name="Mới", level=3, url="https://dvc.hanoi.gov.vn/a/#/x")
    errors = registry.service_errors(db.session, values, allow_private=True)
    assert f"#{retired.id}" in errors["url"] and "khôi phục" in errors["url"]


def _csv(rows: range) -> bytes:
    lines = ["Tên dịch vụ công,Mức độ,Địa chỉ trên Internet"]
    lines += [f"Dịch vụ {i},3,https://dvc.hanoi.gov.vn/dv/{i}" for i in rows]
    return ("\n".join(lines) + "\n").encode()


def test_two_concurrent_imports_of_overlapping_files_register_each_address_once(db, app, agencies, monkeypatch):
    """Both imports plan against the same empty table, then both write: the loser plans again."""
    plan = bulk_import._plan_services
    barrier = threading.Barrier(2, timeout=20)
    waited: set[int] = set()

    def plan_then_wait(*args, **kwargs):
        work = plan(*args, **kwargs)
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait()
        return work

    monkeypatch.setattr(bulk_import, "_plan_services", plan_then_wait)
    outcomes: list[bulk_import.ImportOutcome] = []
    failures: list[BaseException] = []

    def run(rows: range, name: str) -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                outcomes.append(bulk_import.import_services(session, _csv(rows), name, default_agency="ha-noi",
                                                            actor="cli", allow_private=True))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(range(0, 30), "a.csv")),
               threading.Thread(target=run, args=(range(15, 45), "b.csv"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == [] and len(outcomes) == 2
    assert all(o.ok and o.written for o in outcomes), [o.errors for o in outcomes]
    assert sorted(o.summary()["added"] for o in outcomes) == [15, 30]
    assert sum(o.summary()["unchanged"] for o in outcomes) == 15
    keys = db.session.execute(select(Service.url_key)).scalars().all()
    assert len(keys) == len(set(keys)) == 45


def test_a_confirm_token_is_claimed_once_by_many_at_once(tmp_path):
    store = bulk_import.PendingUploads(tmp_path / "uploads")
    token = store.save(b"data", {"user_id": 7, "filename": "a.csv"})
    assert store.claim(token, 8) is None  # someone else's token is not consumed
    start = threading.Barrier(12)
    got: list[object] = []

    def claim() -> None:
        start.wait()
        got.append(store.claim(token, 7))

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [g for g in got if g is not None] == [(b"data", {"user_id": 7, "filename": "a.csv"})]
    assert list((tmp_path / "uploads").iterdir()) == []


def test_double_confirm_on_the_web_adds_every_row_once(db, app, officer_client, agencies):
    from tests.admin.test_imports import confirm_token, upload
    from tests.helpers import csrf_token

    token = confirm_token(upload(officer_client, _csv(range(5)), "a.csv").get_data(as_text=True))
    data = {"token": token, "csrf_token": csrf_token(officer_client, "/admin/imports")}
    first = officer_client.post("/admin/imports/confirm", data=data)
    second = officer_client.post("/admin/imports/confirm", data=data, follow_redirects=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "hết hạn hoặc không còn" in second.get_data(as_text=True)
    assert db.session.execute(select(func.count(Service.id))).scalar_one() == 5


def test_doctor_lists_duplicate_addresses_and_changes_nothing(db, runner, agencies, make_service):
    clean = runner.invoke(args=["doctor"])
    assert clean.exit_code == 0 and "No integrity problems found." in clean.output
    first = make_service(agencies["ha-noi"], url="https://dvc.hanoi.gov.vn/a")
    copy = make_service(agencies["ha-noi"], url="https://dvc.hanoi.gov.vn/b")
    db.session.execute(Service.__table__.update().where(Service.id == copy.id).values(url="https://DVC.hanoi.gov.vn/a/"))
    db.session.commit()
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 1
    assert f"agency ha-noi: https://dvc.hanoi.gov.vn/a is registered by 2 services: #{first.id} (active), " \
           f"#{copy.id} (active)" in result.output
    assert f"service #{copy.id}: stored address key 'https://dvc.hanoi.gov.vn/b'" in result.output
    assert db.session.get(Service, copy.id).url_key == "https://dvc.hanoi.gov.vn/b"
