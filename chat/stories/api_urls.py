"""REST API of stories, mounted at /api/story/ (names in namespace `api`)."""
from django.urls import path

from . import api

urlpatterns = [
    path("generate", api.StoryGenerateApi.as_view(), name="story-generate"),
]
