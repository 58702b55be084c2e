"""gunicorn settings of `portal serve` (`-c python:portal.gunicorn_conf`): the portal's log format, request
durations in the access log, a short graceful stop."""

from config import Config
from portal.logs import ACCESS_FORMAT, dict_config

logconfig_dict = dict_config(Config.PORTAL_LOG_FORMAT)
access_log_format = ACCESS_FORMAT
graceful_timeout = 5
control_socket_disable = True  # gunicorn 25+: no shared ~/.gunicorn socket between servers on one machine
