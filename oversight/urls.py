from django.urls import path

from oversight import views

app_name = "oversight"

urlpatterns = [path("", views.compliance, name="compliance")]
