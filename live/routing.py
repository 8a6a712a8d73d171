"""WebSocket routes of live mode (gathered by avatarforge.ws_routing)."""
from django.urls import path, re_path

from .consumers import DashboardConsumer, OverlayConsumer

websocket_urlpatterns = [
    re_path(r"^ws/live/overlay/(?P<key>[A-Za-z0-9_-]{16,64})/$", OverlayConsumer.as_asgi()),
    path("ws/live/sessions/<uuid:session_id>/", DashboardConsumer.as_asgi()),
]
