"""Pages of the avatar library, mounted at /avatars/."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.avatar_list, name="avatar_list"),
    path("upload/", views.avatar_upload, name="avatar_upload"),
    path("<uuid:avatar_id>/", views.avatar_detail, name="avatar_detail"),
    path("<uuid:avatar_id>/delete/", views.avatar_delete, name="avatar_delete"),
    path("actors/", views.actor_list, name="actor_list"),
    path("actors/<int:actor_id>/", views.actor_edit, name="actor_edit"),
    path("actors/<int:actor_id>/delete/", views.actor_delete, name="actor_delete"),
]
