"""Settings for the test suite: config.settings under RECOURSE_ENV=test.

DATABASE_URL selects PostgreSQL (as .ci/run does); the default is SQLite.
"""

import base64
import hashlib
import json
import os
from pathlib import Path

os.environ["RECOURSE_ENV"] = "test"
# A fixed test key ring, so tests never touch a developer's key file, with epoch keys
# (vault/epochs.py) for every month from 2024 to 2030.
TEST_EPOCHS = {
    f"{family}-{year}-{month:02d}": base64.b64encode(
        hashlib.sha256(f"test-epoch:{family}-{year}-{month}".encode()).digest()
    ).decode()
    for family in ("open", "closed")
    for year in range(2024, 2031)
    for month in range(1, 13)
}
os.environ.setdefault(
    "RECOURSE_KEYRING",
    json.dumps(
        {
            "primary": "test-1",
            "keys": {"test-1": base64.b64encode(b"k" * 32).decode()},
            "epochs": TEST_EPOCHS,
        }
    ),
)
os.environ.setdefault("RECOURSE_KEYRING_FILE", "")

from config.settings import *  # noqa: E402,F403
from config.settings import BASE_DIR, DATABASES  # noqa: E402

# Tests that anchor the audit log set their own file.
AUDIT_ANCHOR_FILE = ""
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"
# Cheaper follow-up code hashing keeps the suite fast; the production cost is tested
# separately in tests/vault/test_crypto.py.
FOLLOWUP_CODE_KDF = {"memory_cost": 1024, "iterations": 1, "lanes": 1}
STAFF_KEY_KDF = {"memory_cost": 1024, "iterations": 1}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A real file, so the confidentiality tests can read the bytes on disk.
    # RECOURSE_TEST_SQLITE lets two suites run side by side on one checkout.
    TEST_SQLITE = Path(os.environ.get("RECOURSE_TEST_SQLITE", BASE_DIR / "var" / "test.sqlite3"))
    TEST_SQLITE.parent.mkdir(parents=True, exist_ok=True)  # a bare `pytest` on a fresh clone
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_SQLITE)}

SMS_BACKEND = "notifications.backends.locmem.LocmemSmsBackend"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
SMS_PUBLIC_NUMBER = "+15005550000"
