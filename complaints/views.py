"""Staff pages: password, then a TOTP code, then the triage queue."""

import base64
import dataclasses
import uuid

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.cases import (
    case_for_focal_point,
    case_for_manager,
    cases_for_focal_point,
    escalated_to_manager,
    manages_a_unit,
)
from access.staff import case_refused, case_url, staff_case_post, verified_staff_required
from competencies.forms import substantiate_form
from competencies.models import StaffMember
from complaints.audit import audit_record
from complaints.forms import (
    AboutWhomForm,
    AssignForm,
    LegalHoldForm,
    NoteForm,
    QueueFilterForm,
    ReferForm,
    ReplyForm,
    TokenForm,
    TransitionForm,
)
from complaints.lifecycle import (
    TransitionRefused,
    allowed_transitions,
    case_told_by_phone,
    case_transition,
)
from complaints.models import Case, Message
from complaints.referral import case_refer
from complaints.reply_templates import compose_reply
from complaints.retention import LegalHoldError, legal_hold_lift, legal_hold_set
from complaints.selectors import (
    QueueFilters,
    queue_cases,
    with_queue_markers,
)
from complaints.services import (
    ComplaintError,
    ReplyAlreadySent,
    case_note,
    case_opened,
    case_reply,
    reply_sms_cost,
    reply_sms_frame,
)
from complaints.signin import (
    TokenCheck,
    signin_attempt_failed,
    signin_attempt_start,
    signin_attempt_succeeded,
    totp_verify,
)
from complaints.triage import case_mark_about_staff, case_reassign, case_recuse, eligible_assignees
from config.middleware import client_address
from intake.selectors import case_media, case_media_item
from notifications import gsm
from policies.categories import formal_label
from policies.models import Membership
from policies.selectors import units_open_to_reporters
from policies.staff_locale import staff_locale_for, staff_locale_override
from vault import session_keys
from vault.cases import CaseLocked, case_contact_for_staff, case_content_for_staff
from vault.keys import (
    case_access_requested,
    readers_waiting,
    staff_key_rewrap,
    staff_private_key_open,
)
from vault.media import media_for_staff

QUEUE_PAGE_SIZE = 25


def staff_landing_url(user) -> str:
    """Where signing in leads when no particular page was asked for. Someone who only
    manages units lands on their units' compliance summary (their queue is always
    empty); anyone who is also a focal point lands on the queue, where deadlines run in
    hours, with the compliance review one link away."""
    roles = set(
        Membership.objects.filter(user=user, is_active=True, unit__is_active=True).values_list(
            "role", flat=True
        )
    )
    if roles == {Membership.Role.MANAGER}:
        return reverse("oversight:compliance")
    return reverse("staff:queue")


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # The bare staff address (the default after the password step) asks for no page.
    if (
        target
        and target != reverse("staff:queue")
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return target
    return staff_landing_url(request.user)


class LoginView(auth_views.LoginView):
    """Password step. The password also unlocks the person's private key, which is
    re-wrapped for this session only: the key to it in a Strict cookie, the blob in the
    server-side session."""

    template_name = "staff/login.html"
    redirect_authenticated_user = False

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        username, password = request.POST.get("username", ""), request.POST.get("password", "")
        if not (username and password):
            return self.form_invalid(form)  # nothing to check: "required" errors only
        # Counted before the password is checked; past a limit it is not checked at all.
        attempt = signin_attempt_start(username=username, address=client_address(request))
        if not attempt.allowed:
            response = self.render_to_response(
                self.get_context_data(form=form, refusal=attempt.refusal), status=429
            )
            response["Retry-After"] = str(attempt.retry_after_seconds)
            return response
        if form.is_valid():
            signin_attempt_succeeded(attempt=attempt)
            return self.form_valid(form)
        signin_attempt_failed(attempt=attempt, username=username)
        return self.form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        private, renewed = staff_private_key_open(
            user=form.get_user(), password=form.cleaned_data["password"]
        )
        session_keys.store(self.request, response, session_keys.STAFF, private)
        if renewed:
            # The person is known now: said in their language (StaffLocaleMiddleware saw
            # nobody signed in when this request began).
            with staff_locale_override(staff_locale_for(form.get_user())):
                messages.warning(
                    self.request,
                    _(
                        "Your password was reset, so you have a new key. Cases you could read before "
                        "stay closed to you until a colleague signs in or the unit's recovery key is "
                        "used."
                    ),
                )
        return response


def _check_token(device: TOTPDevice, form: TokenForm) -> bool:
    """Verify a code, honouring django-otp's throttle on repeated failures."""
    result = totp_verify(device=device, token=form.cleaned_data["token"])
    if result is TokenCheck.THROTTLED:
        form.add_error("token", _("Too many wrong codes. Wait a little, then try again."))
    elif result is TokenCheck.WRONG:
        form.add_error(
            "token", _("That code did not match. Check the time on your phone and try again.")
        )
    return result is TokenCheck.VERIFIED


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def verify(request):
    """Second step of the login: a code from the person's authenticator."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("staff:login"))
    if request.user.is_verified():
        return redirect(_safe_next(request))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect(f"{reverse('staff:enroll')}?next={_safe_next(request)}")
    form = TokenForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_token(device, form):
        otp_login(request, device)
        request.session.cycle_key()  # a new session id for the fully signed-in session
        audit_record(action="staff.login.verified", actor=request.user)
        return redirect(_safe_next(request))
    return render(request, "staff/verify.html", {"form": form, "next": _safe_next(request)})


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def enroll(request):
    """First login: add an authenticator from a QR code, prove it with one code."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("staff:login"))
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        # Only a verified session may change an enrolled factor (not built yet).
        return redirect(f"{reverse('staff:verify')}?next={_safe_next(request)}")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator"}
    )
    form = TokenForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_token(device, form):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        request.session.cycle_key()
        audit_record(action="staff.otp.enrolled", actor=request.user)
        messages.success(request, _("Your authenticator is set up."))
        return redirect(_safe_next(request))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    context = {
        "form": form,
        "qr_svg": qr_svg,
        "secret": _base32(device),
        "next": _safe_next(request),
    }
    return render(request, "staff/enroll.html", context)


