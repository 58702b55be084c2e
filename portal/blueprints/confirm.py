"""Destructive actions ask first: without JavaScript a second page, with it a dialog (static/js/confirm.js)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import render_template, request

from portal.blueprints.figures_forms import ActionForm


def ask_first(*, title: str, question: str, label: str, back: str, details: Sequence[str] = ()) -> str | None:
    """None when the POST says `confirmed=1`; otherwise the page that asks (its form posts here again)."""
    if request.form.get("confirmed") == "1":
        return None
    return render_template("admin/confirm.html", title=title, question=question, label=label, details=details,
                           url=request.path, back=back, action=ActionForm())
