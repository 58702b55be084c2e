"""Fixtures of the administration tests: agencies with a sub-unit, an admin, officers, signed-in clients."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _import_dir(app, tmp_path):
    app.config["PORTAL_IMPORT_DIR"] = str(tmp_path / "imports")


@pytest.fixture
def agencies(db):
    """Hà Nội with a department under it, Đà Nẵng, and a ministry."""
    from portal.models import Agency

    ha_noi = Agency(code="ha-noi", name="Hà Nội", kind="province", portal_url="https://dichvucong.hanoi.gov.vn")
    items = {
        "ha-noi": ha_noi,
        "so-tu-phap-ha-noi": Agency(code="so-tu-phap-ha-noi", name="Sở Tư pháp Hà Nội", kind="province",
                                    parent=ha_noi),
        "da-nang": Agency(code="da-nang", name="Đà Nẵng", kind="province"),
        "bo-tu-phap": Agency(code="bo-tu-phap", name="Bộ Tư pháp", kind="ministry"),
    }
    db.session.add_all(items.values())
    db.session.commit()
    return items


@pytest.fixture
def make_service(db):
    """Register a service directly (as the seed does), for tests about editing existing ones."""
    from portal.models import Service

    def make(agency, name="Đăng ký khai sinh", url="https://dichvucong.hanoi.gov.vn/khai-sinh", level=4, **extra):
        service = Service(agency_id=agency.id, name=name, url=url, level=level, **extra)
        db.session.add(service)
        db.session.commit()
        return service

    return make
