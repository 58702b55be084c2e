"""Forms of the authenticated side: sign-in, password, services, imports, users, agencies, audit filters.

Every message is Vietnamese (with an English translation); WTForms' own English defaults are replaced.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

from portal.formatting import kind_label, level_label
from portal.models import AGENCY_KINDS, ROLES, Agency
from portal.services import periods

REQUIRED = _l("Bắt buộc nhập.")
BAD_CHOICE = _l("Lựa chọn không hợp lệ.")
BAD_DATE = _l("Ngày không hợp lệ; nhập theo dạng 31/12/2025.")
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _max(length: int) -> Length:
    return Length(max=length, message=_l("Dài quá %(max)s ký tự.", max=length))


def _select(label, **kwargs) -> SelectField:
    return SelectField(label, choices=[], invalid_choice_message=BAD_CHOICE, invalid_value_message=BAD_CHOICE,
                       **kwargs)


def agency_choices(agencies: Iterable[Agency], *, empty: str | None = None) -> list[SelectChoice]:
    """Select options for agencies, sub-units indented under their top agency."""
    ordered = sorted(agencies, key=lambda a: (a.top().name_folded, a.parent_id is not None, a.name_folded))
    choices = [SelectChoice("", empty)] if empty is not None else []
    choices += [SelectChoice(a.code, a.name if a.parent_id is None else f"— {a.name}") for a in ordered]
    return choices


class PeriodField(StringField):
    """A year or quarter as officers write it ("Quý IV/2026", "Q4/2026", "2026-q4", "2026"), kept canonical."""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = periods.normalize(text)
            except ValueError as exc:
                raise ValueError(str(_l("Kỳ phải có dạng 2026, 2026-Q4, Quý IV/2026 hoặc Q4/2026."))) from exc

    def _value(self) -> str:
        return self.raw_data[0] if self.raw_data else (self.data or "")


class LoginForm(FlaskForm):
    email = EmailField(_l("Thư điện tử"), validators=[InputRequired(REQUIRED), _max(255)],
                       render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"})
    password = PasswordField(_l("Mật khẩu"), validators=[InputRequired(REQUIRED), _max(256)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Đăng nhập"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[InputRequired(REQUIRED), _max(256)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("Mật khẩu mới"), validators=[InputRequired(REQUIRED), _max(256)],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[InputRequired(REQUIRED), EqualTo("new_password", _l("Hai mật khẩu không giống nhau."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Đổi mật khẩu"))


class ServiceForm(FlaskForm):
    name = StringField(_l("Tên dịch vụ"), validators=[InputRequired(_l("Bắt buộc nhập tên dịch vụ.")), _max(500)])
    agency = _select(_l("Cơ quan"), validators=[InputRequired(REQUIRED)])
    level = _select(_l("Mức độ"), coerce=int, validators=[InputRequired(REQUIRED)])
    url = StringField(_l("Địa chỉ trên Internet"), validators=[InputRequired(_l("Bắt buộc nhập địa chỉ.")), _max(2000)],
                      render_kw={"inputmode": "url", "spellcheck": "false", "autocapitalize": "none"})
    procedure_code = StringField(_l("Mã thủ tục"), validators=[Optional(), _max(40)],
                                 render_kw={"spellcheck": "false", "autocapitalize": "characters"})
    field = StringField(_l("Lĩnh vực"), validators=[Optional(), _max(255)])
    legal_basis = TextAreaField(_l("Căn cứ pháp lý"), validators=[Optional(), _max(4000)])
    submit = SubmitField(_l("Lưu"))

    def set_choices(self, agencies: Iterable[Agency]) -> None:
        self.agency.choices = agency_choices(agencies)
        self.level.choices = [SelectChoice(level, level_label(level)) for level in (3, 4)]


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp CSV hoặc XLSX"), validators=[FileRequired(_l("Hãy chọn một tệp."))],
                     render_kw={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument"
                                          ".spreadsheetml.sheet"})
    agency = _select(_l("Cơ quan"))
    period = PeriodField(
        _l("Kỳ của số hồ sơ (không bắt buộc)"), validators=[Optional()],
        render_kw={"placeholder": "Quý IV/2026", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Xem trước"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), _max(64)])
    submit = SubmitField(_l("Xác nhận nhập"))


class UserForm(FlaskForm):
    email = EmailField(_l("Thư điện tử"), validators=[InputRequired(REQUIRED), _max(255)],
                       render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"})
    role = _select(_l("Vai trò"), validators=[InputRequired(REQUIRED)], default="officer")
    agency = _select(_l("Cơ quan (cán bộ)"))
    password = PasswordField(_l("Mật khẩu ban đầu"), validators=[InputRequired(REQUIRED), _max(256)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[InputRequired(REQUIRED), EqualTo("password", _l("Hai mật khẩu không giống nhau."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Tạo tài khoản"))

    def set_choices(self, agencies: Iterable[Agency]) -> None:
        labels = {"admin": _l("Quản trị viên"), "officer": _l("Cán bộ cơ quan")}
        self.role.choices = [SelectChoice(role, str(labels[role])) for role in sorted(ROLES, key="officer".__ne__)]
        self.agency.choices = agency_choices(agencies, empty=str(_l("— Không (quản trị viên) —")))


class AgencyForm(FlaskForm):
    code = StringField(
        _l("Mã"),
        validators=[InputRequired(REQUIRED), _max(80), Regexp(
            r"^[a-z0-9]+(-[a-z0-9]+)*$", message=_l("Chỉ dùng chữ thường không dấu, số và dấu gạch ngang.")
        )],
        render_kw={"spellcheck": "false", "autocapitalize": "none"},
    )
    name = StringField(_l("Tên"), validators=[InputRequired(REQUIRED), _max(255)])
    kind = _select(_l("Loại"), validators=[InputRequired(REQUIRED)])
    portal_url = StringField(_l("Cổng dịch vụ công"), validators=[Optional(), _max(500)],
                             render_kw={"inputmode": "url", "spellcheck": "false"})
    parent = _select(_l("Trực thuộc"))
    valid_from = DateField(_l("Hiệu lực từ ngày"), format=DATE_FORMATS, validators=[Optional()],
                           invalid_value_message=BAD_DATE)
    valid_to = DateField(_l("Hết hiệu lực từ ngày"), format=DATE_FORMATS, validators=[Optional()],
                         invalid_value_message=BAD_DATE)
    successor = _select(_l("Cơ quan kế thừa (sáp nhập vào)"))
    reorganisation_basis = StringField(_l("Căn cứ sắp xếp"), validators=[Optional(), _max(255)])
    check_interval_minutes = IntegerField(
        _l("Chu kỳ kiểm tra (phút)"), default=60,
        validators=[InputRequired(REQUIRED), NumberRange(5, 10080, _l("Từ 5 đến 10080 phút."))],
        invalid_value_message=_l("Nhập một số nguyên."), render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Lưu"))

    def set_choices(self, agencies: Iterable[Agency]) -> None:
        agencies = list(agencies)
        self.kind.choices = [SelectChoice(kind, kind_label(kind)) for kind in AGENCY_KINDS]
        self.parent.choices = agency_choices(agencies, empty=str(_l("— Không (cơ quan cấp trên cùng) —")))
        self.successor.choices = agency_choices(agencies, empty=str(_l("— Không —")))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = _select(_l("Hành động"), validate_choice=False)
    user = StringField(_l("Người thực hiện"), validators=[Optional(), _max(255)])
    agency = _select(_l("Cơ quan"), validate_choice=False)
    date_from = DateField(_l("Từ ngày"), format=DATE_FORMATS, validators=[Optional()], invalid_value_message=BAD_DATE)
    date_to = DateField(_l("Đến ngày"), format=DATE_FORMATS, validators=[Optional()], invalid_value_message=BAD_DATE)
    submit = SubmitField(_l("Lọc"))