def _base32(device: TOTPDevice) -> str:

    return base64.b32encode(device.bin_key).decode().rstrip("=")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Changing a password re-wraps the private key: every case stays readable."""

    template_name = "staff/password_change.html"

    def form_valid(self, form):
        staff_key_rewrap(
            user=self.request.user,
            old_password=form.cleaned_data["old_password"],
            new_password=form.cleaned_data["new_password1"],
        )
        messages.success(
            self.request, _("Your password is changed. You can still read your cases.")
        )
        return super().form_valid(form)

    def get_success_url(self):
        return reverse("staff:queue")


password_change = verified_staff_required(PasswordChangeView.as_view())


@require_POST
def logout(request):
    auth_views.auth_logout(request)
    response = redirect("staff:login")
    session_keys.forget(response, session_keys.STAFF)
    return response


@verified_staff_required
def queue(request):
    """The triage queue, filtered by a GET form: the URL carries filter values only."""
    filter_form = QueueFilterForm(request.GET)
    filters = filter_form.filters()
    page = Paginator(queue_cases(request.user, filters=filters), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = with_queue_markers(request.user, list(page.object_list))
    managed_units = Membership.objects.filter(
        user=request.user, role=Membership.Role.MANAGER, is_active=True
    ).select_related("unit")
    # Units where this person is a focal point only: managers have the links above.
    focal_only = (
        Membership.objects.filter(
            user=request.user,
            role=Membership.Role.FOCAL_POINT,
            is_active=True,
            unit__is_active=True,
        )
        .exclude(unit_id__in=[m.unit_id for m in managed_units])
        .select_related("unit")
    )
    escalated = list(escalated_to_manager(request.user)) if managed_units else []
    # A manager reads no case; one who is also a focal point handling it may open it.
    readable = (
        set(
            cases_for_focal_point(request.user)
            .filter(pk__in=[c.pk for c in escalated])
            .values_list("pk", flat=True)
        )
        if escalated
        else set()
    )
    return render(
        request,
        "staff/queue.html",
        {
            "page": page,
            "filter_form": filter_form,
            "filters": filters,
            "filtered": filters != QueueFilters(),
            "managed": managed_units,
            "focal_only": focal_only,
            "now": timezone.now(),
            "escalated": escalated,
            "escalated_readable": readable,
        },
    )


@verified_staff_required
@sensitive_post_parameters()  # replies, notes and reasons stay out of error reports
@require_http_methods(["GET", "POST"])
def case_detail(request, reference: str):
    case = case_for_focal_point(request.user, reference)
    if case.is_purged:
        # Content removed under the retention policy: metadata and events only.
        return render(
            request,
            "staff/case_purged.html",
            {"case": case, "events": case.events.select_related("actor")},
        )
    reply_form = ReplyForm(action=request.POST.get("action", ReplyForm.SEND))
    if request.method == "POST":
        reply_form = ReplyForm(data=request.POST, action=request.POST.get("action", ReplyForm.SEND))
        if reply_form.is_valid():
            reply_form, sent = _reply_step(request, case, reply_form)
            if sent is None:
                return redirect(case_url(case, "conversation"))
            if sent:
                if case.sms_reporter_id:
                    messages.success(request, _("Reply sent, by SMS and on the follow-up page."))
                else:
                    messages.success(
                        request, _("Reply sent. The child sees it on the follow-up page.")
                    )
                return redirect(case_url(case, "conversation"))
    opened_at = timezone.now()
    try:
        content = case_content_for_staff(
            case=case, actor=request.user, private_key=session_keys.staff_private_key(request)
        )
    except CaseLocked:
        # Routed to this person, but no copy of its key reached them yet: the next
        # sign-in of a colleague who holds one grants it.
        return render(
            request,
            "staff/case_locked.html",
            {
                "case": case,
                "waiting_approval": request.user in readers_waiting(unit=case.handling_unit),
            },
        )
    # The child's number or address is shown only on request, as its own audit event
    # (case_contact, from staff/_contact_child.html), not with every reading.
    content = dataclasses.replace(content, contact_detail="")
    case_opened(case=case, user=request.user, at=opened_at)
    body = reply_form["body"].value() or ""
    sms_before, sms_after = reply_sms_frame(case=case) if case.sms_reporter_id else ("", "")
    context = {
        **_about_whom_context(case, request.user),
        "note_form": NoteForm(),
        "refer_form": _refer_form(case) if case.status == Case.Status.ASSESSING else None,
        "substantiate_form": substantiate_form(case)
        if case.status == Case.Status.INVESTIGATING
        else None,
        "assign_form": _assign_form(case),
        "transition_form": _transition_form(case),
        "case": case,
        "conversation": [m for m in content.messages if m.author_kind != Message.Author.NOTE],
        "notes": [m for m in content.messages if m.author_kind == Message.Author.NOTE],
        "content": content,
        "category_label": formal_label(case.category),
        "events": case.events.select_related("actor"),
        "media": case_media(case),
        "reply_form": reply_form,
        # The box keeps its id across insert and count; a fresh box gets a new one.
        "reply_id": reply_form["reply_id"].value() or uuid.uuid4(),
        "sms_cost": reply_sms_cost(case=case, body=body) if body.strip() else None,
        "sms_counter": {
            "before": sms_before,
            "after": sms_after,
            "limit": settings.STAFF_SMS_REPLY_MAX_SEGMENTS,
            **gsm.browser_tables(),
        },
    }
    return render(request, "staff/case_detail.html", context)


def _reply_step(request, case, form: ReplyForm) -> tuple[ReplyForm, bool | None]:
    """Insert a template into the box, count it, or send it: (the form to show, sent);
    sent is None when this box had been sent already."""
    body = form.cleaned_data["body"]
    if form.action == ReplyForm.INSERT:
        # The template first, then what was typed already: nothing typed is lost.
        body = compose_reply(template=form.cleaned_data["template"], body=body, case=case)
        return ReplyForm(
            data={"body": body, "reply_id": form.cleaned_data.get("reply_id") or ""},
            action=ReplyForm.PREVIEW,
        ), False
    if form.action == ReplyForm.PREVIEW:
        return form, False
    try:
        case_reply(
            case=case, actor=request.user, body=body, message_id=form.cleaned_data.get("reply_id")
        )
    except ReplyAlreadySent as error:
        messages.info(request, error.message)
        return form, None
    except ComplaintError as error:
        form.add_error("body", error.message)
        return form, False
    return form, True


def _transition_form(case, data=None) -> TransitionForm | None:
    # Substantiating records whom and which competencies: it has its own form.
    choices = [
        (s, Case.Status(s).label)
        for s in allowed_transitions(case)
        if s != Case.Status.SUBSTANTIATED
    ]
    return TransitionForm(data=data, choices=choices) if choices else None


@staff_case_post
def case_status(request, case):
    form = _transition_form(case, data=request.POST)
    if form is None or not form.is_valid():
        messages.error(request, _("That change is not possible for this case now."))
        return redirect(case_url(case, "handling"))
    try:
        case_transition(
            case=case,
            actor=request.user,
            to_status=form.cleaned_data["to_status"],
            reason=form.cleaned_data["reason"],
        )
    except TransitionRefused as error:
        return case_refused(request, case, error, "handling")
    messages.success(
        request,
        _("Case moved to: %(status)s.")
        % {"status": Case.Status(form.cleaned_data["to_status"]).label},
    )
    return redirect(case_url(case, "handling"))


@staff_case_post
def case_about(request, case):
    """Mark whom on the unit's roster the complaint is about."""
    form = AboutWhomForm(request.POST, roster=_active_roster(case))
    if not form.is_valid():
        messages.error(request, form.errors["staff_member"][0])
        return redirect(case_url(case, "conflict"))
    case_mark_about_staff(
        case=case,
        actor=request.user,
        staff_member=form.chosen(),
        private_key=session_keys.staff_private_key(request),
    )
    return _after_reroute(request, case)


