"""Managers keep their unit's roster and follow retraining; focal points substantiate."""

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from access.cases import cases_for_focal_point, managed_unit
from access.staff import case_refused, case_url, staff_case_post, verified_staff_required
from competencies.forms import (
    CompetencyEvaluationForm,
    EvaluationForm,
    RegisterUploadForm,
    StaffMemberForm,
    TrainingRecordForm,
    substantiate_form,
)
from competencies.models import RetrainingAssignment, StaffMember
from competencies.records import (
    REGISTER_COLUMNS,
    REGISTER_MAX_LINES,
    RegisterRefused,
    evaluation_add,
    register_template,
    staff_record,
    training_record_add,
    training_register_import,
)
from competencies.selectors import (
    IMPACT_WINDOW_MONTHS,
    MONTH_DAYS,
    capacity_plan,
    impact,
    training_coverage,
)
from competencies.services import (
    case_substantiate,
    linkable_accounts,
    retraining_complete,
    roster_accounts,
    staff_member_link,
    staff_member_unlink,
)
from complaints.services import ComplaintError
from oversight.selectors import SMALL_COUNT
from policies.selectors import unit_time_zone
from vault.session_keys import staff_private_key


@verified_staff_required
@require_http_methods(["GET", "POST"])
def roster(request, code: str):
    unit = managed_unit(request.user, code)
    member = None
    if request.GET.get("edit"):
        member = get_object_or_404(StaffMember, pk=request.GET["edit"], unit=unit)
    form = StaffMemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.unit = unit
        saved.save()
        messages.success(request, _("%(name)s saved.") % {"name": saved.name})
        return redirect("competencies:roster", code=unit.code)
    members = StaffMember.objects.filter(unit=unit).select_related("user")
    return render(
        request,
        "competencies/roster.html",
        {
            "unit": unit,
            "members": members,
            "form": form,
            "editing": member,
            "accounts": list(linkable_accounts(unit)),
        },
    )


@verified_staff_required
@require_POST
def roster_link(request, code: str, pk: int):
    """Link a roster entry to the person's staff account, or unlink it."""
    unit = managed_unit(request.user, code)
    member = get_object_or_404(StaffMember, pk=pk, unit=unit)
    if request.POST.get("unlink"):
        staff_member_unlink(staff_member=member, actor=request.user)
        messages.success(
            request,
            _(
                "%(name)s is no longer linked to a staff account. Cases they "
                "were kept away from stay closed to that account."
            )
            % {"name": member.name},
        )
        return redirect("competencies:roster", code=unit.code)
    account = roster_accounts(unit).filter(pk=request.POST.get("user") or 0).first()
    if account is None:
        messages.error(
            request,
            _("Choose a staff account of this unit to link %(name)s to.") % {"name": member.name},
        )
        return redirect("competencies:roster", code=unit.code)
    try:
        staff_member_link(staff_member=member, user=account, actor=request.user)
    except ComplaintError as error:
        messages.error(request, str(error.message))
        return redirect("competencies:roster", code=unit.code)
    messages.success(
        request,
        _(
            "%(name)s is linked to the account %(account)s: complaints about "
            "them never reach that account."
        )
        % {"name": member.name, "account": account.get_username()},
    )
    return redirect("competencies:roster", code=unit.code)


@verified_staff_required
def retraining(request, code: str):
    unit = managed_unit(request.user, code)
    assignments = (
        RetrainingAssignment.objects.filter(staff_member__unit=unit)
        .select_related("staff_member", "follow_up_of")
        .order_by("status", "due_date")
    )
    rows = [(a, EvaluationForm(facets=a.facets, prefix=f"a{a.pk}")) for a in assignments]
    return render(
        request,
        "competencies/retraining.html",
        {"unit": unit, "rows": rows, "today": timezone.localdate()},
    )


@verified_staff_required
@require_POST
def retraining_complete_view(request, code: str, pk: int):
    unit = managed_unit(request.user, code)
    assignment = get_object_or_404(RetrainingAssignment, pk=pk, staff_member__unit=unit)
    form = EvaluationForm(request.POST, facets=assignment.facets, prefix=f"a{assignment.pk}")
    if not form.is_valid():
        messages.error(
            request, _("Nothing was recorded: choose a rating for each facet that was trained.")
        )
    else:
        try:
            follow_up = retraining_complete(
                assignment=assignment, actor=request.user, evaluation=form.cleaned_data
            )
        except ComplaintError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(
                request,
                _(
                    "Completion recorded. A follow-up assignment was opened for "
                    "the facets below expectations."
                )
                if follow_up
                else _("Completion recorded."),
            )
    return redirect("competencies:retraining", code=unit.code)


