"""Pages of AI characters (mounted at /characters/)."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.persona_list, name="persona_list"),
    path("new/", views.persona_wizard, name="persona_wizard"),
    path("new/manual/", views.persona_create, name="persona_create"),
    path("new/<uuid:draft_id>/", views.persona_wizard_edit, name="persona_wizard_edit"),
    path("import/", views.persona_import, name="persona_import"),
    path("<uuid:character_id>/", views.persona_detail, name="persona_detail"),
    path("<uuid:character_id>/edit/", views.persona_edit, name="persona_edit"),
    path("<uuid:character_id>/delete/", views.persona_delete, name="persona_delete"),
    path("<uuid:character_id>/report/", views.persona_report, name="persona_report"),
    path("<uuid:character_id>/copy/", views.persona_copy, name="persona_copy"),
    path("<uuid:character_id>/portrait/", views.persona_portrait, name="persona_portrait"),
]