def _active_roster(case):
    return StaffMember.objects.filter(unit=case.unit, is_active=True).order_by("name")


def _about_whom_context(case, user) -> dict:
    """What the "whom is it about" part of the case page and the substantiation form
    need: the roster as a form, and who can fill the roster when it is empty."""
    roster = list(_active_roster(case))
    managers = list(
        Membership.objects.filter(
            unit=case.unit, role=Membership.Role.MANAGER, is_active=True, user__is_active=True
        )
        .values_list("user_id", "user__username")
        .order_by("user__username")
    )
    return {
        "roster": roster,
        "about_form": AboutWhomForm(roster=roster),
        "roster_managers": [name for _pk, name in managers],
        "manages_case_unit": any(pk == user.pk for pk, _name in managers),
    }


@staff_case_post
def case_recuse_view(request, case):
    try:
        case_recuse(
            case=case,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            private_key=session_keys.staff_private_key(request),
        )
    except ComplaintError as error:
        return case_refused(request, case, error, "conflict")
    return _after_reroute(request, case)


def _after_reroute(request, case):
    if cases_for_focal_point(request.user).filter(pk=case.pk).exists():
        messages.success(request, _("The case was routed again. See why below."))
        return redirect(case_url(case, "why"))
    messages.info(
        request,
        _("Case %(reference)s was routed away from you.") % {"reference": case.display_reference},
    )
    return redirect("staff:queue")


