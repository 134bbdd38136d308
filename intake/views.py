"""Reporter pages: no account, no JavaScript needed, nothing sensitive in URLs."""

import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from complaints.danger import Danger
from complaints.lifecycle import WithdrawRefused, case_withdraw, reporter_viewed
from complaints.models import Case, ServiceRating
from complaints.ratings import RatingRefused, rating_for_case, rating_open, rating_record
from complaints.reviews import review_offer, review_request
from complaints.services import (
    ComplaintError,
    FollowUpThrottled,
    Receipt,
    case_danger_reported,
    complaint_receive,
    followup_add_message,
    followup_open,
    submission_claim,
    submission_count,
)
from complaints.throttles import throttle_release
from config.middleware import client_address
from intake.forms import (
    ComplaintForm,
    FollowUpForm,
    FollowUpMessageForm,
    RatingForm,
    ReviewForm,
)
from intake.human_check import human_check_required, human_check_state
from intake.wording import (
    about_staff_for_child,
    confidentiality_limits_for_child,
    duration_for_child,
    status_for_child,
)
from policies.categories import policy_category_codes
from policies.models import Unit
from policies.selectors import (
    policy_emergency_contacts,
    policy_oversight_for_reporters,
    poster_facts,
    unit_current_policy,
    unit_time_zone,
    units_common_emergency_contacts,
    units_open_to_reporters,
)
from vault import server_sealed, session_keys
from vault.cases import CaseLocked, case_messages_for_reporter

logger = logging.getLogger(__name__)

FOLLOWUP_SESSION_KEY = "followup_case"
FOLLOWUP_SEEN_KEY = "followup_seen"
# The child said they are in danger during this visit: the case page leads with the
# emergency numbers until they leave.
FOLLOWUP_DANGER_KEY = "followup_danger"
# The child said they did not feel safe complaining, during this visit: the thank-you
# carries the emergency numbers until they leave.
FOLLOWUP_UNSAFE_KEY = "followup_rated_unsafe"


def _client_key(request) -> str:
    """The client's address as a keyed hash: throttles count it without storing it."""
    return server_sealed.blind_index(client_address(request), purpose="client")


def start(request):
    return render(
        request,
        "intake/start.html",
        {
            "units": units_open_to_reporters(),
            "common_emergency": units_common_emergency_contacts(),
        },
    )


@require_GET
def safety(request):
    return render(request, "intake/safety.html")


@require_safe
def exit_page(request):
    """Where "Exit this page" goes (GET, so it works from a plain link and needs no
    CSRF token; doing it twice does no harm): ends any follow-up visit, drops the
    follow-up key's cookie, then leaves for the neutral site. The cookie change also
    keeps Chromium from restoring our pages from its back-forward cache."""
    request.session.flush()
    response = redirect(settings.QUICK_EXIT_URL)
    session_keys.forget(response, session_keys.REPORTER)
    # Chromium keeps even no-store pages of an HTTPS site in its back-forward cache,
    # and restores them (typed text and all) unless a cookie changed meanwhile. Every
    # reporter page sets the CSRF cookie (the language switcher is a form), so dropping
    # it here is a change every time; the next page sets a new one.
    response.delete_cookie(
        settings.CSRF_COOKIE_NAME,
        path=settings.CSRF_COOKIE_PATH,
        domain=settings.CSRF_COOKIE_DOMAIN,
        samesite=settings.CSRF_COOKIE_SAMESITE,
    )
    return response


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def complaint_form(request, code: str):
    unit = get_object_or_404(units_open_to_reporters(), code=code.upper())
    policy = unit_current_policy(unit)
    categories = policy_category_codes(policy.categories)
    if request.method != "POST":
        form = ComplaintForm(
            categories=categories, initial={"submission_token": secrets.token_urlsafe(32)}
        )
        return _complaint_page(request, unit=unit, policy=policy, form=form)

    form = ComplaintForm(request.POST, categories=categories)
    client_key = _client_key(request)
    # Counted before it is filed, so that a burst cannot all slip under the limit;
    # released below when nothing is filed.
    claim = submission_claim(client_key=client_key)
    filed = _complaint_file(
        request, unit=unit, policy=policy, form=form, within_limit=claim.granted
    )
    if filed.receipt is None:
        throttle_release(claim)
        return filed.response
    if not claim.granted:
        submission_count(client_key=client_key)
    receipt = filed.receipt
    case = receipt.case
    # Rendered, not redirected: the code is shown once and stored nowhere. Times read
    # in the unit's own time zone.
    with timezone.override(unit_time_zone(unit)):
        return render(
            request,
            "intake/received.html",
            {
                "unit": unit,
                "receipt": receipt,
                "case": case,
                "emergency_contacts": policy_emergency_contacts(case.policy),
                "oversight": policy_oversight_for_reporters(case.policy),
            },
        )


