from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext


class CharactersConfig(AppConfig):
    name = "characters"
    verbose_name = _("Characters")

    def ready(self) -> None:
        from accounts.usage import register_counter

        from .avatars import signals  # noqa: F401  stored objects follow deleted avatar rows
        from .models import Actor, Avatar

        # Plan limits of the avatar library (enforced in characters.avatars.services and .actors).
        register_counter(
            "avatar_slots", _("avatars"), lambda user_id: Avatar.objects.filter(owner_id=user_id).count(),
            label_for_count=lambda n: npgettext("plan limit", "avatar", "avatars", n),
        )
        register_counter(
            "actor_slots", _("actors"), lambda user_id: Actor.objects.filter(owner_id=user_id).count(),
            label_for_count=lambda n: npgettext("plan limit", "actor", "actors", n),
        )
