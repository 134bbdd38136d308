from django.urls import path

from oversight import views

app_name = "oversight"

urlpatterns = [
    path("", views.compliance, name="compliance"),
    path("<str:code>/report/", views.monthly_report, name="report"),
    path("<str:code>/<str:kind>/", views.cases, name="cases"),
]
