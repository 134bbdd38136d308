"""Two operators (or a script and an operator) adding keys at once must not lose one."""

import os
import subprocess
import sys
import time

from django.conf import settings as django_settings

from vault import crypto

# Each process sets Django up, says it is ready, then waits for one shared signal to
# run the command, so the runs start together. Making a key is slowed down (as a slow
# disk or a loaded host would), so their read-modify-write steps overlap every time
# unless something makes them take turns.
_RUN_AT_SIGNAL = """
import os, sys, time, django
django.setup()
from io import StringIO
from django.core.management import call_command, load_command_class
from vault.crypto import KeyRing
load_command_class("vault", "keyring_add")

def slowly(method):
    def run(*args, **kwargs):
        time.sleep(0.2)
        return method(*args, **kwargs)
    return run

KeyRing.with_new_primary = slowly(KeyRing.with_new_primary)
KeyRing.generate = staticmethod(slowly(KeyRing.generate))
go, ring, key_id, ready = sys.argv[1:]
open(ready, "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
call_command("keyring_add", "--file", ring, "--key-id", key_id, stdout=StringIO())
"""


def _wait_for(paths, timeout):
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, "the processes did not start in time"
        time.sleep(0.05)


def test_keyring_add_run_at_once_keeps_every_key(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    for round_ in range(3):
        ring_path = tmp_path / f"ring-{round_}.json"
        if round_:  # the first round races to create the file, the others to add to it
            crypto.write_keyring_file(crypto.KeyRing.generate("existing"), ring_path)
        go = tmp_path / f"go-{round_}"
        key_ids = [f"r{round_}-k{n}" for n in range(4)]
        ready = [tmp_path / f"ready-{key_id}" for key_id in key_ids]
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _RUN_AT_SIGNAL, str(go), str(ring_path), key_id, str(flag)],
                env=env,
                cwd=django_settings.BASE_DIR,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for key_id, flag in zip(key_ids, ready, strict=True)
        ]
        try:
            _wait_for(ready, timeout=60)
            go.touch()
            for process in processes:
                _, err = process.communicate(timeout=60)
                assert process.returncode == 0, err
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        ring = crypto.KeyRing.from_json(ring_path.read_text())
        assert set(key_ids) <= set(ring.keys), f"round {round_}: lost keys"
        assert oct(ring_path.stat().st_mode & 0o777) == "0o600"
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
