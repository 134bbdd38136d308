"""Managers keep their unit's roster and follow retraining; focal points substantiate."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from competencies.forms import EvaluationForm, StaffMemberForm, SubstantiateForm
from competencies.models import RetrainingAssignment, StaffMember
from competencies.services import case_substantiate, retraining_complete, sector_competencies
from complaints.selectors import case_for_focal_point
from complaints.services import ComplaintError
from complaints.views import verified_staff_required
from policies.views import _managed_unit


@verified_staff_required
@require_http_methods(["GET", "POST"])
def roster(request, code: str):
    unit = _managed_unit(request.user, code)
    member = None
    if request.GET.get("edit"):
        member = get_object_or_404(StaffMember, pk=request.GET["edit"], unit=unit)
    form = StaffMemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.unit = unit
        saved.save()
        messages.success(request, f"{saved.name} saved.")
        return redirect("competencies:roster", code=unit.code)
    members = StaffMember.objects.filter(unit=unit)
    return render(request, "competencies/roster.html",
                  {"unit": unit, "members": members, "form": form, "editing": member})


@verified_staff_required
def retraining(request, code: str):
    unit = _managed_unit(request.user, code)
    assignments = (RetrainingAssignment.objects.filter(staff_member__unit=unit)
                   .select_related("staff_member", "follow_up_of").order_by("status", "due_date"))
    rows = [(a, EvaluationForm(facets=a.facets, prefix=f"a{a.pk}")) for a in assignments]
    return render(request, "competencies/retraining.html",
                  {"unit": unit, "rows": rows, "today": timezone.localdate()})


@verified_staff_required
@require_POST
def retraining_complete_view(request, code: str, pk: int):
    unit = _managed_unit(request.user, code)
    assignment = get_object_or_404(RetrainingAssignment, pk=pk, staff_member__unit=unit)
    form = EvaluationForm(request.POST, facets=assignment.facets, prefix=f"a{assignment.pk}")
    if not form.is_valid():
        messages.error(request, "Rate each facet that was trained.")
    else:
        try:
            follow_up = retraining_complete(assignment=assignment, actor=request.user,
                                            evaluation=form.cleaned_data)
        except ComplaintError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, "Completion recorded." + (
                " A follow-up assignment was opened for the facets below expectations."
                if follow_up else ""))
    return redirect("competencies:retraining", code=unit.code)


def substantiate_form(case, data=None) -> SubstantiateForm:
    return SubstantiateForm(data=data, unit=case.unit, competencies=sector_competencies(case.unit),
                            initial={"staff_member": case.about_staff_member_id})


@verified_staff_required
@require_POST
def case_substantiate_view(request, reference: str):
    case = case_for_focal_point(request.user, reference)
    form = substantiate_form(case, data=request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Pick the staff member and give a reason."))
        return redirect(f"{reverse('staff:case', args=[case.reference])}#handling")
    try:
        case_substantiate(case=case, actor=request.user, staff_member=form.cleaned_data["staff_member"],
                          breaches=form.breaches(), reason=form.cleaned_data["reason"],
                          training_level=form.cleaned_data["training_level"])
    except ComplaintError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, gettext("Substantiated. Retraining is assigned and the manager told."))
    return redirect(f"{reverse('staff:case', args=[case.reference])}#handling")
