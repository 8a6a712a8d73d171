"""What the live worker runs a session with: the real Chzzk intake and the chat-turn responder.

Kept apart from the worker so tests can run a LiveWorker with other parts (a fake Chzzk server is
still reached through ChzzkIntake; only its address differs, via settings.CHZZK_API_BASE).
"""
from __future__ import annotations

from django.conf import settings

from .chat_responder import ChatTurnResponder
from .chzzk_link import credentials_for
from .intake.base import Intake
from .intake.chzzk import ChzzkApi, ChzzkIntake
from .models import LiveSession, Platform
from .responder import Responder


def intake_for(session: LiveSession) -> Intake | None:
    """Synchronous (database: the streamer's tokens, refreshed when near expiry): the worker calls
    it through database_sync_to_async. The test platform has no intake (chat comes from the dashboard)."""
    if session.platform != Platform.CHZZK:
        return None
    return ChzzkIntake(ChzzkApi(settings.CHZZK_API_BASE, credentials_for(user_id=session.owner_id)))


def responder_for(session: LiveSession) -> Responder:
    return ChatTurnResponder(session)