@dataclass(frozen=True)
class _Filed:
    receipt: Receipt | None = None
    response: HttpResponse | None = None


def _complaint_file(request, *, unit, policy, form, within_limit: bool) -> _Filed:
    """Validate and file the complaint: a receipt, or the form again with its errors.
    Past the per-client limit nobody is turned away: a child in danger files at once,
    anyone else answers a simple question, and keeps everything they wrote."""
    check = None
    if human_check_required(
        in_danger=request.POST.get("in_danger") == "yes", within_limit=within_limit
    ):
        check = human_check_state(
            token=request.POST.get("check_token", ""), answer=request.POST.get("check_answer", "")
        )
        if not check.passed:
            form.is_valid()  # any other mistake is shown at the same time
            # 429 tells a script it is over the limit; a person just sees the form again.
            status = 400 if check.wrong_answer or form.errors else 429
            return _Filed(
                response=_complaint_page(
                    request, unit=unit, policy=policy, form=form, check=check, status=status
                )
            )
    if not form.is_valid():
        return _Filed(
            response=_complaint_page(
                request, unit=unit, policy=policy, form=form, check=check, status=400
            )
        )
    data = form.cleaned_data
    try:
        return _Filed(
            receipt=complaint_receive(
                unit=unit,
                channel=Case.Channel.WEB,
                language=request.LANGUAGE_CODE,
                narrative=data["narrative"],
                category=data["category"],
                in_danger=data["in_danger"] == "yes",
                about_staff_answer=data["about_staff"],  # yes, no or unsure
                contact_preference=data["contact_preference"],
                contact_detail=data["contact_detail"],
                submission_token=data["submission_token"] or None,
                filed_for=data["filed_for"],
            )
        )
    except ComplaintError as error:
        form.add_error(None, error.message)
        return _Filed(
            response=_complaint_page(
                request, unit=unit, policy=policy, form=form, check=check, status=400
            )
        )
    except DatabaseError:
        # Nothing was stored (one transaction); the child's words are still here.
        logger.exception("complaint could not be stored")
        form.add_error(
            None,
            _(
                "Sorry, something went wrong on our side and your complaint was not sent. "
                "Nothing is lost: please press Send again in a minute."
            ),
        )
        return _Filed(
            response=_complaint_page(
                request, unit=unit, policy=policy, form=form, check=check, status=503
            )
        )


def _complaint_page(request, *, unit, policy, form, check=None, status=200):
    return render(
        request,
        "intake/complaint_form.html",
        {
            "unit": unit,
            "form": form,
            "check": check,
            "emergency_contacts": policy_emergency_contacts(policy),
            "confidentiality_limits": confidentiality_limits_for_child(
                policy.confidentiality_limits
            ),
            "about_staff_lines": about_staff_for_child(policy),
        },
        status=status,
    )


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def followup(request):
    status = 200
    if request.method == "POST":
        form = FollowUpForm(request.POST)
        if form.is_valid():
            client_key = _client_key(request)
            try:
                access = followup_open(
                    reference=form.cleaned_data["reference"],
                    code=form.cleaned_data["code"],
                    client_key=client_key,
                )
            except FollowUpThrottled as error:
                form.add_error(None, error.message)
                status = 429
            except ComplaintError as error:
                form.add_error(None, error.message)
                status = 400
            else:
                return _followup_start(
                    request, access, kept_message=form.cleaned_data["kept_message"]
                )
        else:
            status = 400
    else:
        form = FollowUpForm()
    return _followup_code_page(request, form, status=status)


