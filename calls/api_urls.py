from django.urls import path

from . import api

urlpatterns = [
    path("characters/<str:character_id>/call", api.CharacterCallApi.as_view(), name="character-call"),
]
