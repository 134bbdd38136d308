from django.urls import path

from intake import sms_views, views

app_name = "intake"

urlpatterns = [
    path("", views.start, name="start"),
    path("exit/", views.exit_page, name="exit"),
    path("safety/", views.safety, name="safety"),
    path("u/<str:code>/", views.complaint_form, name="complaint_form"),
    path("u/<str:code>/poster/", views.poster, name="poster"),
    path("u/<str:code>/leaflet/", views.leaflet, name="leaflet"),
    path("follow-up/", views.followup, name="followup"),
    path("follow-up/case/", views.followup_case, name="followup_case"),
    path("follow-up/danger/", views.followup_danger, name="followup_danger"),
    path("follow-up/rate/", views.followup_rate, name="followup_rate"),
    path("follow-up/review/", views.followup_review, name="followup_review"),
    path("follow-up/withdraw/", views.followup_withdraw, name="followup_withdraw"),
    path("follow-up/leave/", views.followup_leave, name="followup_leave"),
    path("sms/twilio/inbound/", sms_views.twilio_inbound, name="twilio_inbound"),
    path("sms/twilio/status/", sms_views.twilio_status, name="twilio_status"),
    path("dev/sms/", sms_views.sms_simulator, name="sms_simulator"),
]
