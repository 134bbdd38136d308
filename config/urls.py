from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path, reverse
from django_otp.admin import OTPAdminSite

# The admin asks for the second factor too.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Recourse administration"



def admin_login(request):
    """The admin signs in through the staff pages, the one password form with limits
    (complaints/signin.py); its own form would check passwords without them."""
    step = "staff:verify" if request.user.is_authenticated else "staff:login"
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse(step))


urlpatterns = [
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
