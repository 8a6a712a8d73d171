"""Pages of chat: characters to talk to and your conversations (chat_home), starting one, and
the conversation page (avatar next to the transcript; streaming over /ws/chat/<id>/)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from avatarforge.errors import AppError
from avatarforge.korean import resolve_particles
from avatarforge.views import flash_app_error
from inference import llm

from . import selectors, services
from .emotions import EMOTIONS
from .models import MAX_USER_TEXT
from .serializers import MessageSerializer

CHARACTER_PAGE = 60


def _conversation_or_404(request: HttpRequest, conversation_id: str):
    try:
        return selectors.get_conversation(user=request.user, conversation_id=conversation_id)
    except AppError as exc:
        raise Http404(exc.message) from None


def _models() -> list[dict]:
    try:
        return [m.public() for m in llm.list_models()]
    except ValueError:
        return []


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from characters.personas.selectors import get_visible_character, listed_characters

    language = (get_language() or "en").split("-")[0]
    query = request.GET.get("q", "")[:100]
    # Like the characters page: your own and featured ones; a search looks through every public one.
    scope = "all" if query else "featured"
    characters = list(listed_characters(user=request.user, search=query, scope=scope,
                                        preset_language=language)[:CHARACTER_PAGE])
    chosen = None
    if request.GET.get("character"):
        try:
            chosen = get_visible_character(user=request.user, character_id=request.GET["character"])
        except AppError as exc:
            messages.error(request, exc.message)
    conversations = selectors.conversations_for(user=request.user)[:100]
    return render(request, "chat/home.html", {
        "characters": characters, "conversations": conversations, "chosen": chosen, "query": query,
        "models": _models(),
    })


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        conversation = services.create_conversation(
            user=request.user,
            character_id=post.get("character", ""),
            title=post.get("title", "")[:200],
            model_name=post.get("model", "")[:100],
            user_name=post.get("user_name", "")[:100],
            scenario={
                "counterpart": post.get("counterpart", ""),
                "situation": post.get("situation", ""),
                "background": post.get("background", ""),
            },
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("chat_home") + (f"?character={post.get('character', '')}" if post.get("character") else ""))
    return redirect("chat_conversation", conversation_id=conversation.pk)


@login_required
def conversation(request: HttpRequest, conversation_id: str) -> HttpResponse:
    conv = _conversation_or_404(request, conversation_id)
    rows = selectors.messages_for(conversation=conv, limit=100)
    config = {
        "conversationId": str(conv.pk),
        "wsPath": f"/ws/chat/{conv.pk}/",
        "voicePath": f"/ws/voice/{conv.pk}/",
        "vadBase": static("dist/vad/"),  # Silero VAD in the page: instant barge-in
        # The STT model and the voice follow the page language (Korean or English); see docs/voice-protocol.md.
        "voiceLanguage": "ko" if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("ko") else "en",
        "messagesUrl": reverse("api:chat-messages", args=[conv.pk]),
        "cancelUrl": reverse("api:chat-cancel", args=[conv.pk]),
        "conversationUrl": reverse("api:chat-conversation", args=[conv.pk]),
        "emotions": selectors.emotion_table(),
        "avatar": selectors.avatar_for_viewer(user=request.user, character=conv.character),
        "initialEmotion": conv.last_emotion,
        "characterName": conv.character.name,
        "userName": conv.user_name or request.user.name,
        "model": conv.model_name,
        "maxLength": MAX_USER_TEXT,
        "messages": MessageSerializer(rows, many=True).data,
        "hasOlder": bool(rows) and rows[0].seq > 1,
    }
    strings = {
        "queued": _("Waiting for a free model slot — you are number %(position)s in line."),
        # Formatted here, not in the browser: the Korean particle after the name depends on it.
        "thinking": resolve_particles(_("%(name)s is thinking…") % {"name": conv.character.name}),
        "stopped": _("Stopped."),
        "connectionLost": _("Connection lost. Reconnecting…"),
        "connecting": _("Connecting… try again in a moment."),
        "reconnected": _("Connected."),
        "busy": _("The character is still answering."),
        "you": _("You"),
        "emotion": selectors.emotion_labels(),  # the badge's labels, as the server renders them
        "cutLoop": _("Cut short: the reply started repeating itself."),
        "olderFailed": _("Could not load older messages."),
        "talk": _("Talk"),
        "hangUp": _("Hang up"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "voiceConnecting": _("Connecting the voice conversation…"),
        "voiceListening": _("Listening. Speak when you are ready."),
        "micRefused": _("The microphone is blocked. Allow it in your browser to talk, or type instead."),
        "noVoiceWorker": _("No voice worker is free right now. Try again in a moment, or type."),
    }
    return render(request, "chat/conversation.html", {
        "conversation": conv, "messages_list": rows, "config": config, "strings": strings, "models": _models(),
        "emotions": EMOTIONS,
    })


@login_required
@require_POST
def rename(request: HttpRequest, conversation_id: str) -> HttpResponse:
    try:
        services.update_conversation(user=request.user, conversation_id=conversation_id, title=request.POST.get("title", ""))
        messages.success(request, _("Conversation renamed."))
    except AppError as exc:
        flash_app_error(request, exc)
    return redirect(request.POST.get("next") == "conversation" and reverse("chat_conversation", args=[conversation_id])
                    or reverse("chat_home"))


@login_required
def delete(request: HttpRequest, conversation_id: str) -> HttpResponse:
    conv = _conversation_or_404(request, conversation_id)
    if request.method == "POST":
        services.delete_conversation(user=request.user, conversation_id=conv.pk)
        messages.success(request, _("Conversation deleted with all its messages and memories."))
        return redirect("chat_home")
    return render(request, "chat/delete.html", {"conversation": conv})
