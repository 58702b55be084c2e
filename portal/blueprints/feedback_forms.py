"""Forms of citizens' reports: the public report form and the officers' reply."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.services.feedback import CONTACT_MAX, DESCRIPTION_MAX, REPLY_MAX, valid_contact

CATEGORY_LABELS = {
    "not_opening": _l("Trang không mở được"),
    "submit_error": _l("Báo lỗi khi nộp hồ sơ"),
    "sign_in": _l("Không đăng nhập được"),
    "wrong_info": _l("Thông tin sai"),
    "other": _l("Khác"),
}
STATUS_LABELS = {
    "new": _l("Mới"),
    "acknowledged": _l("Đã tiếp nhận"),
    "resolved": _l("Đã khắc phục"),
    "not_a_problem": _l("Không phải sự cố"),
}


def _max(length: int) -> Length:
    return Length(max=length, message=_l("Dài quá %(max)s ký tự.", max=length))


class FeedbackForm(FlaskForm):
    category = RadioField(_l("Điều gì không ổn?"), choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()],
                          validators=[InputRequired(_l("Hãy chọn điều không ổn."))],
                          validate_choice=True)
    description = TextAreaField(_l("Mô tả (không bắt buộc)"), validators=[Optional(), _max(DESCRIPTION_MAX)])
    description_public = BooleanField(_l("Cho phép hiển thị công khai mô tả này"))
    contact = StringField(_l("Thư điện tử hoặc số điện thoại để cơ quan liên hệ (không bắt buộc)"),
                          validators=[Optional(), _max(CONTACT_MAX)])
    contact_consent = BooleanField(_l("Tôi đồng ý để cơ quan quản lý dịch vụ dùng thông tin này liên hệ với tôi "
                                      "về phản ánh; thông tin được xóa 90 ngày sau khi phản ánh được xử lý xong."))
    website = StringField(_l("Để trống ô này"))  # the honeypot: hidden from people, filled by robots
    started = HiddenField()

    def validate_contact(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if value and not valid_contact(value):
            raise ValidationError(_l("Nhập một địa chỉ thư điện tử hoặc số điện thoại."))
        if value and not self.contact_consent.data:
            raise ValidationError(_l("Hãy đánh dấu ô đồng ý nếu muốn để lại thông tin liên hệ."))


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Trả lời công khai"), validators=[
        InputRequired(_l("Bắt buộc nhập.")), _max(REPLY_MAX)])
