"""The error raised for a card that cannot be imported: always a code a client can branch on
(`card_*`) and a message a person can act on. Nothing is saved when it is raised."""
from __future__ import annotations

from avatarforge.errors import AppError


class CardError(AppError):
    status = 400
    code = "card_invalid"
    default_message = "This character card cannot be imported."
