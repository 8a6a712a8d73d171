from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext


def jobs_today(user_id: int) -> int:
    """Jobs the user started since local midnight (failed and cancelled ones count too)."""
    from datetime import datetime, time

    from django.utils import timezone

    from .models import GenerationJob

    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return GenerationJob.objects.filter(owner_id=user_id, created_at__gte=midnight).count()


def check_validator() -> str:
    """The worker's avatar check needs Node.js and the npm packages (not core: pages work without)."""
    import shutil
    from pathlib import Path

    from django.conf import settings

    from .conf import setting

    node = shutil.which(setting("GENERATION_NODE"))
    if node is None:
        raise RuntimeError("Node.js not found: generated avatars cannot be validated")
    if not (Path(settings.BASE_DIR) / "node_modules" / "gltf-validator").is_dir():
        raise RuntimeError("npm packages missing: run npm install")
    return "node + gltf-validator"


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = _("Generation")

    def ready(self) -> None:
        from accounts.usage import register_counter
        from avatarforge.health import register_check

        register_counter(
            "generation_jobs_per_day", _("generation jobs today"), jobs_today,
            label_for_count=lambda n: npgettext("plan limit", "generation job today", "generation jobs today", n),
        )
        register_check("generation_validator", check_validator, core=False)