def _followup_code_page(request, form, *, status=200):
    return render(
        request,
        "intake/followup.html",
        {
            "form": form,
            "keeping_message": bool(form["kept_message"].value()),
        },
        status=status,
    )


def _followup_start(request, access, *, kept_message: str):
    """The code was right: a visit begins, and a message kept from a visit that timed
    out is added now."""
    request.session.cycle_key()
    request.session[FOLLOWUP_SESSION_KEY] = str(access.case.pk)
    request.session[FOLLOWUP_SEEN_KEY] = time.time()
    request.session.set_expiry(0)  # ends when the browser closes
    response = redirect("intake:followup_case")
    if kept_message.strip():
        try:
            added = followup_add_message(case=access.case, body=kept_message)
        except ComplaintError as error:
            # Not added (too long, the case is finished): the text goes back in the box.
            form = FollowUpMessageForm({"body": kept_message})
            form.add_error(None, error.message)
            response = _case_page(
                request,
                access.case,
                form=form,
                status=400,
                reporter_private=access.reporter_private,
            )
        else:
            messages.success(request, _("Thank you. We added your message to your complaint."))
            _heard(request, added.danger)
    # The child's key, for this visit only: half in a cookie, half here.
    session_keys.store(request, response, session_keys.REPORTER, access.reporter_private)
    return response


def _followup_case(request) -> Case | None:
    """The case this browser opened with its code, unless it sat idle too long."""
    case_id = request.session.get(FOLLOWUP_SESSION_KEY)
    seen = request.session.get(FOLLOWUP_SEEN_KEY, 0)
    if not case_id:
        return None
    if time.time() - seen > settings.FOLLOWUP_SESSION_IDLE_MINUTES * 60:
        request.session.flush()
        return None
    request.session[FOLLOWUP_SEEN_KEY] = time.time()
    return Case.objects.filter(pk=case_id).select_related("unit", "policy__oversight_unit").first()


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def followup_case(request):
    case = _followup_case(request)
    if case is None:
        body = request.POST.get("body", "") if request.method == "POST" else ""
        if body.strip():
            # The visit ended while the child was typing. Their words are not lost: they
            # ride in the code form (stored nowhere) and are added once the code is in.
            return _followup_code_page(request, FollowUpForm(initial={"kept_message": body}))
        messages.info(request, _("Please enter your reference and code again."))
        return redirect("intake:followup")
    status = 200
    form = FollowUpMessageForm()
    if request.method == "POST":
        form = FollowUpMessageForm(request.POST)
        if form.is_valid():
            try:
                added = followup_add_message(
                    case=_message_target(case), body=form.cleaned_data["body"]
                )
            except ComplaintError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Thank you. We added this to your complaint."))
                _heard(request, added.danger)
                return redirect("intake:followup_case")
        status = 400
    return _case_page(
        request,
        case,
        form=form,
        status=status,
        reporter_private=session_keys.load(request, session_keys.REPORTER),
    )


def _message_target(case: Case) -> Case:
    """Where the child's message goes: their case, or, once it is decided, the review
    they asked for while it is open (followed on the same page)."""
    if not case.is_open:
        review = Case.objects.filter(review_of=case).first()
        if review is not None and review.is_open:
            return review
    return case


def _heard(request, danger: Danger) -> None:
    """What the child's message said about danger, for the case page: NOW leads with
    the emergency numbers (the case is already an emergency), ASK asks."""
    if danger is not Danger.NONE:
        request.session[FOLLOWUP_DANGER_KEY] = danger.value


def _messages_or_none(case: Case, reporter_private: bytes | None):
    """The messages the child may read, or None when this browser has lost the key its
    code gave (the cookie half is gone): the page then asks for the code again."""
    try:
        return case_messages_for_reporter(case, reporter_private=reporter_private)
    except CaseLocked:
        return None


