"""WebSocket routes of this app (gathered by avatarforge.ws_routing)."""
from django.urls import path

from .consumers import ChatConsumer
from .stories.consumers import StoryConsumer
from .voice.consumer import VoiceConsumer

websocket_urlpatterns: list = [
    path("ws/chat/<uuid:conversation_id>/", ChatConsumer.as_asgi()),
    path("ws/voice/<uuid:conversation_id>/", VoiceConsumer.as_asgi()),
    path("ws/story/", StoryConsumer.as_asgi()),
]
