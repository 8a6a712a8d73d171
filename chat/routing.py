"""WebSocket routes of this app (gathered by avatarforge.ws_routing)."""
from django.urls import path  # noqa: F401

websocket_urlpatterns: list = []