def _case_page(
    request,
    case: Case,
    *,
    form,
    status: int,
    reporter_private: bytes | None,
    rating_form: RatingForm | None = None,
    review_form: ReviewForm | None = None,
):
    reporter_viewed(case)
    danger = request.session.get(FOLLOWUP_DANGER_KEY, "")
    rating_offered = rating_open(case)
    with translation.override(request.LANGUAGE_CODE), timezone.override(unit_time_zone(case.unit)):
        review = review_offer(case)
    if review.review is not None:
        reporter_viewed(review.review)  # the review's decision is read here too
    context = {
        # "Ask for a review", once the outcome was told: the form, or the review asked.
        "review": review,
        "review_form": review_form or ReviewForm(),
        "review_status_text": status_for_child(review.review.status) if review.review else "",
        "review_messages": _messages_or_none(review.review, reporter_private)
        if review.review
        else [],
        "message_open": case.is_open or bool(review.review and review.review.is_open),
        # "How did we do?", once the outcome was told: the questions, or thanks.
        "rating_offered": rating_offered,
        "rating_done": rating_offered and rating_form is None and rating_for_case(case) is not None,
        "rating_form": rating_form or RatingForm(),
        "rating_unsafe": request.session.get(FOLLOWUP_UNSAFE_KEY, False),
        "case": case,
        # Danger said during this visit: "now" (an emergency), or "ask" (are you?).
        "danger": danger,
        "emergency_contacts": policy_emergency_contacts(case.policy),
        "status_text": status_for_child(case.status),
        "case_messages": _messages_or_none(case, reporter_private),
        "form": form,
        "oversight": policy_oversight_for_reporters(case.policy),
    }
    # Message times and anything else dated, in the unit's own time zone.
    with timezone.override(unit_time_zone(case.unit)):
        return render(request, "intake/followup_case.html", context, status=status)


@require_POST
def followup_danger(request):
    """ "I am in danger now" on the follow-up page: the case becomes an emergency and
    every focal point is alerted at once; the page then leads with the numbers."""
    case = _followup_case(request)
    if case is None:
        messages.info(request, _("Please enter your reference and code again."))
        return redirect("intake:followup")
    if case.is_open:
        case_danger_reported(case=case, channel=Case.Channel.WEB)
        request.session[FOLLOWUP_DANGER_KEY] = Danger.NOW.value
    return redirect("intake:followup_case")


@require_POST
def followup_rate(request):
    """The child's answers to "how did we do?" (each optional). A bad answer shows the
    page again with what they chose; "No" to feeling safe brings the emergency numbers."""
    case = _followup_case(request)
    if case is None:
        messages.info(request, _("Please enter your reference and code again."))
        return redirect("intake:followup")
    if not rating_open(case):  # an old page, before the outcome was told: nothing to rate
        return redirect("intake:followup_case")
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            rating_record(case, channel=Case.Channel.WEB, **form.cleaned_data)
        except RatingRefused as refused:
            form.add_error(None, refused.message)
        else:
            if form.cleaned_data["felt_safe"] == ServiceRating.Answer.NO:
                request.session[FOLLOWUP_UNSAFE_KEY] = True
            messages.success(request, _("Thank you for telling us how we did."))
            return redirect("intake:followup_case")
    return _case_page(
        request,
        case,
        form=FollowUpMessageForm(),
        status=400,
        reporter_private=session_keys.load(request, session_keys.REPORTER),
        rating_form=form,
    )


@sensitive_post_parameters()
@require_POST
def followup_review(request):
    """ "Ask for a review": the decision goes to the oversight unit, once (a second
    press finds the first review). Refused (too late, nothing decided yet): the page
    again with the reason, what they wrote kept in the box."""
    case = _followup_case(request)
    if case is None:
        messages.info(request, _("Please enter your reference and code again."))
        return redirect("intake:followup")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            requested = review_request(
                case=case, reason=form.cleaned_data["reason"], channel=Case.Channel.WEB
            )
        except ComplaintError as refused:  # ReviewRefused: too late, nothing decided...
            form.add_error(None, refused.message)
        else:
            if requested.in_danger:
                request.session[FOLLOWUP_DANGER_KEY] = Danger.NOW.value
            if requested.created:
                messages.success(
                    request,
                    _(
                        "We sent your request for a review. The office that reviews "
                        "decisions will tell you what they decide, here."
                    ),
                )
            else:
                messages.info(request, _("You already asked for a review. Its news is below."))
            return redirect("intake:followup_case")
    return _case_page(
        request,
        case,
        form=FollowUpMessageForm(),
        status=400,
        reporter_private=session_keys.load(request, session_keys.REPORTER),
        review_form=form,
    )


