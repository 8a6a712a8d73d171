from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="chat_home"),
    path("start/", views.start, name="chat_start"),
    path("<uuid:conversation_id>/", views.conversation, name="chat_conversation"),
    path("<uuid:conversation_id>/rename/", views.rename, name="chat_rename"),
    path("<uuid:conversation_id>/delete/", views.delete, name="chat_delete"),
]
