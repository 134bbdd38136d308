from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("", views.start, name="start"),
    path("u/<str:code>/", views.complaint_form, name="complaint_form"),
    path("follow-up/", views.followup, name="followup"),
    path("follow-up/case/", views.followup_case, name="followup_case"),
    path("follow-up/leave/", views.followup_leave, name="followup_leave"),
]
