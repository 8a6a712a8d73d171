from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="room_home"),
    path("new", views.create, name="room_create"),
    path("join", views.join_by_code, name="room_join"),
    path("invite/<str:token>/", views.redeem, name="room_invite"),
    path("stream/", views.stream, name="room_stream"),  # before <code>/: "stream" is no room code
    path("<str:code>/", views.call, name="room_call"),
    path("<str:code>/lobby/", views.lobby, name="room_lobby"),
    path("<str:code>/status", views.status, name="room_status"),
    path("<str:code>/invite", views.invite, name="room_invite_create"),
    path("<str:code>/close", views.close, name="room_close"),
]
