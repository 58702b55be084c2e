"""Fixtures of the compliance tests: a small directory of agencies, procedures and services to build on."""

from __future__ import annotations

from datetime import date

import pytest

from portal.models import Agency, CatalogueEntry, Procedure, Service

CATALOGUE = "qd-846-2017"


class World:
    """Builds agencies, catalogue entries and services for one test."""

    def __init__(self, db) -> None:
        self.db = db
        self.agencies: dict[str, Agency] = {}
        self.procedures: dict[str, Procedure] = {}
        self._urls = 0

    def agency(self, code: str, name: str, kind: str = "province", **fields) -> Agency:
        item = Agency(code=code, name=name, kind=kind, **fields)
        self.db.session.add(item)
        self.db.session.flush()
        self.agencies[code] = item
        return item

    def entry(self, code: str, name: str, *, scope: str = "province", level: int = 4, field: str | None = None,
              agency: str | None = None, catalogue: str = CATALOGUE, is_sample: bool = False) -> CatalogueEntry:
        procedure = self.procedures.get(code)
        if procedure is None:
            procedure = Procedure(code=code, name=name, field=field)
            self.db.session.add(procedure)
            self.db.session.flush()
            self.procedures[code] = procedure
        item = CatalogueEntry(catalogue=catalogue, procedure_id=procedure.id, scope=scope, required_level=level,
                              agency_id=self.agencies[agency].id if agency else None, is_sample=is_sample)
        self.db.session.add(item)
        self.db.session.flush()
        return item

    def service(self, agency: str, procedure: str | None, level: int, *, status: str = "active",
                name: str | None = None, **fields) -> Service:
        self._urls += 1
        proc = self.procedures[procedure] if procedure else None
        item = Service(agency_id=self.agencies[agency].id, procedure_id=proc.id if proc else None,
                       name=name or (proc.name if proc else f"Dịch vụ {self._urls}"), level=level,
                       url=f"https://dvc.{agency}.gov.vn/tthc/{self._urls}", status=status, **fields)
        self.db.session.add(item)
        self.db.session.flush()
        return item

    def commit(self) -> None:
        self.db.session.commit()


@pytest.fixture
def world(db) -> World:
    return World(db)


@pytest.fixture
def provinces(world: World) -> World:
    """Four current provinces (one with a district), one merged into another, three required procedures.

    1.000001 must be online at level 4, 1.000002 and 1.000003 at level 3.
    """
    world.agency("ha-noi", "TP. Hà Nội")
    world.agency("da-nang", "TP. Đà Nẵng")
    world.agency("an-giang", "An Giang")
    world.agency("tuyen-quang", "Tuyên Quang")
    world.agency("ha-giang", "Hà Giang", valid_to=date(2025, 7, 1), successor_id=world.agencies["tuyen-quang"].id)
    world.agency("quan-ba-dinh", "Quận Ba Đình", parent_id=world.agencies["ha-noi"].id)
    world.entry("1.000001", "Đăng ký khai sinh", level=4, field="Hộ tịch")
    world.entry("1.000002", "Đăng ký kết hôn", level=3, field="Hộ tịch")
    world.entry("1.000003", "Cấp giấy phép xây dựng", level=3, field="Xây dựng")
    world.commit()
    return world
