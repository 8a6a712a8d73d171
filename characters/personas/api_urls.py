"""API routes of AI characters (mounted under /api/, namespace `api`)."""
from django.urls import path

from . import api

urlpatterns = [
    path("characters", api.CharacterListApi.as_view(), name="character-list"),
    path("characters/import", api.CharacterImportApi.as_view(), name="character-import"),
    path("characters/wizard", api.WizardStartApi.as_view(), name="character-wizard"),
    path("characters/wizard/progress/<uuid:progress_id>", api.WizardProgressApi.as_view(), name="character-wizard-progress"),
    path("characters/wizard/<uuid:draft_id>", api.WizardDraftApi.as_view(), name="character-wizard-detail"),
    path("characters/wizard/<uuid:draft_id>/regenerate", api.WizardRegenerateApi.as_view(),
         name="character-wizard-regenerate"),
    path("characters/wizard/<uuid:draft_id>/finish", api.WizardFinishApi.as_view(), name="character-wizard-finish"),
    path("characters/<uuid:character_id>", api.CharacterDetailApi.as_view(), name="character-detail"),
    path("characters/<uuid:character_id>/copy", api.CharacterCopyApi.as_view(), name="character-copy"),
    path("characters/<uuid:character_id>/report", api.CharacterReportApi.as_view(), name="character-report"),
    path("characters/<uuid:character_id>/export", api.CharacterExportApi.as_view(), name="character-export"),
    path("characters/<uuid:character_id>/portrait", api.CharacterPortraitApi.as_view(), name="character-portrait"),
]
