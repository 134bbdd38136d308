import secrets

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_otp.admin import OTPAdminSite
from prometheus_client import CONTENT_TYPE_LATEST

from config.health import health_report
from config.metrics import metrics_text

# The admin asks for the second factor too.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Recourse administration"


def admin_login(request):
    """The admin signs in through the staff pages, the one password form with limits
    (complaints/signin.py); its own form would check passwords without them. Someone
    fully signed in whom the admin still refuses (a manager, a focal point) is told so:
    sending them to sign in again would bring them straight back here, in a loop."""
    if request.user.is_authenticated and request.user.is_verified():
        if admin.site.has_permission(request):
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(
                target, {request.get_host()}, request.is_secure()
            ):
                target = reverse("admin:index")
            return redirect(target)
        return render(request, "staff/no_admin_access.html", status=403)
    step = "staff:verify" if request.user.is_authenticated else "staff:login"
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse(step))


@never_cache
@require_GET
def healthz(request):
    """No sign-in: each component ok or failing, one per line; 503 if any fails."""
    report = health_report()
    body = "".join(f"{name} {'ok' if ok else 'failing'}\n" for name, ok in report.items())
    status = 200 if all(report.values()) else 503
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def metrics(request):
    """Counts for the operator's Prometheus, with `Authorization: Bearer METRICS_TOKEN`.
    No token set: there is no such page."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not secrets.compare_digest(given.encode(), token.encode()):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/compliance/", include("oversight.urls")),
    path("staff/units/", include("policies.urls")),
    path("staff/units/", include("competencies.urls")),
    path("staff/", include("complaints.urls")),
    path("", include("intake.urls")),
]

# Reporter-style error pages (intake/errors.py); 404 is Django's, with templates/404.html.
handler400 = "intake.errors.bad_request"
handler403 = "intake.errors.permission_denied"
handler500 = "intake.errors.server_error"
