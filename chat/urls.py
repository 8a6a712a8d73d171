from django.urls import path

from . import views
from .memories import views as memory_views

urlpatterns = [
    path("", views.home, name="chat_home"),
    path("start/", views.start, name="chat_start"),
    path("<uuid:conversation_id>/", views.conversation, name="chat_conversation"),
    path("<uuid:conversation_id>/rename/", views.rename, name="chat_rename"),
    path("<uuid:conversation_id>/delete/", views.delete, name="chat_delete"),
    path("memories/<uuid:character_id>/", memory_views.memories, name="chat_memories"),
    path("memories/<uuid:character_id>/<int:memory_id>/edit/", memory_views.edit, name="chat_memory_edit"),
    path("memories/<uuid:character_id>/<int:memory_id>/delete/", memory_views.delete, name="chat_memory_delete"),
    path("memories/<uuid:character_id>/forget/", memory_views.forget_all, name="chat_memories_forget"),
    path("memories/<uuid:character_id>/toggle/", memory_views.toggle, name="chat_memories_toggle"),
]
