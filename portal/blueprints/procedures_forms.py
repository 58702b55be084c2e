"""Forms of the procedures area: a procedure, a catalogue membership, a catalogue upload and its confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.services.procedures import CATALOGUE_846

SCOPE_LABELS = {"ministry": _l("Bộ, ngành"), "province": _l("Tỉnh, thành phố")}
LEVEL_CHOICES = [SelectChoice("4", _l("Mức 4 (toàn trình)")), SelectChoice("3", _l("Mức 3 (một phần)"))]


def scope_choices(blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(k, v) for k, v in SCOPE_LABELS.items()]
    return ([SelectChoice("", blank)] if blank else []) + choices


class ProcedureForm(FlaskForm):
    """A procedure's name and field; its code is its identity and does not change."""

    name = StringField(_l("Tên thủ tục"), validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=500)])
    field = StringField(_l("Lĩnh vực"), validators=[Optional(), Length(max=255)])
    save = SubmitField(_l("Lưu"))


class NewProcedureForm(ProcedureForm):
    code = StringField(_l("Mã thủ tục"), validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=40)],
                       render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": "1.000178"})


class MembershipForm(FlaskForm):
    catalogue = StringField(_l("Danh mục"), default=CATALOGUE_846,
                            validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=80)],
                            render_kw={"spellcheck": "false"})
    scope = SelectField(_l("Phạm vi"), choices=scope_choices())
    required_level = SelectField(_l("Mức độ yêu cầu"), choices=LEVEL_CHOICES)
    agency = SelectField(_l("Cơ quan chịu trách nhiệm (không bắt buộc)"), choices=[], validate_choice=True)
    add = SubmitField(_l("Lưu vào danh mục"))


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp danh mục (CSV hoặc XLSX)"), validators=[FileRequired(_l("Hãy chọn một tệp."))])
    catalogue = StringField(_l("Danh mục"), default=CATALOGUE_846,
                            validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=80)],
                            render_kw={"spellcheck": "false"})
    scope = SelectField(_l("Phạm vi khi tệp không có cột “Phạm vi”"), choices=[], default="")
    preview = SubmitField(_l("Xem trước"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope.choices = scope_choices(str(_l("— theo cột “Phạm vi” của tệp —")))


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])
    confirm = SubmitField(_l("Nhập danh mục"))
