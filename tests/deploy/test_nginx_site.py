"""deploy/nginx/recourse.conf under Debian's nginx, in front of Recourse under gunicorn
as recourse-web.service starts it (production settings, SQLite here): `nginx -t`
accepts it, and over real TLS the application sees HTTPS and the child's address, a
body over 64 KiB is refused, static files come from STATIC_ROOT, and nothing of a query
string or a body reaches nginx's logs."""

from __future__ import annotations

import fcntl
import http.client
import json
import re
import shlex
import ssl
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.deploy.support import (
    DEPLOY,
    ROOT,
    current_user,
    free_port,
    production_env,
    stop,
    tool,
    unit_file,
    unit_settings,
    wait_for_port,
)

HOST = "recourse.example.org"
QUERY_CANARY = "QUERYCANARY7731"
BODY_CANARY = "BODYCANARY5519"
TWILIO_TOKEN = "deploy-test-twilio-token"  # tests/deploy/support.py's production_env


def nginx() -> str:
    return tool("nginx", "run `make nginx` (Debian's nginx, installed without starting it)")


def render_site(tmp: Path, *, http_port: int, https_port: int, upstream_port: int) -> Path:
    """The site file with this machine's ports, certificate, logs and static files. Each
    replaced text must be there: a change to the file that this misses fails here."""
    text = (DEPLOY / "nginx" / "recourse.conf").read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;\n": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;\n": "",
        f"/etc/letsencrypt/live/{HOST}/": f"{tmp}/tls/",
        "/var/log/nginx/": f"{tmp}/logs/",
        # STATIC_ROOT in production: BASE_DIR/staticfiles.
        "/srv/recourse/staticfiles/": f"{ROOT}/staticfiles/",
        "/var/www/letsencrypt": f"{tmp}/acme",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/recourse.conf no longer has {old!r}"
        text = text.replace(old, new)
    site = tmp / "recourse.conf"
    site.write_text(text)
    return site


