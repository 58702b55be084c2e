"""Translations looked up once per request (Flask-Babel finds the locale and domain again on every call, and a
page makes a hundred calls), for templates and for the labels the pages show."""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context, has_request_context, request
from flask_babel import LazyString, get_locale, get_translations


def _locale_held() -> Any:
    babel = g.get("_flask_babel")
    return getattr(babel, "babel_locale", None)


def current_locale() -> Any:
    """Flask-Babel's get_locale, read where Flask-Babel keeps it once chosen (a page asks a dozen times)."""
    if has_app_context():
        held = _locale_held()
        if held is not None:
            return held
    return get_locale()


def request_translations() -> Any:
    """The request's catalogue, kept in the request's environ with the locale it is for (force_locale and
    refresh replace that locale); outside a request, Flask-Babel's own."""
    if not has_request_context():
        return get_translations()
    environ = request.environ
    held = environ.get("portal.translations")
    locale = _locale_held()
    if held is not None and locale is not None and held[0] is locale:
        return held[1]
    translations = get_translations()
    environ["portal.translations"] = (_locale_held(), translations)
    return translations


def gettext(string: str, **variables: Any) -> str:
    translated = request_translations().ugettext(string)
    return translated % variables if variables else translated


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """A label translated when shown, in the language of the request showing it."""
    return LazyString(gettext, string, **variables)
