"""What a child is told, in words a 10-year-old understands."""

import math

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from complaints.models import Case

STATUS_FOR_CHILD = {
    Case.Status.RECEIVED: _("We have your complaint. Someone will read it soon."),
    Case.Status.ACKNOWLEDGED: _("A person who looks after complaints has read it."),
    Case.Status.ASSESSING: _("We are deciding what to do about it."),
    Case.Status.INVESTIGATING: _("We are finding out what happened."),
    Case.Status.SUBSTANTIATED: _("We found that it happened. We are acting on it."),
    Case.Status.UNSUBSTANTIATED: _("We looked carefully but could not show that it happened."),
    Case.Status.REFERRED: _("We passed it to another service that can help you better."),
    Case.Status.WITHDRAWN: _("You stopped this complaint."),
    Case.Status.CLOSED: _("This complaint is finished."),
}


def status_for_child(status: str) -> str:
    return STATUS_FOR_CHILD.get(status, STATUS_FOR_CHILD[Case.Status.RECEIVED])


def duration_for_child(hours: int) -> str:
    """"3 days", "24 hours": in days from 48 hours on, rounded up, because a promise
    to a child must never come out shorter than the policy's deadline."""
    if hours >= 48:
        days = math.ceil(hours / 24)
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