@staff_case_post
def case_note_view(request, case):
    form = NoteForm(request.POST)
    if form.is_valid():
        case_note(case=case, actor=request.user, body=form.cleaned_data["body"])
        messages.success(request, _("Note saved."))
    else:
        messages.error(request, _("The note is empty."))
    return redirect(case_url(case, "notes"))


def _assign_form(case, data=None) -> AssignForm:
    choices = [(u.pk, u.get_full_name() or u.get_username()) for u in eligible_assignees(case)]
    return AssignForm(data=data, choices=choices, initial={"assignee": case.assignee_id})


@staff_case_post
def case_assign(request, case):
    form = _assign_form(case, data=request.POST)
    if form.is_valid():
        case_reassign(case=case, actor=request.user, assignee_id=form.cleaned_data["assignee"])
        messages.success(request, _("Case reassigned."))
    else:
        messages.error(request, _("Choose a focal point who can handle this case."))
    return redirect(case_url(case, "assignment"))


def _refer_form(case, data=None) -> ReferForm:
    partners = [p.get("name", "") for p in case.policy.referral_partners if p.get("name")]
    return ReferForm(
        data=data, units=units_open_to_reporters().exclude(pk=case.unit_id), partners=partners
    )


@staff_case_post
def case_refer_view(request, case):
    form = _refer_form(case, data=request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose where to refer the case."))
        return redirect(case_url(case, "referral"))
    try:
        linked = case_refer(
            case=case,
            actor=request.user,
            consent=form.cleaned_data["consent"],
            reason=form.cleaned_data["reason"],
            to_unit=form.cleaned_data["to_unit"],
            partner=form.cleaned_data["partner"],
            private_key=session_keys.staff_private_key(request),
        )
    except ComplaintError as error:
        return case_refused(request, case, error, "referral")
    if linked:
        messages.success(
            request,
            _("Referred: new case %(reference)s.") % {"reference": linked.display_reference},
        )
    else:
        messages.success(request, _("Referred."))
    return redirect(case_url(case, "referral"))


@staff_case_post
def case_access_request(request, case):
    """ "Ask for access" on a case this person may read but cannot open yet."""
    told = case_access_requested(case=case, actor=request.user)
    if told:
        messages.success(
            request,
            ngettext(
                "Asked %(count)d person to sign in: they pass you the key when they do.",
                "Asked %(count)d people to sign in: the first of them to do so passes you the key.",
                told,
            )
            % {"count": told},
        )
    else:
        messages.info(request, _("You asked within the last hour; the holders were told then."))
    return redirect(case_url(case))


@staff_case_post
def case_contact(request, case):
    """ "Show the number": the child's contact detail, read with this person's key and
    recorded in the audit log; shown on a page of its own, never put in a URL."""
    try:
        detail = case_contact_for_staff(
            case=case, actor=request.user, private_key=session_keys.staff_private_key(request)
        )
    except CaseLocked:
        messages.error(
            request,
            _(
                "This browser holds no key to this case. Sign out and sign "
                "in again with your password, then show the number."
            ),
        )
        return redirect(case_url(case, "contact-child"))
    return render(request, "staff/contact_reveal.html", {"case": case, "contact_detail": detail})


# A photo or voice message is shown as itself, never as a page: nothing in it runs.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


@verified_staff_required
def case_media_view(request, reference: str, media_id):
    """One photo or voice message the child sent, decrypted with this person's key for
    the case page's <img> or <audio>; each opening is an audit event. Another unit's
    case is a 404 whatever the method (checked before it)."""
    case = case_for_focal_point(request.user, reference)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    media = case_media_item(case, media_id)
    if media is None or case.is_purged:
        raise Http404("No such media.")
    try:
        data = media_for_staff(
            case=case,
            media=media,
            actor=request.user,
            private_key=session_keys.staff_private_key(request),
        )
    except CaseLocked:
        raise Http404("No key to this case in this session.") from None
    response = HttpResponse(data, content_type=media.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Cache-Control"] = "no-store"
    return response


@staff_case_post
def case_told_by_phone_view(request, case):
    try:
        case_told_by_phone(case=case, actor=request.user, note=request.POST.get("note", ""))
    except TransitionRefused as error:
        return case_refused(request, case, error, "contact-child")
    messages.success(request, _("Recorded: the child was told the outcome by phone."))
    return redirect(case_url(case, "contact-child"))


@verified_staff_required
@require_http_methods(["GET"])
def legal_hold_find(request):
    """The queue's "legal hold for case..." box: a manager types a reference."""
    if not manages_a_unit(request.user):
        raise Http404("No such page.")
    try:
        case = case_for_manager(request.user, request.GET.get("reference", "").strip())
    except Http404:
        messages.error(request, _("No case of the units you manage has this reference."))
        return redirect("staff:queue")
    return redirect("staff:case_legal_hold", case.reference)


@verified_staff_required
@sensitive_post_parameters()  # the reason is staff text, but kept out of error reports
@require_http_methods(["GET", "POST"])
def case_legal_hold(request, reference: str):
    """A unit manager sets or lifts a legal hold: the case's metadata and the form."""
    case = case_for_manager(request.user, reference)
    form = LegalHoldForm()
    if request.method == "POST":
        if request.POST.get("action") == "lift":
            legal_hold_lift(case, actor=request.user)
            messages.success(request, _("Legal hold lifted. The retention policy applies again."))
            return redirect("staff:case_legal_hold", case.reference)
        form = LegalHoldForm(request.POST)
        if form.is_valid():
            try:
                legal_hold_set(case, reason=form.cleaned_data["reason"], actor=request.user)
            except LegalHoldError:
                messages.error(request, _("This case's content was already removed."))
            else:
                messages.success(
                    request, _("Legal hold set. The case will not be purged until it is lifted.")
                )
            return redirect("staff:case_legal_hold", case.reference)
    return render(
        request,
        "staff/case_legal_hold.html",
        {"case": case, "form": form, "category_label": formal_label(case.category)},
    )
