"""Forms of the figures area: stat sources, quarterly reports, one-button actions."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, InputRequired, Length, Optional

from portal.crawlers.numbers import parse_number
from portal.crawlers.stats import EXTRACTORS, FIGURES
from portal.formatting import number


def _convention() -> str:
    return "en" if str(get_locale() or "vi") == "en" else "vi"


class CountField(StringField):
    """A whole number ≥ 0 typed the reader's way ("10.309" in Vietnamese) or plainly ("10309"), shown the same way."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        value = parse_number(text, _convention(), integer=True)
        if not isinstance(value, int):
            raise ValueError(str(_l("Nhập một số nguyên, ví dụ 10.309.")))
        self.data = value

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else number(self.data)


def _count(label: str) -> CountField:
    return CountField(label, validators=[InputRequired(_l("Bắt buộc nhập."))],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})


class ReportForm(FlaskForm):
    """The Government Office quarterly template (công văn 2030/VPCP-KSTT), one agency's row."""

    services_l3 = _count(_l("Số DVCTT mức 3 hiện có"))
    services_l4 = _count(_l("Số DVCTT mức 4 hiện có"))
    new_services_l3 = _count(_l("Số DVCTT mức 3 xây dựng, triển khai trong quý"))
    new_services_l4 = _count(_l("Số DVCTT mức 4 xây dựng, triển khai trong quý"))
    received_l3 = _count(_l("Tổng số hồ sơ tiếp nhận của DVC mức 3 (trực tuyến và trực tiếp)"))
    received_l4 = _count(_l("Tổng số hồ sơ tiếp nhận của DVC mức 4 (trực tuyến và trực tiếp)"))
    online_l3 = _count(_l("Số hồ sơ mức 3 tiếp nhận, giải quyết trực tuyến"))
    online_l4 = _count(_l("Số hồ sơ mức 4 tiếp nhận, giải quyết trực tuyến"))
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Gửi báo cáo"))


FIGURE_LABELS = {
    "received_total": _l("Tổng số hồ sơ tiếp nhận"),
    "received_online": _l("Hồ sơ tiếp nhận trực tuyến"),
    "resolved": _l("Hồ sơ đã giải quyết"),
    "resolved_on_time": _l("Hồ sơ giải quyết đúng hạn"),
    "online_rate": _l("Tỷ lệ trực tuyến (%)"),
}
EXTRACTOR_LABELS = {
    "auto": _l("Tự động (bảng, danh sách, văn bản, JSON)"),
    "css": _l("Bộ chọn CSS"),
    "regex": _l("Biểu thức chính quy (một nhóm)"),
    "json": _l("Đường dẫn JSON (data.items.0.total)"),
}


MAX_SERVICE_CHOICES = 2000


def _optional_id(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None  # type: ignore[call-overload]


class StatSourceForm(FlaskForm):
    agency = SelectField(_l("Cơ quan"), validators=[InputRequired()], choices=[])
    service_id = SelectField(_l("Dịch vụ (không bắt buộc)"), choices=[], coerce=_optional_id,
                             validate_choice=True,
                             invalid_choice_message=_l("Hãy chọn một dịch vụ của cơ quan trong danh sách."),
                             invalid_value_message=_l("Hãy chọn một dịch vụ của cơ quan trong danh sách."))
    label = StringField(_l("Tên gợi nhớ"), validators=[Optional(), Length(max=255)])
    url = StringField(
        _l("Địa chỉ trang thống kê"),
        validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=2000),
                    URL(require_tld=False, message=_l("Địa chỉ không hợp lệ."))],
        render_kw={"inputmode": "url", "spellcheck": "false"},
    )
    period = StringField(
        _l("Kỳ số liệu cần đọc"), validators=[Optional(), Length(max=40)],
        render_kw={"placeholder": _l("Lũy kế, Tháng 10, Năm 2024…")},
    )
    extractor = SelectField(_l("Cách trích xuất"), choices=[SelectChoice(e, EXTRACTOR_LABELS[e]) for e in EXTRACTORS])
    fig_received_total = StringField(FIGURE_LABELS["received_total"], validators=[Optional(), Length(max=500)])
    fig_received_online = StringField(FIGURE_LABELS["received_online"], validators=[Optional(), Length(max=500)])
    fig_resolved = StringField(FIGURE_LABELS["resolved"], validators=[Optional(), Length(max=500)])
    fig_resolved_on_time = StringField(FIGURE_LABELS["resolved_on_time"], validators=[Optional(), Length(max=500)])
    fig_online_rate = StringField(FIGURE_LABELS["online_rate"], validators=[Optional(), Length(max=500)])
    test = SubmitField(_l("Thử nguồn này"))
    save = SubmitField(_l("Lưu"))

    def figure_fields(self) -> list:
        return [getattr(self, f"fig_{name}") for name in FIGURES]

    def specs(self) -> dict[str, str | None]:
        return {name: getattr(self, f"fig_{name}").data for name in FIGURES}

    def fill_rule(self, rule: dict) -> None:
        self.extractor.data = (rule or {}).get("extractor", "auto")
        for name, spec in ((rule or {}).get("figures") or {}).items():
            if name in FIGURES:
                getattr(self, f"fig_{name}").data = spec


