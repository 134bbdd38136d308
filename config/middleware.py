"""Headers that keep a complaint off a shared phone and out of other sites' hands; the
provider webhooks' short way through."""

from functools import cached_property

from django.conf import settings
from django.urls import resolve, reverse
from django.utils import translation

from policies.staff_locale import staff_locale_for, staff_locale_override

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# The Django admin uses inline style attributes.
ADMIN_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class PrivacyHeadersMiddleware:
    """No page is cached (the browser's back button and history must not show a
    complaint), no third-party resource loads, no referrer leaves the site."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        if request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", ADMIN_CSP)
        else:
            response.setdefault("Content-Security-Policy", CSP)
        return response


class ProviderWebhookMiddleware:
    """Twilio's webhooks skip the middleware after this one and go straight to their
    view. Sessions, the page language, CSRF tokens, the signed-in user, messages and
    frame options are for pages people use; a webhook is signed by its provider
    instead (intake.sms_views.twilio_signed) and uses none of them, while running them
    cost an inbound text a tenth of its CPU (issue 20). What comes before this one
    still applies: the request log, HTTPS, and the privacy headers. The view is
    resolved and called as Django's handler calls it, in the site's default language
    (what LocaleMiddleware gives a request that, like Twilio's, names none; each
    reply is then written in the child's own); an error in it reaches the handler's
    error page and log as any other view's."""

    WEBHOOKS = ("intake:twilio_inbound", "intake:twilio_status")

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def paths(self) -> frozenset[str]:
        return frozenset(reverse(name) for name in self.WEBHOOKS)  # URLs load by the 1st call

    def __call__(self, request):
        if request.path not in self.paths:  # both with the script prefix, if any
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        with translation.override(settings.LANGUAGE_CODE):
            response = match.func(request, *match.args, **match.kwargs)
        if not response.streaming:  # as CommonMiddleware, skipped, would
            response.headers.setdefault("Content-Length", str(len(response.content)))
        return response


def client_address(request) -> str:
    """The client's address; behind a proxy, the last hop it appended."""
    header = settings.CLIENT_IP_HEADER
    if header and request.META.get(header):
        return request.META[header].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


class SameOriginNullOriginMiddleware:
    """Lets Django's CSRF check work under `Referrer-Policy: no-referrer`.

    Under that policy browsers send `Origin: null` (and no Referer) with a form POST,
    even to the same site, and Django's CsrfViewMiddleware would reject it. Browsers
    also send `Sec-Fetch-Site`, a header no page script can set; when it says
    same-origin, the origin is this site's own, and we say so before the CSRF check.
    The CSRF token is still checked as usual.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            scheme = "https" if request.is_secure() else "http"
            request.META["HTTP_ORIGIN"] = f"{scheme}://{request.get_host()}"
        return self.get_response(request)


class StaffLocaleMiddleware:
    """Staff pages (/staff/...) in the signed-in person's language and their unit's
    time zone (policies/staff_locale.py). Runs after authentication. Every other page
    keeps what LocaleMiddleware chose: a child's pages follow the child's choice, and
    the sign-in page, before anyone is known, follows the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if not (request.path.startswith("/staff/") and user is not None and user.is_authenticated):
            return self.get_response(request)
        locale = staff_locale_for(user, fallback_language=getattr(request, "LANGUAGE_CODE", None))
        request.staff_locale = locale
        request.LANGUAGE_CODE = locale.language
        with staff_locale_override(locale):
            response = self.get_response(request)
        # LocaleMiddleware, outside this one, only sets this header when it is unset.
        response.headers.setdefault("Content-Language", locale.language)
        return response
