from django.apps import AppConfig


class AvatarforgeConfig(AppConfig):
    name = "avatarforge"
    verbose_name = "AvatarForge"
