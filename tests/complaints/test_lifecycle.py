import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.audit import audit_verify
from complaints.lifecycle import TRANSITIONS, TransitionRefused, case_transition
from complaints.models import AuditEvent, Case, CaseEvent
from complaints.services import complaint_receive
from notifications.backends import locmem
from notifications.models import OutboundSms
from notifications.sms import sms_deliver
from tests.conftest import child_sees, receipt_from

S = Case.Status
PATH = [
    (S.ACKNOWLEDGED, ""),
    (S.ASSESSING, ""),
    (S.INVESTIGATING, ""),
    (S.SUBSTANTIATED, "Two witnesses confirmed it"),
]


def receive(unit, **overrides):
    data = dict(
        unit=unit,
        channel="web",
        language="en",
        narrative="They hit me.",
        category="physical_violence",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="follow_up_page",
    )
    data.update(overrides)
    return complaint_receive(**data)


def substantiate(case, actor, reason="Two witnesses confirmed it"):
    from competencies.models import StaffMember
    from competencies.services import Breach, case_substantiate, sector_competencies

    member, _ = StaffMember.objects.get_or_create(unit=case.unit, name="Officer K.")
    competency = sector_competencies(case.unit).first()
    return case_substantiate(
        case=case,
        actor=actor,
        staff_member=member,
        reason=reason,
        breaches=[Breach(competency=competency, facets=("attributes",))],
    )


def walk(case, actor, steps):
    for status, reason in steps:
        if status == S.SUBSTANTIATED:
            substantiate(case, actor, reason)
        else:
            case_transition(case=case, actor=actor, to_status=status, reason=reason)
    case.refresh_from_db()
    return case


@pytest.mark.django_db
def test_each_transition_is_recorded_and_audited(unit, focal_point):
    case = walk(receive(unit).case, focal_point, PATH)
    assert case.status == S.SUBSTANTIATED and case.acknowledged_at and case.decided_at
    events = list(CaseEvent.objects.filter(case=case).values_list("from_status", "to_status"))
    assert events == [
        ("", "received"),
        ("received", "acknowledged"),
        ("acknowledged", "assessing"),
        ("assessing", "investigating"),
        ("investigating", "substantiated"),
    ]
    assert CaseEvent.objects.get(to_status=S.SUBSTANTIATED).actor == focal_point
    assert AuditEvent.objects.filter(action="complaints.case.transitioned").count() == 4
    assert AuditEvent.objects.filter(action="competencies.retraining.assigned").count() == 1
    assert audit_verify()[1] == []


@pytest.mark.django_db
@pytest.mark.parametrize("start", [s for s in S.values if s != S.RECEIVED])
def test_every_transition_not_in_the_lifecycle_is_refused(unit, focal_point, start):
    case = receive(unit).case
    Case.objects.filter(pk=case.pk).update(status=start)
    case.refresh_from_db()
    for target in S.values:
        if target in TRANSITIONS[start] and target != S.SUBSTANTIATED:
            continue
        with pytest.raises(TransitionRefused):
            case_transition(case=case, actor=focal_point, to_status=target, reason="r")
    assert Case.objects.get(pk=case.pk).status == start


@pytest.mark.django_db
def test_a_decision_needs_a_reason(unit, focal_point):
    case = walk(receive(unit).case, focal_point, PATH[:3])
    with pytest.raises(TransitionRefused, match="reason"):
        case_transition(case=case, actor=focal_point, to_status=S.UNSUBSTANTIATED, reason="  ")


@pytest.mark.django_db
def test_the_child_reads_each_step_on_the_followup_page_in_their_language(
    client, unit, focal_point
):
    client.cookies["django_language"] = "es"
    response = client.post(
        reverse("intake:complaint_form", args=[unit.code]),
        {
            "narrative": "Me pegaron.",
            "category": "physical_violence",
            "in_danger": "no",
            "about_staff": "yes",
            "contact_preference": "follow_up_page",
            "contact_detail": "",
        },
    )
    reference, code = receipt_from(response)
    case = walk(Case.objects.get(), focal_point, PATH)
    bodies = child_sees(case)
    assert len(bodies) == 2  # acknowledged, then the decision
    assert "leyó tu queja" in bodies[0]
    assert case.outcome_told_at is None  # posted, not yet read

    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    client.get(reverse("intake:followup_case"))
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    event = case_transition(
        case=case, actor=focal_point, to_status=S.CLOSED, reason="Retraining assigned"
    )
    assert Case.objects.get(pk=case.pk).closed_at
    assert "not read yet" not in event.reason


