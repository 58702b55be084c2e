"""The pieces create_app assembles: config, i18n, blueprints, error pages, headers, CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask, abort, current_app, g, has_request_context, jsonify, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from config import Config, config_from_env, development_secret, normalise_database_url
from portal.extensions import babel, db, login_manager
from portal.i18n import current_locale, request_translations
from portal.i18n import lazy_gettext as _l


def load_config(app: Flask, config: type | dict[str, Any] | None) -> None:
    if config is None or isinstance(config, dict):
        app.config.from_object(config_from_env())
        if config:
            app.config.from_mapping(config)
    else:
        app.config.from_object(config)
    app.config.setdefault("MIGRATIONS_DIR", Path(__file__).parent / "migrations")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = development_secret(Path(app.instance_path))
    uri = app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite"):  # a file cannot drop a connection: no "SELECT 1" before each request's queries
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                                                   "pool_pre_ping": False}


def _select_locale() -> str:
    choice = request.args.get("lang")
    languages = Config.LANGUAGES
    if choice in languages:
        session["lang"] = choice
        return choice
    stored = session.get("lang")
    return stored if stored in languages else "vi"


def register_i18n(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )

    @app.before_request
    def fresh_locale() -> None:
        """Choose the language per request even when an app context outlives one (tests, CLI)."""
        refresh()

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )



class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ids are 32-bit integers in both databases, so a larger number is a 404."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def register_request_guards(app: Flask) -> None:
    """Refuse what no page or API call can use before it reaches the database (PostgreSQL refuses NUL)."""
    from portal.services.search import QueryError

    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def refuse_nul_characters() -> None:
        if "\x00" in request.path:
            abort(404)
        for name, value in request.args.items(multi=True):
            if "\x00" in value or "\x00" in name:
                param = name.replace("\x00", "")
                raise QueryError(param, _("Tham số “%(param)s” chứa ký tự không hợp lệ.", param=param))


def register_blueprints(app: Flask) -> None:
    import portal.blueprints.ops as ops
    from portal.blueprints import admin, api, auth, compliance, figures, opendata, procedures, public, rankings, status
    from portal.blueprints.feedback import admin_bp as feedback_admin_bp
    from portal.blueprints.feedback import bp as feedback_bp
    from portal.blueprints.synonyms import bp as synonyms_bp

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(figures.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(compliance.bp)
    app.register_blueprint(opendata.bp)
    app.register_blueprint(procedures.bp)
    app.register_blueprint(rankings.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(feedback_admin_bp)
    app.register_blueprint(synonyms_bp)

    login_manager.user_loader(auth.load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str


def _wants_json() -> bool:
    return request.path.startswith("/api/")


_ERROR_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ. Vui lòng kiểm tra lại địa chỉ hoặc biểu mẫu."),
    403: _l("Bạn không có quyền xem trang này."),
    404: _l("Không có trang nào ở địa chỉ này. Vui lòng kiểm tra lại địa chỉ, hoặc tìm dịch vụ công từ trang chủ."),
    405: _l("Trang này không nhận yêu cầu theo cách này."),
    413: _l("Tệp gửi lên quá lớn."),
    429: _l("Có quá nhiều yêu cầu trong thời gian ngắn. Vui lòng thử lại sau."),
    500: _l("Đã có lỗi xảy ra. Vui lòng thử lại sau."),
}
"""Werkzeug's stock descriptions are English: pages say these instead (a description set by a view is kept)."""


