from django.urls import path

from policies import views

app_name = "policies"

urlpatterns = [
    path("<str:code>/policy/", views.policy_edit, name="edit"),
    path("<str:code>/readers/", views.readers, name="readers"),
    path("<str:code>/policy/draft/", views.policy_new_draft, name="new_draft"),
    path("<str:code>/policy/publish/", views.policy_publish_view, name="publish"),
    path("<str:code>/poster/print/", views.poster_print, {"kind": "poster"}, name="print_poster"),
    path(
        "<str:code>/leaflet/print/", views.poster_print, {"kind": "leaflet"}, name="print_leaflet"
    ),
]
