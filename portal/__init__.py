"""Cổng dịch vụ công: catalogue, monitor and rankings of online public services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: type | dict[str, Any] | None = None) -> Flask:
    """Build the application; `config` is a config class or a mapping of overrides."""
    from flask import Flask

    from config import INSTANCE_DIR
    from portal import extensions, web

    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=True)
    web.load_config(app, config)
    extensions.init_app(app)
    web.register_i18n(app)
    web.register_request_guards(app)
    web.register_blueprints(app)
    web.register_errorhandlers(app)
    web.register_template_helpers(app)
    web.register_security_headers(app)
    web.register_proxy(app)
    web.register_compression(app)
    web.register_commands(app)
    return app
