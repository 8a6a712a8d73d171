"""API routes of the avatar library (namespace "api")."""
from django.urls import path

from . import api

urlpatterns = [
    path("avatars", api.AvatarListApi.as_view(), name="avatar-list"),
    path("avatars/resolve", api.AvatarResolveApi.as_view(), name="avatar-resolve"),
    path("avatars/<uuid:avatar_id>", api.AvatarDetailApi.as_view(), name="avatar-detail"),
    path("avatars/<uuid:avatar_id>/file", api.AvatarFileApi.as_view(), name="avatar-file"),
    path("avatars/<uuid:avatar_id>/thumbnail", api.AvatarThumbnailApi.as_view(), name="avatar-thumbnail"),
    path("actors", api.ActorListApi.as_view(), name="actor-list"),
    path("actors/<int:actor_id>", api.ActorDetailApi.as_view(), name="actor-detail"),
]
