"""What the bench asks the peer's database, run with the helpdesk virtual environment's
Python: `probe.py queue` makes the public queue the bench submits to (once) and prints
its id; `probe.py tickets` prints how many tickets are stored. Answers are JSON."""

import json
import sys

import django

django.setup()

from helpdesk.models import Queue, Ticket  # noqa: E402


def queue() -> int:
    found, _ = Queue.objects.get_or_create(
        slug="complaints",
        defaults={"title": "Complaints", "allow_public_submission": True},
    )
    return found.pk


def tickets() -> int:
    return Ticket.objects.count()


if __name__ == "__main__":
    print("JSON " + json.dumps({"queue": queue, "tickets": tickets}[sys.argv[1]]()))
