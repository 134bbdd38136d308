"""Settings for a real django-q2 worker started by tests/robustness/test_worker_killed.py:
the test settings, with an email backend that the test can hold mid-send and short
queue timeouts so a killed task comes back within seconds."""

from config.settings_test import *  # noqa: F403

EMAIL_BACKEND = "tests.robustness.holdable_email.HoldableEmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "workers": 1, "timeout": 4, "retry": 6, "poll": 0.2}  # noqa: F405
NOTIFICATION_CLAIM_TIMEOUT_SECONDS = 3
