"""An email backend for the worker-kill test: each sent message is one file in
$HOLDABLE_EMAIL_DIR. While a file named `hold` exists there, a send first writes
`started` and then waits, so the test can SIGKILL the worker in the middle of it."""

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class HoldableEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["HOLDABLE_EMAIL_DIR"])
        if (folder / "hold").exists():
            (folder / "started").touch()
            time.sleep(60)
        for message in email_messages:
            (folder / f"{os.getpid()}-{uuid.uuid4().hex}.eml").write_bytes(
                message.message().as_bytes()
            )
        return len(email_messages)
