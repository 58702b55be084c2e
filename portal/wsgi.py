"""The WSGI application (`portal.wsgi:app` for gunicorn); a bad setting stops the server with one line."""

from config import ConfigError, config_from_env
from portal import create_app, startup

WORKER_BOOT_ERROR = 3  # gunicorn stops (rather than restarting the worker) on this exit status

try:
    config_from_env()
except ConfigError as exc:
    startup.fail(str(exc), WORKER_BOOT_ERROR)

app = create_app()
