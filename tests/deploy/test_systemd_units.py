"""deploy/systemd/: systemd's own checks of the units (`systemd-analyze verify` and
`security`, offline: systemd is not PID 1 here), and the worker unit's stop, done to a
real `manage.py qcluster` under production settings exactly as systemd would do it."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.deploy.support import (
    DEPLOY,
    free_port,
    production_env,
    stop,
    tool,
    unit_file,
    unit_settings,
    wait_for_port,
)
from tests.robustness.test_worker_killed import database_url

UNITS = sorted(p.name for p in (DEPLOY / "systemd").iterdir())
SERVICES = [name for name in UNITS if name.endswith(".service")]


def systemd_analyze() -> str:
    return tool("systemd-analyze", "apt-get install systemd (Debian's, for its offline checks)")


def rendered_units(tmp: Path) -> list[Path]:
    paths = []
    for name in UNITS:
        (path := tmp / name).write_text(unit_file(name))
        paths.append(path)
    return paths


def test_systemd_analyze_verify_finds_nothing(tmp_path):
    """Unknown keys, bad values, an ExecStart that is not executable, a timer without its
    service: all reported on the console (SYSTEMD_LOG_TARGET: it would go to a journal
    otherwise)."""
    result = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", *map(str, rendered_units(tmp_path))],
        env={**os.environ, "SYSTEMD_LOG_TARGET": "console", "SYSTEMD_LOG_COLOR": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "recourse" in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_services_are_hardened(tmp_path, service):
    rendered_units(tmp_path)
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--no-pager", str(tmp_path / service)],
        env={**os.environ, "SYSTEMD_LOG_TARGET": "console", "SYSTEMD_COLORS": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert exposure, result.stdout + result.stderr
    # systemd's scale: 0 (locked down) to 10 (unprotected); under 2 is "OK".
    assert float(exposure.group(1)) < 2.0, result.stdout
    options = unit_settings(unit_file(service))
    assert options["User"] == ["recourse"] and options["ProtectSystem"] == ["strict"]
    assert options["EnvironmentFile"] == ["/etc/recourse/recourse.env"]


def test_the_worker_outlives_no_task_it_may_still_finish():
    """systemd sends SIGKILL TimeoutStopSec after the stop signal: a task running then
    would be cut short, so the timeout exceeds the task timeout."""
    options = unit_settings(unit_file("recourse-worker.service"))
    assert int(options["TimeoutStopSec"][0]) > settings.Q_CLUSTER["timeout"]


@pytest.mark.django_db(transaction=True)
def test_stopping_the_worker_unit_stops_a_real_qcluster_within_seconds(tmp_path):
    """The unit's command, under production settings, stopped the unit's way: the stop
    signal to the main process alone (KillMode=mixed), or to every process of the unit
    (control-group). The whole tree is gone in seconds, on its own, long before
    systemd's SIGKILL would come."""
    options = unit_settings(unit_file("recourse-worker.service"))
    kill_mode = options.get("KillMode", ["control-group"])[0]
    signum = signal.Signals[options.get("KillSignal", ["SIGTERM"])[0]]
    command = shlex.split(options["ExecStart"][0])
    env = production_env(tmp_path, database_url(), Q_WORKERS="2", LOG_LEVEL="INFO")

    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            command,
            cwd=options["WorkingDirectory"][0],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: systemd's cgroup, here
        )
    try:
        deadline = time.monotonic() + 60
        while "running." not in log.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.2)
        assert "running." in log.read_text(), log.read_text()
        time.sleep(2)  # sentinel, pusher, monitor and workers settled, the scheduler ran
        tree = group_members(worker.pid)
        assert len(tree) >= 5, tree  # main, sentinel, pusher, monitor, 2 workers

        started = time.monotonic()
        if kill_mode == "mixed":
            os.kill(worker.pid, signum)
        else:
            os.killpg(worker.pid, signum)
        while group_members(worker.pid) and time.monotonic() - started < 20:
            time.sleep(0.1)
        took = time.monotonic() - started
        left = group_members(worker.pid)
    finally:
        stop(worker, seconds=0)
    # A group-wide SIGTERM leaves the main process waiting for a sentinel it killed.
    assert left == [], f"{kill_mode}/{signum.name}: {left} still running after {took:.0f} s"
    assert worker.returncode == 0, (worker.returncode, log.read_text()[-2000:])
    assert took < 10, took
    print(f"qcluster stopped in {took:.1f} s")


def group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def test_stopping_the_web_unit_stops_gunicorn_within_seconds(tmp_path):
    """The web unit's command, stopped its way: gunicorn's master takes its workers down
    gracefully, well within TimeoutStopSec."""
    options = unit_settings(unit_file("recourse-web.service"))
    assert options["KillMode"] == ["mixed"]
    signum = signal.Signals[options.get("KillSignal", ["SIGTERM"])[0]]
    port = free_port()
    env = production_env(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        RECOURSE_WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
    )
    log = tmp_path / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(
            shlex.split(options["ExecStart"][0]),
            cwd=options["WorkingDirectory"][0],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, web, log)
        deadline = time.monotonic() + 20
        while len(group_members(web.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # the workers have loaded the application
        assert len(group_members(web.pid)) == 3, log.read_text()  # master, two workers
        started = time.monotonic()
        os.kill(web.pid, signum)
        while group_members(web.pid) and time.monotonic() - started < 20:
            time.sleep(0.1)
        took = time.monotonic() - started
        left = group_members(web.pid)
    finally:
        stop(web, seconds=0)
    assert left == [] and web.returncode == 0, (left, web.returncode, log.read_text()[-2000:])
    assert took < int(options["TimeoutStopSec"][0]) / 3, took
