"""Stage 9, register: add the checked VRM to the owner's avatar library (counts against avatar slots).

Uses the library's one entry point, characters.avatars.services.create_avatar_from_file. If the same
file is already there (this stage re-ran after a crash), the existing avatar is used.
Artifacts: data {"avatar_id", "avatar_name", "reused"}.
"""
from __future__ import annotations

import io

from django.utils.translation import gettext as _

from avatarforge.errors import AppError

from .base import Stage, StageContext, StageError, StageOutput


class RegisterStage(Stage):
    name = "register"

    def run(self, ctx: StageContext) -> StageOutput:
        from accounts.models import User
        from characters.avatars.services import create_avatar_from_file

        owner = User.objects.select_related("plan").get(pk=ctx.owner_id)
        data = ctx.file("export", "avatar.vrm")
        name = ctx.data("export").get("name") or _("My chibi")
        try:
            avatar = create_avatar_from_file(
                owner=owner, file=io.BytesIO(data), filename="chibi.vrm", name=name,
                on_conflict="keep_both", owner_is_author=True,
            )
        except AppError as exc:
            existing = (exc.details or {}).get("existing_id") if exc.code == "avatar_duplicate" else None
            if existing:
                return StageOutput(data={"avatar_id": str(existing), "avatar_name": (exc.details or {}).get("existing_name", ""), "reused": True})
            raise StageError(exc.message, code=exc.code, details=exc.details) from None
        return StageOutput(data={"avatar_id": str(avatar.id), "avatar_name": avatar.name, "reused": False})
