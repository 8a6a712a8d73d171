"""WebSocket routes of this app (gathered by avatarforge.ws_routing)."""
from django.urls import re_path

from .consumers import RoomConsumer

websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<code>[a-z0-9]{1,32})/$", RoomConsumer.as_asgi()),
]
