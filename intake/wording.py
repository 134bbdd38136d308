"""What a child is told, in words a 10-year-old understands."""

import math

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from complaints.models import Case
from policies.models import ChildProtectionPolicy

STATUS_FOR_CHILD = {
    Case.Status.RECEIVED: _("We have your complaint. Someone will read it soon."),
    Case.Status.ACKNOWLEDGED: _("A person who looks after complaints has read it."),
    Case.Status.ASSESSING: _("We are deciding what to do about it."),
    Case.Status.INVESTIGATING: _("We are finding out what happened."),
    Case.Status.SUBSTANTIATED: _("We found that it happened. We are acting on it."),
    Case.Status.UNSUBSTANTIATED: _("We looked carefully but could not show that it happened."),
    Case.Status.REFERRED: _("We passed it to another service that can help you better."),
    Case.Status.WITHDRAWN: _("You stopped this complaint."),
    Case.Status.UPHELD: _("The review is done: the first decision stays as it was."),
    Case.Status.CHANGED: _("The review is done: the first decision was changed."),
    Case.Status.CLOSED: _("This complaint is finished."),
}


# The limits of confidentiality (policies.models.CONFIDENTIALITY_LIMITS), as a child
# reads them before writing anything.
CONFIDENTIALITY_LIMITS_FOR_CHILD = {
    "serious_harm": _(
        "If you or another child could be badly hurt, we must tell people who can keep you safe."
    ),
    "crime_by_staff": _("If a worker broke the law, we may have to tell the police or a judge."),
    "court_order": _("If a judge orders it, we must show it."),
}


def confidentiality_limits_for_child(codes) -> list[str]:
    """The policy's limits in a child's words, in the policy's order; codes this
    version does not know are left off rather than shown in staff words."""
    return [
        str(CONFIDENTIALITY_LIMITS_FOR_CHILD[code])
        for code in codes or []
        if isinstance(code, str) and code in CONFIDENTIALITY_LIMITS_FOR_CHILD
    ]


def about_staff_for_child(policy) -> list[str]:
    """Where a complaint about someone who works there goes, in a child's words, from the
    policy's rules for "yes" and "I am not sure" (shown under that question)."""
    Rule = ChildProtectionPolicy.AboutStaffRule
    # Whole sentences, so that each language orders its own words.
    sentences = {
        ("yes", Rule.OVERSIGHT): _(
            "If you answer Yes, your complaint goes to %(oversight)s, outside this place."
        ),
        ("unsure", Rule.OVERSIGHT): _(
            "If you answer I am not sure, your complaint goes to %(oversight)s, outside this place."
        ),
        ("yes", Rule.BACKUPS_TELL_MANAGER): _(
            "If you answer Yes, a different person than usual looks after your complaint."
        ),
        ("unsure", Rule.BACKUPS_TELL_MANAGER): _(
            "If you answer I am not sure, a different person than usual looks after your complaint."
        ),
    }
    lines = [
        str(
            _(
                "You can tell us about someone who works there. Once we know who it is, "
                "that person cannot see your complaint."
            )
        )
    ]
    oversight = policy.oversight_unit.name if policy.oversight_unit_id else ""
    for answer, rule in (
        ("yes", policy.about_staff_yes_rule),
        ("unsure", policy.about_staff_unsure_rule),
    ):
        sentence = sentences.get((answer, rule))
        if sentence is not None and (rule != Rule.OVERSIGHT or oversight):
            lines.append(str(sentence) % {"oversight": oversight})
    return lines


def status_for_child(status: str) -> str:
    return STATUS_FOR_CHILD.get(status, STATUS_FOR_CHILD[Case.Status.RECEIVED])


def duration_for_child(hours: int) -> str:
    """ "3 days", "24 hours": in days from 48 hours on, rounded up, because a promise
    to a child must never come out shorter than the policy's deadline."""
    if hours >= 48:
        days = math.ceil(hours / 24)
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
