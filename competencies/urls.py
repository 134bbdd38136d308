from django.urls import path

from competencies import views

app_name = "competencies"

urlpatterns = [
    path("<str:code>/roster/", views.roster, name="roster"),
    path("<str:code>/roster/<int:pk>/link/", views.roster_link, name="roster_link"),
    path("<str:code>/roster/<int:pk>/", views.staff_record_view, name="staff_record"),
    path("<str:code>/training/import/", views.register_import, name="register_import"),
    path("<str:code>/retraining/", views.retraining, name="retraining"),
    path("<str:code>/plan/", views.plan, name="plan"),
    path("<str:code>/impact/", views.impact_view, name="impact"),
    path(
        "<str:code>/retraining/<int:pk>/complete/",
        views.retraining_complete_view,
        name="retraining_complete",
    ),
]