def main_config(tmp: Path, site: Path) -> Path:
    """Debian's nginx.conf in miniature: the site included in the http block, every
    path under `tmp`, run as the current user."""
    for name in ("logs", "temp", "tls", "acme"):
        (tmp / name).mkdir(exist_ok=True)
    temp = tmp / "temp"
    user = f"user {current_user()};" if current_user() == "root" else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/logs/main-error.log info;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    access_log {tmp}/logs/main-access.log;
    include {site};
}}
"""
    )
    subprocess.run(
        [
            "openssl", "req", "-x509", "-nodes", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-days", "2",
            "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
            "-keyout", str(tmp / "tls" / "privkey.pem"),
            "-out", str(tmp / "tls" / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return conf


def nginx_command(conf: Path, tmp: Path, *args: str) -> list[str]:
    return [
        nginx(),
        "-c",
        str(conf),
        "-p",
        str(tmp),
        "-e",
        str(tmp / "logs" / "startup.log"),
        *args,
    ]


@dataclass
class Site:
    tmp: Path
    http_port: int
    https_port: int
    gunicorn_port: int
    tls: ssl.SSLContext

    def request(self, method, path, *, body=b"", headers=None, tls=True, port=None):
        if tls:
            connection = http.client.HTTPSConnection(
                "127.0.0.1", port or self.https_port, context=self.tls, timeout=20
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", port or self.http_port, timeout=20)
        try:
            connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def twilio_inbound(self, params: dict[str, str]):
        path = "/sms/twilio/inbound/"
        params = {"MessageSid": "SM" + "d" * 32, "AccountSid": "AC" + "0" * 32, **params}
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(
            f"https://{HOST}{path}", params
        )
        return self.request(
            "POST",
            path,
            body=urllib.parse.urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )

    def gunicorn_log(self) -> str:
        return (self.tmp / "gunicorn.out").read_text(errors="replace")

    def logs(self) -> dict[str, str]:
        return {p.name: p.read_text(errors="replace") for p in (self.tmp / "logs").iterdir()}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx")
    http_port, https_port, gunicorn_port = free_port(), free_port(), free_port()
    conf = main_config(
        tmp,
        render_site(tmp, http_port=http_port, https_port=https_port, upstream_port=gunicorn_port),
    )

    env = production_env(
        tmp,
        f"sqlite:///{tmp / 'recourse.sqlite3'}",
        RECOURSE_WEB_BIND=f"127.0.0.1:{gunicorn_port}",
        WEB_CONCURRENCY="2",
        LOG_FORMAT="json",
    )
    # As the guide does it: deploy/recourse-manage with the environment file.
    env_file = tmp / "recourse.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items() if k != "PATH"))
    # STATIC_ROOT is the checkout's: under pytest-xdist two workers may set this module
    # up at once, and two collectstatic runs into one directory trip on each other.
    (ROOT / "var").mkdir(exist_ok=True)
    with (ROOT / "var" / "collectstatic.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for args in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            result = subprocess.run(
                [str(DEPLOY / "recourse-manage"), *args],
                env={
                    "PATH": env["PATH"],
                    "RECOURSE_APP_DIR": str(ROOT),
                    "RECOURSE_ENV_FILE": str(env_file),
                    "RECOURSE_USER": current_user(),
                },
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, (args, result.stdout, result.stderr[-3000:])
    # recourse-web.service's own command, serving the probe beside the application.
    command = shlex.split(unit_settings(unit_file("recourse-web.service"))["ExecStart"][0])
    assert "config.wsgi:application" in command
    command[command.index("config.wsgi:application")] = "tests.deploy.probe_wsgi:application"

    gunicorn_log, nginx_log = tmp / "gunicorn.out", tmp / "nginx.out"
    processes = []
    try:
        with gunicorn_log.open("w") as out:
            web = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        processes.append(web)
        with nginx_log.open("w") as out:
            proxy = subprocess.Popen(
                nginx_command(conf, tmp, "-g", "daemon off;"),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        processes.append(proxy)
        wait_for_port(https_port, proxy, nginx_log)
        wait_for_port(gunicorn_port, web, gunicorn_log)
        tls = ssl.create_default_context(cafile=str(tmp / "tls" / "fullchain.pem"))
        tls.check_hostname = False  # the certificate names HOST; we connect to 127.0.0.1
        yield Site(tmp, http_port, https_port, gunicorn_port, tls)
    finally:
        for process in reversed(processes):
            stop(process)


def test_nginx_accepts_the_site(tmp_path):
    conf = main_config(tmp_path, render_site(tmp_path, http_port=1, https_port=2, upstream_port=3))
    result = subprocess.run(nginx_command(conf, tmp_path, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_the_application_sees_https_and_the_childs_address(site):
    # The client claims an address of its own: nginx replaces the header, not appends.
    status, _, body = site.request(
        "GET", "/deploy-probe/", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert status == 200
    assert json.loads(body) == {"client": "127.0.0.1", "secure": True}

    # The real pages: over TLS served (HSTS, which Django sends only over HTTPS), not
    # redirected; the same request straight to gunicorn, without nginx's header, is.
    status, headers, _ = site.request("GET", "/")
    assert status == 200 and "Strict-Transport-Security" in headers
    status, headers, _ = site.request("GET", "/", tls=False, port=site.gunicorn_port)
    assert status == 301 and headers["Location"] == f"https://{HOST}/"

    # Plain HTTP to nginx goes to HTTPS before reaching the application.
    status, headers, _ = site.request("GET", "/follow-up/", tls=False)
    assert status == 301 and headers["Location"] == f"https://{HOST}/follow-up/"


def test_bodies_over_64_kib_are_refused_by_nginx(site):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, headers, _ = site.request(
        "POST", "/follow-up/", body=b"a=" + b"x" * 65 * 1024, headers=form
    )
    assert status == 413 and "Content-Security-Policy" not in headers  # nginx's answer
    # Just under the limit it reaches the application (its CSRF check refuses it).
    status, headers, _ = site.request(
        "POST", "/follow-up/", body=b"a=" + b"x" * 63 * 1024, headers=form
    )
    assert status == 403 and "Content-Security-Policy" in headers


def test_static_files_come_from_static_root(site):
    _, _, page = site.request("GET", "/")
    stylesheet = re.search(rb'href="(/static/[^"]+\.css)"', page).group(1).decode()
    status, headers, body = site.request("GET", stylesheet)
    assert status == 200 and "Content-Security-Policy" not in headers  # nginx, not Django
    assert body == (ROOT / "staticfiles" / stylesheet.removeprefix("/static/")).read_bytes()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # nginx's workers run as www-data, not as the service user that collected them.
    collected = ROOT / "staticfiles" / stylesheet.removeprefix("/static/")
    assert collected.stat().st_mode & 0o004
    # The compressed copy collectstatic wrote beside it.
    status, headers, _ = site.request("GET", stylesheet, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"


def test_no_query_string_body_or_address_reaches_the_logs(site):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    # Twilio's webhook (unsigned here: refused by the application, still logged).
    site.request(
        "POST",
        f"/sms/twilio/inbound/?code={QUERY_CANARY}",
        body=f"From=%2B15005550006&Body={BODY_CANARY}+he+hit+me".encode(),
        headers=form,
    )
    site.request("GET", f"/follow-up/?code={QUERY_CANARY}&reference=K7QM-4TPX")
    site.request(
        "POST",
        f"/follow-up/?code={QUERY_CANARY}",
        body=f"message={BODY_CANARY}".encode(),
        headers=form,
    )
    # Refused by nginx itself (its error log would name the request line).
    site.request("POST", f"/follow-up/?code={QUERY_CANARY}", body=b"x" * 70 * 1024, headers=form)
    site.request("GET", f"/nowhere/?code={QUERY_CANARY}", tls=False)

    # Signed as Twilio signs, for the public URL: nginx hands the application the host,
    # the scheme and the path the signature covers, so the text is taken.
    status, _, reply = site.twilio_inbound({"From": "+15005550006", "Body": f"{BODY_CANARY} hi"})
    assert status == 200 and reply.startswith(b"<?xml"), reply

    expected = [
        '"POST /sms/twilio/inbound/ HTTP/1.1" 403',
        '"POST /sms/twilio/inbound/ HTTP/1.1" 200',
        '"GET /follow-up/ HTTP/1.1" 200',
        '"POST /follow-up/ HTTP/1.1" 413',
    ]
    # nginx writes a request's line once it has finished it, just after the answer left.
    deadline = time.monotonic() + 10
    while True:
        logs = site.logs()
        access = logs.get("recourse-access.log", "")
        if all(line in access for line in expected) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for line in expected:
        assert line in access, (line, access)
    for name, text in logs.items():
        for secret in (QUERY_CANARY, BODY_CANARY, "K7QM-4TPX", "15005550006", "127.0.0.1"):
            assert secret not in text, (name, secret)


def test_the_application_log_is_json_lines_joined_to_nginx_by_request_id(site):
    """LOG_FORMAT=json: every line gunicorn and the application write is a JSON object;
    each request's line carries nginx's $request_id, also at the end of nginx's line."""
    site.request("GET", f"/follow-up/?code={QUERY_CANARY}")
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in site.gunicorn_log().splitlines() if line.strip()]
        requests = [line for line in lines if line["logger"] == "recourse.request"]
        followups = [line for line in requests if line["route"] == "follow-up/"]
        if followups or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # "Booting worker"
    assert followups, requests
    request_id = followups[-1]["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    while request_id not in site.logs().get("recourse-access.log", ""):
        assert time.monotonic() < deadline + 10, site.logs()
        time.sleep(0.1)
    assert QUERY_CANARY not in site.gunicorn_log()
