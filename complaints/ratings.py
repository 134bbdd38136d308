"""Children rate the service: three optional questions once they were told the outcome.

The answers go to `ServiceRating`, a row that names no case (its key is a keyed hash of
the case id): reports show them in aggregate only. The row's unit is the unit the
complaint was about (`case.unit`), not the unit that handled it: the review asks how
children who complained about a unit were served.

One answer is not left to the aggregate: a child who says they did not feel safe
making the complaint may be facing reprisal. The case's focal points and the focal
points of the oversight unit the policy names are told at once (reference and unit
only, never the answers), and the child is given the emergency numbers.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.cases import case_readers
from complaints.audit import audit_record
from complaints.models import Case, CaseExclusion, ServiceRating
from complaints.services import ComplaintError
from notifications.models import Notification
from notifications.services import notify_users
from policies.models import Membership
from policies.selectors import unit_time_zone
from vault import server_sealed

Answer = ServiceRating.Answer

# The questions in the order they are asked, in words a 13-year-old understands.
QUESTIONS = {
    "listened": _("Did you feel listened to?"),
    "felt_safe": _("Did you feel safe making this complaint?"),
    "fast_enough": _("Was it fast enough?"),
}


class RatingRefused(ComplaintError):
    """No rating can be taken for this case (yet); the message is for the child."""


def rating_key(case: Case) -> str:
    """The rating row's key: found again from the case with the key ring, but a database
    reader cannot tell which case a row belongs to."""
    return server_sealed.blind_index(str(case.pk), purpose="service-rating")


def rating_open(case: Case) -> bool:
    """A child may rate once they were told the decision. A child who withdrew was told
    no decision: nothing to rate."""
    return bool(case.outcome_told_at) and case.outcome not in ("", Case.Status.WITHDRAWN)


def rating_for_case(case: Case) -> ServiceRating | None:
    return ServiceRating.objects.filter(case_key=rating_key(case)).first()


@transaction.atomic
def rating_record(
    case: Case,
    *,
    listened: int | None = None,
    felt_safe: int | None = None,
    fast_enough: int | None = None,
    channel: str,
) -> ServiceRating:
    """Keep the child's answers (each optional; a second answer replaces the first, one
    row per case). "No" to "did you feel safe" alerts the case's focal points and the
    oversight unit's, once."""
    if not rating_open(case):
        raise RatingRefused(_("You can tell us how we did once we have told you what we decided."))
    answers = {"listened": listened, "felt_safe": felt_safe, "fast_enough": fast_enough}
    given = {name: value for name, value in answers.items() if value is not None}
    if any(value not in Answer.values for value in given.values()):
        raise RatingRefused(_("Please choose Yes, Partly or No."))
    month = timezone.localdate(timezone.now(), unit_time_zone(case.unit)).replace(day=1)
    rating, _created = ServiceRating.objects.select_for_update().get_or_create(
        case_key=rating_key(case),
        defaults={
            "unit_id": case.unit_id,
            "channel": channel,
            "language": case.language,
            "month": month,
        },
    )
    unsafe_before = rating.felt_safe == Answer.NO
    for name, value in given.items():
        setattr(rating, name, value)
    rating.save()
    if rating.felt_safe == Answer.NO and not unsafe_before:
        reprisal_alert(case=case)
    return rating


def reprisal_alert(*, case: Case) -> list[Notification]:
    """A child said they did not feel safe complaining: possible reprisal. The case's
    focal points and the oversight unit's are told (metadata only: the notice names the
    case by reference and its unit, never an answer). Nobody kept away from the case is
    told. Audited with ids only."""
    excluded = set(CaseExclusion.objects.filter(case=case).values_list("user_id", flat=True))
    people = set(case_readers(case))
    oversight_unit_id = case.policy.oversight_unit_id
    if oversight_unit_id:
        people |= set(
            Membership.objects.filter(
                unit_id=oversight_unit_id, role=Membership.Role.FOCAL_POINT, is_active=True
            ).values_list("user_id", flat=True)
        )
    recipients = sorted(people - excluded)
    notices = notify_users(case=case, user_ids=recipients, kind=Notification.Kind.REPRISAL_CONCERN)
    audit_record(
        action="complaints.rating.reprisal_concern",
        case=case,
        data={"recipients": recipients, "oversight_unit": oversight_unit_id},
    )
    return notices