def register_errorhandlers(app: Flask) -> None:
    from portal.services.search import QueryError

    def render_error(status: int, message: str, param: str | None = None):
        if _wants_json():
            body = {"code": status, "message": message} | ({"param": param} if param else {})
            return jsonify(error=body), status
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(QueryError)
    def bad_parameter(error: QueryError):
        return render_error(400, error.message, error.param)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        message = error.description or error.name
        if message == type(error).description:
            message = str(_ERROR_MESSAGES.get(error.code, _ERROR_MESSAGES[400 if error.code < 500 else 500]))
        return render_error(error.code, message)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng thử lại."))

    @app.errorhandler(Exception)
    def unhandled(error: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        db.session.rollback()
        return render_error(500, _("Đã có lỗi xảy ra. Vui lòng thử lại sau."))


def public_url_for(endpoint: str, **values: Any) -> str:
    """An absolute URL on PORTAL_PUBLIC_URL (feeds, the OpenAPI document): never built from the request's
    Host header, which a client chooses."""
    return current_app.config["PORTAL_PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


def local_path() -> str:
    """The request's path as a link that stays on this site: one leading slash, and backslashes, spaces,
    control and other characters percent-encoded (`/%5Cevil.com` must not become `/\\evil.com`)."""
    return "/" + quote(request.path.lstrip("/\\"), safe="/:@!$&'()*+,;=-._~")


def _page_key() -> tuple:
    """What every kept fragment of this request depends on: language, application root, signed in or not."""
    if not has_request_context():
        return (str(current_locale()), "", bool(current_user.is_authenticated))
    environ = request.environ
    found = environ.get("portal.page_key")
    locale = current_locale()
    if found is None or found[0] is not locale:
        found = environ["portal.page_key"] = (locale, (str(locale), request.script_root,
                                                       bool(current_user.is_authenticated)))
    return found[1]


QUERY_MARK = "\x00q\x00"  # where a kept fragment takes the words typed (NUL never reaches a page: it is refused)


def register_template_helpers(app: Flask) -> None:
    from portal import changes, formatting

    app.jinja_env.filters["number"] = formatting.number
    app.jinja_env.filters["percent"] = formatting.percent
    app.jinja_env.filters["datetime"] = formatting.datetime_local
    app.jinja_env.filters["date"] = formatting.date_local
    app.jinja_env.filters["period"] = formatting.period_label
    app.jinja_env.globals["field_label"] = changes.field_label
    app.jinja_env.globals["action_label"] = changes.action_label
    app.jinja_env.globals["level_label"] = formatting.level_label
    app.jinja_env.globals["health_label"] = formatting.health_label
    app.jinja_env.globals["kind_label"] = formatting.kind_label
    app.jinja_env.globals["reason_label"] = formatting.reason_label

    nav = [
        ("public.services", _l("Dịch vụ công")),
        ("public.agency_directory", _l("Cơ quan")),
        ("rankings.index", _l("Xếp hạng")),
        ("status.index", _l("Tình trạng")),
        ("compliance.index", _l("Tuân thủ QĐ 846")),
        ("opendata.index", _l("Dữ liệu mở")),
    ]

    def language_url(lang: str) -> str:
        """This page in another language, keeping its query (filters, search words)."""
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        return f"{local_path()}?{urlencode([*args, ('lang', lang)])}"

    app.jinja_env.globals["language_url"] = language_url
    fragments: dict[tuple, tuple[Markup, list]] = {}

    def fragment(name: str, **values: Any) -> Markup:
        """A partial whose HTML depends only on the language, the sign-in state and `values` (the search box,
        the footer), rendered once per process and kept: every page shows it. A long list (the memoised agency
        and field options) is known by its identity, and kept alive with the HTML so that identity stays its own."""
        keyed = tuple(sorted(
            (k, ("list", id(v)) if len(v) > 16 else tuple(v)) if isinstance(v, list | tuple) else (k, v)
            for k, v in values.items()))
        key = (name, _page_key(), keyed)
        held = fragments.get(key)
        if held is None:
            html = Markup(app.jinja_env.get_template(name).render(current_user=current_user, **values))  # noqa: S704
            if len(fragments) > 256:
                fragments.clear()
            held = fragments[key] = (html, list(values.values()))
        return held[0]

    app.jinja_env.globals["fragment"] = fragment
    app.jinja_env.globals["QUERY_MARK"] = QUERY_MARK
    app.jinja_env.globals["page_locale"] = lambda: str(current_locale() or "vi")  # for macros imported without context

    nav_by_locale: dict[str, list[tuple[str, str]]] = {}

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        locale = str(current_locale() or "vi")
        items = nav_by_locale.get(locale)
        if items is None:
            items = nav_by_locale[locale] = [(endpoint, str(label)) for endpoint, label in nav
                                             if endpoint in app.view_functions]
        return {"current_locale": locale, "nav_items": items, "sample_data": _sample_data}


def _sample_data() -> dict[str, int]:
    """Sample services in the database, for the site-wide notice (called by base.html only when shown)."""
    from portal.services.catalogue import sample_counts

    return sample_counts(db.session)


def register_compression(app: Flask) -> None:
    """gzip text responses for clients that accept it (PORTAL_COMPRESS; on in production); streams pass as they are."""
    if not app.config.get("PORTAL_COMPRESS"):
        return
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_ALGORITHM", ["gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/csv", "text/plain", "application/json", "application/javascript",
        "image/svg+xml", "application/atom+xml", "application/xml",
    ])
    Compress(app)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
        if app.config.get("PORTAL_HSTS_SECONDS"):
            headers.setdefault("Strict-Transport-Security",
                               f"max-age={app.config['PORTAL_HSTS_SECONDS']}; includeSubDomains")
        if request.path.startswith("/api/"):
            headers.setdefault("Access-Control-Allow-Origin", "*")
        if getattr(g, "no_store", False):
            headers["Cache-Control"] = "no-store"
        return response


def register_proxy(app: Flask) -> None:
    """Behind PORTAL_TRUSTED_PROXIES reverse proxies, read the client's address and scheme from their
    X-Forwarded-For/-Proto headers (Werkzeug's ProxyFix), so sign-in throttling sees each client."""
    hops = int(app.config.get("PORTAL_TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0)  # type: ignore[method-assign]


def register_commands(app: Flask) -> None:
    from portal.commands import register

    register(app)
