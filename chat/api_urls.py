"""REST API of chat, mounted at /api/chat/ (names in namespace `api`)."""
from django.urls import path

from . import api
from .memories import api as memories_api

urlpatterns = [
    path("models", api.ModelListApi.as_view(), name="chat-models"),
    path("emotions", api.EmotionTableApi.as_view(), name="chat-emotions"),
    path("conversations", api.ConversationListApi.as_view(), name="chat-conversations"),
    path("conversations/<uuid:conversation_id>", api.ConversationDetailApi.as_view(), name="chat-conversation"),
    path("conversations/<uuid:conversation_id>/messages", api.MessageListApi.as_view(), name="chat-messages"),
    path("conversations/<uuid:conversation_id>/cancel", api.CancelReplyApi.as_view(), name="chat-cancel"),
    path("conversations/<uuid:conversation_id>/summaries", api.SummaryListApi.as_view(), name="chat-summaries"),
    path("characters/<uuid:character_id>/memories", memories_api.CharacterMemoriesApi.as_view(), name="chat-character-memories"),
    path("characters/<uuid:character_id>/memory-setting", memories_api.MemorySettingApi.as_view(), name="chat-memory-setting"),
    path("memories/<int:memory_id>", memories_api.MemoryDetailApi.as_view(), name="chat-memory"),
]
