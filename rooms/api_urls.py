from django.urls import path

from . import api

urlpatterns = [
    path("", api.RoomListApi.as_view(), name="rooms"),
    path("invites/redeem", api.InviteRedeemApi.as_view(), name="room-invite-redeem"),
    path("<str:code>/", api.RoomDetailApi.as_view(), name="room-detail"),
    path("<str:code>/close", api.RoomCloseApi.as_view(), name="room-close"),
    path("<str:code>/invites", api.RoomInviteApi.as_view(), name="room-invites"),
    path("<str:code>/ice-servers", api.IceServersApi.as_view(), name="room-ice-servers"),
    path("<str:code>/practice", api.PracticeApi.as_view(), name="room-practice"),
]