class ActionForm(FlaskForm):
    """A one-button POST (disable, approve, lock…): only the CSRF token."""


# What a stat source's status means and what to try, in plain words: the checker's reasons (and the
# crawl's own statuses) mapped to advice. Library messages are never shown to officers.
_SOURCE_STATUS: dict[str, tuple[str, str]] = {
    "published": (_l("Đã đọc được số liệu và công bố."), ""),
    "held": (_l("Đã đọc được số liệu nhưng số mới khác thường so với lần trước, nên đang chờ quản trị viên duyệt."),
             _l("Kiểm tra lại trang thống kê; nếu số đúng, quản trị viên sẽ công bố.")),
    "no_figures": (_l("Mở được trang nhưng không tìm thấy số hồ sơ nào."),
                   _l("Kiểm tra địa chỉ có đúng trang thống kê không, hoặc chọn cách trích xuất khác và chỉ rõ vị trí "
                      "từng số.")),
    "failed": (_l("Không đọc được trang."), _l("Thử lại sau ít phút; nếu vẫn lỗi, kiểm tra lại địa chỉ.")),
    "timeout": (_l("Trang không trả lời kịp (quá thời gian chờ)."),
                _l("Trang có thể đang quá tải; thử lại sau ít phút.")),
    "dns_error": (_l("Không tìm thấy tên miền của địa chỉ này."),
                  _l("Kiểm tra lỗi chính tả trong địa chỉ, ví dụ thiếu “.gov.vn”.")),
    "connection_error": (_l("Không kết nối được tới máy chủ của trang."),
                         _l("Mở địa chỉ trong trình duyệt để xem trang có hoạt động không; thử lại sau.")),
    "tls_error": (_l("Chứng chỉ bảo mật (https) của trang không hợp lệ."),
                  _l("Báo bộ phận quản trị trang thống kê gia hạn hoặc sửa chứng chỉ; thử địa chỉ http:// nếu trang "
                     "có.")),
    "http_error": (_l("Máy chủ của trang trả về lỗi."),
                   _l("Thử lại sau; nếu lỗi kéo dài, báo bộ phận quản trị trang.")),
    "not_found": (_l("Trang không tồn tại (lỗi 404)."),
                  _l("Địa chỉ có thể đã đổi: mở cổng dịch vụ công của cơ quan, tìm lại trang thống kê và chép địa "
                     "chỉ mới.")),
    "maintenance": (_l("Trang đang bảo trì."), _l("Thử lại sau khi trang hoạt động lại.")),
    "too_many_redirects": (_l("Trang chuyển hướng vòng quanh, không dẫn tới nội dung."),
                           _l("Mở địa chỉ trong trình duyệt và chép địa chỉ cuối cùng hiện trên thanh địa chỉ.")),
    "challenge": (_l("Trang chặn máy đọc tự động (tường lửa chống bot)."),
                  _l("Đề nghị bộ phận quản trị trang cho phép cổng đọc trang thống kê, hoặc dùng địa chỉ dữ liệu "
                     "(JSON) của trang nếu có.")),
    "empty_response": (_l("Trang trả về nội dung trống."),
                       _l("Trang có thể nạp số liệu bằng JavaScript: tìm địa chỉ dữ liệu (JSON) của trang và dùng "
                          "cách trích xuất JSON.")),
    "blocked_address": (_l("Địa chỉ trỏ tới mạng nội bộ nên cổng không được phép đọc."),
                        _l("Dùng địa chỉ công khai trên Internet của trang thống kê.")),
    "invalid_url": (_l("Địa chỉ không hợp lệ."), _l("Kiểm tra địa chỉ bắt đầu bằng http:// hoặc https://.")),
    "slow": (_l("Trang phản hồi chậm."), _l("Thử lại sau ít phút.")),
}


def source_status_text(status: str | None) -> tuple[str, str]:
    """(what happened, what to try) for a stat source's last status, in the reader's language."""
    if not status:
        return str(_l("Chưa đọc lần nào.")), ""
    headline, todo = _SOURCE_STATUS.get(status, _SOURCE_STATUS["failed"])
    return str(headline), str(todo)


def preview_advice(preview) -> tuple[str, str] | None:
    """(what happened, what to try) of a test read that failed or found nothing; None otherwise."""
    if preview is None:
        return None
    if not preview.ok:
        return source_status_text((preview.error or {}).get("reason") or "failed")
    if not preview.found_any:
        return source_status_text("no_figures")
    return None