@pytest.mark.django_db
def test_an_sms_child_is_told_by_sms_and_told_once_sent(sms, unit, focal_point):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    case = walk(Case.objects.get(), focal_point, PATH)
    outbound = list(OutboundSms.objects.order_by("created_at"))
    assert [o.carries_outcome for o in outbound] == [False, True]
    for o in outbound:
        sms_deliver(o.pk)
    assert "has read it" in locmem.outbox[0]["body"]
    assert locmem.outbox[1]["body"].startswith(
        f"{case.display_reference}: we found that it happened"
    )
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")


@pytest.mark.django_db
@pytest.mark.parametrize("preference", ["none", "follow_up_page"])
def test_a_page_only_child_case_closes_once_the_outcome_is_on_the_page(
    unit, focal_point, preference
):
    case = walk(receive(unit, contact_preference=preference).case, focal_point, PATH)
    assert case.outcome_told_at is None
    event = case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")
    # The record says the child has not read it: compliance counts them as not told.
    assert "[closed with the outcome on the follow-up page, not read yet]" in event.reason
    assert Case.objects.get(pk=case.pk).outcome_told_at is None


@pytest.mark.django_db
def test_focal_point_moves_a_case_from_its_page_and_outsider_cannot(
    staff_client, unit, focal_point, outsider
):
    case = receive(unit).case
    client = staff_client(focal_point)
    page = client.get(reverse("staff:case", args=[case.reference])).content.decode()
    assert 'value="acknowledged"' in page and 'value="closed"' not in page
    client.post(reverse("staff:case_status", args=[case.reference]), {"to_status": "acknowledged"})
    assert Case.objects.get().status == S.ACKNOWLEDGED
    client.post(reverse("staff:case_status", args=[case.reference]), {"to_status": "closed"})
    assert Case.objects.get().status == S.ACKNOWLEDGED  # not an allowed step: refused
    client.logout()
    other = staff_client(outsider)
    for name in ("staff:case", "staff:case_status"):
        assert (
            other.post(reverse(name, args=[case.reference]), {"to_status": "withdrawn"}).status_code
            == 404
        )
    assert Case.objects.get().status == S.ACKNOWLEDGED


@pytest.mark.django_db
def test_case_page_renders_at_every_step(staff_client, unit, focal_point):
    from competencies.models import StaffMember

    StaffMember.objects.create(unit=unit, name="Officer K.")
    case = receive(unit).case
    client = staff_client(focal_point)
    url = reverse("staff:case", args=[case.reference])
    seen = {}
    for status, reason in [(None, ""), *PATH, (S.CLOSED, "Done")]:
        if status == S.CLOSED:
            Case.objects.filter(pk=case.pk).update(outcome_told_at=timezone.now())
        if status:
            walk(case, focal_point, [(status, reason)])
        html = client.get(url).content.decode()
        seen[status] = html
        assert "What the child wrote" in html and "Why is this case here?" in html
    assert "Substantiate against a staff member" in seen[S.INVESTIGATING]
    assert "refer-title" in seen[S.ASSESSING]
    assert 'value="acknowledged"' in seen[None] and "transition-form" not in seen[S.CLOSED]


@pytest.mark.django_db
def test_only_the_child_withdraws_a_complaint(staff_client, unit, focal_point, file_complaint):
    from complaints.lifecycle import TransitionRefused, allowed_transitions, case_transition

    file_complaint(unit)
    case = Case.objects.get()
    assert "withdrawn" not in allowed_transitions(case)
    with pytest.raises(TransitionRefused, match="Only the child can withdraw"):
        case_transition(
            case=case, actor=focal_point, to_status="withdrawn", reason="Asked by phone"
        )
    page = staff_client(focal_point).post(
        reverse("staff:case_status", args=[case.reference]),
        {"to_status": "withdrawn", "reason": "x"},
        follow=True,
    )
    assert Case.objects.get().status == "received"
    assert 'value="withdrawn"' not in page.content.decode()
