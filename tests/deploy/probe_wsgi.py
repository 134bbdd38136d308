"""Recourse's WSGI application, plus one page for tests/deploy/test_nginx_site.py that
says what the application makes of a request behind nginx: the client address its
per-client limits use (config.middleware.client_address) and whether it sees HTTPS."""

import json

from django.core.handlers.wsgi import WSGIRequest

# First: it sets Django up, which the middleware's imports need.
from config.wsgi import application as recourse

# isort: split
from config.middleware import client_address

PROBE_PATH = "/deploy-probe/"


def application(environ, start_response):
    if environ.get("PATH_INFO") != PROBE_PATH:
        return recourse(environ, start_response)
    request = WSGIRequest(environ)
    body = json.dumps({"client": client_address(request), "secure": request.is_secure()})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]
