"""Forms of the figures area: stat sources, quarterly reports, one-button actions."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional

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


class StatSourceForm(FlaskForm):
    agency = SelectField(_l("Cơ quan"), validators=[InputRequired()], choices=[])
    service_id = IntegerField(_l("Mã số dịch vụ (không bắt buộc)"), validators=[Optional(), NumberRange(min=1)])
    label = StringField(_l("Tên gợi nhớ"), validators=[Optional(), Length(max=255)])
    url = StringField(
        _l("Địa chỉ trang thống kê"),
        validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=2000),
                    URL(require_tld=False, message=_l("Địa chỉ không hợp lệ."))],
        render_kw={"inputmode": "url", "spellcheck": "false"},
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
