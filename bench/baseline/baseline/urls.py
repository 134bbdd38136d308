from django.urls import path

from baseline import views

urlpatterns = [
    path("form/", views.form),
    path("sms/", views.webhook),
]
