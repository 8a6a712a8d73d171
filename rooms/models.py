"""Rooms: metadata only. Who is connected, SDP and ICE live in the cache with a TTL (rooms.state);
nothing about faces or avatar parameters is stored."""
from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Lower-case letters and digits without look-alikes (0/o, 1/l/i): typeable from a phone call.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10  # 31^10 ≈ 8e14 codes: unguessable at any rate limit we allow


def new_room_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """Accept what people type: case, spaces and dashes do not matter."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())[:32]


class Room(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_room_code, editable=False)
    title = models.CharField(_("title"), max_length=80, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rooms", verbose_name=_("owner")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        indexes = [models.Index(fields=["owner", "closed_at", "expires_at"])]

    def __str__(self) -> str:
        return self.title or self.code

    def get_absolute_url(self) -> str:
        return reverse("room_call", args=[self.code])

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and not self.is_expired

    @property
    def display_code(self) -> str:
        """`abc-defg-hjk`: easier to read aloud; join-by-code accepts either form."""
        return f"{self.code[:3]}-{self.code[3:7]}-{self.code[7:]}" if len(self.code) == CODE_LENGTH else self.code

    @property
    def ws_path(self) -> str:
        return f"/ws/rooms/{self.code}/"


class RoomInvite(models.Model):
    """A one-time guest invite. The link carries a signed token naming this row; redeeming sets
    `used_at` under a row lock, so a link works once. The guest's display name lives only in the
    guest's session, not here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="invites", verbose_name=_("room"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    for_practice = models.BooleanField(_("practice partner"), default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("room invite")
        verbose_name_plural = _("room invites")

    def __str__(self) -> str:
        return f"{self.room.code} / {self.pk}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
