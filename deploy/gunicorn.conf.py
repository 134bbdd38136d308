"""gunicorn's settings for recourse-web.service (deploy/systemd/): loopback only, behind
nginx (deploy/nginx/recourse.conf), no access log (nginx keeps one without query
strings; the app logs ids only)."""

import multiprocessing
import os

# nginx proxies here; nothing else should reach it. RECOURSE_WEB_BIND moves it (a second
# instance on one host, another port).
bind = os.environ.get("RECOURSE_WEB_BIND", "127.0.0.1:8000")
# Sync workers: nginx buffers whole requests and responses, so a slow phone never holds
# one. WEB_CONCURRENCY sets the count (2 per core + 1 by default).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Above the slowest page (the monthly report) and below nginx's proxy_read_timeout.
timeout = 50
graceful_timeout = 30
# A worker is replaced now and then, so no slow leak lives long.
max_requests = 2000
max_requests_jitter = 200
# X-Forwarded-Proto from nginx on this host only (gunicorn's default, said out loud).
forwarded_allow_ips = "127.0.0.1,::1"
# gunicorn 27's control socket would go in $HOME, which the service may not write;
# systemd's signals (reload: HUP, stop: TERM) are the control here.
control_socket_disable = True
accesslog = None
errorlog = "-"
# The heartbeat files: the service's private /tmp (PrivateTmp=yes) is on disk; /dev/shm
# is memory.
worker_tmp_dir = "/dev/shm"

# LOG_FORMAT=json: gunicorn's own lines (booting, a worker restarted) as JSON too, in the
# application's format (config/logs.py), so every line on stderr is one JSON object.
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "root": {"level": "INFO", "handlers": []},
    }
