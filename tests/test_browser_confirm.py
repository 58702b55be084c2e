"""An administrator in headless Chromium: destructive actions ask first, in a dialog with JavaScript and on
a second page without it."""

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD, make_user
from tests.test_browser import browser_fixture, serving  # noqa: F401 - the `browser` fixture

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.fixture
def office(app, db):
    """An admin, an officer and two services of Hà Nội, served on a loopback port."""
    from portal.models import Agency, Service

    ha_noi = Agency(code="ha-noi", name="Hà Nội", kind="province")
    db.session.add(ha_noi)
    db.session.flush()
    db.session.add_all([Service(agency_id=ha_noi.id, name=name, url=f"https://dvc.hanoi.gov.vn/{slug}", level=4)
                        for slug, name in (("ks", "Đăng ký khai sinh"), ("kh", "Đăng ký kết hôn"))])
    db.session.commit()
    make_user(db, "admin@example.vn", "admin")
    make_user(db, "canbo@hanoi.gov.vn", "officer", ha_noi)
    with serving(app) as base:
        yield base


def signed_in(browser, base: str, *, javascript: bool, email: str = "admin@example.vn"):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN",
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").last.click()
    page.wait_for_url("**/admin**")
    return page


def status_of(db, name: str) -> str:
    from portal.models import Service

    db.session.expire_all()
    return db.session.execute(select(Service.status).where(Service.name == name)).scalar_one()


def row_button(page, name: str, label: str):
    return page.locator("tr", has_text=name).get_by_role("button", name=label)


def test_retire_asks_in_a_dialog_with_javascript(db, office, browser):
    page = signed_in(browser, office, javascript=True)
    page.goto(office + "/admin/services")
    row_button(page, "Đăng ký khai sinh", "Ngừng").click()
    dialog = page.locator("dialog.confirm")
    assert dialog.is_visible()
    assert "Ngừng cung cấp dịch vụ “Đăng ký khai sinh”?" in dialog.inner_text()
    dialog.get_by_role("button", name="Hủy").click()
    assert not dialog.is_visible() and status_of(db, "Đăng ký khai sinh") == "active"
    row_button(page, "Đăng ký khai sinh", "Ngừng").click()
    with page.expect_navigation():
        page.locator("dialog.confirm").get_by_role("button", name="Ngừng dịch vụ").click()
    assert "Đã ngừng dịch vụ “Đăng ký khai sinh”" in page.locator(".flash").inner_text()
    assert status_of(db, "Đăng ký khai sinh") == "retired" and status_of(db, "Đăng ký kết hôn") == "active"


def test_disable_and_lock_ask_on_a_second_page_without_javascript(db, office, browser):
    from portal.models import QuarterLock, User

    page = signed_in(browser, office, javascript=False)
    page.goto(office + "/admin/users")
    row_button(page, "canbo@hanoi.gov.vn", "Khóa").click()
    assert page.locator("h1").inner_text() == "Khóa tài khoản"
    assert "Khóa tài khoản canbo@hanoi.gov.vn?" in page.locator("#confirm-question").inner_text()
    db.session.expire_all()
    assert db.session.execute(select(User.is_enabled).where(User.email == "canbo@hanoi.gov.vn")).scalar_one()
    page.get_by_role("button", name="Khóa tài khoản").click()
    page.wait_for_url("**/admin/users")
    db.session.expire_all()
    assert not db.session.execute(select(User.is_enabled).where(User.email == "canbo@hanoi.gov.vn")).scalar_one()

    page.goto(office + "/admin/reports?period=2026-Q3")
    assert page.locator("nav.admin-nav").is_visible()
    page.get_by_role("button", name="Khóa quý").click()
    assert "Khóa báo cáo Quý III/2026?" in page.locator("#confirm-question").inner_text()
    page.get_by_role("link", name="Hủy").click()
    assert db.session.get(QuarterLock, "2026-Q3") is None
    page.get_by_role("button", name="Khóa quý").click()
    page.get_by_role("button", name="Khóa Quý III/2026").click()
    page.wait_for_url("**/admin/reports?period=2026-Q3")
    assert "người khóa: admin@example.vn" in page.locator("#lock-notice").inner_text()
    db.session.expire_all()
    assert db.session.get(QuarterLock, "2026-Q3") is not None


def test_the_new_user_form_defaults_to_officer_and_save_is_primary(db, office, browser):
    page = signed_in(browser, office, javascript=True)
    page.goto(office + "/admin/users/new")
    assert page.locator("#role").input_value() == "officer"
    colour = page.locator("input[type=submit]").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)", "rgb(239, 239, 239)")
