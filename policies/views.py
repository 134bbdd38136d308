"""Unit managers keep their unit's child protection policy: edit a draft, publish it,
print the poster and leaflet that tell children about it."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from access.cases import managed_unit, member_unit
from access.staff import verified_staff_required
from policies.forms import PolicyDraftForm, StaffLanguageForm
from policies.models import ChildProtectionPolicy, Membership
from policies.selectors import poster_print_status, unit_current_policy
from policies.services import (
    PolicyError,
    policy_draft_get_or_create,
    policy_problems,
    policy_publish,
    poster_print_record,
    staff_language_set,
)
from policies.staff_locale import staff_locale_for
from vault.keys import ApprovalRefused, reader_approve, readers_waiting


@verified_staff_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, code: str):
    unit = managed_unit(request.user, code)
    draft = ChildProtectionPolicy.objects.filter(unit=unit, published_at__isnull=True).first()
    form = None
    if draft:
        form = PolicyDraftForm(request.POST or None, policy=draft)
        if request.method == "POST" and form.is_valid():
            form.apply_to(draft)
            draft.save()
            messages.success(
                request, _("Draft version %(version)s saved.") % {"version": draft.version}
            )
            return redirect("policies:edit", code=unit.code)
    current = unit_current_policy(unit)
    context = {
        "unit": unit,
        "current": current,
        "posters": poster_print_status(unit=unit, policy=current) if current else [],
        "draft": draft,
        "form": form,
        "problems": policy_problems(draft) if draft else [],
        "versions": ChildProtectionPolicy.objects.filter(unit=unit).order_by("-version"),
    }
    return render(request, "policies/policy_edit.html", context)


@verified_staff_required
@require_POST
def policy_new_draft(request, code: str):
    unit = managed_unit(request.user, code)
    policy_draft_get_or_create(unit=unit)
    return redirect("policies:edit", code=unit.code)


@verified_staff_required
@require_POST
def policy_publish_view(request, code: str):
    unit = managed_unit(request.user, code)
    draft = ChildProtectionPolicy.objects.filter(unit=unit, published_at__isnull=True).first()
    if draft is None:
        raise Http404("No draft.")
    try:
        policy_publish(policy=draft, actor=request.user)
    except PolicyError as error:
        messages.error(request, _("Not published: %(why)s") % {"why": error})
    else:
        messages.success(
            request,
            _("Version %(version)s is published. New cases follow it.")
            % {"version": draft.version},
        )
    return redirect("policies:edit", code=unit.code)


@verified_staff_required
@require_POST
def poster_print(request, code: str, kind: str):
    """Record the print, then open the public sheet to print from. Recording here, not
    on the public page, keeps anonymous visits from writing anything."""
    unit = managed_unit(request.user, code)
    try:
        poster_print_record(unit=unit, kind=kind, actor=request.user)
    except PolicyError as error:
        messages.error(request, _("Not printed: %(why)s") % {"why": error})
        return redirect("policies:edit", code=unit.code)
    url = reverse(f"intake:{kind}", args=[unit.code])
    language = request.POST.get("lang", "")
    if language in dict(settings.LANGUAGES):
        url += f"?lang={language}"
    return redirect(url)


@verified_staff_required
@require_http_methods(["GET", "POST"])
def readers(request, code: str):
    """New focal points waiting to read the unit's earlier cases; a manager of the unit
    or a focal point who already reads them approves (never the person themselves)."""
    # Managers and focal points of the unit see who waits to read.
    unit = member_unit(request.user, code, roles=Membership.Role.values)
    if request.method == "POST":
        reader = get_user_model().objects.filter(pk=request.POST.get("reader") or 0).first()
        if reader is None:
            messages.error(request, _("Choose who to approve."))
            return redirect("policies:readers", code=unit.code)
        try:
            reader_approve(unit=unit, reader=reader, approver=request.user)
        except ApprovalRefused as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _(
                    "%(person)s can read %(unit_code)s's earlier cases once a "
                    "holder of their keys signs in."
                )
                % {"person": reader.get_username(), "unit_code": unit.code},
            )
        return redirect("policies:readers", code=unit.code)
    return render(
        request, "policies/readers.html", {"unit": unit, "waiting": readers_waiting(unit=unit)}
    )


@verified_staff_required
@require_POST
def staff_language(request):
    """The person's own language for staff pages, notices and email (blank: their
    unit's). Saved on their profile, not in the browser's language cookie, which is
    the child's choice on a shared computer."""
    form = StaffLanguageForm(request.POST)
    if form.is_valid():
        staff_language_set(user=request.user, language=form.cleaned_data["language"])
        # Said in the language just chosen, which the next page is in.
        with translation.override(staff_locale_for(request.user).language):
            messages.success(request, _("Language saved."))
    else:
        messages.error(request, _("Choose one of the languages offered."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("staff:queue")
    return redirect(target)