@require_http_methods(["GET", "POST"])
def followup_withdraw(request):
    """ "I want to stop my complaint": a page that asks first (no JavaScript needed),
    then the case is withdrawn and the team is told. A finished case says so."""
    case = _followup_case(request)
    if case is None:
        messages.info(request, _("Please enter your reference and code again."))
        return redirect("intake:followup")
    error, status = "", 200
    if request.method == "POST":
        try:
            case_withdraw(case=case, channel=Case.Channel.WEB)
        except WithdrawRefused as refused:
            error, status = refused.message, 400
        else:
            messages.success(request, _("Your complaint is stopped. We told the complaints team."))
            return redirect("intake:followup_case")
    elif not case.is_open:
        error = _("This complaint is already finished, so you cannot stop it.")
    return render(request, "intake/withdraw.html", {"case": case, "error": error}, status=status)


@require_POST
def followup_leave(request):
    request.session.flush()
    response = redirect("intake:start")
    session_keys.forget(response, session_keys.REPORTER)
    return response


@require_GET
def poster(request, code: str):
    return _printed_sheet(request, code, kind="poster")


@require_GET
def leaflet(request, code: str):
    return _printed_sheet(request, code, kind="leaflet")


def _printed_sheet(request, code: str, *, kind: str):
    """The unit's A4 poster, or its half-page leaflet printed two to a page: in the
    unit's language unless ?lang= asks for another (the browser's choice is the
    printer's, not the reader's). Viewing writes nothing; managers record a print
    from the policy page."""
    unit = get_object_or_404(units_open_to_reporters(), code=code.upper())
    facts = poster_facts(unit=unit, policy=unit_current_policy(unit))
    language = request.GET.get("lang", "")
    if language not in dict(unit.offered_languages()):
        language = unit.default_language
    path = reverse("intake:complaint_form", args=[unit.code])
    url = settings.PUBLIC_BASE_URL + path
    with translation.override(language):
        context = {
            "unit": unit,
            "kind": kind,
            "copies": range(2 if kind == "leaflet" else 1),
            "unit_path": path,
            "address": url.split("://", 1)[-1],  # what a child types: no scheme
            "qr_svg": _qr_svg(url, title=_("QR code to make a complaint")),
            "sms_number": settings.SMS_PUBLIC_NUMBER,
            **_whatsapp_facts(unit),
            "acknowledge_within": _within(facts["acknowledge_hours"]),
            "resolve_within": _within(facts["resolve_hours"]),
            "emergency_contacts": facts["emergency_contacts"],
            "review_days": facts["review_days"],
        }
        response = render(request, "intake/printed_sheet.html", context)
    response["Content-Language"] = language
    return response


def _whatsapp_facts(unit: Unit) -> dict:
    """The unit's WhatsApp link (wa.me, its code already written in the message), and
    its QR code, when it has a WhatsApp number; nothing otherwise."""
    if not unit.whatsapp_number:
        return {}
    link = f"https://wa.me/{unit.whatsapp_number.lstrip('+')}?text={quote(unit.code)}"
    return {
        "whatsapp_number": unit.whatsapp_number,
        "whatsapp_link": link,
        "whatsapp_address": link.split("://", 1)[-1].split("?", 1)[0],
        "whatsapp_qr_svg": _qr_svg(link, title=_("QR code to write to us on WhatsApp")),
    }


def _qr_svg(url: str, *, title: str) -> str:
    # Inline SVG, sized by the print stylesheet: no image request, nothing external.
    return segno.make(url, error="m").svg_inline(
        omitsize=True, svgclass="qr-code", title=title, dark="#000", light="#fff"
    )


def _within(hours: int | None) -> str:
    return duration_for_child(hours) if hours else ""
