"""Administration of the search synonyms and abbreviations (admins only, audited)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal import caching
from portal.blueprints.figures import _attach
from portal.extensions import db
from portal.security import admin_required
from portal.services import memo, querying
from portal.text import fold

bp = Blueprint("synonyms", __name__, url_prefix="/admin/synonyms")


class SynonymForm(FlaskForm):
    terms = TextAreaField(_l("Các cách gọi (phân cách bằng |)"),
                          validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=2000)],
                          render_kw={"rows": 3})
    source = StringField(_l("Nguồn"), validators=[InputRequired(_l("Bắt buộc nhập.")), Length(max=500)])
    enabled = BooleanField(_l("Dùng khi tìm kiếm"), default=True)
    submit = SubmitField(_l("Lưu"))


@bp.before_request
def _no_store() -> None:
    g.no_store = True


@bp.get("")
@admin_required
def index():
    groups = querying.all_groups(db.session)
    q = (request.args.get("q") or "").strip()[:100]
    if q:
        groups = [gr for gr in groups if any(fold(q) in fold(t) for t in gr.terms)]
    return render_template("admin/synonyms.html", groups=groups, q=q)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    return _form(None)


@bp.route("/<key>/edit", methods=["GET", "POST"])
@admin_required
def edit(key: str):
    return _form(querying.find_group(db.session, key) or abort(404))


def _form(group: querying.SynonymGroup | None):
    form = SynonymForm()
    if request.method == "GET" and group is not None:
        form.terms.data, form.source.data, form.enabled.data = " | ".join(group.terms), group.source, group.enabled
    loose: list[str] = []
    if form.validate_on_submit():
        try:
            saved = querying.save_group(db.session, group.key if group else None, terms=form.terms.data,
                                        source=form.source.data, enabled=form.enabled.data,
                                        user=current_user._get_current_object(), ip=request.remote_addr)
        except querying.SynonymError as exc:
            loose = _attach(form, exc.errors)
        else:
            caching.clear()
            memo.clear_all()
            flash(_("Đã lưu nhóm từ “%(term)s”.", term=saved.terms[0]), "success")
            return redirect(url_for("synonyms.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/synonym_form.html", form=form, group=group, loose=loose), status
