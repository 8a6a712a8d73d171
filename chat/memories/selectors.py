"""Reads of memories, ownership built in: a user only ever reads their own facts."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from avatarforge.errors import NotFound

from ..models import CharacterMemory, MemorySetting


def memory_enabled(*, user_id: Any, character_id: Any) -> bool:
    """On unless the user turned it off for this character."""
    return not MemorySetting.objects.filter(user_id=user_id, character_id=character_id, enabled=False).exists()


def memories_for(*, user: Any, character_id: Any) -> QuerySet[CharacterMemory]:
    return CharacterMemory.objects.filter(user=user, character_id=character_id).order_by("-updated_at", "-id")


def get_memory(*, user: Any, memory_id: Any) -> CharacterMemory:
    """One of the user's memories; anybody else's (or none) is 404 `not_found`."""
    try:
        pk = int(memory_id)
    except (TypeError, ValueError):
        pk = None
    if pk is not None and not 0 < pk < 2**63:
        pk = None  # beyond the id column: no such memory, not a database error
    memory = (
        CharacterMemory.objects.select_related("character").filter(pk=pk, user=user).first()
        if pk is not None and user is not None and user.is_authenticated else None
    )
    if memory is None:
        raise NotFound(_("No such memory."), code="not_found")
    return memory


def character_for_memories(*, user: Any, character_id: Any) -> Any:
    """The character whose memories of `user` are asked for: one the user may see, or one they
    talked to or that remembers them (a character made private since must still be forgettable).
    404 otherwise."""
    from characters.models import Character
    from characters.personas.selectors import get_visible_character

    try:
        return get_visible_character(user=user, character_id=character_id)
    except NotFound:
        pass
    try:
        pk = character_id if isinstance(character_id, uuid.UUID) else uuid.UUID(str(character_id))
    except ValueError:
        pk = None
    character = Character.objects.filter(pk=pk).first() if pk is not None else None
    if character is not None and user is not None and user.is_authenticated and (
        CharacterMemory.objects.filter(user=user, character=character).exists()
        or character.conversations.filter(user=user).exists()
    ):
        return character
    raise NotFound(_("No such character."), code="not_found")
