"""The child's answer to "Is this about someone who works there?" is kept as given (yes,
no, not sure) and routed under the policy's rule for "yes" and for "not sure"; the
reasons say why (issue 14 §2)."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from complaints.models import Case, CaseExclusion
from complaints.services import complaint_receive
from notifications.models import Notification
from notifications.services import notification_deliver
from policies.models import ChildProtectionPolicy, Membership, Unit
from policies.routing import FocalPoint, StaffSnapshot, route
from tests.conftest import make_staff, make_unit, receipt_from, staff_reads
from vault.cases import CaseLocked

Rule = ChildProtectionPolicy.AboutStaffRule
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STORY = "Sergeant Koné took my phone and shouted at me. canary-about-staff-41"

STAFF = StaffSnapshot(
    unit_id=1,
    focal_points=(FocalPoint(user_id=10), FocalPoint(user_id=11, is_backup=True)),
    manager_ids=(20,),
    oversight_unit_id=2,
    oversight_focal_points=(FocalPoint(user_id=30),),
)


def set_rules(unit, *, yes=Rule.USUAL, unsure=Rule.USUAL, oversight=None):
    ChildProtectionPolicy.objects.filter(unit=unit).update(
        about_staff_yes_rule=yes,
        about_staff_unsure_rule=unsure,
        **({"oversight_unit": oversight} if oversight else {}),
    )
    return ChildProtectionPolicy.objects.select_related("unit").get(unit=unit)


def decide(policy, answer, staff=STAFF):
    return route(
        policy=policy,
        category="neglect",
        in_danger=False,
        received_at=NOW,
        staff=staff,
        about_staff_answer=answer,
    )


# --- route(), pure -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["no", ""])
def test_no_and_not_asked_follow_no_rule(unit, answer):
    policy = set_rules(unit, yes=Rule.OVERSIGHT, unsure=Rule.OVERSIGHT)
    decision = decide(policy, answer)
    assert (decision.handling_unit_id, decision.assignee_id) == (unit.pk, 10)
    assert decision.about_staff_rule == "" and decision.manager_notice_ids == ()
    assert not any("works there" in r for r in decision.reasons)


@pytest.mark.django_db
def test_route_as_usual_tells_nobody_else(unit):
    decision = decide(set_rules(unit, yes=Rule.USUAL), "yes")
    assert decision.assignee_id == 10 and decision.manager_notice_ids == ()
    assert any(
        "says it is about someone who works there" in r and "routed as usual" in r
        for r in decision.reasons
    )


@pytest.mark.django_db
def test_as_usual_and_tell_the_manager(unit):
    decision = decide(set_rules(unit, unsure=Rule.USUAL_TELL_MANAGER), "unsure")
    assert decision.assignee_id == 10 and decision.manager_notice_ids == (20,)
    assert decision.policy_excluded_ids == ()
    assert any("not sure" in r and "manager is told" in r for r in decision.reasons)


@pytest.mark.django_db
def test_backups_only_keeps_every_primary_focal_point_away(unit):
    decision = decide(set_rules(unit, yes=Rule.BACKUPS_TELL_MANAGER), "yes")
    assert decision.assignee_id == 11
    assert decision.policy_excluded_ids == (10,) and 10 in decision.excluded_ids
    assert decision.manager_notice_ids == (20,)
    assert any("only backup focal points" in r for r in decision.reasons)
    assert decision.as_record()["policy_excluded_ids"] == [10]


@pytest.mark.django_db
def test_backups_only_without_a_backup_goes_to_the_oversight_unit(unit):
    no_backup = StaffSnapshot(
        unit_id=1,
        focal_points=(FocalPoint(user_id=10),),
        manager_ids=(20,),
        oversight_unit_id=2,
        oversight_focal_points=(FocalPoint(user_id=30),),
    )
    decision = decide(set_rules(unit, yes=Rule.BACKUPS_TELL_MANAGER), "yes", staff=no_backup)
    assert (decision.handling_unit_id, decision.assignee_id) == (2, 30)


@pytest.mark.django_db
def test_the_oversight_rule_sends_it_outside_the_unit_and_tells_no_manager(unit):
    decision = decide(set_rules(unit, unsure=Rule.OVERSIGHT), "unsure")
    assert (decision.handling_unit_id, decision.assignee_id) == (2, 30)
    assert decision.manager_notice_ids == ()  # it may be about the manager
    assert any("goes to the oversight unit" in r for r in decision.reasons)


@pytest.mark.django_db
def test_the_oversight_rule_without_an_oversight_unit_routes_as_usual_and_says_so(unit):
    policy = set_rules(unit, yes=Rule.OVERSIGHT)
    alone = StaffSnapshot(unit_id=1, focal_points=STAFF.focal_points, manager_ids=(20,))
    decision = decide(policy, "yes", staff=alone)
    assert (decision.handling_unit_id, decision.assignee_id) == (unit.pk, 10)
    assert decision.manager_notice_ids == (20,)
    assert any("names none" in r for r in decision.reasons)


# --- Intake keeps the answer and routes it ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["yes", "no", "unsure"])
def test_the_web_form_keeps_all_three_answers(file_complaint, unit, focal_point, answer):
    response = file_complaint(unit, about_staff=answer)
    reference, _code = receipt_from(response)
    case = Case.objects.get(reference=reference.replace("-", ""))
    assert case.about_staff_answer == answer


@pytest.mark.django_db
def test_an_unknown_answer_is_refused_with_the_childs_words_kept(file_complaint, unit, focal_point):
    response = file_complaint(unit, about_staff="maybe", narrative=STORY)
    assert response.status_code == 400 and not Case.objects.exists()
    page = response.content.decode()
    assert "Please answer yes, no or I am not sure." in page and STORY in page


@pytest.mark.django_db
def test_an_sms_case_says_the_question_was_not_asked(sms, unit, focal_point, staff_client):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    case = Case.objects.get()
    assert case.about_staff_answer == ""
    page = (
        staff_client(focal_point).get(reverse("staff:case", args=[case.reference])).content.decode()
    )
    assert "Not asked: the SMS conversation does not ask it." in page


@pytest.mark.django_db
def test_a_complaint_receive_caller_must_give_an_answer_not_a_boolean(unit, focal_point):
    with pytest.raises(ValueError):
        complaint_receive(
            unit=unit,
            channel="web",
            language="en",
            narrative="x",
            category="neglect",
            in_danger=False,
            about_staff_answer=True,
            contact_preference="none",
        )


@pytest.fixture
def team(django_user_model, unit, focal_point, manager):
    backup = make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=backup).update(is_backup=True)
    return backup


@pytest.mark.django_db
def test_backups_only_a_primary_cannot_read_and_the_manager_is_told_metadata_only(
    file_complaint, staff_client, unit, focal_point, manager, team
):
    set_rules(unit, yes=Rule.BACKUPS_TELL_MANAGER)
    reference, _code = receipt_from(file_complaint(unit, about_staff="yes", narrative=STORY))
    case = Case.objects.get(reference=reference.replace("-", ""))
    assert case.assignee == team and staff_reads(case, team).narrative == STORY
    assert CaseExclusion.objects.filter(case=case, user=focal_point, reason="policy").exists()
    with pytest.raises(CaseLocked):
        staff_reads(case, focal_point)
    client = staff_client(focal_point)
    assert client.get(reverse("staff:case", args=[case.reference])).status_code == 404
    assert not Notification.objects.filter(case=case, recipient=focal_point).exists()
    # The reasons say why, to whoever reads the case.
    page = staff_client(team).get(reverse("staff:case", args=[case.reference])).content.decode()
    assert "only backup focal points handle it" in page
    notice = Notification.objects.get(case=case, recipient=manager)
    assert notice.kind == Notification.Kind.ABOUT_STAFF
    mail.outbox.clear()
    notification_deliver(notice.pk)
    body = mail.outbox[0].subject + mail.outbox[0].body
    assert case.display_reference in body and "TST1" in body and "resolved by" in body
    assert "canary-about-staff-41" not in body and "Koné" not in body


@pytest.mark.django_db
def test_a_reroute_keeps_the_policy_rule(unit, focal_point, manager, team):
    from complaints.triage import case_reroute

    set_rules(unit, unsure=Rule.BACKUPS_TELL_MANAGER)
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=STORY,
        category="neglect",
        in_danger=False,
        about_staff_answer="unsure",
        contact_preference="none",
    ).case
    case = case_reroute(case=case, actor=team, why="test")
    assert case.assignee == team
    assert focal_point.pk in case.routing["excluded_ids"]


@pytest.mark.django_db
def test_the_oversight_rule_hands_the_case_to_the_oversight_unit(
    staff_client, django_user_model, unit, focal_point, manager
):
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    set_rules(unit, yes=Rule.OVERSIGHT, oversight=oversight)
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=STORY,
        category="neglect",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case
    assert case.handling_unit == oversight and case.assignee == ombud
    assert staff_reads(case, ombud).narrative == STORY
    with pytest.raises(CaseLocked):
        staff_reads(case, focal_point)
    assert (
        staff_client(focal_point).get(reverse("staff:case", args=[case.reference])).status_code
        == 404
    )
    assert not Notification.objects.filter(case=case, recipient=manager).exists()


# --- The policy page and what a child is told ------------------------------------------------


@pytest.mark.django_db
def test_a_manager_sets_the_rules_on_a_new_draft_not_on_the_published_version(
    staff_client, unit, manager
):
    from policies.services import policy_draft_get_or_create, policy_problems

    published = ChildProtectionPolicy.objects.get(unit=unit)
    draft = policy_draft_get_or_create(unit=unit)
    client = staff_client(manager)
    page = client.get(reverse("policies:edit", args=[unit.code])).content.decode()
    assert 'id="about-staff-rules"' in page and "“Yes”: Route as usual, and tell the unit" in page
    from policies.forms import PolicyDraftForm

    data = {k: v for k, v in PolicyDraftForm(policy=draft).initial.items() if v is not None}
    data["emergency_contacts"] = "Child helpline | 116"
    data["confidentiality_limits"] = ["serious_harm"]
    data.update(
        about_staff_yes_rule=Rule.OVERSIGHT, about_staff_unsure_rule=Rule.BACKUPS_TELL_MANAGER
    )
    response = client.post(reverse("policies:edit", args=[unit.code]), data)
    assert response.status_code == 302, response.content.decode()
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.about_staff_yes_rule, draft.about_staff_unsure_rule) == (
        Rule.OVERSIGHT,
        Rule.BACKUPS_TELL_MANAGER,
    )
    assert published.about_staff_yes_rule == Rule.USUAL_TELL_MANAGER
    # Sending it to an oversight unit the policy does not name cannot be published.
    assert any("oversight unit" in p for p in policy_problems(draft, check_staff=False))


@pytest.mark.django_db
def test_the_child_is_told_where_a_complaint_about_staff_goes(client, unit):
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    Unit.objects.filter(pk=oversight.pk).update(name="National Child Rights Commission")
    set_rules(unit, yes=Rule.OVERSIGHT, unsure=Rule.BACKUPS_TELL_MANAGER, oversight=oversight)
    page = client.get(reverse("intake:complaint_form", args=[unit.code])).content.decode()
    assert (
        "If you answer Yes, your complaint goes to National Child Rights Commission, "
        "outside this place."
    ) in page
    assert "If you answer I am not sure, a different person than usual looks after" in page
    client.cookies["django_language"] = "fr"
    assert client.get(reverse("intake:complaint_form", args=[unit.code])).status_code == 200
