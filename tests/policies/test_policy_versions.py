import pytest
from django.urls import reverse

from complaints.services import complaint_receive
from policies.models import ChildProtectionPolicy, Membership
from policies.services import PolicyError, policy_draft_get_or_create, policy_publish
from tests.conftest import make_staff


@pytest.fixture
def backup(django_user_model, unit):
    user = make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=user).update(is_backup=True)
    return user


def receive(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="x",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


@pytest.mark.django_db
def test_a_published_version_is_never_edited(unit):
    policy = ChildProtectionPolicy.objects.get(unit=unit)
    policy.retention_days = 1
    with pytest.raises(ValueError, match="cannot be changed"):
        policy.save()


@pytest.mark.django_db
def test_new_version_keeps_old_cases_on_their_version(unit, focal_point, backup, manager):
    old_case = receive(unit)
    draft = policy_draft_get_or_create(unit=unit)
    assert draft.version == 2 and draft.published_at is None
    assert policy_draft_get_or_create(unit=unit) == draft  # one draft at a time
    draft.categories["neglect"] = "urgent"
    draft.save()
    policy_publish(policy=draft, actor=manager)
    new_case = receive(unit)
    assert (old_case.policy.version, old_case.urgency) == (1, "standard")
    assert (new_case.policy.version, new_case.urgency) == (2, "urgent")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "problem, expected",
    [
        ("no_focal_point", "no active focal point"),
        ("no_backup", "no backup focal point"),
        ("no_deadline", "No resolve deadline for urgent cases"),
    ],
)
def test_publishing_is_refused_with_a_clear_message(
    unit, focal_point, backup, manager, problem, expected
):
    if problem == "no_focal_point":
        Membership.objects.filter(user=focal_point).update(is_active=False)
    if problem == "no_backup":
        Membership.objects.filter(user=backup).update(is_backup=False)
    draft = policy_draft_get_or_create(unit=unit)
    if problem == "no_deadline":
        del draft.deadlines["urgent"]["resolve"]
        draft.save()
    with pytest.raises(PolicyError, match=expected):
        policy_publish(policy=draft, actor=manager)
    draft.refresh_from_db()
    assert draft.published_at is None


@pytest.mark.django_db
def test_manager_edits_and_publishes_from_the_staff_pages(
    staff_client, unit, focal_point, backup, manager
):
    client = staff_client(manager)
    url = reverse("policies:edit", args=[unit.code])
    assert "Start a new draft" in client.get(url).content.decode()
    client.post(reverse("policies:new_draft", args=[unit.code]))
    page = client.get(url)
    form = page.context["form"]
    data = {
        name: ("" if value is None else getattr(value, "pk", value))
        for name, value in form.initial.items()
    }
    data.update({"cat_neglect": "emergency", "dl_standard_acknowledge": "48"})
    assert client.post(url, data).status_code == 302
    draft = ChildProtectionPolicy.objects.get(unit=unit, version=2)
    assert (
        draft.categories["neglect"] == "emergency"
        and draft.deadlines["standard"]["acknowledge"] == 48
    )
    client.post(reverse("policies:publish", args=[unit.code]))
    draft.refresh_from_db()
    assert draft.published_at is not None


@pytest.mark.django_db
def test_only_the_units_manager_reaches_its_policy(staff_client, unit, focal_point, outsider):
    for user in (focal_point,):
        client = staff_client(user)
        assert client.get(reverse("policies:edit", args=[unit.code])).status_code == 404
        assert client.post(reverse("policies:new_draft", args=[unit.code])).status_code == 404
    assert not ChildProtectionPolicy.objects.filter(published_at__isnull=True).exists()


@pytest.mark.django_db
def test_admin_publishes_a_draft_or_says_why_not(
    client, django_user_model, unit, focal_point, backup
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import PASSWORD, staff_login

    admin_user = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    staff_login(client, admin_user)
    draft = policy_draft_get_or_create(unit=unit)
    client.post(
        "/admin/policies/childprotectionpolicy/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.published_at is not None
