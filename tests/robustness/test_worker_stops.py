"""django-q2 1.11's cluster can hang when its whole process group gets SIGTERM; the
bench's helper (bench/harness.py, Services.stop) must stop it promptly anyway."""

import os
import signal
import time

import pytest

from bench.harness import Service, Services
from tests.robustness.test_worker_killed import start_worker


@pytest.mark.django_db(transaction=True)
def test_the_bench_helper_stops_a_running_qcluster_within_seconds(tmp_path):
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = start_worker(tmp_path, log)
        services = Services(started=[Service("worker", worker, log_path)])
        try:
            time.sleep(6)  # the cluster up: sentinel, pusher, monitor and workers
            assert worker.poll() is None, log_path.read_text()
            started = time.monotonic()
            services.stop()
            took = time.monotonic() - started
        finally:
            try:
                os.killpg(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # It stopped on its own (exit 0), not by the helper's SIGKILL after 15 s.
    assert worker.returncode == 0, (worker.returncode, log_path.read_text()[-2000:])
    assert took < 10


@pytest.mark.django_db(transaction=True)
def test_the_bench_helper_kills_a_qcluster_and_every_process_of_it(tmp_path):
    """`make soak NODES=2` crashes a worker with Services.kill: the cluster and its task
    processes all go at once, none left to finish a send."""
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = start_worker(tmp_path, log)
        service = Service("worker", worker, log_path)
        services = Services(started=[service])
        try:
            time.sleep(6)
            assert len(service.pids()) > 2, log_path.read_text()  # sentinel, pusher, workers...
            services.kill(service)
            deadline = time.monotonic() + 5
            while service.pids() and time.monotonic() < deadline:
                time.sleep(0.1)  # children dying a moment after (zombies reaped by init)
        finally:
            try:
                os.killpg(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert worker.returncode == -signal.SIGKILL
    assert service.pids() == []
    assert services.started == []
