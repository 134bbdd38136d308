from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

# The admin asks for the second factor too.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Recourse administration"

urlpatterns = [
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
