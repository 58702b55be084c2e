"""Changes as people read them: field labels and actions in the reader's language, numbers and dates local.

Used by the import preview, a service's history and the audit log. Values arrive as stored in the
audit log (JSON: ISO dates, ids, codes) and leave as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.formatting import date_local, datetime_local, kind_label, level_label, number
from portal.services import periods

FIELD_LABELS = {
    "name": _l("Tên"),
    "level": _l("Mức độ"),
    "url": _l("Địa chỉ trên Internet"),
    "field": _l("Lĩnh vực"),
    "legal_basis": _l("Căn cứ pháp lý"),
    "procedure_code": _l("Mã thủ tục"),
    "code": _l("Mã"),
    "status": _l("Trạng thái"),
    "retired_at": _l("Ngừng từ"),
    "agency_id": _l("Cơ quan"),
    "agency": _l("Cơ quan"),
    "online_applications": _l("Số hồ sơ trực tuyến"),
    "total_applications": _l("Tổng số hồ sơ"),
    "email": _l("Thư điện tử"),
    "role": _l("Vai trò"),
    "is_enabled": _l("Đang hoạt động"),
    "locked_until": _l("Tạm khóa đến"),
    "kind": _l("Loại"),
    "portal_url": _l("Cổng dịch vụ công"),
    "parent_id": _l("Trực thuộc"),
    "valid_from": _l("Hiệu lực từ ngày"),
    "valid_to": _l("Hết hiệu lực từ ngày"),
    "successor_id": _l("Cơ quan kế thừa"),
    "reorganisation_basis": _l("Căn cứ sắp xếp"),
    "check_interval_minutes": _l("Chu kỳ kiểm tra (phút)"),
    "services_l3": _l("Số DVCTT mức 3"),
    "services_l4": _l("Số DVCTT mức 4"),
    "new_services_l3": _l("Số DVCTT mức 3 triển khai trong quý"),
    "new_services_l4": _l("Số DVCTT mức 4 triển khai trong quý"),
    "received_l3": _l("Tổng số hồ sơ mức 3"),
    "received_l4": _l("Tổng số hồ sơ mức 4"),
    "online_l3": _l("Số hồ sơ trực tuyến mức 3"),
    "online_l4": _l("Số hồ sơ trực tuyến mức 4"),
    "note": _l("Ghi chú"),
    "period": _l("Kỳ"),
    "service_id": _l("Dịch vụ"),
    "source_id": _l("Nguồn số liệu"),
    "label": _l("Tên gợi nhớ"),
    "rule": _l("Cách trích xuất"),
    "received_total": _l("Tổng số hồ sơ tiếp nhận"),
    "received_online": _l("Hồ sơ tiếp nhận trực tuyến"),
    "resolved": _l("Hồ sơ đã giải quyết"),
    "resolved_on_time": _l("Hồ sơ giải quyết đúng hạn"),
    "online_rate": _l("Tỷ lệ trực tuyến (%)"),
    "problems": _l("Vấn đề"),
    "locked": _l("Đã khóa"),
    "file": _l("Tệp"),
    "sha256": _l("Dấu vân tay của tệp"),
    "rows": _l("Số dòng"),
    "added": _l("Thêm mới"),
    "updated": _l("Cập nhật"),
    "unchanged": _l("Không đổi"),
    "errors": _l("Số lỗi"),
    "catalogue": _l("Danh mục"),
    "procedure_id": _l("Thủ tục"),
    "scope": _l("Phạm vi"),
    "required_level": _l("Mức độ yêu cầu"),
    "is_sample": _l("Dữ liệu mẫu"),
    "it_infrastructure_index": _l("Chỉ số hạ tầng kỹ thuật"),
    "it_internal_index": _l("Chỉ số ứng dụng nội bộ"),
    "website_index": _l("Chỉ số trang/cổng thông tin điện tử"),
    "it_policy_index": _l("Chỉ số cơ chế, chính sách"),
    "it_hr_index": _l("Chỉ số nguồn nhân lực"),
    "source": _l("Nguồn"),
}

ACTION_LABELS = {
    "service.create": _l("Đăng ký dịch vụ"),
    "service.update": _l("Sửa dịch vụ"),
    "service.retire": _l("Ngừng dịch vụ"),
    "service.restore": _l("Khôi phục dịch vụ"),
    "service.denied": _l("Bị từ chối: dịch vụ của cơ quan khác"),
    "access.denied": _l("Bị từ chối: trang không thuộc quyền"),
    "report.denied": _l("Bị từ chối: báo cáo của cơ quan khác"),
    "stat_source.denied": _l("Bị từ chối: nguồn số liệu của cơ quan khác"),
    "import.services": _l("Nhập danh mục dịch vụ"),
    "import.report": _l("Nhập số liệu báo cáo"),
    "import.rejected": _l("Tệp nhập bị từ chối"),
    "procedure.create": _l("Thêm thủ tục"),
    "procedure.update": _l("Sửa thủ tục"),
    "procedure_catalogue.import": _l("Nhập danh mục thủ tục"),
    "catalogue_entry.create": _l("Thêm thủ tục vào danh mục"),
    "catalogue_entry.update": _l("Sửa thủ tục trong danh mục"),
    "user.create": _l("Tạo tài khoản"),
    "user.disable": _l("Khóa tài khoản"),
    "user.enable": _l("Mở tài khoản"),
    "user.password": _l("Đổi mật khẩu"),
    "login.success": _l("Đăng nhập"),
    "login.failed": _l("Đăng nhập sai"),
    "login.throttled": _l("Đăng nhập bị chặn tạm thời"),
    "agency.create": _l("Thêm cơ quan"),
    "agency.update": _l("Sửa cơ quan"),
    "agency.merge": _l("Sáp nhập cơ quan"),
    "stat_source.create": _l("Thêm nguồn số liệu"),
    "stat_source.update": _l("Sửa nguồn số liệu"),
    "stat_source.enable": _l("Bật nguồn số liệu"),
    "stat_source.disable": _l("Tắt nguồn số liệu"),
    "stat_source.read": _l("Đọc nguồn số liệu"),
    "figure.approve": _l("Công bố số liệu chờ duyệt"),
    "figure.reject": _l("Loại bỏ số liệu chờ duyệt"),
    "report.submit": _l("Gửi báo cáo quý"),
    "report.update": _l("Sửa báo cáo quý"),
    "report_figure.create": _l("Thêm số liệu báo cáo"),
    "report_figure.update": _l("Sửa số liệu báo cáo"),
    "quarter.lock": _l("Khóa quý"),
    "quarter.unlock": _l("Mở khóa quý"),
}

_VALUE_LABELS = {
    "status": {"active": _l("Đang cung cấp"), "retired": _l("Đã ngừng"), "published": _l("Đã công bố"),
               "held": _l("Chờ duyệt"), "rejected": _l("Đã loại bỏ")},
    "role": {"admin": _l("Quản trị viên"), "officer": _l("Cán bộ cơ quan")},
    "scope": {"ministry": _l("Bộ, ngành"), "province": _l("Tỉnh, thành phố")},
}
_AGENCY_FIELDS = frozenset({"agency_id", "parent_id", "successor_id"})
_ID_FIELDS = frozenset({"service_id", "source_id", "procedure_id"})
_DATETIME_FIELDS = frozenset({"retired_at", "locked_until", "submitted_at", "reviewed_at", "observed_at"})
_DATE_FIELDS = frozenset({"valid_from", "valid_to"})
_LEVEL_FIELDS = frozenset({"level", "required_level"})
YES, NO = _l("Có"), _l("Không")


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def _moment(value: Any, as_date: bool) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if as_date else datetime.fromisoformat(value)
        except ValueError:
            return value
    if as_date:
        return date_local(value)
    return datetime_local(value)


def value_text(name: str, value: Any, agencies: Mapping[int, str] | None = None) -> str:
    """One value of a field as the reader sees it ("—" when empty)."""
    if value is None or value == "":
        return "—"
    if name in _AGENCY_FIELDS and agencies is not None and value in agencies:
        return agencies[value]
    if name in _ID_FIELDS or name in _AGENCY_FIELDS:
        return f"#{value}"
    if isinstance(value, bool):
        return str(YES if value else NO)
    if name in _LEVEL_FIELDS and value in (3, 4):
        return level_label(value)
    if name == "kind":
        return kind_label(value)
    if name in _VALUE_LABELS:
        return str(_VALUE_LABELS[name].get(value, value))
    if name in _DATETIME_FIELDS or name in _DATE_FIELDS:
        return _moment(value, name in _DATE_FIELDS)
    if name == "period" and isinstance(value, str):
        return periods.label(value, english=_english())
    if name == "sha256" and isinstance(value, str):
        return value[:12] + "…"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _english() -> bool:
    from flask_babel import get_locale

    return str(get_locale() or "vi") == "en"


def describe(changes: Mapping[str, tuple[Any, Any]], agencies: Mapping[int, str] | None = None,
             ) -> list[tuple[str, str, str]]:
    """(label, before, after) text of field → (before, after) changes."""
    return [(field_label(name), value_text(name, before, agencies), value_text(name, after, agencies))
            for name, (before, after) in changes.items()]


def entry_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    """What an audit entry changed, field → (before, after); every value of a creation."""
    old, new = before or {}, after or {}
    keys = list(dict.fromkeys([*old, *new]))
    return {key: (old.get(key), new.get(key)) for key in keys
            if before is None or after is None or old.get(key) != new.get(key)}
