"""WebSocket routes of this app (gathered by avatarforge.ws_routing)."""
from django.urls import path

from .consumers import JobProgressConsumer

websocket_urlpatterns = [
    path("ws/generate/<uuid:job_id>/", JobProgressConsumer.as_asgi()),
]
