"""Demo data (agencies, 2016 report figures, real and sample services) and synthetic data for benchmarks."""

from __future__ import annotations

import csv
import random
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from portal.models import Agency, CatalogueEntry, Procedure, ReportFigure, Service
from portal.services import procedures
from portal.services.addresses import url_key
from portal.text import fold, lower_nfc

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REPORT_SOURCE = "Báo cáo 1557/BTTTT-THH (5/2017), số liệu năm 2016"

NEW_AGENCIES_2025 = {
    "bo-nong-nghiep-va-moi-truong": ("Bộ Nông nghiệp và Môi trường", "https://mae.gov.vn"),
    "bo-dan-toc-va-ton-giao": ("Bộ Dân tộc và Tôn giáo", None),
}

# (field, service name, usual level) — procedures provinces commonly offer online.
PROVINCE_SERVICES = [
    ("Xây dựng", "Cấp giấy phép xây dựng nhà ở riêng lẻ", 3),
    ("Xây dựng", "Cấp giấy phép xây dựng sửa chữa, cải tạo công trình", 3),
    ("Hộ tịch", "Đăng ký khai sinh", 4),
    ("Hộ tịch", "Đăng ký kết hôn", 3),
    ("Hộ tịch", "Cấp bản sao trích lục hộ tịch", 4),
    ("Hộ tịch", "Cấp Phiếu lý lịch tư pháp", 3),
    ("Đất đai", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", 3),
    ("Đất đai", "Cấp đổi Giấy chứng nhận quyền sử dụng đất", 3),
    ("Đăng ký kinh doanh", "Đăng ký thành lập hộ kinh doanh", 4),
    ("Đăng ký kinh doanh", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", 4),
    ("Đăng ký kinh doanh", "Đăng ký thành lập doanh nghiệp tư nhân", 4),
    ("Giao thông vận tải", "Cấp đổi giấy phép lái xe", 4),
    ("Giao thông vận tải", "Cấp giấy phép lái xe quốc tế", 3),
    ("Giáo dục và Đào tạo", "Chuyển trường đối với học sinh trung học cơ sở", 3),
    ("Giáo dục và Đào tạo", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", 4),
    ("Y tế", "Cấp chứng chỉ hành nghề dược", 3),
    ("Y tế", "Cấp giấy chứng nhận đủ điều kiện kinh doanh dược", 3),
    ("Lao động - Thương binh và Xã hội", "Cấp giấy phép lao động cho người nước ngoài", 3),
    ("Lao động - Thương binh và Xã hội", "Giải quyết trợ cấp thất nghiệp", 3),
    ("Công Thương", "Cấp giấy phép bán lẻ rượu", 4),
    ("Công Thương", "Cấp giấy chứng nhận đủ điều kiện kinh doanh xăng dầu", 3),
    ("Văn hóa, Thể thao và Du lịch", "Cấp giấy phép kinh doanh karaoke", 3),
    ("Tài nguyên và Môi trường", "Cấp giấy phép khai thác nước dưới đất", 3),
    ("Tư pháp", "Chứng thực bản sao từ bản chính", 3),
    ("Nông nghiệp", "Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", 3),
]

MINISTRY_SERVICES = [
    ("Xuất nhập khẩu", "Cấp giấy chứng nhận xuất xứ hàng hóa (C/O)", 4),
    ("Xuất nhập khẩu", "Cấp giấy phép nhập khẩu tự động", 4),
    ("Hải quan", "Khai báo hải quan điện tử", 4),
    ("Thuế", "Khai thuế điện tử", 4),
    ("Thuế", "Nộp thuế điện tử", 4),
    ("Đầu tư", "Đăng ký doanh nghiệp qua mạng", 4),
    ("Đầu tư", "Cấp giấy chứng nhận đăng ký đầu tư", 3),
    ("Xuất nhập cảnh", "Cấp hộ chiếu phổ thông", 3),
    ("Xuất nhập cảnh", "Cấp thị thực điện tử cho người nước ngoài", 4),
    ("Khoa học công nghệ", "Đăng ký quyền sở hữu công nghiệp", 3),
    ("Thông tin và Truyền thông", "Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp", 3),
    ("Giao thông vận tải", "Cấp giấy chứng nhận đăng ký phương tiện thủy nội địa", 3),
    ("Y tế", "Cấp số đăng ký lưu hành thuốc", 3),
    ("Y tế", "Công bố sản phẩm mỹ phẩm", 4),
    ("Tài chính", "Đăng ký mã số đơn vị có quan hệ với ngân sách", 4),
    ("Giáo dục và Đào tạo", "Công nhận văn bằng do cơ sở nước ngoài cấp", 3),
    ("Nông nghiệp", "Cấp giấy chứng nhận kiểm dịch thực vật xuất khẩu", 4),
    ("Lao động - Thương binh và Xã hội", "Đăng ký hợp đồng cung ứng lao động đi làm việc ở nước ngoài", 3),
]


def _read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _int_or_none(value: str) -> int | None:
    return int(value) if value and value.strip() else None


def _float_or_none(value: str) -> float | None:
    return float(value) if value and value.strip() else None


def load_agencies(session: Session) -> dict[str, Agency]:
    """Insert or update the 93 agencies of 2016–2017 and the 2025 reorganisation; keyed by code."""
    by_code = {a.code: a for a in session.execute(select(Agency)).scalars()}
    for row in _read_csv("agencies.csv"):
        agency = by_code.get(row["code"])
        if agency is None:
            agency = Agency(code=row["code"])
            session.add(agency)
            by_code[row["code"]] = agency
        agency.name = row["name"]
        agency.kind = row["kind"]
        agency.portal_url = row["portal_url"] or None
    for code, (name, url) in NEW_AGENCIES_2025.items():
        agency = by_code.get(code)
        if agency is None:
            agency = Agency(code=code, name=name, kind="ministry", portal_url=url)
            session.add(agency)
            by_code[code] = agency
        agency.valid_from = date(2025, 3, 1)
    session.flush()
    for row in _read_csv("reorganisation_2025.csv"):
        old, successor = by_code.get(row["old_code"]), by_code.get(row["successor_code"])
        if old is None or successor is None:
            continue
        if row.get("old_gso_code"):
            old.gso_code = row["old_gso_code"]
        if old.code != successor.code:
            old.valid_to = date.fromisoformat(row["effective"])
            old.successor_id = successor.id
            old.reorganisation_basis = row["basis"]
    session.flush()
    return by_code


def load_report_2016(session: Session, agencies: dict[str, Agency]) -> int:
    """Upsert the 2016 figures of the MIC report; returns the number of rows."""
    existing = {
        (f.agency_id, f.period): f for f in session.execute(select(ReportFigure)).scalars()
    }
    count = 0
    for row in _read_csv("report_2016.csv"):
        agency = agencies[row["code"]]
        figure = existing.get((agency.id, row["year"]))
        if figure is None:
            figure = ReportFigure(agency_id=agency.id, period=row["year"])
            session.add(figure)
        figure.services_l3 = _int_or_none(row["services_l3"])
        figure.services_l4 = _int_or_none(row["services_l4"])
        figure.online_applications = _int_or_none(row["online_applications"])
        for column in (
            "it_infrastructure_index", "it_internal_index", "website_index", "it_policy_index", "it_hr_index"
        ):
            setattr(figure, column, _float_or_none(row[column]))
        figure.source = REPORT_SOURCE
        count += 1
    return count


def _slug(text: str) -> str:
    return "-".join(fold(text).replace("/", " ").replace("(", " ").replace(")", " ").split())[:80]


def _sample_url(agency: Agency, name: str) -> str:
    base = (agency.portal_url or f"https://{agency.code}.gov.vn").rstrip("/")
    return f"{base}/#dvc-{_slug(name)}"


def _demo_services(agencies: dict[str, Agency]) -> Iterator[dict]:
    rng = random.Random(846)  # noqa: S311 - reproducible demo data, not security
    for row in _read_csv("bhxh_services_2016.csv"):
        agency = agencies[row["agency_code"]]
        yield {
            "agency": agency, "name": row["name"], "field": "Bảo hiểm xã hội", "level": int(row["level"]),
            "url": _sample_url(agency, row["name"]), "is_sample": False,
        }
    for agency in sorted(agencies.values(), key=lambda a: a.code):
        if agency.valid_from is not None or agency.code == "bao-hiem-xa-hoi-viet-nam":
            continue
        pool = PROVINCE_SERVICES if agency.kind == "province" else MINISTRY_SERVICES
        count = rng.randint(4, 7) if agency.kind == "province" else rng.randint(2, 4)
        for field_name, name, usual_level in rng.sample(pool, count):
            level = usual_level if rng.random() < 0.8 else 7 - usual_level
            yield {
                "agency": agency, "name": name, "field": field_name, "level": level,
                "url": _sample_url(agency, name), "is_sample": True,
            }


def load_demo_services(session: Session, agencies: dict[str, Agency]) -> int:
    """Add the demo services that are not there yet (matched on agency and URL); returns how many were added."""
    existing = set(session.execute(select(Service.agency_id, Service.url_key)).all())
    added = 0
    for spec in _demo_services(agencies):
        agency = spec.pop("agency")
        key = (agency.id, url_key(spec["url"]))
        if key in existing:
            continue
        session.add(Service(agency_id=agency.id, **spec))
        existing.add(key)
        added += 1
    return added


def _current_successor(agency: Agency) -> Agency | None:
    seen = set()
    while not agency.is_current():
        if agency.successor is None or agency.id in seen:
            return None
        seen.add(agency.id)
        agency = agency.successor
    return agency


def load_demo_catalogue(session: Session) -> tuple[int, int]:
    """Load the sample Decision 846 catalogue and tie the demo services to it; returns (entries, services added).

    Sample services whose name is a sample procedure's get linked to it; each ministry named as
    responsible for a sample procedure gets its service, at the required level, one lower, or none
    (fixed per procedure code), so the compliance matrix shows a realistic mix.
    """
    plan = procedures.load_sample_catalogue(session)
    existing = set(session.execute(select(Service.agency_id, Service.url_key)).all())
    added = 0
    entries = session.execute(
        select(CatalogueEntry).where(
            CatalogueEntry.catalogue == procedures.SAMPLE_CATALOGUE, CatalogueEntry.agency_id.is_not(None)
        )
    ).scalars().all()
    for entry in sorted(entries, key=lambda e: e.procedure.code):
        agency = _current_successor(entry.agency) if entry.agency else None
        choice = zlib.crc32(entry.procedure.code.encode()) % 10
        if agency is None or choice >= 8:
            continue
        level = entry.required_level if choice < 6 else 3
        url = _sample_url(agency, entry.procedure.name)
        if (agency.id, url_key(url)) in existing:
            continue
        session.add(Service(agency_id=agency.id, procedure_id=entry.procedure_id, name=entry.procedure.name,
                            field=entry.procedure.field, level=level, url=url, is_sample=True))
        existing.add((agency.id, url_key(url)))
        added += 1
    session.flush()
    sample_procedures = session.execute(
        select(Procedure).join(CatalogueEntry).where(CatalogueEntry.catalogue == procedures.SAMPLE_CATALOGUE).distinct()
    ).scalars().all()
    for procedure in sample_procedures:
        session.execute(
            update(Service)
            .where(Service.procedure_id.is_(None), Service.is_sample, Service.name_folded == fold(procedure.name))
            .values(procedure_id=procedure.id)
        )
    return len(plan.entries), added


def seed_agencies(session: Session) -> dict[str, int]:
    """Load the agency directory alone (no report figures, no services); safe to run again."""
    agencies = load_agencies(session)
    session.commit()
    current = sum(1 for agency in agencies.values() if agency.valid_to is None)
    return {"agencies": len(agencies), "current": current}


def seed_demo(session: Session) -> dict[str, int]:
    """Load all demo data; safe to run again (nothing is duplicated)."""
    agencies = load_agencies(session)
    figures = load_report_2016(session, agencies)
    added = load_demo_services(session, agencies)
    session.flush()
    entries, catalogue_services = load_demo_catalogue(session)
    session.commit()
    total = session.execute(select(func.count(Service.id))).scalar_one()
    return {"agencies": len(agencies), "report_figures": figures, "services_added": added + catalogue_services,
            "services": total, "catalogue_entries": entries}


_ACTIONS = [
    "Cấp", "Cấp lại", "Cấp đổi", "Gia hạn", "Điều chỉnh", "Đăng ký", "Đăng ký thay đổi", "Thu hồi",
    "Công nhận", "Thẩm định", "Phê duyệt", "Xác nhận", "Chấm dứt", "Bổ sung", "Cấp bản sao",
]
_OBJECTS = [
    "giấy phép xây dựng", "giấy phép lái xe", "hộ chiếu phổ thông", "thẻ bảo hiểm y tế", "sổ bảo hiểm xã hội",
    "giấy chứng nhận quyền sử dụng đất", "giấy phép kinh doanh", "giấy chứng nhận đăng ký doanh nghiệp",
    "chứng chỉ hành nghề dược", "chứng chỉ hành nghề khám bệnh, chữa bệnh", "giấy phép lao động",
    "giấy chứng nhận an toàn thực phẩm", "giấy phép bán lẻ rượu", "giấy phép khai thác khoáng sản",
    "giấy phép môi trường", "giấy khai sinh", "giấy chứng nhận kết hôn", "phiếu lý lịch tư pháp",
    "giấy phép hoạt động điện lực", "giấy phép tổ chức biểu diễn nghệ thuật", "giấy phép xuất bản bản tin",
    "giấy chứng nhận đăng ký xe", "giấy phép vận tải", "chứng nhận xuất xứ hàng hóa", "giấy phép nhập khẩu",
    "văn bằng, chứng chỉ", "giấy phép thành lập trường", "giấy phép hoạt động bệnh viện",
    "chứng nhận đăng ký đầu tư", "giấy phép sử dụng tần số vô tuyến điện", "mã số thuế",
    "giấy chứng nhận kiểm dịch", "giấy phép quảng cáo", "giấy phép hoạt động du lịch lữ hành",
    "giấy phép khai thác nước mặt", "giấy chứng nhận quyền tác giả", "giấy phép thiết lập mạng xã hội",
    "giấy phép cơ sở bán lẻ thuốc", "thẻ hướng dẫn viên du lịch", "giấy chứng nhận hộ kinh doanh",
]
_QUALIFIERS = [
    "", "do hết hạn", "do bị mất", "do hư hỏng", "cho tổ chức", "cho cá nhân", "cho người nước ngoài",
    "cấp tỉnh", "cấp huyện", "trực tuyến", "đối với doanh nghiệp nhỏ và vừa", "trong khu công nghiệp",
]
_FIELDS = [
    "Xây dựng", "Giao thông vận tải", "Tư pháp", "Y tế", "Lao động", "Đất đai", "Công Thương", "Đầu tư",
    "Tài nguyên và Môi trường", "Giáo dục và Đào tạo", "Văn hóa", "Du lịch", "Thuế", "Bảo hiểm xã hội",
]


def synthetic_name(rng: random.Random) -> str:
    parts = [rng.choice(_ACTIONS), rng.choice(_OBJECTS), rng.choice(_QUALIFIERS)]
    return " ".join(p for p in parts if p)


def seed_synthetic(session: Session, services: int, *, batch: int = 5000, seed: int = 2016) -> int:
    """Bulk-insert N synthetic services spread over today's agencies (benchmarks); returns rows added."""
    rng = random.Random(seed)  # noqa: S311 - synthetic benchmark data
    agencies = [a for a in session.execute(select(Agency)).scalars() if a.is_current()]
    if not agencies:
        agencies = list(load_agencies(session).values())
    healths = ["up"] * 85 + ["degraded"] * 5 + ["down"] * 6 + ["dead"] * 2 + ["unknown"] * 2
    start = session.execute(select(func.coalesce(func.max(Service.id), 0))).scalar_one()
    added = 0
    while added < services:
        rows = []
        for i in range(min(batch, services - added)):
            agency = rng.choice(agencies)
            name = synthetic_name(rng)
            rows.append({
                "agency_id": agency.id, "name": name, "name_lower": lower_nfc(name), "name_folded": fold(name),
                "field": rng.choice(_FIELDS), "level": rng.choice((3, 3, 4)),
                "url": f"https://{agency.code}.example.gov.vn/dvc/{start + added + i + 1}",
                "status": "active", "is_sample": True, "health": rng.choice(healths),
                "consecutive_failures": 0,
            })
        session.execute(insert(Service), rows)
        added += len(rows)
    session.commit()
    return added
