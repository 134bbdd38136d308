from django.urls import path

from competencies import views as competencies_views
from complaints import views
from policies import views as policies_views

app_name = "staff"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("verify/", views.verify, name="verify"),
    path("enroll/", views.enroll, name="enroll"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("language/", policies_views.staff_language, name="language"),
    path("legal-hold/", views.legal_hold_find, name="legal_hold_find"),
    path("cases/<str:reference>/", views.case_detail, name="case"),
    path("cases/<str:reference>/status/", views.case_status, name="case_status"),
    path("cases/<str:reference>/about/", views.case_about, name="case_about"),
    path("cases/<str:reference>/note/", views.case_note_view, name="case_note"),
    path("cases/<str:reference>/access/", views.case_access_request, name="case_access_request"),
    path("cases/<str:reference>/assign/", views.case_assign, name="case_assign"),
    path("cases/<str:reference>/refer/", views.case_refer_view, name="case_refer"),
    path(
        "cases/<str:reference>/substantiate/",
        competencies_views.case_substantiate_view,
        name="case_substantiate",
    ),
    path("cases/<str:reference>/contact/", views.case_contact, name="case_contact"),
    path("cases/<str:reference>/media/<uuid:media_id>/", views.case_media_view, name="case_media"),
    path(
        "cases/<str:reference>/told-by-phone/",
        views.case_told_by_phone_view,
        name="case_told_by_phone",
    ),
    path("cases/<str:reference>/recuse/", views.case_recuse_view, name="case_recuse"),
    path("cases/<str:reference>/legal-hold/", views.case_legal_hold, name="case_legal_hold"),
]