@staff_case_post
def case_substantiate_view(request, case):
    form = substantiate_form(case, data=request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick the staff member and give a reason."))
        return redirect(case_url(case, "handling"))
    try:
        case_substantiate(
            case=case,
            actor=request.user,
            staff_member=form.cleaned_data["staff_member"],
            breaches=form.breaches(),
            reason=form.cleaned_data["reason"],
            training_level=form.cleaned_data["training_level"],
            private_key=staff_private_key(request),
        )
    except ComplaintError as error:
        return case_refused(request, case, error, "handling")
    messages.success(request, _("Substantiated. Retraining is assigned and the manager told."))
    if not cases_for_focal_point(request.user).filter(pk=case.pk).exists():
        # Substantiated against the actor's own linked account: the case was routed
        # away from them, its page is closed to them now (as after "whom is it about").
        messages.info(
            request,
            _("Case %(reference)s was routed away from you.")
            % {"reference": case.display_reference},
        )
        return redirect("staff:queue")
    return redirect(case_url(case, "handling"))


@verified_staff_required
def plan(request, code: str):
    """The unit's capacity-building plan: on screen, printed, or as CSV (?format=csv)."""
    unit = managed_unit(request.user, code)
    now = timezone.now()
    the_plan = capacity_plan(unit=unit, today=now.astimezone(unit_time_zone(unit)).date())
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="recourse-plan-{unit.code}-{the_plan.today.isoformat()}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(the_plan.csv_header())
        writer.writerows(the_plan.csv_rows())
        return response
    return render(request, "competencies/plan.html", {"unit": unit, "plan": the_plan, "now": now})


@verified_staff_required
def impact_view(request, code: str):
    """Breaches before and after training, repeats after retraining, and the twelve
    months' training coverage beside deadlines met and outcomes told."""
    unit = managed_unit(request.user, code)
    now = timezone.now()
    return render(
        request,
        "competencies/impact.html",
        {
            "unit": unit,
            "impact": impact(unit=unit, today=now.astimezone(unit_time_zone(unit)).date()),
            "coverage": training_coverage(units=[unit], now=now)[0],
            "window_months": IMPACT_WINDOW_MONTHS,
            "month_days": MONTH_DAYS,
            "small_count": SMALL_COUNT,
        },
    )


@verified_staff_required
@require_http_methods(["GET", "POST"])
def staff_record_view(request, code: str, pk: int):
    """One roster member's record: training, evaluations and retraining. A manager adds
    a training or an evaluation here."""
    unit = managed_unit(request.user, code)
    member = get_object_or_404(StaffMember, pk=pk, unit=unit)
    posted = request.POST.get("add")
    training_form = TrainingRecordForm(request.POST if posted == "training" else None, unit=unit)
    evaluation_form = CompetencyEvaluationForm(
        request.POST if posted == "evaluation" else None, unit=unit
    )
    if posted == "training" and training_form.is_valid():
        training_record_add(member=member, actor=request.user, **training_form.cleaned_data)
        messages.success(request, _("Training recorded for %(name)s.") % {"name": member.name})
        return redirect("competencies:staff_record", code=unit.code, pk=member.pk)
    if posted == "evaluation" and evaluation_form.is_valid():
        evaluation_add(member=member, actor=request.user, **evaluation_form.cleaned_data)
        messages.success(request, _("Evaluation recorded for %(name)s.") % {"name": member.name})
        return redirect("competencies:staff_record", code=unit.code, pk=member.pk)
    return render(
        request,
        "competencies/staff_record.html",
        {
            "unit": unit,
            "record": staff_record(member),
            "training_form": training_form,
            "evaluation_form": evaluation_form,
        },
        status=400 if posted else 200,
    )


@verified_staff_required
@require_http_methods(["GET", "POST"])
def register_import(request, code: str):
    """The unit's training register from a CSV file: all of it, or nothing."""
    unit = managed_unit(request.user, code)
    if request.GET.get("template"):
        response = HttpResponse(register_template(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="training-register.csv"'
        return response
    form = RegisterUploadForm(request.POST or None, request.FILES or None)
    result, refused = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            result = training_register_import(
                unit=unit, data=form.cleaned_data["register"].read(), actor=request.user
            )
        except RegisterRefused as error:
            refused = str(error)
        if result is not None and not result.errors:
            imported = ngettext(
                "%(count)d training imported.", "%(count)d trainings imported.", result.created
            ) % {"count": result.created}
            already = ngettext(
                "%(count)d was already recorded.",
                "%(count)d were already recorded.",
                result.already_there,
            ) % {"count": result.already_there}
            messages.success(request, f"{imported} {already}")
            return redirect("competencies:register_import", code=unit.code)
    failed = request.method == "POST" and (refused or not form.is_valid() or result.errors)
    return render(
        request,
        "competencies/register_import.html",
        {
            "unit": unit,
            "form": form,
            "result": result,
            "refused": refused,
            "columns": REGISTER_COLUMNS,
            "max_lines": REGISTER_MAX_LINES,
        },
        status=400 if failed else 200,
    )
